import type { DeviceRecord, RuleSignal } from '@vigil/contracts';
import { deviceRuleProblem, resolveRegisteredDeviceRules, type Registry } from '@vigil/registry';
import {
  type DeviceRules,
  type EngineTick,
  type RuleEngineOptions,
  type RuleEngineStats,
  createChatterGuardState,
  createRuleEngineState,
  createRuleEngineStats,
  recordBody,
  reduceChatterGuard,
  reduceRuleEngine,
  ruleOverrideSchema,
  DEFAULT_CHATTER_GUARD,
} from '@vigil/rules';

/** One `--set [deviceId:]ruleId.field=value` what-if override. */
export interface SetOverride {
  /** Only this device (any site); every device that has the rule when absent. */
  readonly deviceId: string | undefined;
  readonly ruleId: string;
  readonly field: string;
  readonly value: unknown;
  /** As typed, for messages. */
  readonly text: string;
}

const SET_PATTERN = /^(?:([A-Za-z0-9_-]{1,64}):)?([a-z0-9][a-z0-9_-]{0,63})\.([A-Za-z]+)=(.*)$/s;

/**
 * Parses `--set gas-l1.setpoint=20` (or `gc-tf-01:gas-l1.setpoint=20`). The value is JSON when it
 * parses as JSON (`20`, `true`, `["reset"]`), else a string (`setpoint=high` then fails
 * validation with a clear message).
 */
export function parseSet(text: string): SetOverride | string {
  const match = SET_PATTERN.exec(text);
  if (!match)
    return `--set ${text}: expected [deviceId:]ruleId.field=value, e.g. gas-l1.setpoint=20`;
  const [, deviceId, ruleId, field, raw] = match as unknown as [
    string,
    string | undefined,
    string,
    string,
    string,
  ];
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string
  }
  const check = ruleOverrideSchema.safeParse({ [field]: value });
  if (!check.success) {
    const issue = check.error.issues[0];
    return `--set ${text}: ${issue?.message ?? 'invalid'}`;
  }
  return { deviceId, ruleId, field, value, text };
}

export interface ResolvedReplayRules {
  /** `${siteId}/${deviceId}` → rules, with the registry's gateway. */
  readonly devices: ReadonlyMap<string, DeviceRules>;
  readonly errors: readonly string[];
}

/**
 * Every registry device's rules, resolved by the registry's own `resolveRegisteredDeviceRules` (as
 * the server: defaults, then profile, area and device overrides, a fire panel's point map), with
 * the `--set` overrides as a last layer on the devices that have the rule.
 */
export function resolveReplayRules(
  registry: Registry,
  overrides: readonly SetOverride[],
): ResolvedReplayRules {
  const devices = new Map<string, DeviceRules>();
  const errors: string[] = [];
  const used = new Set<SetOverride>();
  for (const device of registry.devices) {
    const base = resolveRegisteredDeviceRules(device);
    for (const error of base.errors) errors.push(deviceRuleProblem(device, error));
    const layer: Record<string, Record<string, unknown>> = {};
    for (const override of overrides) {
      if (override.deviceId !== undefined && override.deviceId !== device.deviceId) continue;
      if (!base.deviceRules.rules.some(rule => rule.ruleId === override.ruleId)) continue;
      used.add(override);
      (layer[override.ruleId] ??= {})[override.field] = override.value;
    }
    let deviceRules = base.deviceRules;
    if (Object.keys(layer).length > 0) {
      const tuned = resolveRegisteredDeviceRules(device, [...device.ruleOverrides, layer]);
      for (const error of tuned.errors.filter(each => !base.errors.includes(each))) {
        errors.push(
          deviceRuleProblem(device, `--set: ${error.replace(/ \(layer \d+ overrides\)$/, '')}`),
        );
      }
      deviceRules = tuned.deviceRules;
    }
    devices.set(`${device.siteId}/${device.deviceId}`, deviceRules);
  }
  for (const override of overrides) {
    if (!used.has(override)) {
      errors.push(
        `--set ${override.text}: no device${override.deviceId ? ` ${override.deviceId}` : ''} has rule ${override.ruleId}`,
      );
    }
  }
  return { devices, errors };
}

export interface ReplayOptions {
  /** Tick period of virtual time (default 1000 ms, as the server). */
  readonly tickMs?: number;
  /** Run the chatter guard on the engine's output (default true, as the server should). */
  readonly chatterGuard?: boolean;
  /** Watch every registry device for offline from the first record, even if it never reports. */
  readonly watchAll?: boolean;
}

