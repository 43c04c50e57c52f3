import { type OperatorFunction, filter, pipe } from 'rxjs';

import type { DeviceEvent, IngestRecord, RuleSignal } from '@vigil/contracts';

import { EVENT_INACTIVE, type EventState, reduceEvent } from './event.reducer';
import { reducerOperator } from './reducer-operator';
import type { EventRuleConfig } from './rule-config';
import type { RuleContext } from './rule-signal';

/**
 * Emits the signals of one event rule for every device in a stream of ingest records (readings
 * and status are ignored): `hold` rules raise on their code and clear on `detail.cleared` or a
 * clear code such as `reset`; `pulse` rules raise and clear on each event. Devices are
 * independent. Errors and completion of the source pass through; state lives as long as the
 * subscription.
 *
 * ```
 * records: -f-g-r-|   f: fire (loop 1), g: fire (loop 2), r: reset; rule fire, clearCodes [reset]
 * output:  -F---C-|   F: unconfirmed fire; g while active: nothing; C: cleared by reset
 * ```
 *
 * @see reduceEvent, README "Events".
 */
export function eventRule(
  rule: EventRuleConfig,
  context: RuleContext,
): OperatorFunction<IngestRecord, RuleSignal> {
  return pipe(
    filter((record): record is Extract<IngestRecord, { kind: 'event' }> => record.kind === 'event'),
    reducerOperator<Map<string, EventState>, Extract<IngestRecord, { kind: 'event' }>>(
      () => new Map(),
      (devices, record) => {
        const event: DeviceEvent = record.event;
        const key = `${event.siteId}/${event.deviceId}`;
        const step = reduceEvent(devices.get(key) ?? EVENT_INACTIVE, event, rule, context);
        devices.set(key, step.state);
        return { state: devices, signals: step.signals };
      },
    ),
  );
}
