import fc from 'fast-check';

import { type ClusterPoint, crowdsWithinRadius } from './clustering';

const TOLERANCE = 1e-9;

/** People inside the circle of radius r at (cx, cy) on a floor (the rim included). */
function inCircle(
  points: readonly ClusterPoint[],
  cx: number,
  cy: number,
  floor: number,
  r: number,
) {
  return points.flatMap((point, index) =>
    point.floor === floor && Math.hypot(point.x - cx, point.y - cy) <= r * (1 + TOLERANCE)
      ? [index]
      : [],
  );
}

/**
 * Reference, the definition itself: every circle that matters has a person at its centre or two
 * people on its rim (a fullest circle can be moved until it touches two, or holds one), so the
 * candidate centres are the people and, for every pair within 2r, the two centres with both on
 * the rim. O(n³). `best(p)` = the fullest circle with p at the centre or on the rim.
 */
function bruteForce(points: readonly ClusterPoint[], r: number) {
  const best = points.map((p, i) => {
    let most = inCircle(points, p.x, p.y, p.floor, r).length;
    points.forEach((q, j) => {
      if (i === j || q.floor !== p.floor) return;
      const d = Math.hypot(q.x - p.x, q.y - p.y);
      if (d === 0 || d > 2 * r) return;
      const mx = (p.x + q.x) / 2;
      const my = (p.y + q.y) / 2;
      const h = Math.sqrt(Math.max(0, r * r - (d / 2) * (d / 2)));
      for (const sign of [1, -1]) {
        const cx = mx + (sign * h * -(q.y - p.y)) / d;
        const cy = my + (sign * h * (q.x - p.x)) / d;
        most = Math.max(most, inCircle(points, cx, cy, p.floor, r).length);
      }
    });
    return most;
  });
  return { best, largest: Math.max(0, ...best) };
}

/** The smallest circle around a set is at most r (the set fits in one circle of radius r). */
function fitsInCircle(points: readonly ClusterPoint[], members: readonly number[], r: number) {
  const chosen = members.map(index => points[index] as ClusterPoint);
  const floor = chosen[0]?.floor ?? 0;
  if (chosen.some(point => point.floor !== floor)) return false;
  if (chosen.length <= 1) return true;
  const holdsAll = (cx: number, cy: number) =>
    chosen.every(point => Math.hypot(point.x - cx, point.y - cy) <= r * (1 + 1e-6));
  for (const p of chosen) {
    if (holdsAll(p.x, p.y)) return true;
    for (const q of chosen) {
      const d = Math.hypot(q.x - p.x, q.y - p.y);
      if (d === 0 || d > 2 * r * (1 + 1e-6)) continue;
      const h = Math.sqrt(Math.max(0, r * r - (d / 2) * (d / 2)));
      for (const sign of [1, -1]) {
        const cx = (p.x + q.x) / 2 + (sign * h * -(q.y - p.y)) / d;
        const cy = (p.y + q.y) / 2 + (sign * h * (q.x - p.x)) / d;
        if (holdsAll(cx, cy)) return true;
      }
    }
  }
  return false;
}

const p = (x: number, y: number, floor = 1): ClusterPoint => ({ x, y, floor });

