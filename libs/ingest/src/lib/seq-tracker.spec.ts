import fc from 'fast-check';

import { REDELIVERY_WINDOW_MS, RESTART_MIN_GAP_MS, initialSeqState, trackSeq } from './seq-tracker';

describe(trackSeq.name, () => {
  it('accepts increasing numbers and counts gaps as lost', () => {
    const state = initialSeqState(1);
    expect(trackSeq(state, 2)).toBe('new');
    expect(trackSeq(state, 5)).toBe('new');
    expect(state.lost).toBe(2);
  });

  it('recognises duplicates and late samples within the window', () => {
    const state = initialSeqState(10);
    trackSeq(state, 12);
    expect(trackSeq(state, 12)).toBe('duplicate');
    expect(trackSeq(state, 10)).toBe('duplicate');
    expect(trackSeq(state, 11)).toBe('late');
    expect(trackSeq(state, 11)).toBe('duplicate');
    expect(state.lost).toBe(0);
  });

  it('treats a counter far behind as a device restart', () => {
    const state = initialSeqState(1000);
    expect(trackSeq(state, 0)).toBe('restart');
    expect(trackSeq(state, 1)).toBe('new');
  });

  it('tells a restarted counter from a re-delivery by the device time', () => {
    const state = initialSeqState(1, 1_000);
    for (let seq = 2; seq <= 30; seq += 1) trackSeq(state, seq, seq * 1_000);
    // Re-delivered and late samples carry their old device time.
    expect(trackSeq(state, 30, 30_000)).toBe('duplicate');
    expect(trackSeq(state, 12, 12_000)).toBe('duplicate');
    // The device restarted: seq 0 again, but newer than anything seen.
    expect(trackSeq(state, 0, 40_000)).toBe('restart');
    expect(trackSeq(state, 1, 41_000)).toBe('new');
    expect(trackSeq(state, 1, 41_000)).toBe('duplicate');
    expect(state.lost).toBe(0);
    // Without a device time a repeated number within the window stays a duplicate.
    expect(trackSeq(state, 0)).toBe('duplicate');
  });

  it('flags exactly the repeated numbers of any shuffled stream with duplicates', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 200 }),
        seqs => {
          const state = initialSeqState(seqs[0] as number);
          const seenSet = new Set([seqs[0]]);
          for (const seq of seqs.slice(1)) {
            const verdict = trackSeq(state, seq);
            expect(verdict === 'duplicate').toBe(seenSet.has(seq));
            seenSet.add(seq);
          }
        },
      ),
    );
  });

  it('recognises a restart without device time by the receive time (issue 10 #6)', () => {
    // 11 samples, a 2 s reboot, the same 11 numbers again: every one is evaluated.
    const state = initialSeqState(0, undefined, 0);
    for (let seq = 1; seq <= 10; seq += 1)
      expect(trackSeq(state, seq, undefined, seq * 100)).toBe('new');
    expect(trackSeq(state, 0, undefined, 3_000)).toBe('restart');
    for (let seq = 1; seq <= 10; seq += 1)
      expect(trackSeq(state, seq, undefined, 3_000 + seq * 100)).toBe('new');
    // A re-delivery right after a reconnect stays a duplicate…
    expect(trackSeq(state, 10, undefined, 5_000)).toBe('duplicate');
    expect(trackSeq(state, 9, undefined, 5_000)).toBe('duplicate');
    // …a number seen longer ago than any re-delivery can lag is a counter that started over.
    expect(trackSeq(state, 9, undefined, 4_000 + REDELIVERY_WINDOW_MS + 1)).toBe('restart');
    // Far below the newest and below half of it: a restart even without a pause.
    for (let seq = 10; seq <= 40; seq += 1) trackSeq(state, seq, undefined, 40_000 + seq);
    expect(trackSeq(state, 12, undefined, 40_100)).toBe('restart');
  });

  /**
   * A plausible device: sessions of a counter that starts at 0 or 1 and counts up, one sample every
   * `interval`, no device time; between sessions a reboot of at least a second (RESTART_MIN_GAP_MS);
   * re-deliveries of the newest sample within a few seconds. Every original sample is accepted
   * (never a duplicate), and every message is accounted for (accepted or counted duplicate).
   */
  it('never drops an original sample of a device that restarts its counter without ts', () => {
    const session = fc.record({
      start: fc.constantFrom(0, 1),
      count: fc.integer({ min: 1, max: 80 }),
      intervalMs: fc.integer({ min: 100, max: 60_000 }),
      rebootMs: fc.integer({ min: RESTART_MIN_GAP_MS, max: 600_000 }),
      redeliverAfterMs: fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(session, { minLength: 1, maxLength: 6 }), sessions => {
        let state: ReturnType<typeof initialSeqState> | undefined;
        let now = 0;
        let originals = 0;
        let accepted = 0;
        let duplicates = 0;
        const offer = (seq: number, original: boolean) => {
          const verdict = state ? trackSeq(state, seq, undefined, now) : 'new';
          state ??= initialSeqState(seq, undefined, now);
          if (original) {
            originals += 1;
            expect({ seq, now, verdict }).not.toMatchObject({ verdict: 'duplicate' });
          }
          if (verdict === 'duplicate') duplicates += 1;
          else accepted += 1;
        };
        for (const { start, count, intervalMs, rebootMs, redeliverAfterMs } of sessions) {
          for (let seq = start; seq < start + count; seq += 1) {
            offer(seq, true);
            now += intervalMs;
          }
          if (redeliverAfterMs !== undefined) {
            now += redeliverAfterMs;
            offer(start + count - 1, false); // counted as a duplicate or (late enough) a restart
          }
          now += rebootMs;
        }
        expect(accepted + duplicates).toBe(
          originals + sessions.filter(s => s.redeliverAfterMs !== undefined).length,
        );
      }),
    );
  });
});
