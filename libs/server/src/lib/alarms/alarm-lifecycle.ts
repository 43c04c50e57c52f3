import type { Alarm, AlarmAction, RuleSignal } from '@vigil/contracts';

export interface Transition {
  readonly alarm: Alarm;
  readonly action: AlarmAction;
}

export type ActionResult =
  | { readonly ok: true; readonly transition: Transition }
  | { readonly ok: false; readonly status: 404 | 409 | 504; readonly message: string };

/** History entries kept on the alarm object itself; the full history is the audit stream. */
const MAX_HISTORY = 50;

function withAction(alarm: Alarm, changes: Partial<Alarm>, action: AlarmAction): Transition {
  const history = [...alarm.history, action].slice(-MAX_HISTORY);
  return { alarm: { ...alarm, ...changes, updatedAt: action.at, history }, action };
}

/**
 * Applies a rule signal to the open alarm of its key (ISA-18.2 states). Returns undefined when the
 * signal changes nothing, which is what makes repeated or re-delivered signals idempotent.
 */
export function applySignal(
  open: Alarm | undefined,
  signal: RuleSignal,
  newId: () => string,
): Transition | undefined {
  const at = signal.detectedAt;
  if (signal.active) {
    if (open?.conditionActive) return undefined;
    const action: AlarmAction = { action: 'raise', at, by: undefined, note: signal.message };
    const fields = {
      priority: signal.priority,
      level: signal.level,
      value: signal.value,
      threshold: signal.threshold,
      message: signal.message,
      conditionActive: true,
      state: 'active-unacknowledged' as const,
      detectedAt: signal.detectedAt,
      clearedAt: undefined,
    };
    if (open) return withAction(open, fields, action); // returned, not yet acknowledged: same alarm
    const alarm: Alarm = {
      id: newId(),
      key: signal.key,
      ruleId: signal.ruleId,
      siteId: signal.siteId,
      deviceId: signal.deviceId,
      deviceClass: signal.deviceClass,
      areaId: signal.areaId,
      category: signal.category,
      latched: signal.latched,
      metric: signal.metric,
      raisedAt: signal.at,
      acknowledgedAt: undefined,
      acknowledgedBy: undefined,
      updatedAt: at,
      history: [],
      ...fields,
    };
    return withAction(alarm, {}, action);
  }
  if (!open || !open.conditionActive) return undefined;
  const action: AlarmAction = { action: 'clear', at, by: undefined, note: signal.message };
  const changes: Partial<Alarm> = {
    conditionActive: false,
    clearedAt: signal.at,
    value: signal.value,
  };
  if (open.latched) return withAction(open, changes, action); // stays active until an operator resets it
  const state = open.state === 'active-acknowledged' ? 'normal' : 'returned-unacknowledged';
  return withAction(open, { ...changes, state }, action);
}

export function acknowledge(
  open: Alarm | undefined,
  by: string,
  note: string | undefined,
  at: number,
): ActionResult {
  if (!open) return { ok: false, status: 404, message: 'no open alarm with this id' };
  const action: AlarmAction = { action: 'acknowledge', at, by, note };
  switch (open.state) {
    case 'active-unacknowledged':
      return {
        ok: true,
        transition: withAction(
          open,
          { state: 'active-acknowledged', acknowledgedAt: at, acknowledgedBy: by },
          action,
        ),
      };
    case 'returned-unacknowledged':
      return {
        ok: true,
        transition: withAction(
          open,
          { state: 'normal', acknowledgedAt: at, acknowledgedBy: by },
          action,
        ),
      };
    default:
      return { ok: false, status: 409, message: `alarm is ${open.state}, nothing to acknowledge` };
  }
}

/** Resets a latched alarm whose condition has cleared (GB 31252: held until manual reset). */
export function reset(
  open: Alarm | undefined,
  by: string,
  note: string | undefined,
  at: number,
): ActionResult {
  if (!open) return { ok: false, status: 404, message: 'no open alarm with this id' };
  if (open.conditionActive)
    return { ok: false, status: 409, message: 'condition still present: cannot reset' };
  const action: AlarmAction = { action: 'reset', at, by, note };
  return {
    ok: true,
    transition: withAction(
      open,
      {
        state: 'normal',
        acknowledgedAt: open.acknowledgedAt ?? at,
        acknowledgedBy: open.acknowledgedBy ?? by,
      },
      action,
    ),
  };
}
