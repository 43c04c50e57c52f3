import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { type DeviceStreamState, reduceDeviceStream } from './device-stream';
import { RANGE_INACTIVE, type RangeState, reduceRange } from './range.reducer';
import { reducerOperator } from './reducer-operator';
import type { RangeRuleConfig } from './rule-config';
import { NO_SIGNALS, type RuleContext } from './rule-signal';

/**
 * Emits a `quality` signal when a device's value stays outside the rule's measuring range for
 * `onDelayMs` of event time, and its clear when it stays back inside for `offDelayMs`. Devices
 * are independent; readings older than a device's newest one are not evaluated. Errors and
 * completion of the source pass through; state lives as long as the subscription.
 *
 * ```
 * readings: -a-b-c-d-|   lel −6 at 0 s, −7 at 30 s, −6 at 60 s, 0 at 70 s; low −5, on-delay 60 s
 * output:   -----R-C-|   R: raised at 60 s (60 s below −5); C: cleared at 70 s
 * ```
 *
 * @see reduceRange, README "Data quality".
 */
export function rangeRule(
  rule: RangeRuleConfig,
  context: RuleContext,
): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<DeviceStreamState<RangeState>, Reading>(
    () => new Map(),
    (devices, reading) =>
      reduceDeviceStream(
        devices,
        reading,
        () => RANGE_INACTIVE,
        (state, each, order) =>
          order === 'in-order'
            ? reduceRange(state, each, rule, context)
            : { state, signals: NO_SIGNALS },
      ),
  );
}
