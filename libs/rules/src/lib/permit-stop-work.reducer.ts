import {
  PERMIT_GAS_SILENCE_MS,
  PERMIT_OVERSTAY_RULE_ID,
  STOP_WORK_RULE_ID,
  describePermitLimit,
  isPermitMetric,
  permitOverstayKey,
  stopWorkKey,
  withinPermitLimits,
  type DeviceClass,
  type PermitMetric,
  type PermitRuleView,
  type Reading,
  type RuleSignal,
} from '@vigil/contracts';

import {
  NO_SIGNALS,
  type EngineInput,
  type EngineTick,
  type RuleContext,
  type RuleStep,
} from './rule-signal';
import { formatMembers } from './site/site-state';

/** The latest reading of one gas metric of one detector, as the stop-work rule last received it. */
export interface LatestGasReading {
  readonly deviceId: string;
  readonly metric: PermitMetric;
  readonly value: number;
  /** Server receive time (epoch ms). */
  readonly at: number;
}

/** A detector's latest value of one metric, updated in place: a kept reading allocates nothing. */
interface LatestEntry {
  readonly deviceId: string;
  readonly metric: PermitMetric;
  value: number;
  at: number;
}

/** deviceId → its latest value of each permit metric it sends (one to three entries). */
type AreaGas = Map<string, LatestEntry[]>;

/** The device classes whose readings a permit limits: combustible %LEL, toxic ppm, oxygen %VOL. */
export function isPermitGasClass(deviceClass: DeviceClass): boolean {
  return (
    deviceClass === 'gas-combustible' || deviceClass === 'gas-toxic' || deviceClass === 'gas-oxygen'
  );
}

/**
 * What the permit rule looks at: gas readings (stop work, the start's gas analysis) and ticks
 * (gas silence, overstay, closed permits). The rules service filters the engine's input with it
 * before the rule; the reducer applies the same test to what it is given.
 */
export function concernsPermits(
  input: EngineInput,
): input is EngineTick | Extract<EngineInput, { kind: 'reading' }> {
  if (input.kind === 'tick') return true;
  return input.kind === 'reading' && isPermitGasClass(input.reading.deviceClass);
}

export interface PermitStopWorkOptions extends RuleContext {
  /** The active and suspended permits now; read on every gas reading and tick (keep it cheap). */
  readonly permits: () => readonly PermitRuleView[];
  /** Tags in the area now (site rules' `peopleInArea`), for the alarm's list of people inside. */
  readonly peopleInArea?: (siteId: string, areaId: string) => readonly string[];
  /**
   * Whether an area's gas readings are kept for a permit's gas analysis although `permits()` has
   * no permit there: an area with a permit that may still start (requested, approved; see
   * PermitBoard.keepsGasOf). Without a permit in the area, a gas reading returns at once and
   * leaves nothing in the state (the fleet's gas traffic, at 50,000 readings/s, issue 14).
   */
  readonly keepsGasOf?: ((siteId: string, areaId: string) => boolean) | undefined;
  /**
   * The sites this engine scope evaluates (a partition's): permits of other sites are neither
   * judged nor marked evaluated (`state.evaluated`), so a permit no scope owns is reported.
   */
  readonly includesSite?: ((siteId: string) => boolean) | undefined;
  /**
   * An active permit's area without a reading of a limited metric for longer than this raises the
   * stop-work alarm "no gas monitoring" (PERMIT_GAS_SILENCE_MS by default).
   */
  readonly maxGasSilenceMs?: number | undefined;
}

interface Raised {
  readonly permit: PermitRuleView;
  /** `${deviceId}/${metric}` outside the permit's limits now. */
  readonly outside: Set<string>;
}

