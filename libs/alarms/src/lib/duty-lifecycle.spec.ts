import type { DutyItem, DutySnapshot, Shift } from '@vigil/contracts';

import {
  allowedShiftCommands,
  applyShiftCommand,
  diffDutySnapshots,
  dutyUnmanned,
  startShift,
  type DutyActor,
  type ShiftCommand,
  type ShiftStart,
} from './duty-lifecycle';

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const HOUR = 3_600_000;
const zhang: DutyActor = { id: 'zhang', role: 'operator' };
const li: DutyActor = { id: 'li', role: 'operator' };
const wang: DutyActor = { id: 'wang', role: 'supervisor' };
const outsider: DutyActor = { id: 'rival', role: 'supervisor' };
const sees = (id: string) => id !== 'rival';

const p1: DutyItem = {
  kind: 'alarm',
  id: 'a1',
  siteId: 'plant-1',
  state: 'active-unacknowledged',
  priority: 1,
  summary: 'P1 gc-tf-01 gas-l2 LEL 40',
};
const hazard: DutyItem = {
  kind: 'hazard',
  id: 'h1',
  siteId: 'plant-1',
  state: 'rectifying',
  summary: 'No.1 flange leak',
};
const snapshot = (at: number, ...items: DutyItem[]): DutySnapshot => ({ at, items });

const first: ShiftStart = {
  siteId: 'plant-1',
  roomId: 'control-room',
  sites: ['plant-1'],
  crew: { lead: 'zhang', operators: ['zhang', 'wang', 'wang'] },
  plannedEnd: T0 + 8 * HOUR,
};

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

function refused(result: { ok: boolean }) {
  if (result.ok) throw new Error('expected a refusal');
  return result as { ok: false; status: number; message: string; changes?: unknown };
}

function onDuty(): Shift {
  const result = ok(startShift(first, zhang, { now: T0, sees, id: 's1', no: 1 }, undefined));
  const shift = result.shifts[0];
  if (!shift) throw new Error('no shift');
  return shift;
}

const context = (now: number, current: DutySnapshot = snapshot(now)) => ({
  now,
  sees,
  current,
  next: { id: 's2', no: 2 },
});

const handOver: ShiftCommand = {
  action: 'hand-over',
  notes: 'P-101 seal weeps; watch gc-tf-01',
  incoming: { lead: 'li', operators: ['wang'], plannedEnd: T0 + 16 * HOUR },
};

function signedOut(current = snapshot(T0 + 7 * HOUR, p1)): Shift {
  const opened = ok(applyShiftCommand(onDuty(), handOver, zhang, context(T0 + 7 * HOUR, current)))
    .shifts[0] as Shift;
  return ok(applyShiftCommand(opened, { action: 'sign' }, zhang, context(T0 + 7 * HOUR, current)))
    .shifts[0] as Shift;
}

describe('duty lifecycle: start', () => {
  it('puts the first shift of a control room on duty, signed by its lead', () => {
    const shift = onDuty();
    expect(shift).toMatchObject({
      state: 'on-duty',
      lead: 'zhang',
      operators: ['wang'], // the lead and duplicates dropped
      startedAt: T0,
      history: [{ action: 'start', by: 'zhang', state: 'on-duty' }],
    });
  });

  it('refuses a second start of a staffed room, another user signing, a crew out of scope', () => {
    expect(
      refused(startShift(first, zhang, { now: T0, sees, id: 's9', no: 9 }, onDuty())).status,
    ).toBe(409);
    expect(
      refused(startShift(first, li, { now: T0, sees, id: 's9', no: 9 }, undefined)).status,
    ).toBe(403);
    expect(
      refused(startShift(first, outsider, { now: T0, sees, id: 's9', no: 9 }, undefined)).status,
    ).toBe(403);
    const rivalCrew = { ...first, crew: { lead: 'zhang', operators: ['rival'] } };
    const crew = refused(
      startShift(rivalCrew, zhang, { now: T0, sees, id: 's9', no: 9 }, undefined),
    );
    expect(crew.status).toBe(422);
    expect(crew.message).toContain('rival');
    const past = { ...first, plannedEnd: T0 - 1 };
    expect(
      refused(startShift(past, zhang, { now: T0, sees, id: 's9', no: 9 }, undefined)).status,
    ).toBe(422);
    const long = { ...first, plannedEnd: T0 + 25 * HOUR };
    expect(
      refused(startShift(long, zhang, { now: T0, sees, id: 's9', no: 9 }, undefined)).status,
    ).toBe(422);
  });
});

