import type { RegisteredDevice } from '@vigil/registry';
import { pointKey } from '@vigil/rules';

/**
 * The signals a GB 26875 / GB 4717 fire panel sends, as the simulator's `panel` command and
 * scenarios name them, and the event each one is on the wire (docs/interfaces.md "Fire panels").
 * `…-end` / `…-restored` are the same code with `detail.cleared: true`.
 */
export const FIRE_PANEL_STATES = {
  fire: { code: 'fire', cleared: false, addressed: true },
  fault: { code: 'fault', cleared: false, addressed: true },
  'fault-end': { code: 'fault', cleared: true, addressed: true },
  supervisory: { code: 'supervisory', cleared: false, addressed: true },
  isolation: { code: 'isolation', cleared: false, addressed: true },
  'isolation-end': { code: 'isolation', cleared: true, addressed: true },
  start: { code: 'start', cleared: false, addressed: true },
  'start-end': { code: 'start', cleared: true, addressed: true },
  feedback: { code: 'feedback', cleared: false, addressed: true },
  'feedback-end': { code: 'feedback', cleared: true, addressed: true },
  'mains-fault': { code: 'mains_fault', cleared: false, addressed: false },
  'mains-restored': { code: 'mains_fault', cleared: true, addressed: false },
  'backup-fault': { code: 'backup_fault', cleared: false, addressed: false },
  'backup-restored': { code: 'backup_fault', cleared: true, addressed: false },
  manual: { code: 'manual_mode', cleared: false, addressed: false },
  auto: { code: 'auto_mode', cleared: false, addressed: false },
  reset: { code: 'reset', cleared: false, addressed: false },
} as const;
export type FirePanelState = keyof typeof FIRE_PANEL_STATES;

export interface FirePanelEvent {
  readonly code: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** `23` → 23, `east` → `east`: addresses go out as numbers where they are numbers. */
function wire(part: string): number | string {
  return /^\d{1,7}$/.test(part) ? Number(part) : part;
}

/**
 * The event a fire panel sends for `state` at `address` (`loop-point`, `point`, or `zone:<id>`),
 * with the point's zone from the registry. Throws, for the operator, on a state that is not a
 * panel's, a device that is not a panel, or a point the registry does not list.
 */
export function firePanelEvent(
  device: RegisteredDevice,
  state: string,
  address?: string,
): FirePanelEvent {
  if (device.deviceClass !== 'fire-panel') {
    throw new Error(`${device.deviceId} is a ${device.deviceClass}, not a fire panel`);
  }
  if (!Object.hasOwn(FIRE_PANEL_STATES, state)) {
    throw new Error(
      `unknown panel state "${state}" (one of ${Object.keys(FIRE_PANEL_STATES).join(', ')})`,
    );
  }
  const spec = FIRE_PANEL_STATES[state as FirePanelState];
  const detail: Record<string, unknown> = {};
  if (address !== undefined) {
    if (!spec.addressed) throw new Error(`panel state "${state}" takes no address`);
    if (address.startsWith('zone:')) {
      detail['zone'] = wire(address.slice('zone:'.length));
    } else {
      const [first, second] = address.split('-', 2);
      const loop = second === undefined ? undefined : first;
      const point = (second ?? first) as string;
      const map = device.firePanel;
      const known = map?.points.get(pointKey(loop, point));
      if (map && map.points.size > 0 && !known) {
        throw new Error(
          `point ${address} is not in the registry of ${device.deviceId} ` +
            `(${map.points.size} points, e.g. ${[...map.points.keys()].slice(0, 3).join(', ')})`,
        );
      }
      if (loop !== undefined) detail['loop'] = wire(loop);
      detail['point'] = wire(point);
      if (known?.zone !== undefined) detail['zone'] = wire(known.zone);
    }
  }
  if (spec.cleared) detail['cleared'] = true;
  return { code: spec.code, detail };
}