export interface PermitStopWorkState {
  /**
   * siteId → areaId → deviceId → its latest reading per metric: what a permit's start and resume
   * check, and what the gas silence of an active permit is measured from. Kept only for the areas
   * of this scope's open permits (`permits`, `keepsGasOf`), from their first gas reading after the
   * permit was requested, and dropped on the first tick after the area's last permit closed.
   * Bounded by the open permits' areas times their gas detectors (one entry per metric).
   */
  readonly latest: Map<string, Map<string, AreaGas>>;
  /** Permit id → its raised stop-work alarm. */
  readonly raised: Map<string, Raised>;
  /**
   * Permit id → the last tick (epoch ms) at which this scope evaluated it: what PermitBoard
   * reads to report an active permit nobody evaluates. Bounded by the open permits.
   */
  readonly evaluated: Map<string, number>;
  /** Permit id → since when its gas silence is measured (the first tick that saw it active). */
  readonly watched: Map<string, number>;
  /** Permit id → its raised overstay alarm (the named workers still inside after the window). */
  readonly overstay: Map<string, PermitRuleView>;
  /**
   * The step "nothing happened", shared: a gas reading of an area without a permit allocates
   * nothing.
   */
  readonly unchanged: RuleStep<PermitStopWorkState>;
}

export function createPermitStopWorkState(): PermitStopWorkState {
  const maps = {
    latest: new Map<string, Map<string, AreaGas>>(),
    raised: new Map<string, Raised>(),
    evaluated: new Map<string, number>(),
    watched: new Map<string, number>(),
    overstay: new Map<string, PermitRuleView>(),
  };
  const state: PermitStopWorkState = Object.assign(maps, {
    unchanged: Object.freeze({ state: maps as PermitStopWorkState, signals: NO_SIGNALS }),
  });
  return state;
}

/**
 * Forgets the alarms this state believes raised (stop work, overstay): after a warm-up whose
 * signals were dropped, a condition still present raises again on the next reading or tick instead
 * of hiding behind a signal nobody received (the permit would stay active, nobody told).
 */
export function forgetRaisedPermitAlarms(state: PermitStopWorkState): void {
  state.raised.clear();
  state.overstay.clear();
}

/** The `outside` entry of a metric without a fresh reading in the area ("no gas monitoring"). */
const silentKey = (metric: PermitMetric) => `no-reading/${metric}`;

/** The latest gas readings of an area (every detector and metric), for a permit's gas analysis. */
export function areaGasReadings(
  state: PermitStopWorkState,
  siteId: string,
  areaId: string,
): LatestGasReading[] {
  const readings: LatestGasReading[] = [];
  for (const entries of state.latest.get(siteId)?.get(areaId)?.values() ?? [])
    for (const { deviceId, metric, value, at } of entries)
      readings.push({ deviceId, metric, value, at });
  return readings;
}

/** A permit of `permits` in the area (a loop: no closure per reading). */
function hasPermitIn(permits: readonly PermitRuleView[], siteId: string, areaId: string): boolean {
  for (const permit of permits)
    if (permit.areaId === areaId && permit.siteId === siteId) return true;
  return false;
}

/**
 * Whether this scope keeps the area's gas readings: the site is this scope's and a permit is open
 * there. Allocates nothing (it runs on gas readings of areas without a permit).
 */
function keepsGas(siteId: string, areaId: string, options: PermitStopWorkOptions): boolean {
  if (options.includesSite && !options.includesSite(siteId)) return false;
  return (
    hasPermitIn(options.permits(), siteId, areaId) ||
    (options.keepsGasOf?.(siteId, areaId) ?? false)
  );
}

/** The area's kept readings; created when the area has a permit now, else `undefined`. */
function keptArea(
  state: PermitStopWorkState,
  siteId: string,
  areaId: string,
  options: PermitStopWorkOptions,
): AreaGas | undefined {
  const areas = state.latest.get(siteId);
  const kept = areas?.get(areaId);
  if (kept !== undefined || !keepsGas(siteId, areaId, options)) return kept;
  const area: AreaGas = new Map();
  if (areas) areas.set(areaId, area);
  else state.latest.set(siteId, new Map([[areaId, area]]));
  return area;
}

