import {
  compilePolygon,
  nearBoundingBox,
  type PointM,
  type Polygon,
  signedDepth,
} from '@vigil/contracts';

/** Distance in metres from a point to a polygon: 0 inside, else to the nearest edge. */
export function distanceToPolygon(point: PointM, polygon: readonly PointM[]): number {
  const depth = signedDepth(compilePolygon(polygon), point[0], point[1]);
  return depth >= 0 ? 0 : -depth;
}

/** One person found by `musterOf`. */
export interface Mustered<T> {
  readonly item: T;
  /** 0 inside the area, else the distance (m) to its boundary. */
  readonly distanceM: number;
  readonly inside: boolean;
}

/**
 * The muster list of an area, the one computation (the site rules' muster on their state, and
 * the console's muster page on live positions, both use it): everything inside the polygon, then
 * everything within `radiusM` of its edge (domain-standards §9.7 correlation: "list people
 * currently in/near it (≤ 50 m)"), nearest first, ties by id.
 */
export function musterOf<T extends { readonly x: number; readonly y: number }>(
  items: Iterable<T>,
  polygon: Polygon,
  radiusM: number,
  idOf: (item: T) => string,
): Array<Mustered<T>> {
  const found: Array<Mustered<T>> = [];
  for (const item of items) {
    if (!nearBoundingBox(polygon, item.x, item.y, radiusM)) continue;
    const depth = signedDepth(polygon, item.x, item.y);
    if (depth < -radiusM) continue;
    found.push({ item, distanceM: depth >= 0 ? 0 : -depth, inside: depth >= 0 });
  }
  return found.sort((a, b) => {
    if (a.distanceM !== b.distanceM) return a.distanceM - b.distanceM;
    const ia = idOf(a.item);
    const ib = idOf(b.item);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
}
