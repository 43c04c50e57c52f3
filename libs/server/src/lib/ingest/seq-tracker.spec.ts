import fc from 'fast-check';

import { initialSeqState, trackSeq } from './seq-tracker';

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
});