/** Keeps a detector's reading of a metric; false when a newer one (receive time) is kept already. */
function keep(
  area: AreaGas,
  deviceId: string,
  metric: PermitMetric,
  value: number,
  at: number,
): boolean {
  let entries = area.get(deviceId);
  if (entries === undefined) {
    entries = [];
    area.set(deviceId, entries);
  }
  for (const entry of entries) {
    if (entry.metric !== metric) continue;
    if (entry.at > at) return false;
    entry.value = value;
    entry.at = at;
    return true;
  }
  entries.push({ deviceId, metric, value, at });
  return true;
}

/** Drops the kept readings of areas without an open permit now (on a tick). */
function pruneGas(state: PermitStopWorkState, options: PermitStopWorkOptions): void {
  for (const [siteId, areas] of state.latest) {
    for (const areaId of areas.keys()) if (!keepsGas(siteId, areaId, options)) areas.delete(areaId);
    if (areas.size === 0) state.latest.delete(siteId);
  }
}

/**
 * The stop-work rule of special-operation permits (停止作业, issue 15): a gas detector of an active
 * permit's area reading outside the permit's limits (combustible %LEL, toxic ppm, oxygen %VOL)
 * raises one P1 alarm per permit, naming the permit, its workers and the people in the area. It
 * clears when every detector of the area is back within the limits, or when the permit is closed.
 * It also keeps the latest reading of each gas detector in the area of an open permit: the
 * permit's start is checked against them. A gas reading of an area without a permit (nearly all
 * of them) returns after a few map lookups, allocating nothing; other inputs are ignored.
 */
