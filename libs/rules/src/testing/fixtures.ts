import type { DeviceClass, IngestRecord, MetricValue, Reading, RuleSignal } from '@vigil/contracts';

import type { OfflineRuleConfig, ThresholdRuleConfig } from '../lib/rule-config';
import type { DeviceRules, EngineTick, RuleContext } from '../lib/rule-signal';

/** Every signal in the specs is "detected" at this server time. */
export const DETECTED_AT = 1_763_900_000_000;
export const context: RuleContext = { clock: () => DETECTED_AT };

export const SITE = 'plant-1';

/** gas-l1 of a combustible detector, with no delays unless a test asks for them. */
export function lelRule(overrides: Partial<ThresholdRuleConfig> = {}): ThresholdRuleConfig {
  return {
    ruleId: 'gas-l1',
    kind: 'threshold',
    metric: 'lel',
    direction: 'high',
    setpoint: 25,
    deadband: 5,
    onDelayMs: 0,
    offDelayMs: 0,
    latched: false,
    priority: 2,
    category: 'process',
    level: 'L1',
    enabled: true,
    label: 'Combustible gas',
    unit: '%LEL',
    ...overrides,
  };
}

export function offlineConfig(overrides: Partial<OfflineRuleConfig> = {}): OfflineRuleConfig {
  return {
    ruleId: 'offline',
    kind: 'offline',
    timeoutMs: 30,
    priority: 2,
    category: 'quality',
    enabled: true,
    ...overrides,
  };
}

export function device(
  deviceId: string,
  rules: DeviceRules['rules'],
  deviceClass: DeviceClass = 'gas-combustible',
): DeviceRules {
  return { siteId: SITE, deviceId, deviceClass, areaId: 'tank-farm', rules };
}

/** A reading of `deviceId` at event time `ts`; `receivedAt` defaults to `ts`. */
export function reading(
  deviceId: string,
  ts: number,
  values: Record<string, MetricValue>,
  receivedAt = ts,
): Reading {
  return {
    siteId: SITE,
    deviceId,
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    ts,
    receivedAt,
    seq: undefined,
    deviceTime: true,
    clockSkewMs: 0,
    values,
  };
}

export function lel(deviceId: string, ts: number, value: number, receivedAt = ts): Reading {
  return reading(deviceId, ts, { lel: value }, receivedAt);
}

export function readingRecord(value: Reading): IngestRecord {
  return { kind: 'reading', reading: value };
}

export function lelRecord(
  deviceId: string,
  ts: number,
  value: number,
  receivedAt = ts,
): IngestRecord {
  return readingRecord(lel(deviceId, ts, value, receivedAt));
}

export function statusRecord(deviceId: string, online: boolean, receivedAt: number): IngestRecord {
  return {
    kind: 'status',
    status: {
      siteId: SITE,
      deviceId,
      deviceClass: 'gas-combustible',
      online,
      ts: receivedAt,
      receivedAt,
    },
  };
}

export function eventRecord(deviceId: string, code: string, receivedAt: number): IngestRecord {
  return {
    kind: 'event',
    event: {
      siteId: SITE,
      deviceId,
      deviceClass: 'gas-combustible',
      areaId: 'tank-farm',
      ts: receivedAt,
      receivedAt,
      code,
      detail: undefined,
    },
  };
}

export function tick(now: number): EngineTick {
  return { kind: 'tick', now };
}

/** Matches a signal by the fields a marble test cares about. */
export function signalLike(
  deviceId: string,
  ruleId: string,
  active: boolean,
  at: number,
  extra: Partial<RuleSignal> = {},
): RuleSignal {
  return expect.objectContaining({
    key: `${SITE}/${deviceId}/${ruleId}`,
    ruleId,
    deviceId,
    active,
    at,
    ...extra,
  }) as RuleSignal;
}

/** Runs a reducer over inputs and returns every signal (for property tests and unit tests). */
export function runAll<S, I>(
  initial: S,
  inputs: readonly I[],
  reduce: (state: S, input: I) => { state: S; signals: readonly RuleSignal[] },
): RuleSignal[] {
  let state = initial;
  const out: RuleSignal[] = [];
  for (const input of inputs) {
    const step = reduce(state, input);
    state = step.state;
    out.push(...step.signals);
  }
  return out;
}
