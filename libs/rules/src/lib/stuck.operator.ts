import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import { type DeviceStreamState, reduceDeviceStream } from './device-stream';
import { reducerOperator } from './reducer-operator';
import type { StuckRuleConfig } from './rule-config';
import { NO_SIGNALS, type RuleContext } from './rule-signal';
import { STUCK_EMPTY, type StuckState, reduceStuck } from './stuck.reducer';

/**
 * Emits a `quality` signal when a device's value stays flat (max − min < `minDelta`) for
 * `durationMs` of event time, and its clear at the first reading that moves. Devices are
 * independent; readings older than a device's newest one are not evaluated. Errors and
 * completion of the source pass through; state lives as long as the subscription.
 *
 * ```
 * readings: -a-b-c-d-|   lel 12.3 at 0 h, 12.3 at 12 h, 12.35 at 24 h, 15 at 25 h; 24 h, Δ 0.1
 * output:   -----R-C-|   R: flat for 24 h; C: moved by 2.7
 * ```
 *
 * @see reduceStuck, README "Data quality".
 */
export function stuckRule(
  rule: StuckRuleConfig,
  context: RuleContext,
): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<DeviceStreamState<StuckState>, Reading>(
    () => new Map(),
    (devices, reading) =>
      reduceDeviceStream(
        devices,
        reading,
        () => STUCK_EMPTY,
        (state, each, order) =>
          order === 'in-order'
            ? reduceStuck(state, each, rule, context)
            : { state, signals: NO_SIGNALS },
      ),
  );
}
