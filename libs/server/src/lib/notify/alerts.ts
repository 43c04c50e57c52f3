import { DEVICE_CLASS_DEFINITIONS, GUARANTOR_TIER_NAMES_ZH, type Alarm } from '@vigil/contracts';
import { guarantorsOf, sourcesOf, type Registry } from '@vigil/registry';

import { escalationPathOf } from '../alarms/owned-escalation';

/** Alertmanager API v2 `postableAlert` (the fields Vigil sets). */
export interface PostableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
}

/** The one alert name Vigil posts; routes match on the labels below. */
export const ALERT_NAME = 'VigilAlarm';
/** `notify_node` of an alarm whose site the registry no longer knows: no node route matches it. */
export const UNREGISTERED_NODE = '_unregistered';
/** Only critical and high alarms page people (P3/P4 stay on the console; domain-standards §9). */
export const NOTIFY_MAX_PRIORITY = 2;

const PRIORITY_ZH: Record<number, string> = { 1: '紧急', 2: '重要', 3: '一般', 4: '提示' };
const SEVERITY: Record<number, string> = { 1: 'critical', 2: 'major', 3: 'minor', 4: 'info' };

/**
 * The organisation nodes that must be told about an alarm now, from the site's enterprise up:
 * - active and unacknowledged: the enterprise and every node it has escalated to;
 * - acknowledged but overdue (not disposed in time, escalated): the nodes above the enterprise,
 *   which the overdue escalation reached (the enterprise has acknowledged it);
 * - otherwise nobody: acknowledged, cleared, reset, or hidden (shelved, suppressed by design:
 *   ISA-18.2 does not annunciate those) or P3/P4.
 * `escalationPath` is the enterprise first, then its parents (AlarmService.escalationPath).
 */
export function nodesToNotify(alarm: Alarm, escalationPath: readonly string[]): string[] {
  if (alarm.priority > NOTIFY_MAX_PRIORITY || escalationPath.length === 0) return [];
  if (alarm.shelved || alarm.suppressed || (alarm.suppressedBy?.length ?? 0) > 0) return [];
  const reached = escalationPath.slice(0, (alarm.escalation?.level ?? 0) + 1);
  if (alarm.state === 'active-unacknowledged') return reached;
  if (alarm.overdue && alarm.state !== 'normal') return reached.slice(1);
  return [];
}

/** A person named on an alert, and how to reach them (users file `name`, `email`, `phone`). */
export interface PersonContact {
  readonly name: string;
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
}

/** Looks a user up (the gateway's AuthService); undefined for someone not in the users file. */
export type ContactLookup = (userId: string) => PersonContact | undefined;

export interface AlertContext {
  readonly registry: Registry;
  /** Where operators open the console (the link in the message). */
  readonly consoleUrl: string;
  /** The contacts of the people an alert names (guarantors); none without it. */
  readonly contactOf?: ContactLookup | undefined;
}

/**
 * The contacts of the people an alert names, as labels an Alertmanager route matches and a
 * receiver addresses (`to: '{{ .CommonLabels.people_email }}'`): sorted, comma-separated, absent
 * when nobody named has one.
 */
export function peopleLabels(contacts: readonly (PersonContact | undefined)[]): {
  people_email?: string;
  people_phone?: string;
} {
  const emails = [...new Set(contacts.flatMap(c => (c?.email ? [c.email] : [])))].sort();
  const phones = [...new Set(contacts.flatMap(c => (c?.phone ? [c.phone] : [])))].sort();
  return {
    ...(emails.length > 0 ? { people_email: emails.join(',') } : {}),
    ...(phones.length > 0 ? { people_phone: phones.join(',') } : {}),
  };
}

/** The users guarding the major hazard sources an alarm belongs to. */
function guarantorIdsOf(registry: Registry, alarm: Alarm): string[] {
  const ids = sourcesOf(registry, {
    siteId: alarm.siteId,
    deviceIds: [alarm.deviceId],
    areaId: alarm.areaId,
  }).flatMap(unit => guarantorsOf(unit).map(each => each.userId));
  return [...new Set(ids)];
}

// One place (alarms/): the gateway's own alarms escalate along the same path.
export { escalationPathOf } from '../alarms/owned-escalation';

/** Identity of one posted alert: Alertmanager identifies alerts by their label set. */
export function alertKey(alarmId: string, node: string): string {
  return `${alarmId}/${node}`;
}

/**
 * The guarantors (包保责任人) of the major hazard sources an alarm belongs to, one line per source:
 * `罐区储存单元 (tank-farm-1): 主要负责人 wang, 技术负责人 li, 操作负责人 zhang`. Empty when it
 * belongs to none, or its sources name none. Receivers are per organisation node (notify.yaml):
 * the message names the people who answer for the source, so the node's channel reaches them.
 */
