import {
  DISPOSITIONS,
  type Alarm,
  type AlarmAction,
  type AlarmActionName,
  type Disposition,
  type RuleSignal,
  type SuppressionCause,
} from '@vigil/contracts';

import type { Actor } from './actor';
import type { AlarmPolicy } from './policy';

export interface Transition {
  readonly alarm: Alarm;
  readonly action: AlarmAction;
}

export type ActionResult =
  | { readonly ok: true; readonly transition: Transition }
  | {
      readonly ok: false;
      readonly status: 400 | 403 | 404 | 409 | 503 | 504;
      readonly message: string;
    };

export type OperatorCommand =
  | { readonly action: 'acknowledge'; readonly note?: string | undefined }
  | { readonly action: 'shelve'; readonly reason: string; readonly minutes: number }
  | { readonly action: 'unshelve'; readonly note?: string | undefined }
  | { readonly action: 'comment'; readonly note: string }
  | { readonly action: 'assign'; readonly to: string; readonly note?: string | undefined }
  | { readonly action: 'dispose'; readonly disposition: Disposition; readonly note: string }
  | { readonly action: 'reset'; readonly note?: string | undefined };

/** History entries kept on the alarm itself; the full history is the journal and InfluxDB. */
const MAX_HISTORY = 100;

function fail(status: 400 | 403 | 404 | 409, message: string): ActionResult {
  return { ok: false, status, message };
}

export function transition(alarm: Alarm, changes: Partial<Alarm>, action: AlarmAction): Transition {
  const history = [...alarm.history, action].slice(-MAX_HISTORY);
  return { alarm: { ...alarm, ...changes, updatedAt: action.at, history }, action };
}

export function act(
  name: AlarmActionName,
  at: number,
  by: string | undefined,
  note: string | undefined,
): AlarmAction {
  return { action: name, at, by, note };
}

/** Whether the alarm still needs someone: not normal, or normal but awaiting its disposition. */
export function isOpen(alarm: Alarm, policy: AlarmPolicy): boolean {
  if (alarm.state !== 'normal') return true;
  return needsDisposition(alarm, policy) && alarm.disposition === undefined;
}

export function needsDisposition(alarm: Alarm, policy: AlarmPolicy): boolean {
  return alarm.category === 'process' && policy.dispositionRequired.has(alarm.priority);
}

export interface RaiseContext {
  readonly newId: () => string;
  /** Group head for a new alarm (first-out of its area or root cause), if any. */
  readonly groupHead?: ((signal: RuleSignal) => Alarm | undefined) | undefined;
  /**
   * The live causes that hide a new alarm from the start (see `suppression.ts`). An existing alarm
   * keeps its own: the caller reconciles them with `reconcileSuppression` whenever a cause changes.
   */
  readonly suppressedBy?: readonly SuppressionCause[] | undefined;
}

/**
 * Applies a rule signal to the open alarm of its key (ISA-18.2 / IEC 62682). Returns undefined
 * when the signal changes nothing: a repeated or re-delivered signal is a no-op, which is what
 * keeps exactly one alarm per key under retries, reconnects and restarts.
 */
export function applySignal(
  open: Alarm | undefined,
  signal: RuleSignal,
  context: RaiseContext,
): Transition | undefined {
  const at = signal.detectedAt;
  if (signal.active) {
    if (open?.conditionActive) {
      const levelChanged = signal.level !== open.level || signal.priority !== open.priority;
      const chatterChanged =
        signal.chattering !== undefined && signal.chattering !== (open.chattering ?? false);
      if (!levelChanged && !chatterChanged) return undefined;
      const changes: Partial<Alarm> = levelChanged
        ? {
            level: signal.level,
            priority: signal.priority,
            value: signal.value,
            threshold: signal.threshold,
            message: signal.message,
          }
        : { chattering: signal.chattering };
      const note = levelChanged
        ? `${open.level} → ${signal.level}: ${signal.message}`
        : signal.chattering
          ? 'chattering: held active'
          : 'chattering ended';
      return transition(open, changes, act('update', at, undefined, note));
    }
    const action = act('raise', at, undefined, signal.message);
    const fields: Partial<Alarm> = {
      priority: signal.priority,
      level: signal.level,
      value: signal.value,
      threshold: signal.threshold,
      message: signal.message,
      conditionActive: true,
      state: 'active-unacknowledged',
      detectedAt: signal.detectedAt,
      clearedAt: undefined,
      ...(signal.members ? { members: signal.members } : {}),
      ...(signal.location ? { location: signal.location } : {}),
    };
    if (open) return transition(open, fields, action); // re-activation: still the same alarm
    const id = context.newId();
    const head = context.groupHead?.(signal);
    const alarm: Alarm = {
      id,
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
      openedAt: at,
      acknowledgedAt: undefined,
      acknowledgedBy: undefined,
      updatedAt: at,
      history: [],
      groupId: head?.id ?? id,
      ...(context.suppressedBy && context.suppressedBy.length > 0
        ? { suppressed: context.suppressedBy[0]?.kind, suppressedBy: context.suppressedBy }
        : {}),
      priority: signal.priority,
      level: signal.level,
      value: signal.value,
      threshold: signal.threshold,
      message: signal.message,
      conditionActive: true,
      state: 'active-unacknowledged',
      detectedAt: signal.detectedAt,
      clearedAt: undefined,
      ...(signal.members ? { members: signal.members } : {}),
      ...(signal.location ? { location: signal.location } : {}),
    };
    return transition(alarm, {}, action);
  }
  if (!open || !open.conditionActive) return undefined;
  const action = act('clear', at, undefined, signal.message);
  const changes: Partial<Alarm> = {
    conditionActive: false,
    clearedAt: signal.at,
    value: signal.value,
  };
  if (open.latched) return transition(open, changes, action); // held until an operator resets it
  const state = open.state === 'active-acknowledged' ? 'normal' : 'returned-unacknowledged';
  return transition(open, { ...changes, state }, action);
}

