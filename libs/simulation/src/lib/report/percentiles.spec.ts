import fc from 'fast-check';

import { percentile, summarise } from './percentiles';

describe('percentiles (nearest rank)', () => {
  it('picks observed values', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 95)).toBe(10);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile(sorted, 10)).toBe(1);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile(sorted, 0)).toThrow(RangeError);
  });

  it('of 100 values, p99 is the 99th smallest', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarise(values)).toMatchObject({
      count: 100,
      min: 1,
      p50: 50,
      p95: 95,
      p99: 99,
      max: 100,
    });
  });

  it('ignores non-finite values and does not sort in place', () => {
    const values = [3, Number.NaN, 1, Number.POSITIVE_INFINITY, 2];
    expect(summarise(values)).toMatchObject({ count: 3, min: 1, p50: 2, max: 3, mean: 2 });
    expect(values[0]).toBe(3);
    expect(summarise([])).toMatchObject({ count: 0, p99: null });
  });

  it('is an observed value, monotone in p, between min and max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 99 }),
        (values, p) => {
          const sorted = [...values].sort((a, b) => a - b);
          const low = percentile(sorted, p) as number;
          const high = percentile(sorted, p + 1) as number;
          expect(values).toContain(low);
          expect(low).toBeLessThanOrEqual(high);
          const atOrBelow = sorted.filter(value => value <= low).length;
          expect(atOrBelow / sorted.length).toBeGreaterThanOrEqual(p / 100);
        },
      ),
    );
  });
});
