import { DEFAULT_ALARM_POLICY, dueTransition } from '@vigil/alarms';
import type { Alarm } from '@vigil/contracts';
import type { Registry } from '@vigil/registry';

import type { AlarmUpdate } from '../bus/pipeline-bus';

/** Enterprise first, then up to the root, as the lifecycle escalates (AlarmService.escalationPath). */
export function escalationPathOf(registry: Registry, siteId: string): string[] {
  const site = registry.site(siteId);
  if (!site) return [];
  return registry
    .orgPath(site.enterprise)
    .map(node => node.id)
    .reverse();
}

/**
 * The time-driven steps due at `now` of alarms the gateway owns (an unmanned control room, a
 * stalled pipeline): escalation up the organisation tree when not acknowledged in time, overdue
 * when not disposed, shelving expiry. The rules process's AlarmService applies them to the
 * alarms it owns on its tick; these alarms are not there, so their owners apply them here on
 * theirs, with the same pure `dueTransition` (at most 8 steps per alarm per call, as there).
 */
export function dueOwnedTransitions(
  alarms: Iterable<Alarm>,
  now: number,
  registry: Registry,
): AlarmUpdate[] {
  const updates: AlarmUpdate[] = [];
  for (const alarm of alarms) {
    const path = escalationPathOf(registry, alarm.siteId);
    let current = alarm;
    for (let step = 0; step < 8; step += 1) {
      const transition = dueTransition(current, now, DEFAULT_ALARM_POLICY, path);
      if (!transition) break;
      updates.push(transition);
      current = transition.alarm;
    }
  }
  return updates;
}
