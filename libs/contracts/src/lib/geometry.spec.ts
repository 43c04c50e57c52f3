import fc from 'fast-check';

import {
  compilePolygon,
  distanceToBoundary,
  nearBoundingBox,
  pointInPolygon,
  pointInRing,
  signedDepth,
} from './geometry';

function rect(x0: number, y0: number, x1: number, y1: number): Array<[number, number]> {
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
}

const square = compilePolygon(rect(0, 0, 100, 100));
/** L shape: the 100 × 100 square without its north-east quarter (a concave corner at 50, 50). */
const ell = compilePolygon([
  [0, 0],
  [100, 0],
  [100, 50],
  [50, 50],
  [50, 100],
  [0, 100],
]);

describe('pointInPolygon', () => {
  it('tells inside from outside, with the bounding box as a first cut', () => {
    expect(pointInPolygon(square, 50, 50)).toBe(true);
    expect(pointInPolygon(square, 150, 50)).toBe(false);
    expect(pointInPolygon(square, -0.001, 50)).toBe(false);
    expect(pointInPolygon(ell, 25, 75)).toBe(true);
    expect(pointInPolygon(ell, 75, 75)).toBe(false); // the missing quarter
    expect(pointInPolygon(ell, 75, 25)).toBe(true);
  });

  it('answers as pointInRing does on the stored polygon, for any point', () => {
    const points = ell.points;
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 150, noNaN: true }),
        fc.double({ min: -50, max: 150, noNaN: true }),
        (x, y) => pointInPolygon(ell, x, y) === pointInRing([x, y], points),
      ),
    );
  });
});

describe('distanceToBoundary and signedDepth', () => {
  it('measures to the nearest edge, positive inside and negative outside', () => {
    expect(distanceToBoundary(square, 10, 50)).toBe(10);
    expect(signedDepth(square, 10, 50)).toBe(10);
    expect(signedDepth(square, 103, 50)).toBe(-3);
    expect(signedDepth(square, 103, 104)).toBe(-5); // corner: 3-4-5
    expect(signedDepth(square, 0, 50)).toBeCloseTo(0); // on the boundary
    expect(signedDepth(square, 0, 50) >= 0).toBe(true); // the boundary counts as inside
  });

  it('is the accuracy-buffer shrink: inside the polygon shrunk by 3 m ⇔ depth ≥ 3', () => {
    expect(signedDepth(square, 3, 50) >= 3).toBe(true); // exactly on the shrunk boundary
    expect(signedDepth(square, 2.999, 50) >= 3).toBe(false);
    expect(signedDepth(square, 50, 97) >= 3).toBe(true);
    expect(signedDepth(square, 50, 97.001) >= 3).toBe(false);
  });

  it('measures to the reflex vertex of an L shape, so the shrunk L is rounded there', () => {
    // Beside the inner edge x = 50 (y 50..100): plain edge distance.
    expect(signedDepth(ell, 47, 60)).toBeCloseTo(3);
    // Diagonally before the reflex corner (50, 50): the corner is the nearest boundary point.
    expect(signedDepth(ell, 47, 47)).toBeCloseTo(3 * Math.SQRT2);
    expect(signedDepth(ell, 48, 48)).toBeCloseTo(2 * Math.SQRT2); // < 3: not in the shrunk L
    // In the missing quarter, 3 m from the inner edge x = 50.
    expect(signedDepth(ell, 53, 54)).toBeCloseTo(-3);
  });

  it('matches the closed form for a rectangle at random points (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 150, noNaN: true }),
        fc.double({ min: -50, max: 150, noNaN: true }),
        (x, y) => {
          const inside = x > 0 && x < 100 && y > 0 && y < 100;
          const dx = Math.max(0 - x, 0, x - 100);
          const dy = Math.max(0 - y, 0, y - 100);
          const expected = inside
            ? Math.min(x, 100 - x, y, 100 - y)
            : -Math.hypot(dx, dy) ||
              -Math.min(Math.abs(x), Math.abs(100 - x), Math.abs(y), Math.abs(100 - y));
          expect(signedDepth(square, x, y)).toBeCloseTo(expected, 9);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('nearBoundingBox', () => {
  it('accepts points within the margin of the box and rejects the others', () => {
    expect(nearBoundingBox(square, 103, 50, 3)).toBe(true);
    expect(nearBoundingBox(square, 103.5, 50, 3)).toBe(false);
    expect(nearBoundingBox(square, 50, -3, 3)).toBe(true);
  });
});
