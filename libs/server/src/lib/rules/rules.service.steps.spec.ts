import { deviceSeqsOf } from './rules.service';

/**
 * rules-state.json saved in steps (RulesService.saveRuleState): each step's devices reflect the
 * spool entries up to that step's seq, and a restart evaluates again, per device, only the
 * entries after it. The mapping from the file's `chunks` to devices decides which entries a
 * device skips: one device too far and its records after its own step are never evaluated again
 * (a raise or a clear lost across the restart).
 */
describe('deviceSeqsOf (the per-device seqs of a rule state saved in steps)', () => {
  const device = (id: string) => ['plant-1', id, 0, 0, 0, []];
  const state = { v: 1, devices: ['a', 'b', 'c', 'd', 'e'].map(device) };

  it('gives each device its own step seq, later than the first step only', () => {
    const seqs = deviceSeqsOf(100, state, [
      [100, 0], // a, b: the first step (the file's seq)
      [105, 2], // c
      [109, 3], // d, e
    ]);
    expect(Object.fromEntries(seqs)).toEqual({
      'plant-1/c': 105,
      'plant-1/d': 109,
      'plant-1/e': 109,
    });
  });

  it('a step that saved no device (its chunk skipped) does not shift the next', () => {
    const seqs = deviceSeqsOf(100, state, [
      [100, 0],
      [104, 4], // e only
    ]);
    expect(Object.fromEntries(seqs)).toEqual({ 'plant-1/e': 104 });
  });

  it('a file from before the save in steps (no chunks), or a malformed one: every device from the file seq', () => {
    expect(deviceSeqsOf(100, state, undefined).size).toBe(0);
    expect(deviceSeqsOf(100, state, 'chunks').size).toBe(0);
    expect(deviceSeqsOf(100, { v: 1 }, [[105, 0]]).size).toBe(0);
    // A chunk that is not [seq, index] is left out: its devices fall back to the file seq.
    expect(
      Object.fromEntries(
        deviceSeqsOf(100, state, [
          [100, 0],
          ['x', 2],
          [107, 4],
        ]),
      ),
    ).toEqual({
      'plant-1/e': 107,
    });
  });
});
