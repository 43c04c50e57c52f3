import type { Reading } from '@vigil/contracts';

import type { RuleConfig } from './rule-config';
import {
  type RuleEngineOptions,
  type RuleEngineState,
  createRuleEngineState,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { DeviceContext, DeviceRules, EngineInput, RuleContext, RuleStep } from './rule-signal';

/** Options of one rule run alone; the engine's, without a registry. */
export interface SingleRuleOptions extends RuleContext {
  /** Server time the rule started: silence of devices not heard from yet counts from here (0). */
  readonly startedAt?: number;
  /** Devices watched from the start (an offline rule raises them even if they never report). */
  readonly expectedDevices?: Iterable<DeviceContext>;
  /** As `RuleEngineOptions.lateAllowanceMs`. */
  readonly lateAllowanceMs?: number;
  /** As `RuleEngineOptions.clockRebaseMs`. */
  readonly clockRebaseMs?: number;
}

/** The engine's state for one rule, and the devices it has seen, each with that rule alone. */
export interface SingleRuleState {
  readonly engine: RuleEngineState;
  readonly options: RuleEngineOptions;
  /** siteId → deviceId → the device with `rule` as its only rule (kept: a new object is a reload). */
  readonly devices: Map<string, Map<string, DeviceRules>>;
  readonly rule: RuleConfig;
}

/**
 * One rule applied to every device in a stream, each with its own state, through the production
 * engine loop (`reduceRuleEngine`, the rule kind's descriptor in `rule-kinds.ts`): ordering, late
 * readings, clock jumps, early-warning cover and quarantine behave exactly as in the engine. A
 * device is known from its first record, with `rule` as its only rule.
 */
export function createSingleRuleState(
  rule: RuleConfig,
  options: SingleRuleOptions,
): SingleRuleState {
  const devices = new Map<string, Map<string, DeviceRules>>();
  const expected: DeviceRules[] = [];
  for (const each of options.expectedDevices ?? []) expected.push(deviceOf(devices, each, rule));
  const engineOptions: RuleEngineOptions = {
    clock: options.clock,
    startedAt: options.startedAt ?? 0,
    lookupDevice: (siteId, deviceId) => devices.get(siteId)?.get(deviceId),
    expectedDevices: expected,
    lateAllowanceMs: options.lateAllowanceMs,
    clockRebaseMs: options.clockRebaseMs,
  };
  return { engine: createRuleEngineState(engineOptions), options: engineOptions, devices, rule };
}

/** A bare reading is taken as its ingest record. */
export type SingleRuleInput = Reading | EngineInput;

export function reduceSingleRule(
  state: SingleRuleState,
  input: SingleRuleInput,
): RuleStep<SingleRuleState> {
  const record: EngineInput = 'kind' in input ? input : { kind: 'reading', reading: input };
  if (record.kind !== 'tick' && record.kind !== 'canary') {
    const body =
      record.kind === 'reading'
        ? record.reading
        : record.kind === 'event'
          ? record.event
          : record.status;
    deviceOf(
      state.devices,
      {
        siteId: body.siteId,
        deviceId: body.deviceId,
        deviceClass: body.deviceClass,
        areaId: 'areaId' in body ? body.areaId : undefined,
      },
      state.rule,
    );
  }
  const step = reduceRuleEngine(state.engine, record, state.options);
  return { state, signals: step.signals };
}

/** The device with `rule` alone, created at first sight and kept. */
function deviceOf(
  devices: Map<string, Map<string, DeviceRules>>,
  context: DeviceContext,
  rule: RuleConfig,
): DeviceRules {
  let site = devices.get(context.siteId);
  if (!site) {
    site = new Map();
    devices.set(context.siteId, site);
  }
  let device = site.get(context.deviceId);
  if (!device) {
    device = {
      siteId: context.siteId,
      deviceId: context.deviceId,
      deviceClass: context.deviceClass,
      areaId: context.areaId,
      gatewayId: context.gatewayId,
      firePanel: context.firePanel,
      rules: [rule],
    };
    site.set(context.deviceId, device);
  }
  return device;
}
