import { pointInRing } from '@vigil/contracts';

type Point = readonly [number, number];

/** Distance in metres from a point to a polygon: 0 inside, else to the nearest edge. */
export function distanceToPolygon(point: Point, polygon: readonly Point[]): number {
  if (pointInRing(point, polygon)) return 0;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    best = Math.min(best, distanceToSegment(point, polygon[j] as Point, polygon[i] as Point));
  }
  return best;
}

function distanceToSegment([px, py]: Point, [ax, ay]: Point, [bx, by]: Point): number {
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  const t =
    lengthSquared === 0
      ? 0
      : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / lengthSquared));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

export interface TagFix {
  readonly deviceId: string;
  readonly x: number;
  readonly y: number;
}

/**
 * The muster list of an area: people inside it, then people within `radiusM` of its edge
 * (domain-standards §9.7 correlation: "list people currently in/near it (≤ 50 m)"), nearest first.
 */
export function musterList<T extends TagFix>(
  tags: readonly T[],
  polygon: readonly Point[],
  radiusM: number,
): Array<T & { readonly distanceM: number; readonly inside: boolean }> {
  return tags
    .map(tag => {
      const distanceM = Math.round(distanceToPolygon([tag.x, tag.y], polygon) * 10) / 10;
      return { ...tag, distanceM, inside: distanceM === 0 };
    })
    .filter(tag => tag.distanceM <= radiusM)
    .sort((a, b) => a.distanceM - b.distanceM || a.deviceId.localeCompare(b.deviceId));
}
