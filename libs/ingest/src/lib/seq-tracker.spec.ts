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

  describe('re-deliveries after a reconnect (load runs 2026-12-07: false restarts)', () => {
    /** A device sending seq 1..n with device time 1000·seq, received at the same instant. */
    function sent(n: number): ReturnType<typeof initialSeqState> {
      const state = initialSeqState(1, 1_000, 1_000);
      for (let seq = 2; seq <= n; seq += 1)
        expect(trackSeq(state, seq, seq * 1_000, seq * 1_000)).toBe('new');
      return state;
    }

    it('never takes a re-delivered backlog with device time for a restart, however long', () => {
      // Ingest saw 1..500 and PUBACKed none (held until durable); its keepalive timed out, and
      // the broker re-sends all 500 after 120 s: each one the same (seq, ts) pair.
      const state = sent(500);
      const verdicts = new Set<string>();
      for (let seq = 1; seq <= 500; seq += 1)
        verdicts.add(trackSeq(state, seq, seq * 1_000, 620_000 + seq, true));
      // Within the last 64 numbers: duplicates; older ones cannot be told from late originals.
      expect([...verdicts].sort()).toEqual(['duplicate', 'stale']);
      // The state did not start over: the next new sample follows on, nothing counted lost.
      expect(trackSeq(state, 501, 501_000, 621_000)).toBe('new');
      expect(state.lost).toBe(0);
    });

    it('takes a repeated (seq, ts) pair for a duplicate even after the device clock stepped back', () => {
      const state = sent(10);
      // The device's clock was corrected by NTP: seq 11 carries an older time than seq 10.
      expect(trackSeq(state, 11, 9_500, 11_000)).toBe('new');
      // seq 10 re-delivered: its time is newer than seq 11's, but no newer than any seen.
      expect(trackSeq(state, 10, 10_000, 12_000)).toBe('duplicate');
    });

    it('still recognises a genuine restart with device time, near or far below the newest', () => {
      const near = sent(10);
      expect(trackSeq(near, 5, 20_000, 20_000)).toBe('restart');
      const far = sent(500);
      expect(trackSeq(far, 0, 600_000, 600_000)).toBe('restart');
      expect(trackSeq(far, 1, 601_000, 601_000)).toBe('new');
    });

    it('takes a broker re-delivery (DUP) without device time for a duplicate after > 30 s away', () => {
      const state = initialSeqState(10, undefined, 0);
      for (let seq = 11; seq <= 40; seq += 1) trackSeq(state, seq, undefined, seq * 100);
      const back = 4_000 + REDELIVERY_WINDOW_MS + 90_000; // ingest was away 2 minutes
      for (let seq = 20; seq <= 40; seq += 1)
        expect(trackSeq(state, seq, undefined, back, true)).toBe('duplicate');
      // The same number not re-sent by the broker (a device re-send, or a counter that started
      // over) after that silence is still taken for a restart: evaluated, never dropped.
      expect(trackSeq(state, 40, undefined, back)).toBe('restart');
    });

    /**
     * Any stream of originals with strictly increasing device time (gaps, reordering within a
     * few samples, counters that start over), with re-deliveries of any earlier (seq, ts) pair
     * at any later time mixed in: a re-delivery is never a restart, an original never a
     * duplicate, and a counter that starts over (with a newer time) is recognised.
     */
    it('property: with device time, re-deliveries are never restarts and originals never duplicates', () => {
      const step = fc.oneof(
        {
          weight: 12,
          arbitrary: fc.record({
            kind: fc.constant('next' as const),
            skip: fc.integer({ min: 0, max: 3 }),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('restart' as const),
            start: fc.constantFrom(0, 1, 5),
          }),
        },
        {
          weight: 6,
          arbitrary: fc.record({
            kind: fc.constant('redeliver' as const),
            back: fc.integer({ min: 0, max: 400 }),
            dup: fc.boolean(),
          }),
        },
      );
      fc.assert(
        fc.property(fc.array(step, { minLength: 150, maxLength: 600 }), steps => {
          let now = 1_000;
          let seq = 1;
          const state = initialSeqState(seq, now, now);
          const session: Array<[number, number]> = [[seq, now]];
          for (const s of steps) {
            now += 1_000;
            if (s.kind === 'redeliver') {
              const pair = session[Math.max(0, session.length - 1 - s.back)] as [number, number];
              const verdict = trackSeq(state, pair[0], pair[1], now + 200_000, s.dup);
              expect({ pair, verdict }).not.toMatchObject({ verdict: 'restart' });
              expect(['duplicate', 'stale']).toContain(verdict);
              continue;
            }
            if (s.kind === 'restart') {
              seq = s.start;
              const verdict = trackSeq(state, seq, now, now);
              expect(verdict === 'restart' || seq > (session.at(-1)?.[0] ?? -1)).toBe(true);
              session.length = 0;
            } else {
              seq += 1 + s.skip;
              expect(trackSeq(state, seq, now, now)).toBe('new');
            }
            session.push([seq, now]);
          }
        }),
      );
    });
  });
});
