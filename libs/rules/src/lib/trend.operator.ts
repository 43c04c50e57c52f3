import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { type DeviceStreamState, reduceDeviceStream } from './device-stream';
import { reducerOperator } from './reducer-operator';
import type { TrendRuleConfig } from './rule-config';
import { NO_SIGNALS, type RuleContext } from './rule-signal';
import { TREND_EMPTY, type TrendState, reduceTrend } from './trend.reducer';

/**
 * Emits a `warning` signal, with `predictedAt`, when a least-squares line through a device's
 * last `windowMs` of readings reaches `target` within `horizonMs`, and its clear when the crossing
 * is no longer predicted within `clearHorizonMs`. Devices are independent; readings older than a
 * device's newest one are not evaluated. Errors and completion of the source pass through; state
 * lives as long as the subscription.
 *
 * ```
 * readings: -a-b-c-…-x-|   lel 2, 3, 4 every 10 s, then 6 %LEL flat; target 25, horizon 5 min
 * output:   -----W---C-|   W: at 4 %LEL, +0.1 %LEL/s reaches 25 in 3.5 min; C: flat, no crossing
 * ```
 *
 * @see reduceTrend, README "Rate and trend".
 */
export function trendRule(
  rule: TrendRuleConfig,
  context: RuleContext,
): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<DeviceStreamState<TrendState>, Reading>(
    () => new Map(),
    (devices, reading) =>
      reduceDeviceStream(
        devices,
        reading,
        () => TREND_EMPTY,
        (state, each, order) =>
          order === 'in-order'
            ? reduceTrend(state, each, rule, context)
            : { state, signals: NO_SIGNALS },
      ),
  );
}
