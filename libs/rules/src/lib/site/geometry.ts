/** `[x, y]` in metres in the site frame (x east, y north), as in the registry. */
export type PointM = readonly [number, number];

/** A polygon with its bounding box, so most points are rejected without looking at an edge. */
export interface Polygon {
  readonly points: readonly PointM[];
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
}

export function compilePolygon(points: readonly PointM[]): Polygon {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of points) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return { points, minX, minY, maxX, maxY };
}

/** Even-odd ray casting; self-intersecting polygons follow the even-odd rule. */
export function pointInPolygon(polygon: Polygon, x: number, y: number): boolean {
  if (x < polygon.minX || x > polygon.maxX || y < polygon.minY || y > polygon.maxY) return false;
  const points = polygon.points;
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    const [xi, yi] = points[i] as PointM;
    const [xj, yj] = points[j] as PointM;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Shortest distance (m) from the point to the polygon's boundary, inside or outside. */
export function distanceToBoundary(polygon: Polygon, x: number, y: number): number {
  const points = polygon.points;
  let best = Infinity;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    const [ax, ay] = points[j] as PointM;
    const [bx, by] = points[i] as PointM;
    const dx = bx - ax;
    const dy = by - ay;
    const lengthSquared = dx * dx + dy * dy;
    const t =
      lengthSquared === 0
        ? 0
        : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / lengthSquared));
    const ex = ax + t * dx - x;
    const ey = ay + t * dy - y;
    best = Math.min(best, ex * ex + ey * ey);
  }
  return Math.sqrt(best);
}

/**
 * Signed depth (m): the distance to the boundary, positive inside, negative outside (−0 on the
 * boundary, which `>= 0` treats as inside). "Inside the polygon shrunk by b metres" is exactly
 * `depth ≥ b` (the points whose disc of radius b lies inside), and "within r metres of it" is
 * `depth ≥ −r`, for any simple polygon, convex or not: no polygon offsetting is needed.
 */
export function signedDepth(polygon: Polygon, x: number, y: number): number {
  const distance = distanceToBoundary(polygon, x, y);
  return pointInPolygon(polygon, x, y) ? distance : -distance;
}

/** True when the point may be within `marginM` of the polygon (cheap bounding-box test). */
export function nearBoundingBox(polygon: Polygon, x: number, y: number, marginM: number): boolean {
  return (
    x >= polygon.minX - marginM &&
    x <= polygon.maxX + marginM &&
    y >= polygon.minY - marginM &&
    y <= polygon.maxY + marginM
  );
}