export function reducePermitStopWork(
  state: PermitStopWorkState,
  input: EngineInput,
  options: PermitStopWorkOptions,
): RuleStep<PermitStopWorkState> {
  if (input.kind === 'tick') return { state, signals: onTick(state, input.now, options) };
  if (!concernsPermits(input)) return state.unchanged;
  const reading = input.reading;
  const areaId = reading.areaId;
  if (areaId === undefined) return state.unchanged;
  const area = keptArea(state, reading.siteId, areaId, options);
  if (area === undefined) return state.unchanged;
  let out: RuleSignal[] | undefined;
  for (const metric in reading.values) {
    const value = reading.values[metric];
    if (!isPermitMetric(metric) || typeof value !== 'number') continue;
    if (!keep(area, reading.deviceId, metric, value, reading.receivedAt)) continue;
    for (const permit of options.permits()) {
      if (permit.siteId !== reading.siteId || permit.areaId !== areaId) continue;
      if (options.includesSite && !options.includesSite(permit.siteId)) continue;
      const signal = judge(state, permit, reading, metric, value, options);
      if (signal) (out ??= []).push(signal);
    }
  }
  return out === undefined ? state.unchanged : { state, signals: out };
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
  const raised = state.raised.get(permit.id);
  // Within the limits with nothing raised: the common case of an active permit, nothing to do.
  if (within && !raised) return undefined;
  const entryKey = `${reading.deviceId}/${metric}`;
  // A reading of the metric: its area is monitored again for it.
  const wasSilent = raised?.outside.delete(silentKey(metric)) ?? false;
  if (within) {
    const wasOutside = raised?.outside.delete(entryKey) ?? false;
    if (!raised || !(wasOutside || wasSilent) || raised.outside.size > 0) return undefined;
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

/**
 * A tick: marks this scope's permits evaluated, raises "no gas monitoring" for an active permit
 * whose area has gone silent, raises or clears the overstay alarms, and clears the alarms of
 * permits that are no longer active or suspended (closed).
 */
function onTick(
  state: PermitStopWorkState,
  now: number,
  options: PermitStopWorkOptions,
): readonly RuleSignal[] {
  const includes = options.includesSite;
  const permits = options
    .permits()
    .filter(permit => includes === undefined || includes(permit.siteId));
  const open = new Set(permits.map(permit => permit.id));
  let out: RuleSignal[] | undefined;
  const push = (signal: RuleSignal | undefined) => {
    if (signal) (out ??= []).push(signal);
  };
  for (const permit of permits) {
    state.evaluated.set(permit.id, now);
    if (permit.state === 'active' && now >= permit.from && now < permit.to) {
      if (!state.watched.has(permit.id)) {
        state.watched.set(permit.id, now);
        push(resumed(state, permit, now, options));
      }
      push(silence(state, permit, now, options));
    } else state.watched.delete(permit.id);
    push(overstay(state, permit, now, options));
  }
  pruneGas(state, options);
  for (const id of state.evaluated.keys()) if (!open.has(id)) state.evaluated.delete(id);
  for (const id of state.watched.keys()) if (!open.has(id)) state.watched.delete(id);
  for (const [id, permit] of state.overstay) {
    if (open.has(id)) continue;
    state.overstay.delete(id);
    const message = `permit No. ${permit.no} closed: its overstay alarm clears`;
    push(overstaySignal(permit, now, false, message, [], options));
  }
  for (const [id, { permit }] of state.raised) {
    if (open.has(id)) continue;
    state.raised.delete(id);
    const message = `permit No. ${permit.no} closed: its stop-work alarm clears`;
    const source = { deviceId: `permit-${permit.id}`, deviceClass: undefined, at: now };
    push(stopWorkSignal(permit, source, false, message, [], options));
  }
  return out ?? NO_SIGNALS;
}

/**
 * The permit is active again (resumed after a gas analysis that passed) while its stop-work alarm
 * still holds "no gas monitoring": the silence is measured anew from now, so that a detector that
 * stays silent raises (and suspends) again instead of hiding under the old alarm.
 */
function resumed(
  state: PermitStopWorkState,
  permit: PermitRuleView,
  now: number,
  options: PermitStopWorkOptions,
): RuleSignal | undefined {
  const raised = state.raised.get(permit.id);
  if (!raised) return undefined;
  let removed = false;
  for (const entry of [...raised.outside])
    if (entry.startsWith('no-reading/')) removed = raised.outside.delete(entry) || removed;
  if (!removed || raised.outside.size > 0) return undefined;
  state.raised.delete(permit.id);
  const message = `permit No. ${permit.no} resumed after a passed gas analysis: gas monitoring measured anew`;
  const source = { deviceId: `permit-${permit.id}`, deviceClass: undefined, at: now };
  return stopWorkSignal(permit, source, false, message, [], options);
}

function limitedMetrics(permit: PermitRuleView): PermitMetric[] {
  const { limits } = permit;
  const metrics: PermitMetric[] = [];
  if (limits.maxLel !== undefined) metrics.push('lel');
  if (limits.maxToxicPpm !== undefined) metrics.push('ppm');
  if (limits.oxygenMin !== undefined || limits.oxygenMax !== undefined) metrics.push('o2');
  return metrics;
}

/**
 * Continuous gas monitoring during the work (GB 30871 via secondary, S): a limited metric with no
 * reading in the area for longer than the bound (measured from the newest reading of any of the
 * area's detectors, never from before this scope first saw the permit active) is a stop-work
 * condition like an excursion: the detector is offline, its readings stale, or it was removed.
 */
function silence(
  state: PermitStopWorkState,
  permit: PermitRuleView,
  now: number,
  options: PermitStopWorkOptions,
): RuleSignal | undefined {
  const bound = options.maxGasSilenceMs ?? PERMIT_GAS_SILENCE_MS;
  const watchedSince = state.watched.get(permit.id) ?? now;
  const area = state.latest.get(permit.siteId)?.get(permit.areaId);
  const silent: { metric: PermitMetric; lastAt: number | undefined }[] = [];
  for (const metric of limitedMetrics(permit)) {
    let lastAt: number | undefined;
    for (const entries of area?.values() ?? [])
      for (const entry of entries)
        if (entry.metric === metric && (lastAt === undefined || entry.at > lastAt))
          lastAt = entry.at;
    if (now - Math.max(lastAt ?? -Infinity, watchedSince) > bound) silent.push({ metric, lastAt });
  }
  if (silent.length === 0) return undefined;
  const raised = state.raised.get(permit.id);
  if (raised) {
    for (const { metric } of silent) raised.outside.add(silentKey(metric));
    return undefined;
  }
  state.raised.set(permit.id, {
    permit,
    outside: new Set(silent.map(({ metric }) => silentKey(metric))),
  });
  const inside = options.peopleInArea?.(permit.siteId, permit.areaId) ?? [];
  const members = [...new Set([...permit.workers, ...inside])];
  const what = silent
    .map(({ metric, lastAt }) =>
      lastAt === undefined
        ? `no ${metric} reading`
        : `no ${metric} reading for ${Math.round((now - lastAt) / 1000)} s`,
    )
    .join(', ');
  const message =
    `停止作业 STOP WORK: permit No. ${permit.no} (${permit.kind}) in ${permit.areaId}: no gas monitoring ` +
    `(${what}; continuous monitoring required, bound ${Math.round(bound / 1000)} s); ` +
    `named workers: ${formatMembers(permit.workers)}; in the area now: ${inside.length > 0 ? formatMembers(inside) : 'nobody seen'}`;
  const first = silent[0]?.metric;
  const source: StopWorkSource = {
    deviceId: `permit-${permit.id}`,
    deviceClass: undefined,
    at: now,
    metric: first,
  };
  return stopWorkSignal(permit, source, true, message, members, options);
}

/**
 * Overstay (超时滞留): the permit's window is over, it is not closed, and named workers are still
 * in its area. Raised once per permit naming the permit and the workers inside (the generic
 * intrusion alarm names only a tag); cleared when none of them is inside any more or the permit
 * is closed.
 */
function overstay(
  state: PermitStopWorkState,
  permit: PermitRuleView,
  now: number,
  options: PermitStopWorkOptions,
): RuleSignal | undefined {
  const raised = state.overstay.has(permit.id);
  if (now < permit.to) {
    if (!raised) return undefined;
    // The window was extended (not built yet): no longer overstaying.
    state.overstay.delete(permit.id);
    return overstaySignal(
      permit,
      now,
      false,
      `permit No. ${permit.no}: window open again`,
      [],
      options,
    );
  }
  const inside = options.peopleInArea?.(permit.siteId, permit.areaId) ?? [];
  const workersInside = permit.workers.filter(worker => inside.includes(worker));
  if (workersInside.length === 0) {
    if (!raised) return undefined;
    state.overstay.delete(permit.id);
    const message = `permit No. ${permit.no}: the named workers have left ${permit.areaId}`;
    return overstaySignal(permit, now, false, message, [], options);
  }
  if (raised) return undefined;
  state.overstay.set(permit.id, permit);
  const message =
    `超时滞留 OVERSTAY: permit No. ${permit.no} (${permit.kind}) in ${permit.areaId}: the window ended at ` +
    `${new Date(permit.to).toISOString()} and named workers are still inside: ${formatMembers(workersInside)}` +
    `; in the area now: ${formatMembers(inside)}`;
  return overstaySignal(
    permit,
    now,
    true,
    message,
    [...new Set([...workersInside, ...inside])],
    options,
  );
}

function overstaySignal(
  permit: PermitRuleView,
  now: number,
  active: boolean,
  message: string,
  members: readonly string[],
  context: RuleContext,
): RuleSignal {
  const signal: RuleSignal = {
    key: permitOverstayKey(permit),
    ruleId: PERMIT_OVERSTAY_RULE_ID,
    siteId: permit.siteId,
    deviceId: `permit-${permit.id}`,
    deviceClass: undefined,
    areaId: permit.areaId,
    category: 'process',
    priority: 2,
    level: PERMIT_OVERSTAY_RULE_ID,
    active,
    latched: false,
    metric: undefined,
    value: undefined,
    threshold: undefined,
    message,
    at: now,
    detectedAt: context.clock(),
  };
  return active ? { ...signal, members } : signal;
}