describe('duty lifecycle: hand-over', () => {
  it('captures the snapshot, is signed by the outgoing lead and accepted by the incoming lead', () => {
    const at = T0 + 7 * HOUR;
    const shift = signedOut(snapshot(at, p1, hazard));
    expect(shift.handOver).toMatchObject({
      openedBy: 'zhang',
      notes: 'P-101 seal weeps; watch gc-tf-01',
      snapshot: { at, items: [p1, hazard] },
      incoming: { lead: 'li', operators: ['wang'] },
      signedOutBy: 'zhang',
    });
    const accepted = ok(
      applyShiftCommand(
        shift,
        { action: 'accept', seen: [] },
        li,
        context(at + 60_000, snapshot(at + 60_000, p1, hazard)),
      ),
    );
    const [outgoing, incoming] = accepted.shifts;
    expect(outgoing).toMatchObject({
      state: 'ended',
      endedAt: at + 60_000,
      handOver: { acceptedBy: 'li', acceptedAt: at + 60_000 },
    });
    expect(outgoing?.handOver?.changesAtAcceptance).toBeUndefined();
    expect(outgoing?.history.map(step => [step.action, step.by])).toEqual([
      ['start', 'zhang'],
      ['open-hand-over', 'zhang'],
      ['sign', 'zhang'],
      ['handed-over', 'li'],
    ]);
    expect(incoming).toMatchObject({
      id: 's2',
      no: 2,
      state: 'on-duty',
      lead: 'li',
      operators: ['wang'],
      previousId: 's1',
      startedAt: at + 60_000,
      plannedEnd: T0 + 16 * HOUR,
      history: [{ action: 'accept', by: 'li', state: 'on-duty' }],
    });
  });

  it('refuses the same person on both sides, a stranger, the wrong order', () => {
    const at = T0 + 7 * HOUR;
    const self = refused(
      applyShiftCommand(
        onDuty(),
        {
          ...handOver,
          incoming: { lead: 'zhang', operators: [], plannedEnd: T0 + 16 * HOUR },
        } as ShiftCommand,
        zhang,
        context(at),
      ),
    );
    expect(self.status).toBe(422);
    expect(self.message).toContain('both sides');
    // Only the outgoing lead opens and signs.
    expect(refused(applyShiftCommand(onDuty(), handOver, li, context(at))).status).toBe(403);
    const opened = ok(applyShiftCommand(onDuty(), handOver, zhang, context(at))).shifts[0] as Shift;
    expect(refused(applyShiftCommand(opened, { action: 'sign' }, li, context(at))).status).toBe(
      403,
    );
    // Not signed out yet: the incoming lead waits.
    const early = refused(
      applyShiftCommand(opened, { action: 'accept', seen: [] }, li, context(at)),
    );
    expect(early.status).toBe(409);
    expect(early.message).toContain('has not signed');
    const shift = signedOut(snapshot(at));
    // Signing twice.
    expect(refused(applyShiftCommand(shift, { action: 'sign' }, zhang, context(at))).status).toBe(
      409,
    );
    // The outgoing lead accepting his own hand-over.
    const twice = refused(
      applyShiftCommand(shift, { action: 'accept', seen: [] }, zhang, context(at)),
    );
    expect(twice.status).toBe(403);
    expect(twice.message).toContain('both sides');
    // Another user than the named incoming lead.
    expect(
      refused(applyShiftCommand(shift, { action: 'accept', seen: [] }, wang, context(at))).status,
    ).toBe(403);
    // A user without scope over the control room's sites signs nothing.
    const scope = refused(
      applyShiftCommand(shift, { action: 'accept', seen: [] }, outsider, context(at)),
    );
    expect(scope.status).toBe(403);
    expect(scope.message).toContain('scope');
    // An ended shift takes no more steps.
    const ended = ok(applyShiftCommand(shift, { action: 'accept', seen: [] }, li, context(at)))
      .shifts[0] as Shift;
    expect(refused(applyShiftCommand(ended, handOver, zhang, context(at))).status).toBe(409);
  });

  it('refuses a stale acceptance until the new alarm raised meanwhile has been seen', () => {
    const at = T0 + 7 * HOUR;
    const shift = signedOut(snapshot(at, p1, hazard));
    const newAlarm: DutyItem = { ...p1, id: 'a2', summary: 'P1 go-cs-01 o2-low 18.1' };
    const later = snapshot(at + 120_000, { ...p1, state: 'active-acknowledged' }, newAlarm);
    const stale = refused(
      applyShiftCommand(shift, { action: 'accept', seen: [] }, li, context(at + 120_000, later)),
    );
    expect(stale.status).toBe(409);
    expect(stale.message).toContain('alarm:a2 P1 go-cs-01 o2-low 18.1');
    expect(stale.message).toContain('alarm:a1');
    expect(stale.changes).toMatchObject({
      added: [{ id: 'a2' }],
      changed: [{ id: 'a1', was: 'active-unacknowledged', state: 'active-acknowledged' }],
      removed: [{ id: 'h1' }],
    });
    // Seeing one of two is not enough.
    expect(
      refused(
        applyShiftCommand(
          shift,
          { action: 'accept', seen: ['alarm:a2'] },
          li,
          context(at + 120_000, later),
        ),
      ).status,
    ).toBe(409);
    const accepted = ok(
      applyShiftCommand(
        shift,
        { action: 'accept', seen: ['alarm:a2', 'alarm:a1'] },
        li,
        context(at + 120_000, later),
      ),
    );
    // The record keeps what came in between snapshot and acceptance: nothing hidden.
    expect(accepted.shifts[0]?.handOver?.changesAtAcceptance).toMatchObject({
      added: [{ id: 'a2' }],
      removed: [{ id: 'h1' }],
    });
    expect(accepted.action.note).toContain('+1 ~1 -1');
  });

  it('re-opening captures a new snapshot and clears the outgoing signature', () => {
    const at = T0 + 7 * HOUR;
    const shift = signedOut(snapshot(at, p1));
    const again = ok(
      applyShiftCommand(shift, handOver, zhang, context(at + 1000, snapshot(at + 1000))),
    ).shifts[0] as Shift;
    expect(again.handOver?.signedOutBy).toBeUndefined();
    expect(again.handOver?.snapshot.items).toEqual([]);
    expect(again.history.at(-1)?.note).toContain('re-opened');
  });
});

