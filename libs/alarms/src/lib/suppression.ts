import {
  hiddenByParentOffline,
  type Alarm,
  type SuppressionCause,
  type SuppressionKind,
} from '@vigil/contracts';

import { act, transition, type Transition } from './lifecycle';

/**
 * Suppression by design (ISA-18.2 / IEC 62682: "suppressed by design", "out of service") belongs
 * to its cause, never to the alarm: an alarm is suppressed exactly while one of its causes is
 * live, and the caller re-evaluates the alarm whenever a cause begins or ends. The causes:
 *
 * - a device mode set by a supervisor (`maintenance`, `out-of-service`), with who and why: hides
 *   every alarm of that device;
 * - the device's gateway has an open offline alarm (`parent-offline`): hides only the consequences
 *   of the lost path (`hiddenByParentOffline`), never a process alarm.
 *
 * Shelving is the operator's own, per alarm, with an expiry (`Alarm.shelved`, lifecycle.ts).
 */
export interface LiveCauses {
  /** The mode a supervisor set on the alarm's device, if any. */
  readonly deviceMode?:
    | {
        readonly mode: 'maintenance' | 'out-of-service';
        readonly by: string;
        readonly reason: string;
        readonly at: number;
      }
    | undefined;
  /** The device's gateway, while it has an offline alarm whose condition is active. */
  readonly offlineGateway?: { readonly gatewayId: string; readonly since: number } | undefined;
}

/** The causes that hide an alarm (or a signal about to become one) right now. */
export function suppressionCauses(
  alarm: Pick<Alarm, 'category' | 'level'>,
  live: LiveCauses,
): SuppressionCause[] {
  const causes: SuppressionCause[] = [];
  if (live.deviceMode) {
    const { mode, by, reason, at } = live.deviceMode;
    causes.push({ kind: mode, since: at, by, reason });
  }
  if (live.offlineGateway && hiddenByParentOffline(alarm)) {
    const { gatewayId, since } = live.offlineGateway;
    causes.push({ kind: 'parent-offline', since, gatewayId });
  }
  return causes;
}

/** What the alarm records now: its causes, or the bare kind from a journal written before them. */
function recordedCauses(alarm: Alarm): readonly SuppressionCause[] {
  if (alarm.suppressedBy) return alarm.suppressedBy;
  return alarm.suppressed ? [{ kind: alarm.suppressed, since: alarm.updatedAt }] : [];
}

function causeId(cause: SuppressionCause): string {
  return `${cause.kind}|${cause.since}|${cause.by ?? ''}|${cause.reason ?? ''}|${cause.gatewayId ?? ''}`;
}

function sameCauses(a: readonly SuppressionCause[], b: readonly SuppressionCause[]): boolean {
  if (a.length !== b.length) return false;
  const ids = new Set(a.map(causeId));
  return b.every(cause => ids.has(causeId(cause)));
}

/** For the history note: "maintenance by wang: calibration; gateway gw-1 offline". */
export function describeCause(cause: SuppressionCause): string {
  if (cause.kind === 'parent-offline') return `gateway ${cause.gatewayId ?? '?'} offline`;
  return `${cause.kind} by ${cause.by ?? '?'}${cause.reason ? `: ${cause.reason}` : ''}`;
}

/**
 * Brings an open alarm's suppression in line with its live causes. Returns a `suppress`
 * transition when causes begin or change, an `unsuppress` one when the last cause ends (the alarm
 * is shown from `now`: `shownAt` restarts its escalation and disposal clocks, see lifecycle.ts),
 * and undefined when nothing changed, so calling it again and again is a no-op.
 */
export function reconcileSuppression(
  alarm: Alarm,
  causes: readonly SuppressionCause[],
  now: number,
): Transition | undefined {
  const before = recordedCauses(alarm);
  if (sameCauses(before, causes)) return undefined;
  if (causes.length === 0) {
    const ended = [...new Set(before.map(cause => cause.kind))].join(', ');
    return transition(
      alarm,
      {
        suppressed: undefined,
        suppressedBy: undefined,
        // Still shelved: it becomes visible when the shelving ends, which sets shownAt then.
        ...(alarm.shelved && alarm.shelved.until > now ? {} : { shownAt: now }),
      },
      act('unsuppress', now, undefined, `${ended} ended`),
    );
  }
  const kind: SuppressionKind = (causes[0] as SuppressionCause).kind;
  return transition(
    alarm,
    { suppressed: kind, suppressedBy: [...causes] },
    act('suppress', now, undefined, causes.map(describeCause).join('; ')),
  );
}
