import {
  STOP_WORK_RULE_ID,
  describePermitLimit,
  isPermitMetric,
  stopWorkKey,
  withinPermitLimits,
  type DeviceClass,
  type PermitMetric,
  type PermitRuleView,
  type Reading,
  type RuleSignal,
} from '@vigil/contracts';

import { NO_SIGNALS, type EngineInput, type RuleContext, type RuleStep } from './rule-signal';
import { formatMembers } from './site/site-state';

/** The latest reading of one gas metric of one detector, as the stop-work rule last received it. */
export interface LatestGasReading {
  readonly deviceId: string;
  readonly metric: PermitMetric;
  readonly value: number;
  /** Server receive time (epoch ms). */
  readonly at: number;
}

export interface PermitStopWorkOptions extends RuleContext {
  /** The active and suspended permits now; read on every gas reading and tick (keep it cheap). */
  readonly permits: () => readonly PermitRuleView[];
  /** Tags in the area now (site rules' `peopleInArea`), for the alarm's list of people inside. */
  readonly peopleInArea?: (siteId: string, areaId: string) => readonly string[];
}

interface Raised {
  readonly permit: PermitRuleView;
  /** `${deviceId}/${metric}` outside the permit's limits now. */
  readonly outside: Set<string>;
}

export interface PermitStopWorkState {
  /**
   * `${siteId}/${areaId}` → `${deviceId}/${metric}` → latest reading: what a permit's start
   * checks. Bounded by the gas detectors of the registry (one entry per detector and metric).
   */
  readonly latest: Map<string, Map<string, LatestGasReading>>;
  /** Permit id → its raised stop-work alarm. */
  readonly raised: Map<string, Raised>;
}

export function createPermitStopWorkState(): PermitStopWorkState {
  return { latest: new Map(), raised: new Map() };
}

/** The latest gas readings of an area (every detector and metric), for a permit's gas analysis. */
export function areaGasReadings(
  state: PermitStopWorkState,
  siteId: string,
  areaId: string,
): LatestGasReading[] {
  return [...(state.latest.get(`${siteId}/${areaId}`)?.values() ?? [])];
}

/**
 * The stop-work rule of special-operation permits (停止作业, issue 15): a gas detector of an active
 * permit's area reading outside the permit's limits (combustible %LEL, toxic ppm, oxygen %VOL)
 * raises one P1 alarm per permit, naming the permit, its workers and the people in the area. It
 * clears when every detector of the area is back within the limits, or when the permit is closed.
 * It also keeps every gas detector's latest reading per area: the permit's start is checked
 * against them. Readings of other classes pass through untouched.
 */
export function reducePermitStopWork(
  state: PermitStopWorkState,
  input: EngineInput,
  options: PermitStopWorkOptions,
): RuleStep<PermitStopWorkState> {
  if (input.kind === 'tick') return { state, signals: closedPermits(state, input.now, options) };
  if (input.kind !== 'reading') return { state, signals: NO_SIGNALS };
  const reading = input.reading;
  const { deviceClass, areaId } = reading;
  if (areaId === undefined) return { state, signals: NO_SIGNALS };
  if (
    deviceClass !== 'gas-combustible' &&
    deviceClass !== 'gas-toxic' &&
    deviceClass !== 'gas-oxygen'
  )
    return { state, signals: NO_SIGNALS };
  const areaKey = `${reading.siteId}/${areaId}`;
  let latest = state.latest.get(areaKey);
  if (!latest) {
    latest = new Map();
    state.latest.set(areaKey, latest);
  }
  let out: RuleSignal[] | undefined;
  for (const [metric, value] of Object.entries(reading.values)) {
    if (!isPermitMetric(metric) || typeof value !== 'number') continue;
    const entryKey = `${reading.deviceId}/${metric}`;
    const previous = latest.get(entryKey);
    if (previous && previous.at > reading.receivedAt) continue;
    latest.set(entryKey, { deviceId: reading.deviceId, metric, value, at: reading.receivedAt });
    for (const permit of options.permits()) {
      if (permit.siteId !== reading.siteId || permit.areaId !== areaId) continue;
      const signal = judge(state, permit, reading, metric, value, options);
      if (signal) (out ??= []).push(signal);
    }
  }
  return { state, signals: out ?? NO_SIGNALS };
}

