import type { Area, RegisteredDevice } from '@vigil/registry';

export type Point = readonly [number, number];

/** What the simulator needs of an area: its id, outline and kind (a registry `Area` fits). */
export type AreaLayout = Pick<Area, 'id' | 'polygon'> & { readonly kind?: Area['kind'] };

/** What the simulator needs of a site: its frame and areas (a registry `Site` fits). */
export interface SiteLayout {
  readonly id: string;
  /** Metres, origin at the south-west corner. */
  readonly frame: { readonly width: number; readonly height: number };
  readonly areas: readonly AreaLayout[];
}

/** The devices to simulate and the sites they stand in. A registry `Registry` fits as it is. */
export interface FleetDefinition {
  readonly devices: readonly RegisteredDevice[];
  readonly sites: readonly SiteLayout[];
}

/** Area centroid (shoelace formula); the vertex mean for a degenerate polygon. */
export function polygonCentroid(polygon: readonly Point[]): Point {
  let twiceArea = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i] as Point;
    const [xj, yj] = polygon[j] as Point;
    const cross = xj * yi - xi * yj;
    twiceArea += cross;
    cx += (xj + xi) * cross;
    cy += (yj + yi) * cross;
  }
  if (Math.abs(twiceArea) < 1e-9) {
    const n = Math.max(1, polygon.length);
    return [
      polygon.reduce((sum, [x]) => sum + x, 0) / n,
      polygon.reduce((sum, [, y]) => sum + y, 0) / n,
    ];
  }
  return [cx / (3 * twiceArea), cy / (3 * twiceArea)];
}

export function distance([ax, ay]: Point, [bx, by]: Point): number {
  return Math.hypot(ax - bx, ay - by);
}
