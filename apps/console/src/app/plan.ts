import type { Alarm, PointM, TagPosition } from '@vigil/contracts';

export type DeviceState = 'normal' | 'alarm' | 'fault' | 'offline';

export interface DeviceLook {
  readonly state: DeviceState;
  /** Priority of the most urgent process alarm or warning, when in alarm. */
  readonly priority: number | undefined;
  readonly unacknowledged: boolean;
}

/**
 * How a device looks on the plan, from its open alarms: offline beats everything (nothing it says
 * can be seen), then a process alarm or warning (coloured by priority), then a data-quality fault.
 */
export function deviceLook(alarms: readonly Alarm[]): DeviceLook {
  let priority: number | undefined;
  let unacknowledged = false;
  let fault = false;
  for (const alarm of alarms) {
    if (alarm.category === 'quality') {
      if (alarm.ruleId === 'offline')
        return { state: 'offline', priority: undefined, unacknowledged: false };
      fault = true;
      continue;
    }
    if (priority === undefined || alarm.priority < priority) priority = alarm.priority;
    if (alarm.state === 'active-unacknowledged') unacknowledged = true;
  }
  if (priority !== undefined) return { state: 'alarm', priority, unacknowledged };
  return { state: fault ? 'fault' : 'normal', priority: undefined, unacknowledged: false };
}

export function alarmsByDevice(alarms: Iterable<Alarm>, siteId: string): Map<string, Alarm[]> {
  const byDevice = new Map<string, Alarm[]>();
  for (const alarm of alarms) {
    if (alarm.siteId !== siteId) continue;
    const list = byDevice.get(alarm.deviceId);
    if (list) list.push(alarm);
    else byDevice.set(alarm.deviceId, [alarm]);
  }
  return byDevice;
}

export interface CrowdCircle {
  readonly alarmId: string;
  readonly centre: PointM;
  readonly radius: number;
  readonly members: readonly string[];
  readonly unacknowledged: boolean;
}

/** Margin around a crowd, in metres: the circle must enclose the dots, not cut through them. */
const CROWD_MARGIN_M = 6;

/** A circle around the people of each active crowding alarm, from their latest positions. */
export function crowdCircles(
  alarms: Iterable<Alarm>,
  positions: ReadonlyMap<string, TagPosition>,
  siteId: string,
): CrowdCircle[] {
  const circles: CrowdCircle[] = [];
  for (const alarm of alarms) {
    if (alarm.siteId !== siteId || alarm.ruleId !== 'crowding' || !alarm.conditionActive) continue;
    const points = (alarm.members ?? [])
      .map(id => positions.get(id))
      .filter((p): p is TagPosition => p !== undefined);
    if (points.length === 0) continue;
    const cx = points.reduce((sum, p) => sum + p.x, 0) / points.length;
    const cy = points.reduce((sum, p) => sum + p.y, 0) / points.length;
    const reach = Math.max(...points.map(p => Math.hypot(p.x - cx, p.y - cy)));
    circles.push({
      alarmId: alarm.id,
      centre: [cx, cy],
      radius: reach + CROWD_MARGIN_M,
      members: alarm.members ?? [],
      unacknowledged: alarm.state === 'active-unacknowledged',
    });
  }
  return circles;
}

export interface LocatedAlarm {
  readonly alarmId: string;
  readonly deviceId: string;
  readonly position: PointM;
  readonly priority: number;
  readonly unacknowledged: boolean;
}

/**
 * Alarms located inside a device (a fire-panel point with a registry position): marked on the
 * plan where the point is, not at the panel. Only while their condition is active.
 */
export function locatedAlarms(alarms: Iterable<Alarm>, siteId: string): LocatedAlarm[] {
  const located: LocatedAlarm[] = [];
  for (const alarm of alarms) {
    const position = alarm.location?.position;
    if (alarm.siteId !== siteId || !position || !alarm.conditionActive) continue;
    located.push({
      alarmId: alarm.id,
      deviceId: alarm.deviceId,
      position,
      priority: alarm.priority,
      unacknowledged: alarm.state === 'active-unacknowledged',
    });
  }
  return located;
}
