import {
  SHIFT_MAX_MS,
  dutyItemRef,
  type DutyChanges,
  type DutyItem,
  type DutySnapshot,
  type DutyUnmanned,
  type HandOver,
  type Shift,
  type ShiftAction,
  type ShiftActionName,
  type ShiftCrew,
  type ShiftState,
} from '@vigil/contracts';

import type { HazardActor } from './hazard-lifecycle';

/**
 * Duty and shift hand-over (值班记录, 交接班): a pure reducer, like the hazard ledger's and the
 * permits'. The caller supplies the time, the snapshot of what is open and whether a user sees
 * every site of the control room; it makes the result durable and only then answers. Every step
 * is signed by the authenticated user who took it (谁检查、谁签字、谁负责) and appended to the
 * history.
 *
 *   (first shift) ─start→ on-duty ─open-hand-over→ on-duty + hand-over ─sign (outgoing lead)→
 *       ─accept (incoming lead, another person)→ outgoing: ended (handed-over), incoming: on-duty
 *
 * Re-opening a hand-over before its acceptance captures a new snapshot and clears the outgoing
 * signature (the lead signs what is handed over now). A shift never ends without a successor: a
 * control room that had a shift is expected to be staffed from then on.
 */

export type DutyActor = HazardActor;

export interface DutyContext {
  readonly now: number;
  /** Whether this user exists and sees every site of the control room (their scope). */
  readonly sees: (userId: string) => boolean;
  readonly maxHistory?: number | undefined;
}

export const DEFAULT_SHIFT_MAX_HISTORY = 200;

export interface ShiftStart {
  readonly siteId: string;
  readonly roomId: string;
  readonly sites: readonly string[];
  readonly crew: ShiftCrew;
  readonly plannedEnd: number;
  readonly note?: string | undefined;
}

export interface HandOverInput {
  readonly notes: string;
  readonly incoming: ShiftCrew & { readonly plannedEnd: number };
}

export type ShiftCommand =
  | ({ readonly action: 'hand-over' } & HandOverInput)
  | { readonly action: 'sign'; readonly note?: string | undefined }
  | {
      readonly action: 'accept';
      /**
       * The refs (`alarm:<id>` …) of every item added or changed since the snapshot that the
       * incoming lead was shown: an acceptance that leaves one out is refused (stale).
       */
      readonly seen: readonly string[];
      readonly note?: string | undefined;
    };
export type ShiftCommandName = ShiftCommand['action'];
export const SHIFT_COMMANDS = [
  'hand-over',
  'sign',
  'accept',
] as const satisfies readonly ShiftCommandName[];

export type ShiftRefusal = {
  readonly ok: false;
  readonly status: 400 | 403 | 404 | 409 | 422;
  readonly message: string;
  /** A stale acceptance: what changed since the snapshot (to show, then acknowledge). */
  readonly changes?: DutyChanges | undefined;
};
export type ShiftResult =
  | {
      readonly ok: true;
      /** The shifts changed by the step (the outgoing first; the incoming after an acceptance). */
      readonly shifts: readonly Shift[];
      readonly action: ShiftAction;
    }
  | ShiftRefusal;

function refuse(
  status: ShiftRefusal['status'],
  message: string,
  changes?: DutyChanges,
): ShiftRefusal {
  return { ok: false, status, message, ...(changes ? { changes } : {}) };
}

function signed(
  name: ShiftActionName,
  actor: DutyActor,
  now: number,
  state: ShiftState,
  note?: string,
): ShiftAction {
  return {
    action: name,
    at: now,
    by: actor.id,
    role: actor.role,
    state,
    ...(note === undefined || note === '' ? {} : { note }),
  };
}

function step(
  shift: Shift,
  changes: Partial<Shift>,
  action: ShiftAction,
  now: number,
): { shift: Shift; action: ShiftAction } {
  return {
    shift: { ...shift, ...changes, updatedAt: now, history: [...shift.history, action] },
    action,
  };
}

/** The crew checked: a lead, operators without the lead or duplicates, each one in scope. */
function checkCrew(
  crew: ShiftCrew,
  plannedEnd: number,
  context: DutyContext,
): ShiftRefusal | ShiftCrew {
  const lead = crew.lead.trim();
  if (!lead) return refuse(400, 'a shift needs a lead (值班长)');
  const operators = [...new Set(crew.operators.map(id => id.trim()).filter(Boolean))].filter(
    id => id !== lead,
  );
  const outside = [lead, ...operators].filter(id => !context.sees(id));
  if (outside.length > 0)
    return refuse(422, `not users who see every site of this control room: ${outside.join(', ')}`);
  if (!(plannedEnd > context.now))
    return refuse(422, 'plannedEnd: the planned end must be in the future');
  if (plannedEnd - context.now > SHIFT_MAX_MS)
    return refuse(422, `plannedEnd: a shift lasts at most ${SHIFT_MAX_MS / 3_600_000} h`);
  return { lead, operators };
}

/**
 * The first shift of a control room comes on duty, signed by its lead. `onDuty` is the room's
 * shift on duty now, if any: then the room is handed over, never started twice.
 */