function judge(
  state: PermitStopWorkState,
  permit: PermitRuleView,
  reading: Reading,
  metric: PermitMetric,
  value: number,
  options: PermitStopWorkOptions,
): RuleSignal | undefined {
  const within = withinPermitLimits(permit.limits, metric, value);
  if (within === undefined) return undefined;
  const entryKey = `${reading.deviceId}/${metric}`;
  const raised = state.raised.get(permit.id);
  if (within) {
    if (!raised?.outside.delete(entryKey) || raised.outside.size > 0) return undefined;
    state.raised.delete(permit.id);
    const message =
      `permit No. ${permit.no}: gas in ${permit.areaId} back within the permit's limits ` +
      `(${reading.deviceId} ${metric} ${value})`;
    return stopWorkSignal(permit, sourceOf(reading, metric, value), false, message, [], options);
  }
  if (raised) {
    raised.outside.add(entryKey);
    return undefined;
  }
  // Raised only while the work is on: a permit already suspended (by hand) has nobody working.
  if (
    permit.state !== 'active' ||
    reading.receivedAt < permit.from ||
    reading.receivedAt >= permit.to
  )
    return undefined;
  state.raised.set(permit.id, { permit, outside: new Set([entryKey]) });
  const inside = options.peopleInArea?.(permit.siteId, permit.areaId) ?? [];
  const members = [...new Set([...permit.workers, ...inside])];
  const message =
    `停止作业 STOP WORK: permit No. ${permit.no} (${permit.kind}) in ${permit.areaId}: ` +
    `${reading.deviceId} ${metric} ${value} outside the permit's ${describePermitLimit(permit.limits, metric)}; ` +
    `named workers: ${formatMembers(permit.workers)}; in the area now: ${inside.length > 0 ? formatMembers(inside) : 'nobody seen'}`;
  return stopWorkSignal(permit, sourceOf(reading, metric, value), true, message, members, options);
}

function sourceOf(reading: Reading, metric: PermitMetric, value: number): StopWorkSource {
  return {
    deviceId: reading.deviceId,
    deviceClass: reading.deviceClass,
    at: reading.ts,
    metric,
    value,
  };
}

function threshold(
  permit: PermitRuleView,
  metric: PermitMetric,
  value: number,
): number | undefined {
  const { limits } = permit;
  if (metric === 'lel') return limits.maxLel;
  if (metric === 'ppm') return limits.maxToxicPpm;
  return limits.oxygenMin !== undefined && value < limits.oxygenMin
    ? limits.oxygenMin
    : limits.oxygenMax;
}

/** What tripped (or cleared) the alarm: a detector's reading, or the permit itself on close. */
interface StopWorkSource {
  readonly deviceId: string;
  readonly deviceClass: DeviceClass | undefined;
  readonly at: number;
  readonly metric?: PermitMetric | undefined;
  readonly value?: number | undefined;
}

function stopWorkSignal(
  permit: PermitRuleView,
  source: StopWorkSource,
  active: boolean,
  message: string,
  members: readonly string[],
  context: RuleContext,
): RuleSignal {
  const signal: RuleSignal = {
    key: stopWorkKey(permit),
    ruleId: STOP_WORK_RULE_ID,
    siteId: permit.siteId,
    deviceId: source.deviceId,
    deviceClass: source.deviceClass,
    areaId: permit.areaId,
    category: 'process',
    priority: 1,
    level: STOP_WORK_RULE_ID,
    active,
    latched: false,
    metric: source.metric,
    value: source.value,
    threshold:
      source.metric === undefined || source.value === undefined
        ? undefined
        : threshold(permit, source.metric, source.value),
    message,
    at: source.at,
    detectedAt: context.clock(),
  };
  return active ? { ...signal, members } : signal;
}

/** Clears the stop-work alarms of permits that are no longer active or suspended (closed). */
function closedPermits(
  state: PermitStopWorkState,
  now: number,
  options: PermitStopWorkOptions,
): readonly RuleSignal[] {
  if (state.raised.size === 0) return NO_SIGNALS;
  const open = new Set(options.permits().map(permit => permit.id));
  let out: RuleSignal[] | undefined;
  for (const [id, { permit }] of state.raised) {
    if (open.has(id)) continue;
    state.raised.delete(id);
    const message = `permit No. ${permit.no} closed: its stop-work alarm clears`;
    const source = { deviceId: `permit-${permit.id}`, deviceClass: undefined, at: now };
    (out ??= []).push(stopWorkSignal(permit, source, false, message, [], options));
  }
  return out ?? NO_SIGNALS;
}
