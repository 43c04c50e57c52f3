import { z } from 'zod';

import { IDENTIFIER_PATTERN } from '@vigil/contracts';
import {
  type FirePanelMap,
  type FirePanelPoint,
  type FirePanelZone,
  firePanelMapOf,
  pointKey,
} from '@vigil/rules';

/**
 * A fire panel's address book (GB 26875 / GB 4717: loop, point, zone), registry entries `points`
 * and `zones` of a `fire-panel` device. Each point (detector, call point, module) and zone is
 * mapped to an area and, optionally, a position, so that a fire is located at the point, not at
 * the panel (docs/interfaces.md "Registry: fire-panel points and zones").
 */

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const position = z.tuple([z.number().finite(), z.number().finite()]);
/** As devices send them (`detail.loop`, `detail.point`, `detail.zone`): numbers or short names. */
const addressPart = z
  .union([
    z.int().min(0).max(1_000_000),
    z.string().regex(/^[\p{L}\p{N}_-]{1,32}$/u, 'must be a number or a short name (no spaces)'),
  ])
  .transform(String);

/** At most this many points and zones per panel (large panels have 32 loops × 250 points). */
export const MAX_PANEL_POINTS = 20_000;
export const MAX_PANEL_ZONES = 4_000;
/** A two-detector confirmation window longer than this is no longer "the same fire" (P). */
export const MAX_CONFIRM_WINDOW_SECONDS = 600;

export const firePanelPointSchema = z.strictObject({
  loop: addressPart.optional(),
  point: addressPart,
  zone: addressPart.optional(),
  area: identifier.optional(),
  position: position.optional(),
  name: z.string().min(1).max(64).optional(),
});

export const firePanelZoneSchema = z.strictObject({
  zone: addressPart,
  area: identifier.optional(),
  position: position.optional(),
  name: z.string().min(1).max(64).optional(),
  /**
   * Optional two-detector confirmation: a fire is "confirmed" when two points of the zone report
   * fire within `windowSeconds` (GB 50116 AND logic, domain-standards §6 / §9.6; window P).
   */
  confirm: z
    .strictObject({ windowSeconds: z.number().positive().max(MAX_CONFIRM_WINDOW_SECONDS) })
    .optional(),
});

export const firePanelPointsSchema = z.array(firePanelPointSchema).max(MAX_PANEL_POINTS);
export const firePanelZonesSchema = z.array(firePanelZoneSchema).max(MAX_PANEL_ZONES);

export type FirePanelPointEntry = z.infer<typeof firePanelPointSchema>;
export type FirePanelZoneEntry = z.infer<typeof firePanelZoneSchema>;

/** What `buildFirePanelMap` needs to know about the device and its site. */
export interface FirePanelDeviceEntry {
  readonly class: string;
  readonly points?: readonly FirePanelPointEntry[] | undefined;
  readonly zones?: readonly FirePanelZoneEntry[] | undefined;
}

/**
 * Validates a device's points and zones (every problem, with its path) and builds its map.
 * Strict: only fire panels have them; no duplicate point or zone; every area exists; every
 * position is in the site frame; a point's zone is one of the panel's zones; and every point is
 * located (an area of its own or of its zone), since a fire "somewhere on the panel" is what
 * this table exists to avoid. Returns undefined when the device has neither.
 */
export function buildFirePanelMap(
  entry: FirePanelDeviceEntry,
  at: string,
  hasArea: (areaId: string) => boolean,
  inFrame: (position: readonly [number, number]) => boolean,
  problems: string[],
): FirePanelMap | undefined {
  if (entry.points === undefined && entry.zones === undefined) return undefined;
  if (entry.class !== 'fire-panel') {
    problems.push(`${at}: points and zones are for fire-panel devices, not ${entry.class}`);
    return undefined;
  }
  const zones = new Map<string, FirePanelZone>();
  for (const [index, zone] of (entry.zones ?? []).entries()) {
    const where = `${at}.zones[${index}]`;
    if (zones.has(zone.zone)) problems.push(`${where}: duplicate zone "${zone.zone}"`);
    if (zone.area !== undefined && !hasArea(zone.area))
      problems.push(`${where}.area: "${zone.area}" does not exist in the site`);
    if (zone.position && !inFrame(zone.position))
      problems.push(`${where}.position: outside the site frame`);
    zones.set(zone.zone, {
      zone: zone.zone,
      areaId: zone.area,
      position: zone.position,
      name: zone.name,
      confirmWindowMs:
        zone.confirm === undefined ? undefined : Math.round(zone.confirm.windowSeconds * 1000),
    });
  }
  const points = new Map<string, FirePanelPoint>();
  for (const [index, point] of (entry.points ?? []).entries()) {
    const where = `${at}.points[${index}]`;
    const key = pointKey(point.loop, point.point);
    if (points.has(key)) problems.push(`${where}: duplicate point ${key} (loop-point)`);
    if (point.area !== undefined && !hasArea(point.area))
      problems.push(`${where}.area: "${point.area}" does not exist in the site`);
    if (point.position && !inFrame(point.position))
      problems.push(`${where}.position: outside the site frame`);
    const zone = point.zone === undefined ? undefined : zones.get(point.zone);
    if (point.zone !== undefined && !zone)
      problems.push(`${where}.zone: "${point.zone}" is not one of the panel's zones`);
    if (point.area === undefined && zone?.areaId === undefined)
      problems.push(`${where}: point ${key} has no area (give area, or a zone with an area)`);
    points.set(key, {
      loop: point.loop,
      point: point.point,
      zone: point.zone,
      areaId: point.area ?? zone?.areaId,
      position: point.position ?? zone?.position,
      name: point.name,
    });
  }
  return firePanelMapOf([...points.values()], [...zones.values()]);
}