describe(crowdsWithinRadius.name, () => {
  it('returns nothing for no points or fewer than minSize', () => {
    expect(crowdsWithinRadius([], 15)).toEqual([]);
    expect(crowdsWithinRadius([p(0, 0), p(1, 1)], 15, 3)).toEqual([]);
  });

  it('counts people within one circle of radius 15 m, the rim included', () => {
    // 30 m apart: both on the rim of the circle centred between them.
    expect(crowdsWithinRadius([p(0, 0), p(30, 0)], 15, 2)).toEqual([[0, 1]]);
    expect(crowdsWithinRadius([p(0, 0), p(30.001, 0)], 15, 2)).toEqual([]);
    expect(crowdsWithinRadius([p(0, 0), p(18, 24)], 15, 2)).toEqual([[0, 1]]); // 30 m (3-4-5)
  });

  it('does not chain: people 14 m apart in a line are no crowd of 4 (single linkage said 6)', () => {
    const line = [0, 14, 28, 42, 56, 70].map(x => p(x, 0));
    expect(crowdsWithinRadius(line, 15, 4)).toEqual([]);
    // Three of them do fit in one 15 m circle (0–28 m spans less than its 30 m diameter).
    expect(crowdsWithinRadius(line, 15, 3)[0]).toEqual([0, 1, 2]);
  });

  it('finds a crowd no two of whom are within 15 m: 3 people on the rim of a 15 m circle', () => {
    // Equilateral, 15 × √3 ≈ 26 m apart: single linkage at 15 m saw three lone people.
    const rim = [0, 120, 240].map(degrees => {
      const radians = (degrees * Math.PI) / 180;
      return p(100 + 15 * Math.cos(radians), 100 + 15 * Math.sin(radians));
    });
    expect(crowdsWithinRadius(rim, 15, 3)).toEqual([[0, 1, 2]]);
    expect(crowdsWithinRadius(rim, 14.9, 3)).toEqual([]);
  });

  it('finds separate crowds, at negative coordinates and across grid cells', () => {
    const crowds = crowdsWithinRadius(
      [p(-100, -100), p(-110, -95), p(-105, -108), p(200, 200), p(29.9, 0), p(30.1, 0), p(35, 5)],
      15,
      3,
    );
    expect(crowds).toEqual([
      [0, 1, 2],
      [4, 5, 6],
    ]);
  });

  it('never counts people on different floors together', () => {
    expect(crowdsWithinRadius([p(0, 0, 1), p(1, 1, 2), p(2, 2, 1)], 15, 3)).toEqual([]);
    expect(crowdsWithinRadius([p(0, 0, 1), p(1, 1, 2), p(2, 2, 1)], 15, 2)).toEqual([[0, 2]]);
  });

  it('covers a dense crowd with a few circles, each within 15 m', () => {
    const dense = Array.from({ length: 400 }, (_, index) => p(index % 20, Math.floor(index / 20)));
    const crowds = crowdsWithinRadius(dense, 15, 3);
    expect(crowds.length).toBeLessThanOrEqual(4);
    expect(new Set(crowds.flat()).size).toBe(400);
    for (const crowd of crowds) expect(fitsInCircle(dense, crowd, 15)).toBe(true);
  });

  it('rejects a radius that is not positive (a bug in the caller)', () => {
    expect(() => crowdsWithinRadius([p(0, 0)], 0)).toThrow(RangeError);
    expect(() => crowdsWithinRadius([p(0, 0)], Number.NaN)).toThrow(RangeError);
  });

  it('agrees with the brute-force definition for random points (property)', () => {
    const point = fc.record({
      x: fc.double({ min: -60, max: 60, noNaN: true }),
      y: fc.double({ min: -60, max: 60, noNaN: true }),
      floor: fc.integer({ min: 0, max: 1 }),
    });
    fc.assert(
      fc.property(
        fc.array(point, { maxLength: 40 }),
        fc.constantFrom(5, 15, 30),
        fc.integer({ min: 1, max: 6 }),
        (points, radius, minSize) => {
          const crowds = crowdsWithinRadius(points, radius, minSize);
          // Up to a 10⁻⁶ margin on the radius (the boundary itself is floating-point noise):
          // a crowd in a slightly smaller circle is found; one found fits a slightly larger one.
          const strict = bruteForce(points, radius * (1 - 1e-6));
          const loose = bruteForce(points, radius * (1 + 1e-6));
          if (strict.largest >= minSize) expect(crowds.length).toBeGreaterThan(0);
          if (crowds.length > 0) expect(loose.largest).toBeGreaterThanOrEqual(minSize);
          const listed = new Set(crowds.flat());
          for (const crowd of crowds) {
            // Every crowd is real: at least minSize people inside one circle of the radius.
            expect(crowd.length).toBeGreaterThanOrEqual(minSize);
            expect(fitsInCircle(points, crowd, radius)).toBe(true);
          }
          // Everyone at the centre or on the rim of a full enough circle is listed.
          strict.best.forEach((most, index) => {
            if (most >= minSize) expect(listed.has(index)).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with brute force on dense crowds (many people within reach)', () => {
    const point = fc.record({
      x: fc.double({ min: 0, max: 50, noNaN: true }),
      y: fc.double({ min: 0, max: 50, noNaN: true }),
      floor: fc.constant(1),
    });
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 3, max: 12 }),
        (points, minSize) => {
          const crowds = crowdsWithinRadius(points, 15, minSize);
          if (bruteForce(points, 15 * (1 - 1e-6)).largest >= minSize)
            expect(crowds.length).toBeGreaterThan(0);
          if (crowds.length > 0)
            expect(bruteForce(points, 15 * (1 + 1e-6)).largest).toBeGreaterThanOrEqual(minSize);
          for (const crowd of crowds) expect(fitsInCircle(points, crowd, 15)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