export function startShift(
  start: ShiftStart,
  actor: DutyActor,
  context: DutyContext & { readonly id: string; readonly no: number },
  onDuty: Shift | undefined,
): ShiftResult {
  if (onDuty)
    return refuse(
      409,
      `control room ${start.siteId}/${start.roomId} is on duty (shift No. ${onDuty.no}, lead ${onDuty.lead}): hand it over instead`,
    );
  if (!context.sees(actor.id))
    return refuse(
      403,
      `you do not see every site of this control room (${start.sites.join(', ')})`,
    );
  const crew = checkCrew(start.crew, start.plannedEnd, context);
  if ('ok' in crew) return crew;
  if (crew.lead !== actor.id)
    return refuse(403, `the lead signs their own shift on: log in as ${crew.lead} to start it`);
  const action = signed('start', actor, context.now, 'on-duty', start.note);
  const shift: Shift = {
    id: context.id,
    no: context.no,
    siteId: start.siteId,
    roomId: start.roomId,
    sites: [...start.sites],
    lead: crew.lead,
    operators: crew.operators,
    state: 'on-duty',
    startedAt: context.now,
    plannedEnd: start.plannedEnd,
    updatedAt: context.now,
    history: [action],
  };
  return { ok: true, shifts: [shift], action };
}

/**
 * Applies a step to an on-duty shift. `current` is what is open now in the control room's sites:
 * the snapshot of a hand-over, and what an acceptance is compared with. `next` names the
 * incoming shift an acceptance puts on duty.
 */
export function applyShiftCommand(
  shift: Shift | undefined,
  command: ShiftCommand,
  actor: DutyActor,
  context: DutyContext & {
    readonly current: DutySnapshot;
    readonly next: { readonly id: string; readonly no: number };
  },
): ShiftResult {
  if (!shift) return refuse(404, 'no shift with this id');
  const { now } = context;
  if (shift.state !== 'on-duty')
    return refuse(409, `shift No. ${shift.no} has handed over: it is no longer on duty`);
  const maxHistory = context.maxHistory ?? DEFAULT_SHIFT_MAX_HISTORY;
  if (shift.history.length >= maxHistory)
    return refuse(409, `the shift's history is full (${maxHistory} steps)`);
  if (!context.sees(actor.id))
    return refuse(
      403,
      `you do not see every site of this control room (${shift.sites.join(', ')}): no signature without scope`,
    );
  const handOver = shift.handOver;
  switch (command.action) {
    case 'hand-over': {
      if (actor.id !== shift.lead)
        return refuse(403, `only the outgoing lead (${shift.lead}) opens the hand-over`);
      const crew = checkCrew(command.incoming, command.incoming.plannedEnd, context);
      if ('ok' in crew) return crew;
      if (crew.lead === shift.lead)
        return refuse(
          422,
          'incoming.lead: the incoming lead is another person (one person cannot sign both sides of a hand-over)',
        );
      const opened: HandOver = {
        openedAt: now,
        openedBy: actor.id,
        notes: command.notes.trim(),
        snapshot: context.current,
        incoming: { ...crew, plannedEnd: command.incoming.plannedEnd },
      };
      const { shift: next, action } = step(
        shift,
        { handOver: opened },
        signed(
          'open-hand-over',
          actor,
          now,
          'on-duty',
          `${handOver ? 're-opened: ' : ''}${describeSnapshot(context.current)} → ${crew.lead}`,
        ),
        now,
      );
      return { ok: true, shifts: [next], action };
    }
    case 'sign': {
      if (!handOver) return refuse(409, 'no hand-over is open: open one first');
      if (actor.id !== shift.lead)
        return refuse(403, `only the outgoing lead (${shift.lead}) signs the hand-over out`);
      if (handOver.signedOutBy)
        return refuse(409, `the hand-over is already signed by ${handOver.signedOutBy}`);
      const { shift: next, action } = step(
        shift,
        { handOver: { ...handOver, signedOutBy: actor.id, signedOutAt: now } },
        signed('sign', actor, now, 'on-duty', command.note),
        now,
      );
      return { ok: true, shifts: [next], action };
    }
    case 'accept': {
      if (!handOver) return refuse(409, 'no hand-over is open');
      if (actor.id === shift.lead || actor.id === handOver.signedOutBy)
        return refuse(
          403,
          `${actor.id} signed for the outgoing shift: one person cannot sign both sides of a hand-over`,
        );
      if (actor.id !== handOver.incoming.lead)
        return refuse(403, `only the incoming lead (${handOver.incoming.lead}) accepts`);
      if (!handOver.signedOutBy)
        return refuse(409, `the outgoing lead (${shift.lead}) has not signed the hand-over yet`);
      const changes = diffDutySnapshots(handOver.snapshot, context.current);
      const seen = new Set(command.seen);
      const unseen = [...changes.added, ...changes.changed].filter(
        item => !seen.has(dutyItemRef(item)),
      );
      if (unseen.length > 0)
        return refuse(
          409,
          `stale hand-over: ${unseen.length} item(s) opened or changed since the snapshot of ` +
            `${new Date(handOver.snapshot.at).toISOString()}, review them before accepting: ` +
            unseen
              .slice(0, 20)
              .map(item => `${dutyItemRef(item)} ${item.summary}`)
              .join('; ') +
            (unseen.length > 20 ? `; … ${unseen.length - 20} more` : ''),
          changes,
        );
      const anyChange = changes.added.length + changes.changed.length + changes.removed.length > 0;
      const accepted: HandOver = {
        ...handOver,
        acceptedBy: actor.id,
        acceptedAt: now,
        ...(anyChange ? { changesAtAcceptance: changes } : {}),
      };
      const { shift: outgoing } = step(
        shift,
        { state: 'ended', endedAt: now, handOver: accepted },
        signed('handed-over', actor, now, 'ended', `accepted by ${actor.id}`),
        now,
      );
      const action = signed(
        'accept',
        actor,
        now,
        'on-duty',
        [
          command.note,
          anyChange
            ? `changes since the snapshot: +${changes.added.length} ~${changes.changed.length} -${changes.removed.length}`
            : undefined,
        ]
          .filter(Boolean)
          .join('; '),
      );
      const incoming: Shift = {
        id: context.next.id,
        no: context.next.no,
        siteId: shift.siteId,
        roomId: shift.roomId,
        sites: shift.sites,
        lead: handOver.incoming.lead,
        operators: handOver.incoming.operators,
        state: 'on-duty',
        startedAt: now,
        plannedEnd: handOver.incoming.plannedEnd,
        previousId: shift.id,
        updatedAt: now,
        history: [action],
      };
      return { ok: true, shifts: [outgoing, incoming], action };
    }
  }
}

