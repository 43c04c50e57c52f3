import type { Alarm, AlarmPriority, AlarmState } from '@vigil/contracts';

/** The alarm page's sections: the three kinds of signal kept apart, and what is hidden. */
export const ALARM_TABS = ['process', 'warning', 'quality', 'shelved'] as const;
export type AlarmTab = (typeof ALARM_TABS)[number];

export function isUnacknowledged(alarm: Alarm): boolean {
  return alarm.state === 'active-unacknowledged' || alarm.state === 'returned-unacknowledged';
}

/** Shelved (until its expiry) or suppressed by design: still recorded, not in the operator's list. */
export function isHidden(alarm: Alarm, now: number): boolean {
  return (
    (alarm.shelved !== undefined && alarm.shelved.until > now) || alarm.suppressed !== undefined
  );
}

/**
 * System alarms (`monitoring-lost`: part of the plant is not evaluated) are P1 and belong in the
 * operators' first list, beside the process alarms, never on a tab of their own nobody watches.
 */
export function tabOf(alarm: Alarm, now: number): AlarmTab {
  if (isHidden(alarm, now)) return 'shelved';
  return alarm.category === 'system' ? 'process' : alarm.category;
}

/** P1/P2 process alarms must be disposed (处置) before they close (闭环管理). */
export function needsDisposal(alarm: Alarm): boolean {
  return alarm.category === 'process' && alarm.priority <= 2 && alarm.disposition === undefined;
}

/** A latched alarm whose condition has gone waits for an operator's reset. */
export function needsReset(alarm: Alarm): boolean {
  return alarm.latched && !alarm.conditionActive && alarm.state !== 'normal';
}

/**
 * Identifies one activation of an alarm: a new alarm, or the same alarm raised again after it
 * returned. A clear or an acknowledgement keeps the token, so they never restart the horn.
 */
export function raiseToken(alarm: Alarm): string {
  let raisedAt = alarm.detectedAt;
  for (let i = alarm.history.length - 1; i >= 0; i -= 1) {
    const entry = alarm.history[i];
    if (entry?.action === 'raise') {
      raisedAt = entry.at;
      break;
    }
  }
  return `${alarm.id}@${raisedAt}`;
}

export interface TabSummary {
  readonly total: number;
  readonly unacknowledged: number;
  /** Highest priority (lowest number) among unacknowledged alarms. */
  readonly worstUnacknowledged: AlarmPriority | undefined;
}

export function summariseTabs(alarms: Iterable<Alarm>, now: number): Record<AlarmTab, TabSummary> {
  const result = {} as Record<
    AlarmTab,
    { total: number; unacknowledged: number; worstUnacknowledged: AlarmPriority | undefined }
  >;
  for (const tab of ALARM_TABS)
    result[tab] = { total: 0, unacknowledged: 0, worstUnacknowledged: undefined };
  for (const alarm of alarms) {
    const summary = result[tabOf(alarm, now)];
    summary.total += 1;
    if (isUnacknowledged(alarm)) {
      summary.unacknowledged += 1;
      if (summary.worstUnacknowledged === undefined || alarm.priority < summary.worstUnacknowledged)
        summary.worstUnacknowledged = alarm.priority;
    }
  }
  return result;
}

export interface AlarmFilter {
  readonly tab: AlarmTab;
  readonly siteId?: string | undefined;
  readonly areaId?: string | undefined;
  readonly priorities?: ReadonlySet<AlarmPriority> | undefined;
  readonly state?: AlarmState | 'unacknowledged' | undefined;
  /** Matched against device id, device name, rule id and the rendered text. */
  readonly text?: string | undefined;
}

export function filterAlarms(
  alarms: Iterable<Alarm>,
  filter: AlarmFilter,
  now: number,
  searchable: (alarm: Alarm) => string = alarm => `${alarm.deviceId} ${alarm.ruleId}`,
): Alarm[] {
  const text = filter.text?.trim().toLowerCase();
  const result: Alarm[] = [];
  for (const alarm of alarms) {
    if (tabOf(alarm, now) !== filter.tab) continue;
    if (filter.siteId && alarm.siteId !== filter.siteId) continue;
    if (filter.areaId && alarm.areaId !== filter.areaId) continue;
    if (filter.priorities && filter.priorities.size > 0 && !filter.priorities.has(alarm.priority))
      continue;
    if (
      filter.state === 'unacknowledged'
        ? !isUnacknowledged(alarm)
        : filter.state && alarm.state !== filter.state
    )
      continue;
    if (text && !searchable(alarm).toLowerCase().includes(text)) continue;
    result.push(alarm);
  }
  return result;
}

/** Most urgent first, then newest first. Stable under acknowledgement: rows never jump when acted on. */
export function compareAlarms(a: Alarm, b: Alarm): number {
  return a.priority - b.priority || b.raisedAt - a.raisedAt || a.id.localeCompare(b.id);
}

export type RowRole = 'single' | 'first-out' | 'head' | 'member';

export interface AlarmRow {
  readonly alarm: Alarm;
  readonly role: RowRole;
  /** Alarms of the row's group in the list (1 for a single alarm). */
  readonly groupSize: number;
  /** On a group's first row: members hidden until the group is expanded. */
  readonly hiddenCount: number;
}

/**
 * Orders alarms for the list and groups flood members under their first-out alarm (`groupId`).
 * A group sorts by its most urgent member; inside it the first-out alarm comes first, then the
 * others in the order they came. Related P3/P4 alarms are collapsed until the group is expanded;
 * P1/P2 alarms always stay visible individually (domain-standards §9.8, alarm flood row).
 */
export function groupRows(
  alarms: readonly Alarm[],
  expanded: ReadonlySet<string> = new Set(),
): AlarmRow[] {
  const groups = new Map<string, Alarm[]>();
  for (const alarm of alarms) {
    const groupId = alarm.groupId ?? alarm.id;
    const group = groups.get(groupId);
    if (group) group.push(alarm);
    else groups.set(groupId, [alarm]);
  }
  const ordered = [...groups.entries()].map(([groupId, members]) => {
    members.sort((a, b) =>
      a.id === groupId
        ? -1
        : b.id === groupId
          ? 1
          : a.raisedAt - b.raisedAt || a.id.localeCompare(b.id),
    );
    const lead = [...members].sort(compareAlarms)[0] as Alarm;
    return { groupId, members, lead };
  });
  ordered.sort((a, b) => compareAlarms(a.lead, b.lead));

  const rows: AlarmRow[] = [];
  for (const { groupId, members } of ordered) {
    if (members.length === 1) {
      rows.push({ alarm: members[0] as Alarm, role: 'single', groupSize: 1, hiddenCount: 0 });
      continue;
    }
    const open = expanded.has(groupId);
    const [first, ...rest] = members as [Alarm, ...Alarm[]];
    const visible = rest.filter(alarm => open || alarm.priority <= 2);
    rows.push({
      alarm: first,
      role: first.id === groupId ? 'first-out' : 'head',
      groupSize: members.length,
      hiddenCount: rest.length - visible.length,
    });
    for (const alarm of visible)
      rows.push({ alarm, role: 'member', groupSize: members.length, hiddenCount: 0 });
  }
  return rows;
}
