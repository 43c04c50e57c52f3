import fc from 'fast-check';

import { type ClusterPoint, clusterPoints } from './clustering';

/** Reference: O(n²) union of every pair, the definition itself. */
function bruteForce(points: readonly ClusterPoint[], link: number, minSize: number): number[][] {
  const label = points.map((_, index) => index);
  const relabel = (from: number, to: number) => {
    for (let index = 0; index < label.length; index += 1)
      if (label[index] === from) label[index] = to;
  };
  for (let i = 0; i < points.length; i += 1) {
    for (let j = i + 1; j < points.length; j += 1) {
      const a = points[i] as ClusterPoint;
      const b = points[j] as ClusterPoint;
      if (a.floor !== b.floor || Math.hypot(a.x - b.x, a.y - b.y) > link) continue;
      const [from, to] = [label[j] as number, label[i] as number];
      if (from !== to) relabel(Math.max(from, to), Math.min(from, to));
    }
  }
  const groups = new Map<number, number[]>();
  label.forEach((root, index) => groups.set(root, [...(groups.get(root) ?? []), index]));
  return [...groups.values()]
    .filter(group => group.length >= minSize)
    .sort((a, b) => (a[0] as number) - (b[0] as number));
}

const p = (x: number, y: number, floor = 1): ClusterPoint => ({ x, y, floor });

describe(clusterPoints.name, () => {
  it('returns nothing for no points or fewer than minSize', () => {
    expect(clusterPoints([], 15)).toEqual([]);
    expect(clusterPoints([p(0, 0), p(1, 1)], 15, 3)).toEqual([]);
  });

  it('links points at most the link distance apart, the limit included', () => {
    expect(clusterPoints([p(0, 0), p(15, 0), p(30.001, 0)], 15)).toEqual([[0, 1], [2]]);
    expect(clusterPoints([p(0, 0), p(9, 12)], 15)).toEqual([[0, 1]]); // exactly 15 m (3-4-5)
  });

  it('chains (single linkage): 14 m steps make one cluster longer than 15 m', () => {
    expect(clusterPoints([p(0, 0), p(14, 0), p(28, 0), p(42, 0)], 15, 3)).toEqual([[0, 1, 2, 3]]);
  });

  it('finds partners across cell borders and at negative coordinates', () => {
    // 14.9 and 15.1 are in different 15 m cells; -0.1 and 0.1 too.
    expect(clusterPoints([p(14.9, 0), p(15.1, 0), p(-0.1, -0.1), p(0.1, 0.1)], 15)).toEqual([
      [0, 1, 2, 3],
    ]);
    expect(clusterPoints([p(-100, -100), p(-110, -95), p(200, 200)], 15)).toEqual([[0, 1], [2]]);
  });

  it('never links people on different floors', () => {
    expect(clusterPoints([p(0, 0, 1), p(1, 1, 2), p(2, 2, 1)], 15)).toEqual([[0, 2], [1]]);
  });

  it('uses a map of cells when the points span a huge extent, with the same result', () => {
    const far = [p(0, 0), p(10, 0), p(1e7, 1e7), p(1e7 + 10, 1e7), p(1e7 + 40, 1e7), p(-3e6, 5e6)];
    expect(clusterPoints(far, 15)).toEqual([[0, 1], [2, 3], [4], [5]]);
  });

  it('rejects a link distance that is not positive (a bug in the caller)', () => {
    expect(() => clusterPoints([p(0, 0)], 0)).toThrow(RangeError);
    expect(() => clusterPoints([p(0, 0)], Number.NaN)).toThrow(RangeError);
  });

  it('equals the brute-force definition for random points (property)', () => {
    const point = fc.record({
      x: fc.double({ min: -200, max: 200, noNaN: true }),
      y: fc.double({ min: -200, max: 200, noNaN: true }),
      floor: fc.integer({ min: 0, max: 1 }),
    });
    fc.assert(
      fc.property(
        fc.array(point, { maxLength: 120 }),
        fc.constantFrom(0.5, 5, 15, 30),
        fc.integer({ min: 1, max: 4 }),
        (points, link, minSize) => {
          expect(clusterPoints(points, link, minSize)).toEqual(bruteForce(points, link, minSize));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equals brute force on dense crowds (many points per cell)', () => {
    const point = fc.record({
      x: fc.double({ min: 0, max: 40, noNaN: true }),
      y: fc.double({ min: 0, max: 40, noNaN: true }),
      floor: fc.constant(1),
    });
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 80 }), points => {
        expect(clusterPoints(points, 15, 3)).toEqual(bruteForce(points, 15, 3));
      }),
      { numRuns: 100 },
    );
  });
});