/** May this actor act on an alarm someone else owns? The owner, supervisors and admins may. */
function ownsOrSupervises(alarm: Alarm, actor: Actor): boolean {
  return alarm.owner === undefined || alarm.owner === actor.id || actor.role !== 'operator';
}

/** Applies an operator's action. Pure: the caller persists the transition before replying. */
export function applyCommand(
  alarm: Alarm | undefined,
  command: OperatorCommand,
  actor: Actor,
  now: number,
  policy: AlarmPolicy,
): ActionResult {
  if (!alarm) return fail(404, 'no open alarm with this id');
  const note = 'note' in command ? command.note : undefined;
  switch (command.action) {
    case 'acknowledge': {
      const owner = alarm.owner ?? actor.id;
      const acknowledged = { acknowledgedAt: now, acknowledgedBy: actor.id, owner };
      const action = act('acknowledge', now, actor.id, note);
      if (alarm.state === 'active-unacknowledged') {
        return {
          ok: true,
          transition: transition(alarm, { ...acknowledged, state: 'active-acknowledged' }, action),
        };
      }
      if (alarm.state === 'returned-unacknowledged') {
        return {
          ok: true,
          transition: transition(alarm, { ...acknowledged, state: 'normal' }, action),
        };
      }
      return fail(409, `alarm is ${alarm.state}: nothing to acknowledge`);
    }
    case 'reset': {
      if (!alarm.latched) return fail(409, 'only latched alarms are reset');
      if (alarm.conditionActive) return fail(409, 'the condition is still present: cannot reset');
      if (alarm.state === 'normal') return fail(409, 'alarm is already reset');
      const changes: Partial<Alarm> = {
        state: 'normal',
        acknowledgedAt: alarm.acknowledgedAt ?? now,
        acknowledgedBy: alarm.acknowledgedBy ?? actor.id,
        owner: alarm.owner ?? actor.id,
      };
      return {
        ok: true,
        transition: transition(alarm, changes, act('reset', now, actor.id, note)),
      };
    }
    case 'shelve': {
      if (policy.unshelvable.has(alarm.priority))
        return fail(409, `P${alarm.priority} alarms cannot be shelved`);
      if (alarm.priority === 2 && actor.role === 'operator')
        return fail(403, 'only a supervisor may shelve a P2 alarm');
      if (!command.reason.trim()) return fail(400, 'shelving needs a reason');
      const ms = command.minutes * 60_000;
      if (!(ms > 0) || ms > policy.maxShelveMs) {
        return fail(400, `shelve for 1 to ${policy.maxShelveMs / 60_000} minutes`);
      }
      const shelved = { by: actor.id, reason: command.reason, until: now + ms };
      return {
        ok: true,
        transition: transition(alarm, { shelved }, act('shelve', now, actor.id, command.reason)),
      };
    }
    case 'unshelve':
      if (!alarm.shelved) return fail(409, 'alarm is not shelved');
      return {
        ok: true,
        transition: transition(
          alarm,
          { shelved: undefined, ...shownIfVisible(alarm, now) },
          act('unshelve', now, actor.id, note),
        ),
      };
    case 'comment':
      if (!command.note.trim()) return fail(400, 'a comment needs text');
      return {
        ok: true,
        transition: transition(alarm, {}, act('comment', now, actor.id, command.note)),
      };
    case 'assign':
      if (!ownsOrSupervises(alarm, actor))
        return fail(403, `owned by ${alarm.owner}: only they or a supervisor hand it over`);
      if (!command.to.trim()) return fail(400, 'assign to whom?');
      return {
        ok: true,
        transition: transition(
          alarm,
          { owner: command.to, assignee: command.to },
          act('assign', now, actor.id, note ?? `to ${command.to}`),
        ),
      };
    case 'dispose': {
      if (!DISPOSITIONS.includes(command.disposition))
        return fail(400, `disposition must be one of ${DISPOSITIONS.join(', ')}`);
      if (!ownsOrSupervises(alarm, actor))
        return fail(403, `owned by ${alarm.owner}: only they or a supervisor dispose it`);
      if (!command.note.trim())
        return fail(400, 'a disposition needs a note (what was found and done)');
      if (alarm.disposition) return fail(409, 'alarm is already disposed');
      const disposition = { kind: command.disposition, note: command.note, by: actor.id, at: now };
      const changes: Partial<Alarm> = {
        disposition,
        owner: alarm.owner ?? actor.id,
        overdue: false,
      };
      return {
        ok: true,
        transition: transition(
          alarm,
          changes,
          act('dispose', now, actor.id, `${command.disposition}: ${command.note}`),
        ),
      };
    }
  }
}

