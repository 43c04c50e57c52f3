import type { AlarmLocation, DeviceEvent } from '@vigil/contracts';

/**
 * Addresses inside a device (docs/interfaces.md "Device-side alarms and fire panels"): a GB 26875
 * fire panel reports each signal with `detail.loop` / `detail.point` (`detail.address` is taken as
 * the point) / `detail.zone`; an electrical-fire monitor or gas controller with `detail.channel`.
 * The registry maps a panel's points and zones to areas and positions (`FirePanelMap`).
 */

/** One point (detector, call point, module) of a fire panel, as the registry maps it. */
export interface FirePanelPoint {
  readonly loop: string | undefined;
  readonly point: string;
  readonly zone: string | undefined;
  readonly areaId: string | undefined;
  readonly position: readonly [number, number] | undefined;
  readonly name: string | undefined;
}

/** One zone (防区 / 报警区域) of a fire panel. */
export interface FirePanelZone {
  readonly zone: string;
  readonly areaId: string | undefined;
  readonly position: readonly [number, number] | undefined;
  readonly name: string | undefined;
  /**
   * Two-detector confirmation (GB 50116 linkage AND logic, domain-standards §6 / §9.6): a fire is
   * "confirmed" when two points of this zone report fire within this many ms. Absent: off.
   */
  readonly confirmWindowMs: number | undefined;
}

/** A fire panel's address book; keys are `pointKey(loop, point)` and zone ids. */
export interface FirePanelMap {
  readonly points: ReadonlyMap<string, FirePanelPoint>;
  readonly zones: ReadonlyMap<string, FirePanelZone>;
}

/** How a `FirePanelMap` goes over JSON (REST `GET /api/v1/devices`): arrays, not Maps. */
export interface FirePanelMapJson {
  readonly points: readonly FirePanelPoint[];
  readonly zones: readonly FirePanelZone[];
}

/** A map whose JSON form is `FirePanelMapJson` (Maps would serialise as `{}`). */
export function firePanelMapOf(
  points: readonly FirePanelPoint[],
  zones: readonly FirePanelZone[],
): FirePanelMap {
  const map = {
    points: new Map(points.map(point => [pointKey(point.loop, point.point), point])),
    zones: new Map(zones.map(zone => [zone.zone, zone])),
  };
  Object.defineProperty(map, 'toJSON', {
    enumerable: false,
    value: (): FirePanelMapJson => ({ points: [...points], zones: [...zones] }),
  });
  return map;
}

/** The map back from its JSON form; undefined when `json` is not one. */
export function firePanelMapFromJson(json: unknown): FirePanelMap | undefined {
  const value = json as Partial<FirePanelMapJson> | undefined;
  if (!value || !Array.isArray(value.points) || !Array.isArray(value.zones)) return undefined;
  return firePanelMapOf(value.points, value.zones);
}

export function pointKey(loop: string | undefined, point: string): string {
  return loop === undefined ? point : `${loop}-${point}`;
}

/**
 * At most this many addresses of one (device, event rule) are held apart (P): a panel with more
 * concurrent fires, or a hostile device inventing addresses, folds the rest into the device-level
 * alarm, and says so in its message, instead of growing state and alarms without bound.
 */
export const MAX_EVENT_ADDRESSES = 256;

/** Address parts: non-negative integers, or short names of letters, digits, `_` and `-`. */
const PART_PATTERN = /^[\p{L}\p{N}_-]{1,32}$/u;

/** `undefined`: absent; `null`: present but not an address part. */
function part(value: unknown): string | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 1_000_000 ? String(value) : null;
  }
  if (typeof value === 'string' && PART_PATTERN.test(value)) return value;
  return null;
}

export interface EventAddress {
  /** Suffix of the signal key (`L1.P23`, `Z3`, `C2`); '' when the event names no address. */
  readonly key: string;
  readonly location: AlarmLocation | undefined;
  /** The point's (or zone's) area from the registry; undefined: the device's own area. */
  readonly areaId: string | undefined;
  /** The zone the address belongs to (registry first, then `detail.zone`). */
  readonly zone: string | undefined;
  /** Why the address could not be used or located; stated in the alarm message, never dropped. */
  readonly problem: string | undefined;
}