describe('duty lifecycle: unmanned control room', () => {
  it('is unmanned once the planned end and the grace have passed without an accepted hand-over', () => {
    const shift = onDuty();
    const end = shift.plannedEnd;
    const grace = 15 * 60_000;
    expect(dutyUnmanned(shift, end + grace - 1, grace)).toBeUndefined();
    expect(dutyUnmanned(shift, end + grace, grace)).toMatchObject({
      since: end + grace,
      plannedEnd: end,
    });
    expect(dutyUnmanned(shift, end + grace, grace)?.reason).toContain('no hand-over was opened');
    const waiting = signedOut(snapshot(T0));
    expect(dutyUnmanned(waiting, end + grace, grace)?.reason).toContain('is not accepted');
    const ended = ok(
      applyShiftCommand(waiting, { action: 'accept', seen: [] }, li, context(T0, snapshot(T0))),
    ).shifts[0] as Shift;
    expect(dutyUnmanned(ended, end + 10 * grace, grace)).toBeUndefined();
  });
});

describe('duty lifecycle: helpers', () => {
  it('diffs snapshots by item and state', () => {
    const changes = diffDutySnapshots(
      snapshot(1, p1, hazard),
      snapshot(2, p1, { ...hazard, state: 'rectified' }),
    );
    expect(changes).toEqual({
      at: 2,
      added: [],
      changed: [{ ...hazard, state: 'rectified', was: 'rectifying' }],
      removed: [],
    });
  });

  it('offers each lead exactly their steps', () => {
    const shift = onDuty();
    expect(allowedShiftCommands(shift, zhang, T0)).toEqual(['hand-over']);
    expect(allowedShiftCommands(shift, li, T0)).toEqual([]);
    const opened = ok(applyShiftCommand(shift, handOver, zhang, context(T0))).shifts[0] as Shift;
    expect(allowedShiftCommands(opened, zhang, T0)).toEqual(['hand-over', 'sign']);
    const out = signedOut(snapshot(T0));
    expect(allowedShiftCommands(out, zhang, T0)).toEqual(['hand-over']);
    expect(allowedShiftCommands(out, li, T0)).toEqual(['accept']);
    expect(allowedShiftCommands(out, wang, T0)).toEqual([]);
  });
});
