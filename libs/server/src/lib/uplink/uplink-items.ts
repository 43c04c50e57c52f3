import type {
  Alarm,
  AlarmAction,
  Hazard,
  HazardAction,
  MetricValue,
  UplinkAlarmType,
  UplinkItemBody,
  UplinkPoint,
} from '@vigil/contracts';
import { sourcesOf, type SourceRegistry } from '@vigil/registry';

/** 重大危险源编码 as Vigil makes it up: `<siteId>.<unitId>` (assumption, docs/interfaces.md). */
export const hazardSourceCode = (siteId: string, unitId: string) => `${siteId}.${unitId}`;
/** 指标编码 as Vigil makes it up: `<deviceId>.<metric>` (assumption, docs/interfaces.md). */
export const pointCode = (deviceId: string, metric: string) => `${deviceId}.${metric}`;

const THRESHOLD_LEVELS: ReadonlySet<string> = new Set(['H', 'HH', 'L', 'LL']);

/** The national system's alarm type of an alarm (超上限 H … 超下下限 LL, offline, fault). */
export function alarmTypeOf(alarm: Pick<Alarm, 'level' | 'ruleId' | 'category'>): UplinkAlarmType {
  if (THRESHOLD_LEVELS.has(alarm.level)) return alarm.level as UplinkAlarmType;
  if (alarm.level.includes('offline') || alarm.ruleId.includes('offline')) return 'offline';
  if (alarm.category === 'quality' || alarm.category === 'system') return 'fault';
  return 'other';
}

/** One alarm transition as the uplink carries it. */
export function alarmItem(
  registry: SourceRegistry,
  alarm: Alarm,
  action: AlarmAction,
): UplinkItemBody {
  const sources = sourcesOf(registry, {
    siteId: alarm.siteId,
    deviceIds: [alarm.deviceId],
    areaId: alarm.areaId,
  });
  return {
    kind: 'alarm',
    alarmId: alarm.id,
    transition: action.action,
    state: alarm.state,
    alarmType: alarmTypeOf(alarm),
    priority: alarm.priority,
    category: alarm.category,
    siteId: alarm.siteId,
    deviceId: alarm.deviceId,
    ...(alarm.metric !== undefined ? { pointCode: pointCode(alarm.deviceId, alarm.metric) } : {}),
    hazardSourceCodes: sources.map(unit => hazardSourceCode(alarm.siteId, unit.id)),
    ...(typeof alarm.value === 'number' || typeof alarm.value === 'boolean'
      ? { value: alarm.value }
      : {}),
    ...(alarm.threshold !== undefined ? { threshold: alarm.threshold } : {}),
    message: alarm.message.slice(0, 2000),
    raisedAt: alarm.raisedAt,
    ...(alarm.clearedAt !== undefined ? { clearedAt: alarm.clearedAt } : {}),
    at: action.at,
    ...(action.by !== undefined ? { by: action.by.slice(0, 64) } : {}),
    ...(alarm.disposition ? { disposition: alarm.disposition.kind } : {}),
  };
}

/** One step of the hazard ledger as the uplink carries it. */
export function hazardItem(
  registry: SourceRegistry,
  hazard: Hazard,
  action: HazardAction,
  /** 1-based position of `action` in the hazard's history. */
  step: number,
): UplinkItemBody {
  return {
    kind: 'hazard',
    hazardId: hazard.id,
    step,
    no: hazard.no,
    transition: action.action,
    state: action.state,
    level: hazard.level,
    title: hazard.title.slice(0, 200),
    siteId: hazard.siteId,
    hazardSourceCodes: sourcesOf(registry, hazard).map(unit =>
      hazardSourceCode(hazard.siteId, unit.id),
    ),
    ...(hazard.plan.responsible !== undefined
      ? { responsible: hazard.plan.responsible.slice(0, 200) }
      : {}),
    ...(hazard.plan.deadline !== undefined ? { deadline: hazard.plan.deadline } : {}),
    overdue: hazard.overdue === true,
    reportedAt: hazard.reportedAt,
    ...(hazard.closedAt !== undefined ? { closedAt: hazard.closedAt } : {}),
    at: action.at,
    by: action.by.slice(0, 64),
  };
}

/** A device's latest values, as the sampler reads them (LiveDevices). */
export interface LatestValues {
  readonly ts: number | undefined;
  readonly values: Readonly<Record<string, MetricValue>>;
}

/**
 * The major-hazard real-time item of one unit (GB 18218 unit: its tanks' level, temperature,
 * pressure, …): the latest value of each numeric or boolean metric read since `since` (a
 * sample, not every reading); undefined when none of its tanks reported since.
 */
export function realtimeItem(
  siteId: string,
  unit: { readonly id: string; readonly name: string },
  tanks: readonly string[],
  latest: (deviceId: string) => LatestValues | undefined,
  since: number,
  at: number,
): UplinkItemBody | undefined {
  const points: UplinkPoint[] = [];
  for (const deviceId of tanks) {
    const device = latest(deviceId);
    if (!device || device.ts === undefined || device.ts <= since) continue;
    for (const [metric, value] of Object.entries(device.values)) {
      if (typeof value !== 'number' && typeof value !== 'boolean') continue;
      if (typeof value === 'number' && !Number.isFinite(value)) continue;
      if (metric === 'x' || metric === 'y') continue;
      points.push({
        pointCode: pointCode(deviceId, metric),
        siteId,
        deviceId,
        metric,
        value,
        time: device.ts,
      });
    }
  }
  if (points.length === 0) return undefined;
  return {
    kind: 'realtime',
    hazardSourceCode: hazardSourceCode(siteId, unit.id),
    hazardSourceName: unit.name.slice(0, 200),
    at,
    points: points.slice(0, 500),
  };
}
