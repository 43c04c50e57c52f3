import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { type DeviceStreamState, reduceDeviceStream } from './device-stream';
import { reducerOperator } from './reducer-operator';
import type { SkewRuleConfig } from './rule-config';
import { NO_SIGNALS, type RuleContext } from './rule-signal';
import { SKEW_INACTIVE, type SkewState, reduceSkew } from './skew.reducer';

/**
 * Emits a `quality` signal when a device's clock stays more than `maxSkewMs` off the server's for
 * `onDelayMs` of server time, and its clear at the first reading back within `clearSkewMs`.
 * Devices are independent; readings older than a device's newest one are not evaluated. Errors
 * and completion of the source pass through; state lives as long as the subscription.
 *
 * ```
 * readings: -a-b-c-|   skew 90 s received at 0 s, 90 s at 60 s, 10 s at 70 s; max 60 s, on-delay 60 s
 * output:   ---R-C-|   R: raised by b (60 s of receive time beyond 60 s); C: cleared by c (≤ 30 s)
 * ```
 *
 * @see reduceSkew, README "Data quality".
 */
export function clockSkewRule(
  rule: SkewRuleConfig,
  context: RuleContext,
): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<DeviceStreamState<SkewState>, Reading>(
    () => new Map(),
    (devices, reading) =>
      reduceDeviceStream(
        devices,
        reading,
        () => SKEW_INACTIVE,
        (state, each, order) =>
          order === 'in-order'
            ? reduceSkew(state, each, rule, context)
            : { state, signals: NO_SIGNALS },
      ),
  );
}
