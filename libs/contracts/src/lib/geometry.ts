/*
 * Site geometry, the one copy: the rules (geofences, crowding, muster), the registry's consumers
 * (positions, the simulators) and the console's plan all test points against area polygons here.
 * Platform-neutral on purpose (no Node, no DOM), so the browser imports it as the server does.
 */

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
  for (const point of points) {
    minX = Math.min(minX, point[0]);
    minY = Math.min(minY, point[1]);
    maxX = Math.max(maxX, point[0]);
    maxY = Math.max(maxY, point[1]);
  }
  return { points, minX, minY, maxX, maxY };
}

/*
 * Hot loops (every fix, every tick): vertices are read by index (`point[0]`), never destructured,
 * since array destructuring goes through the iterator protocol and made these ~10× slower.
 */

/** Even-odd ray casting; self-intersecting polygons follow the even-odd rule. */
export function pointInPolygon(polygon: Polygon, x: number, y: number): boolean {
  if (x < polygon.minX || x > polygon.maxX || y < polygon.minY || y > polygon.maxY) return false;
  return inRing(polygon.points, x, y);
}

/**
 * The same test on a registry polygon as it is stored (`[[x, y], …]`), for code off the hot path
 * (an HTTP answer, a simulator, the console); hot loops compile the polygon once and use
 * `pointInPolygon`.
 */
export function pointInRing(point: PointM, ring: readonly PointM[]): boolean {
  return inRing(ring, point[0], point[1]);
}

function inRing(points: readonly PointM[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    const a = points[i] as PointM;
    const b = points[j] as PointM;
    const xi = a[0];
    const yi = a[1];
    const xj = b[0];
    const yj = b[1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Shortest distance (m) from the point to the polygon's boundary, inside or outside. */
export function distanceToBoundary(polygon: Polygon, x: number, y: number): number {
  const points = polygon.points;
  let best = Infinity;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    const from = points[j] as PointM;
    const to = points[i] as PointM;
    const ax = from[0];
    const ay = from[1];
    const dx = to[0] - ax;
    const dy = to[1] - ay;
    const lengthSquared = dx * dx + dy * dy;
    let t = lengthSquared === 0 ? 0 : ((x - ax) * dx + (y - ay) * dy) / lengthSquared;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const ex = ax + t * dx - x;
    const ey = ay + t * dy - y;
    const squared = ex * ex + ey * ey;
    if (squared < best) best = squared;
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
