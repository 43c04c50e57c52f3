import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { reducerOperator } from './reducer-operator';
import type { SkewRuleConfig } from './rule-config';
import { NO_SIGNALS, type RuleContext, type RuleStep } from './rule-signal';
import { SKEW_INACTIVE, type SkewState, reduceSkew } from './skew.reducer';

/** One device's slot: the rule state and the newest `receivedAt` evaluated. */
interface SkewSlot {
  lastReceivedAt: number;
  state: SkewState;
}

/** siteId → deviceId → slot. */
type SkewStreamState = Map<string, Map<string, SkewSlot>>;

/**
 * Emits a `quality` signal when a device's clock stays more than `maxSkewMs` off the server's for
 * `onDelayMs` of server time, and its clear at the first reading back within `clearSkewMs`.
 * Devices are independent. The rule is about the clock, not the value, so readings are taken in
 * receive-time order whatever their `ts` (a clock set back makes every reading look late): only a
 * reading received before the device's newest one is not evaluated. Errors and completion of the
 * source pass through; state lives as long as the subscription.
 *
 * ```
 * readings: -a-b-c-|   skew 90 s received at 0 s, 90 s at 60 s, 10 s at 70 s; max 60 s, on-delay 60 s
 * output:   ---R-C-|   R: raised by b (60 s of receive time beyond 60 s); C: cleared by c (≤ 30 s)
 * ```
 *
 * @see reduceSkew, README "Data quality" and "Clock jumps".
 */
export function clockSkewRule(
  rule: SkewRuleConfig,
  context: RuleContext,
): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<SkewStreamState, Reading>(
    () => new Map(),
    (devices, reading) => reduceSkewStream(devices, reading, rule, context),
  );
}

function reduceSkewStream(
  devices: SkewStreamState,
  reading: Reading,
  rule: SkewRuleConfig,
  context: RuleContext,
): RuleStep<SkewStreamState> {
  let site = devices.get(reading.siteId);
  if (!site) {
    site = new Map();
    devices.set(reading.siteId, site);
  }
  let slot = site.get(reading.deviceId);
  if (!slot) {
    slot = { lastReceivedAt: -Infinity, state: SKEW_INACTIVE };
    site.set(reading.deviceId, slot);
  }
  if (reading.receivedAt < slot.lastReceivedAt) return { state: devices, signals: NO_SIGNALS };
  slot.lastReceivedAt = reading.receivedAt;
  const step = reduceSkew(slot.state, reading, rule, context);
  slot.state = step.state;
  return { state: devices, signals: step.signals };
}
