import type { DeviceEvent, RuleSignal } from '@vigil/contracts';

import type { EventRuleConfig } from './rule-config';
import { NO_SIGNALS, type RuleContext, type RuleStep, ruleSignal } from './rule-signal';

/** One (device, event rule) pair: active or not. Two shared constants, nothing per device. */
export interface EventState {
  readonly kind: 'event';
  readonly active: boolean;
}

export const EVENT_INACTIVE: EventState = Object.freeze({ kind: 'event', active: false });
const EVENT_ACTIVE: EventState = Object.freeze({ kind: 'event', active: true });

/**
 * Device events as signals (domain-standards §9.1 fault flag, §9.6 fire panels, §9.7 SOS):
 *
 * - `hold`: an event with the rule's `code` raises (once: a repeat while active changes nothing);
 *   the same code with `detail.cleared: true`, or any code in `clearCodes` (a panel's `reset`),
 *   clears. Nothing else clears it: a faulty sensor keeps sending numbers.
 * - `pulse`: a momentary event (a call point pressed, an SOS) raises and clears in the same step,
 *   both at the event's time. The rule is `latched`, so the alarm lifecycle keeps the alarm until
 *   an operator resets it, and a second press raises it again.
 *
 * Events are taken in arrival order: they are discrete facts, not samples of a value, so there is
 * no watermark. `at` is the event's `ts`.
 */
export function reduceEvent(
  state: EventState,
  event: DeviceEvent,
  rule: EventRuleConfig,
  context: RuleContext,
): RuleStep<EventState> {
  if (event.code === rule.code) {
    if (rule.mode === 'pulse') {
      return {
        state: EVENT_INACTIVE,
        signals: [
          eventSignal(event, rule, true, context),
          eventSignal(event, rule, false, context, 'momentary event'),
        ],
      };
    }
    if (event.detail?.['cleared'] === true) {
      if (!state.active) return { state, signals: NO_SIGNALS };
      return { state: EVENT_INACTIVE, signals: [eventSignal(event, rule, false, context)] };
    }
    if (state.active) return { state, signals: NO_SIGNALS };
    return { state: EVENT_ACTIVE, signals: [eventSignal(event, rule, true, context)] };
  }
  if (state.active && rule.clearCodes.includes(event.code)) {
    return { state: EVENT_INACTIVE, signals: [eventSignal(event, rule, false, context)] };
  }
  return { state, signals: NO_SIGNALS };
}

/** `fire: Unconfirmed fire (loop=1 address=23)`: the rule's label and the event's plain details. */
function eventSignal(
  event: DeviceEvent,
  rule: EventRuleConfig,
  active: boolean,
  context: RuleContext,
  why?: string,
): RuleSignal {
  const what = rule.label ?? `Device event ${rule.code}`;
  const details = describeDetail(event.detail);
  const message = active
    ? `${what}${details ? ` (${details})` : ''}`
    : `${what}: cleared by ${why ?? (event.code === rule.code ? `${event.code} cleared` : event.code)}`;
  return ruleSignal(event, rule, active, event.ts, context, {
    value: undefined,
    threshold: undefined,
    message,
  });
}

/** Up to four primitive entries as `key=value`, skipping `cleared`; long strings cut at 40. */
function describeDetail(detail: DeviceEvent['detail']): string {
  if (!detail) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'cleared' || parts.length === 4) continue;
    if (typeof value === 'number' || typeof value === 'boolean') parts.push(`${key}=${value}`);
    else if (typeof value === 'string') parts.push(`${key}=${value.slice(0, 40)}`);
  }
  return parts.join(' ');
}