export function guarantorsLine(registry: Registry, alarm: Alarm): string {
  return sourcesOf(registry, {
    siteId: alarm.siteId,
    deviceIds: [alarm.deviceId],
    areaId: alarm.areaId,
  })
    .map(unit => ({ unit, guarantors: guarantorsOf(unit) }))
    .filter(({ guarantors }) => guarantors.length > 0)
    .map(
      ({ unit, guarantors }) =>
        `${unit.name} (${unit.id}): ` +
        guarantors.map(each => `${GUARANTOR_TIER_NAMES_ZH[each.tier]} ${each.userId}`).join(', '),
    )
    .join('; ');
}

function formatValue(alarm: Alarm, unit: string | undefined): string {
  if (alarm.value === undefined) return '';
  return `${String(alarm.value)}${unit ? ` ${unit}` : ''}`;
}

/**
 * One alert per node to notify. The labels are stable for the life of the alarm at that node (a
 * changing label would be a new alert to Alertmanager), so value and level go in annotations.
 */
export function alertsFor(
  alarm: Alarm,
  context: AlertContext,
  endsAt: number,
): Map<string, PostableAlert> {
  const registered = escalationPathOf(context.registry, alarm.siteId);
  // A site gone from the registry (reloaded meanwhile) still pages: the default route takes it.
  const path = registered.length > 0 ? registered : [UNREGISTERED_NODE];
  const nodes = nodesToNotify(alarm, path);
  const alerts = new Map<string, PostableAlert>();
  if (nodes.length === 0) return alerts;
  const site = context.registry.site(alarm.siteId);
  const device = context.registry.device(alarm.siteId, alarm.deviceId);
  const area = alarm.areaId ? context.registry.area(alarm.siteId, alarm.areaId) : undefined;
  const orgPath = [...path].reverse().join('/');
  const unit = unitOf(alarm);
  const value = formatValue(alarm, unit);
  const link = `${context.consoleUrl.replace(/\/$/, '')}/#/alarms?alarm=${encodeURIComponent(alarm.id)}`;
  const where = [site?.name ?? alarm.siteId, area?.name, device?.name ?? alarm.deviceId]
    .filter(Boolean)
    .join(' · ');
  const guarantors = guarantorsLine(context.registry, alarm);
  const contactOf = context.contactOf;
  const people = contactOf
    ? peopleLabels(guarantorIdsOf(context.registry, alarm).map(id => contactOf(id)))
    : {};
  for (const node of nodes) {
    const escalated = node !== path[0];
    const labels: Record<string, string> = {
      alertname: ALERT_NAME,
      alarm_id: alarm.id,
      notify_node: node,
      org_path: orgPath,
      enterprise: path[0] as string,
      site: alarm.siteId,
      priority: `P${alarm.priority}`,
      severity: SEVERITY[alarm.priority] as string,
      rule: alarm.ruleId,
      category: alarm.category,
      device: alarm.deviceId,
      ...(alarm.areaId ? { area: alarm.areaId } : {}),
      ...(alarm.deviceClass ? { device_class: alarm.deviceClass } : {}),
      ...people,
    };
    const summaryZh =
      `${escalated ? '【升级】' : ''}${PRIORITY_ZH[alarm.priority]}报警 P${alarm.priority}：` +
      `${where} ${alarm.level}${value ? ` ${value}` : ''}` +
      (escalated ? `（未确认/未处置，已升级至 ${node}）` : '') +
      (guarantors ? `；包保责任人：${guarantors}` : '');
    const summaryEn =
      `${escalated ? '[Escalated] ' : ''}P${alarm.priority} alarm at ${where}: ${alarm.message}` +
      (escalated ? ` (not acknowledged/disposed in time, escalated to ${node})` : '') +
      (guarantors ? `; guarantors: ${guarantors}` : '');
    alerts.set(alertKey(alarm.id, node), {
      labels,
      annotations: {
        summary_zh: summaryZh,
        summary_en: summaryEn,
        value,
        level: alarm.level,
        raised_at: new Date(alarm.raisedAt).toISOString(),
        console_url: link,
        ...(guarantors ? { guarantors } : {}),
      },
      startsAt: new Date(alarm.openedAt ?? alarm.detectedAt).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      generatorURL: link,
    });
  }
  return alerts;
}

/** The same alert, resolved at `now` (Alertmanager resolves an alert whose endsAt has passed). */
export function resolved(alert: PostableAlert, now: number): PostableAlert {
  return { ...alert, endsAt: new Date(now).toISOString() };
}

/** The metric's unit from the device class (`temp_c_2` shares `temp_c`'s definition). */
function unitOf(alarm: Alarm): string | undefined {
  if (!alarm.metric || !alarm.deviceClass) return undefined;
  const definition = DEVICE_CLASS_DEFINITIONS[alarm.deviceClass];
  const metric =
    definition.metrics[alarm.metric] ?? definition.metrics[alarm.metric.replace(/_\d+$/, '')];
  return metric?.unit || undefined;
}
