import { MAX_RULE_STATE_BYTES } from './partitioned-rules';
import { decodeRuleState, encodeRuleState } from './rule-state-codec';

/** A saved rule state of `devices` gas detectors with windows of pseudo-random values. */
function savedState(devices: number): unknown {
  let seed = 1;
  const random = (): number => {
    seed = (seed * 16_807) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  const saved = [];
  for (let i = 0; i < devices; i += 1) {
    const ts = 1_796_670_000_000 + Math.floor(random() * 1e6);
    saved.push([
      'faults',
      `fd-${String(i).padStart(5, '0')}`,
      ts,
      ts + 12,
      3,
      [
        [
          'gas-rate',
          'rate',
          0,
          ...Array.from({ length: 24 }, () => Math.round(random() * 1000) / 1000),
        ],
        ['gas-trend', 'trend', 0, ...Array.from({ length: 30 }, () => random() * 50)],
        ['gas-l1', 'threshold', random() < 0.1 ? 1 : 0, ts, null],
      ],
    ]);
  }
  return {
    seq: 2_477_269,
    instance: 'rules-1',
    at: 1_796_670_000_000,
    state: { v: 1, devices: saved },
  };
}

describe('a partition’s saved rule state', () => {
  it('round-trips, compressed', async () => {
    const saved = savedState(10);
    const bytes = await encodeRuleState(saved);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    await expect(decodeRuleState(bytes)).resolves.toEqual(saved);
  });

  it('reads the plain JSON written before compression', async () => {
    const saved = savedState(3);
    await expect(decodeRuleState(new TextEncoder().encode(JSON.stringify(saved)))).resolves.toEqual(
      saved,
    );
  });

  it('fits a partition of 1,400 detectors under the bound (its JSON alone is over it)', async () => {
    // The fault suite's 10-minute run (2026-12-07): one site of 1,000 detectors in one partition
    // came to 811,554 bytes of JSON, over the bound: never saved, so a takeover restored nothing.
    const saved = savedState(1_400);
    expect(JSON.stringify(saved).length).toBeGreaterThan(MAX_RULE_STATE_BYTES);
    const bytes = await encodeRuleState(saved);
    expect(bytes.length).toBeLessThan(MAX_RULE_STATE_BYTES);
    await expect(decodeRuleState(bytes)).resolves.toEqual(saved);
  });

  it('refuses what is neither gzip nor JSON', async () => {
    await expect(decodeRuleState(new Uint8Array([0x1f, 0x8b, 1, 2, 3]))).rejects.toThrow();
    await expect(decodeRuleState(new TextEncoder().encode('{"seq":'))).rejects.toThrow();
  });
});