const NO_ADDRESS: EventAddress = Object.freeze({
  key: '',
  location: undefined,
  areaId: undefined,
  zone: undefined,
  problem: undefined,
});

/**
 * The address an event names, located through the panel's map. An unreadable address is not a
 * reason to drop the event: it raises on the device-level key, with the problem in its message.
 */
export function eventAddress(
  detail: DeviceEvent['detail'],
  map: FirePanelMap | undefined,
): EventAddress {
  if (!detail) return NO_ADDRESS;
  const loop = part(detail['loop']);
  const point = part(detail['point'] ?? detail['address']);
  const zoneRead = part(detail['zone']);
  const channelRead = part(detail['channel']);
  if (loop === null || point === null) {
    return { ...NO_ADDRESS, problem: 'address unreadable (loop/point)' };
  }
  // A zone or channel that is not an address part (a free-text zone name) is ignored, not a
  // reason to lose the point's own key.
  const ignored = [zoneRead === null ? 'zone' : '', channelRead === null ? 'channel' : '']
    .filter(Boolean)
    .join(' and ');
  const zoneGiven = zoneRead ?? undefined;
  const channel = channelRead ?? undefined;
  let problem: string | undefined = ignored ? `${ignored} unreadable, ignored` : undefined;
  if (loop === undefined && point === undefined && zoneGiven === undefined && !channel) {
    return problem ? { ...NO_ADDRESS, problem } : NO_ADDRESS;
  }
  const mapped = point === undefined ? undefined : map?.points.get(pointKey(loop, point));
  if (point !== undefined && !mapped && map && map.points.size > 0) {
    const missing = `point ${pointKey(loop, point)} is not in the registry: located at the device`;
    problem = problem ? `${problem}; ${missing}` : missing;
  }
  const zone = mapped?.zone ?? zoneGiven;
  const zoneEntry = zone === undefined ? undefined : map?.zones.get(zone);
  const parts: string[] = [];
  if (point !== undefined) {
    if (loop !== undefined) parts.push(`L${loop}`);
    parts.push(`P${point}`);
  } else if (zone !== undefined) {
    parts.push(`Z${zone}`);
  } else if (loop !== undefined) {
    parts.push(`L${loop}`);
  }
  if (channel !== undefined) parts.push(`C${channel}`);
  const location: AlarmLocation = {
    ...(loop === undefined ? {} : { loop }),
    ...(point === undefined ? {} : { point }),
    ...(zone === undefined ? {} : { zone }),
    ...(channel === undefined ? {} : { channel }),
    ...((mapped?.name ?? (point === undefined ? zoneEntry?.name : undefined)) === undefined
      ? {}
      : { name: mapped?.name ?? zoneEntry?.name }),
    ...((mapped?.position ?? zoneEntry?.position) === undefined
      ? {}
      : { position: mapped?.position ?? zoneEntry?.position }),
  };
  return {
    key: parts.join('.'),
    location,
    areaId: mapped?.areaId ?? zoneEntry?.areaId,
    zone,
    problem,
  };
}

/** `loop 1 point 23 (Tank farm smoke 23), zone 3, channel 2` for messages (English; the console translates). */
export function describeLocation(location: AlarmLocation | undefined): string {
  if (!location) return '';
  const parts: string[] = [];
  if (location.loop !== undefined) parts.push(`loop ${location.loop}`);
  if (location.point !== undefined) parts.push(`point ${location.point}`);
  let text = parts.join(' ');
  if (location.name !== undefined) text += `${text ? ' ' : ''}(${location.name.slice(0, 40)})`;
  const rest: string[] = text ? [text] : [];
  if (location.zone !== undefined) rest.push(`zone ${location.zone}`);
  if (location.channel !== undefined) rest.push(`channel ${location.channel}`);
  return rest.join(', ');
}