/**
 * Time-driven transitions due at `now`: shelving expiry, escalation of an unacknowledged alarm one
 * level up `escalationPath` (organisation node ids from the enterprise up to the city), and
 * overdue disposal, which escalates the same way. At most one transition per call, so a caller
 * that applies it and calls again sees each step.
 */
export function dueTransition(
  alarm: Alarm,
  now: number,
  policy: AlarmPolicy,
  escalationPath: readonly string[],
): Transition | undefined {
  if (alarm.shelved && now >= alarm.shelved.until) {
    return transition(
      alarm,
      { shelved: undefined, ...shownIfVisible(alarm, now) },
      act('unshelve', now, undefined, 'shelving expired'),
    );
  }
  if (alarm.suppressed || alarm.suppressedBy) return undefined;
  const level = alarm.escalation?.level ?? 0;
  const canEscalate = level + 1 < escalationPath.length;
  const escalate = (reason: string, extra: Partial<Alarm> = {}) =>
    transition(
      alarm,
      {
        ...extra,
        escalation: { level: level + 1, nodeId: escalationPath[level + 1] as string, at: now },
      },
      act(extra.overdue ? 'overdue' : 'escalate', now, undefined, reason),
    );

  const ackWithin = policy.acknowledgeWithinMs[alarm.priority];
  if (
    alarm.state === 'active-unacknowledged' &&
    !alarm.shelved &&
    ackWithin !== undefined &&
    canEscalate
  ) {
    const since = ackClockFrom(alarm);
    if (now - since >= ackWithin) {
      return escalate(`not acknowledged within ${Math.round(ackWithin / 1000)} s`);
    }
  }
  const disposeWithin = policy.disposeWithinMs[alarm.priority];
  if (
    needsDisposition(alarm, policy) &&
    !alarm.disposition &&
    !alarm.overdue &&
    disposeWithin !== undefined
  ) {
    if (now - disposeClockFrom(alarm) >= disposeWithin) {
      const reason = `not disposed within ${Math.round(disposeWithin / 60_000)} min`;
      if (canEscalate) return escalate(reason, { overdue: true });
      return transition(alarm, { overdue: true }, act('overdue', now, undefined, reason));
    }
  }
  return undefined;
}

/** The earliest time `dueTransition` could return something, for the scheduler. */
export function nextDueAt(
  alarm: Alarm,
  policy: AlarmPolicy,
  escalationPath: readonly string[],
): number | undefined {
  const candidates: number[] = [];
  if (alarm.shelved) candidates.push(alarm.shelved.until);
  if (!alarm.suppressed && !alarm.suppressedBy) {
    const level = alarm.escalation?.level ?? 0;
    const ackWithin = policy.acknowledgeWithinMs[alarm.priority];
    if (
      alarm.state === 'active-unacknowledged' &&
      !alarm.shelved &&
      ackWithin !== undefined &&
      level + 1 < escalationPath.length
    ) {
      candidates.push(ackClockFrom(alarm) + ackWithin);
    }
    const disposeWithin = policy.disposeWithinMs[alarm.priority];
    if (
      needsDisposition(alarm, policy) &&
      !alarm.disposition &&
      !alarm.overdue &&
      disposeWithin !== undefined
    ) {
      candidates.push(disposeClockFrom(alarm) + disposeWithin);
    }
  }
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/**
 * Unshelving makes the alarm visible again unless it is still suppressed: its deadlines count
 * from this moment (`shownAt`), because nobody could act on it while it was hidden.
 */
function shownIfVisible(alarm: Alarm, now: number): Partial<Alarm> {
  return alarm.suppressed || alarm.suppressedBy ? {} : { shownAt: now };
}

/** The acknowledgement clock: the last escalation or detection, or when it was last shown. */
function ackClockFrom(alarm: Alarm): number {
  return Math.max(alarm.escalation?.at ?? alarm.detectedAt, alarm.shownAt ?? -Infinity);
}

/** The disposal clock: from opening, or from when the alarm was last shown if later. */
function disposeClockFrom(alarm: Alarm): number {
  return Math.max(alarm.openedAt ?? alarm.detectedAt, alarm.shownAt ?? -Infinity);
}
