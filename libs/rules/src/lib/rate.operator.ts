import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { type DeviceStreamState, reduceDeviceStream } from './device-stream';
import { RATE_EMPTY, type RateState, reduceRate } from './rate.reducer';
import { reducerOperator } from './reducer-operator';
import type { RateRuleConfig } from './rule-config';
import type { RuleContext } from './rule-signal';

/**
 * Emits a `warning` signal when a device's value rises (falls) by at least `delta` within
 * `windowMs` of event time, and its clear when the change over the window drops under
 * `delta − deadband`. Devices are independent; readings up to the late allowance (5 s) older than
 * a device's newest one join the window without being evaluated, older ones are ignored. Errors
 * and completion of the source pass through; state lives as long as the subscription.
 *
 * ```
 * readings: -a-b-c-d-|   lel 2 at 0 s, 7 at 20 s, 13 at 40 s, 13 at 110 s; rise 10 in 60 s
 * output:   -----R-C-|   R: rose 11 within 60 s; C: nothing rose in the last 60 s
 * ```
 *
 * @see reduceRate, README "Rate and trend".
 */
export function rateRule(
  rule: RateRuleConfig,
  context: RuleContext,
): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<DeviceStreamState<RateState>, Reading>(
    () => new Map(),
    (devices, reading) =>
      reduceDeviceStream(
        devices,
        reading,
        () => RATE_EMPTY,
        (state, each, order) => reduceRate(state, each, rule, context, order),
      ),
  );
}
