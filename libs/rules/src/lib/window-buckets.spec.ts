import {
  addExtreme,
  addSample,
  bucketMsOf,
  createExtremes,
  createSums,
  extremesBetween,
  firstBucketIndex,
  fitLine,
} from './window-buckets';

describe('window buckets', () => {
  it('cuts a 60 s window into six 10 s buckets and covers 60 to 70 s of history', () => {
    expect(bucketMsOf(60_000)).toBe(10_000);
    expect(bucketMsOf(1_000)).toBe(167);
    // At ts 125 s, buckets 6 (60–70 s) … 12 (120–130 s) overlap [65 s, 125 s].
    expect(firstBucketIndex(125_000, 60_000, 10_000)).toBe(6);
  });

  it('keeps the lowest and highest value per bucket and drops samples whose bucket left the ring', () => {
    const buckets = createExtremes();
    addExtreme(buckets, 10_000, 1_000, 5);
    addExtreme(buckets, 10_000, 2_000, 3);
    addExtreme(buckets, 10_000, 15_000, 9);
    expect(extremesBetween(buckets, 0, 1)).toEqual({ min: 3, max: 9 });
    expect(extremesBetween(buckets, 1, 1)).toEqual({ min: 9, max: 9 });
    addExtreme(buckets, 10_000, 71_000, 1); // bucket 7 takes slot 0 of the 7 from bucket 0
    expect(extremesBetween(buckets, 0, 7)).toEqual({ min: 1, max: 9 });
    expect(addExtreme(buckets, 10_000, 3_000, -100)).toBe(false); // bucket 0 is gone
    expect(extremesBetween(buckets, 2, 6)).toEqual({ min: Number.NaN, max: Number.NaN });
  });

  it('fits the least-squares line exactly, far from the epoch', () => {
    const buckets = createSums();
    const start = 1_763_900_000_000;
    for (let second = 0; second <= 60; second += 5) {
      addSample(buckets, 10_000, start + second * 1000, 2 + 0.25 * second);
    }
    const now = start + 60_000;
    const fit = fitLine(
      buckets,
      10_000,
      firstBucketIndex(now, 60_000, 10_000),
      Math.floor(now / 10_000),
      now,
    );
    expect(fit?.count).toBe(13);
    expect(fit?.slope).toBeCloseTo(0.00025, 12); // 0.25 per second
    expect(fit?.valueAtOrigin).toBeCloseTo(17, 9);
    expect(fit?.bucketSpan).toBe(7);
    expect([fit?.lowest, fit?.highest]).toEqual([2, 17]);
  });

  it('keeps the lowest and highest sample of the fit per bucket', () => {
    const buckets = createSums();
    addSample(buckets, 10_000, 1_000, 5);
    addSample(buckets, 10_000, 2_000, 60);
    addSample(buckets, 10_000, 3_000, 4);
    addSample(buckets, 10_000, 12_000, 3);
    expect(fitLine(buckets, 10_000, 0, 1, 12_000)).toMatchObject({ lowest: 3, highest: 60 });
    expect(fitLine(buckets, 10_000, 0, 0, 3_000)).toMatchObject({ lowest: 4, highest: 60 });
    addSample(buckets, 10_000, 71_000, 7); // bucket 7 replaces bucket 0: its extremes go with it
    addSample(buckets, 10_000, 72_000, 8);
    expect(fitLine(buckets, 10_000, 1, 7, 72_000)).toMatchObject({ lowest: 3, highest: 8 });
  });

  it('has no line through fewer than two instants', () => {
    const buckets = createSums();
    addSample(buckets, 10_000, 5_000, 1);
    addSample(buckets, 10_000, 5_000, 2);
    expect(fitLine(buckets, 10_000, 0, 0, 5_000)).toBeUndefined();
  });
});