/** `3 alarm(s), 1 hazard(s), 2 permit(s)`: a snapshot in one line, for the history. */
export function describeSnapshot(snapshot: DutySnapshot): string {
  const count = (kind: DutyItem['kind']) =>
    snapshot.items.filter(item => item.kind === kind).length + (snapshot.omitted?.[kind] ?? 0);
  return `${count('alarm')} alarm(s), ${count('hazard')} hazard(s), ${count('permit')} permit(s) open`;
}

/** What changed between a snapshot and a later one, by item (`kind:id`). */
export function diffDutySnapshots(before: DutySnapshot, after: DutySnapshot): DutyChanges {
  const then = new Map(before.items.map(item => [dutyItemRef(item), item]));
  const now = new Map(after.items.map(item => [dutyItemRef(item), item]));
  const added: DutyItem[] = [];
  const changed: (DutyItem & { was: string })[] = [];
  const removed: DutyItem[] = [];
  for (const [ref, item] of now) {
    const was = then.get(ref);
    if (!was) added.push(item);
    else if (was.state !== item.state) changed.push({ ...item, was: was.state });
  }
  for (const [ref, item] of then) if (!now.has(ref)) removed.push(item);
  return { at: after.at, added, changed, removed };
}

/**
 * The control room is unmanned: its on-duty shift's planned end plus the grace passed and no
 * hand-over was accepted (a shift that handed over is `ended`).
 */
export function dutyUnmanned(shift: Shift, now: number, graceMs: number): DutyUnmanned | undefined {
  if (shift.state !== 'on-duty') return undefined;
  const since = shift.plannedEnd + graceMs;
  if (now < since) return undefined;
  const handOver = shift.handOver;
  const where = handOver
    ? handOver.signedOutBy
      ? `the hand-over to ${handOver.incoming.lead} is not accepted`
      : `the hand-over to ${handOver.incoming.lead} is not signed by ${shift.lead}`
    : 'no hand-over was opened';
  return {
    since,
    plannedEnd: shift.plannedEnd,
    reason: `shift No. ${shift.no} (lead ${shift.lead}) was due to end at ${new Date(shift.plannedEnd).toISOString()} and ${where}: nobody has taken over the control room`,
  };
}

/**
 * The steps `actor` may take on `shift` now: those the reducer would not refuse for the person
 * or the state (403/409). Asked of the reducer itself, so the console offers exactly what the
 * server accepts; scope and stale snapshots are the server's to check.
 */
export function allowedShiftCommands(
  shift: Shift,
  actor: DutyActor,
  now: number,
): ShiftCommandName[] {
  const current = shift.handOver?.snapshot ?? { at: now, items: [] };
  const probes: Record<ShiftCommandName, ShiftCommand> = {
    'hand-over': {
      action: 'hand-over',
      notes: '',
      incoming: { lead: `${actor.id}-probe`, operators: [], plannedEnd: now + 1 },
    },
    sign: { action: 'sign' },
    accept: { action: 'accept', seen: [] },
  };
  return SHIFT_COMMANDS.filter(name => {
    const result = applyShiftCommand(shift, probes[name], actor, {
      now,
      sees: () => true,
      current,
      next: { id: 'probe', no: 0 },
    });
    return result.ok || (result.status !== 403 && result.status !== 409);
  });
}