export interface ReplaySummary {
  readonly records: { readonly readings: number; readonly events: number; readonly status: number };
  /** Receive time of the first and last record. */
  readonly from: number | undefined;
  readonly to: number | undefined;
  readonly engine: RuleEngineStats;
  readonly signals: number;
  readonly raised: number;
  /** Raised signals (`active: true`) per rule id and per `site/device`. */
  readonly raisedByRule: Readonly<Record<string, number>>;
  readonly raisedByDevice: Readonly<Record<string, number>>;
  /** Keys the chatter guard held, and how many times. */
  readonly chattering: Readonly<Record<string, number>>;
}

export interface ReplayResult {
  readonly signals: readonly RuleSignal[];
  readonly summary: ReplaySummary;
}

/**
 * Replays recorded records through the rule engine (and the chatter guard) on **virtual time**:
 * the clock is the newest receive time seen, and ticks every `tickMs` are derived from the records'
 * receive times instead of a wall clock, so a 24 h recording replays in seconds and the same file
 * always gives the same alarms. Records are taken in file order (arrival order). After the last
 * record only the chatter guard keeps ticking, until every held key is released: the recording
 * ended, not the devices, so nothing is raised offline for the silence after it.
 */
export function runReplay(
  devices: ReadonlyMap<string, DeviceRules>,
  records: readonly DeviceRecord[],
  options: ReplayOptions = {},
): ReplayResult {
  const tickMs = options.tickMs ?? 1000;
  const useGuard = options.chatterGuard ?? true;
  const first = records[0] ? recordBody(records[0]).receivedAt : 0;
  let now = first;
  const stats = createRuleEngineStats();
  const engineOptions: RuleEngineOptions = {
    clock: () => now,
    startedAt: first,
    lookupDevice: (siteId, deviceId) => devices.get(`${siteId}/${deviceId}`),
    stats,
    ...(options.watchAll ? { expectedDevices: devices.values() } : {}),
  };
  const engine = createRuleEngineState(engineOptions);
  const guard = createChatterGuardState();
  const signals: RuleSignal[] = [];
  const emit = (produced: readonly RuleSignal[]) => {
    if (!useGuard) {
      signals.push(...produced);
      return;
    }
    for (const signal of produced) signals.push(...reduceChatterGuard(guard, signal).signals);
  };
  const tickAll = (tick: EngineTick) => {
    emit(reduceRuleEngine(engine, tick, engineOptions).signals);
    if (useGuard) signals.push(...reduceChatterGuard(guard, tick).signals);
  };

  const counts = { readings: 0, events: 0, status: 0 };
  let nextTick = first + tickMs;
  for (const record of records) {
    const receivedAt = recordBody(record).receivedAt;
    while (nextTick <= receivedAt) {
      now = nextTick;
      tickAll({ kind: 'tick', now });
      nextTick += tickMs;
    }
    now = Math.max(now, receivedAt);
    if (record.kind === 'reading') counts.readings += 1;
    else if (record.kind === 'event') counts.events += 1;
    else counts.status += 1;
    emit(reduceRuleEngine(engine, record, engineOptions).signals);
  }
  if (useGuard) {
    const until = now + DEFAULT_CHATTER_GUARD.holdMs + tickMs;
    for (; nextTick <= until && guard.entries.size > 0; nextTick += tickMs) {
      now = nextTick;
      signals.push(...reduceChatterGuard(guard, { kind: 'tick', now }).signals);
    }
  }
  return {
    signals,
    summary: summarise(signals, counts, records, stats),
  };
}

function summarise(
  signals: readonly RuleSignal[],
  records: ReplaySummary['records'],
  input: readonly DeviceRecord[],
  engine: RuleEngineStats,
): ReplaySummary {
  const raisedByRule: Record<string, number> = {};
  const raisedByDevice: Record<string, number> = {};
  const chattering: Record<string, number> = {};
  let raised = 0;
  for (const signal of signals) {
    if (signal.chattering === true) chattering[signal.key] = (chattering[signal.key] ?? 0) + 1;
    if (!signal.active || signal.chattering !== undefined) continue;
    raised += 1;
    raisedByRule[signal.ruleId] = (raisedByRule[signal.ruleId] ?? 0) + 1;
    const device = `${signal.siteId}/${signal.deviceId}`;
    raisedByDevice[device] = (raisedByDevice[device] ?? 0) + 1;
  }
  const first = input[0];
  const last = input[input.length - 1];
  return {
    records,
    from: first ? recordBody(first).receivedAt : undefined,
    to: last ? recordBody(last).receivedAt : undefined,
    engine: { ...engine },
    signals: signals.length,
    raised,
    raisedByRule,
    raisedByDevice,
    chattering,
  };
}
