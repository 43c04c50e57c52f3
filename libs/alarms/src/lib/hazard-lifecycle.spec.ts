import { HAZARD_ACTIONS, HAZARD_COMMANDS, type Hazard, type HazardPlan } from '@vigil/contracts';

import {
  DEFAULT_HAZARD_POLICY,
  allowedHazardCommands,
  applyHazardCommand,
  attachHazardPhoto,
  dueHazardTransition,
  missingPlanFields,
  reportHazard,
  type HazardActor,
  type HazardCommand,
  type HazardPhotoFile,
  type HazardReport,
} from './hazard-lifecycle';

const ORG = ['city-demo', 'county-east', 'park-chem', 'ent-huaxin'];
const UP = [...ORG].reverse();
const zhang: HazardActor = { id: 'zhang', role: 'operator', scope: 'ent-huaxin' };
const li: HazardActor = { id: 'li', role: 'operator', scope: 'ent-huaxin' };
const boss: HazardActor = { id: 'boss', role: 'supervisor', scope: 'ent-huaxin' };
const wang: HazardActor = { id: 'wang', role: 'supervisor', scope: 'park-chem' };
const HOUR = 3_600_000;
const T0 = 1_000_000_000_000;

const plan: HazardPlan = {
  responsible: '张伟',
  measures: 'replace the flange gasket of valve V-12',
  funds: 5000,
  deadline: T0 + 48 * HOUR,
  contingencyPlan: 'tank-farm leak plan YA-03',
};

function report(overrides: Partial<HazardReport> = {}): Hazard {
  const result = reportHazard(
    {
      title: 'Flange leak at V-12',
      description: 'found after the LEL alarm',
      level: 'general',
      source: 'alarm',
      alarmId: 'a1',
      siteId: 'plant-1',
      enterprise: 'ent-huaxin',
      areaId: 'tank-farm',
      deviceIds: ['gc-tf-01'],
      photos: [],
      plan: {},
      ...overrides,
    },
    zhang,
    { now: T0, id: 'h1', no: 1 },
  );
  if (!result.ok) throw new Error(result.message);
  return result.hazard;
}

function run(hazard: Hazard, command: HazardCommand, actor: HazardActor, now = T0 + HOUR) {
  return applyHazardCommand(hazard, command, actor, { now, siteOrgPath: ORG });
}

function ok(hazard: Hazard, command: HazardCommand, actor: HazardActor, now = T0 + HOUR): Hazard {
  const result = run(hazard, command, actor, now);
  if (!result.ok) throw new Error(`${command.action} refused: ${result.status} ${result.message}`);
  return result.hazard;
}

function refused(hazard: Hazard, command: HazardCommand, actor: HazardActor, now = T0 + HOUR) {
  const result = run(hazard, command, actor, now);
  if (result.ok) throw new Error(`${command.action} was accepted`);
  return result;
}

const assigned = () => ok(report(), { action: 'assign', assignee: 'zhang', plan }, wang);
const rectifying = () => ok(assigned(), { action: 'start' }, zhang);
const rectified = () => ok(rectifying(), { action: 'rectify', note: 'gasket replaced' }, zhang);
const accepted = (level: Hazard['level'] = 'general') =>
  ok(
    ok(
      ok(
        ok(report({ level }), { action: 'assign', assignee: 'zhang', plan }, wang),
        { action: 'start' },
        zhang,
      ),
      { action: 'rectify', note: 'done' },
      zhang,
    ),
    { action: 'accept' },
    boss,
  );

describe('hazard lifecycle', () => {
  it('reports a hazard signed by its reporter, with one history entry', () => {
    const hazard = report();
    expect(hazard).toMatchObject({
      id: 'h1',
      no: 1,
      state: 'reported',
      reportedBy: 'zhang',
      reportedAt: T0,
      source: 'alarm',
      alarmId: 'a1',
    });
    expect(hazard.history).toEqual([
      { action: 'report', at: T0, by: 'zhang', role: 'operator', state: 'reported' },
    ]);
  });

  it('refuses a report without a title, and one from an alarm without the alarm', () => {
    const base = { description: '', level: 'general', siteId: 's', enterprise: 'e' } as const;
    const common = { deviceIds: [], photos: [], plan: {} };
    expect(
      reportHazard({ ...base, ...common, title: ' ', source: 'manual' }, zhang, {
        now: T0,
        id: 'x',
        no: 1,
      }),
    ).toMatchObject({ ok: false, status: 400 });
    expect(
      reportHazard({ ...base, ...common, title: 't', source: 'alarm' }, zhang, {
        now: T0,
        id: 'x',
        no: 1,
      }),
    ).toMatchObject({ ok: false, status: 400 });
  });

  it('walks reported → assigned → rectifying → rectified → accepted → closed, every step signed', () => {
    let hazard = report();
    hazard = ok(hazard, { action: 'assign', assignee: 'zhang', plan }, wang, T0 + 1);
    expect(hazard).toMatchObject({ state: 'assigned', assignee: 'zhang', plan });
    hazard = ok(hazard, { action: 'start' }, zhang, T0 + 2);
    expect(hazard.state).toBe('rectifying');
    hazard = ok(hazard, { action: 'rectify', note: 'gasket replaced' }, zhang, T0 + 3);
    expect(hazard).toMatchObject({ state: 'rectified', rectifiedBy: 'zhang' });
    hazard = ok(hazard, { action: 'accept', note: 'checked on site' }, boss, T0 + 4);
    expect(hazard).toMatchObject({ state: 'accepted', acceptedBy: 'boss' });
    hazard = ok(hazard, { action: 'close' }, boss, T0 + 5);
    expect(hazard).toMatchObject({ state: 'closed', closedBy: 'boss', closedAt: T0 + 5 });
    expect(hazard.history.map(step => [step.action, step.by, step.state, step.at])).toEqual([
      ['report', 'zhang', 'reported', T0],
      ['assign', 'wang', 'assigned', T0 + 1],
      ['start', 'zhang', 'rectifying', T0 + 2],
      ['rectify', 'zhang', 'rectified', T0 + 3],
      ['accept', 'boss', 'accepted', T0 + 4],
      ['close', 'boss', 'closed', T0 + 5],
    ]);
  });

  it('appends to the history and never rewrites what is there', () => {
    const before = rectifying();
    const after = ok(before, { action: 'rectify', note: 'done' }, zhang);
    expect(after.history.slice(0, before.history.length)).toEqual(before.history);
    expect(after.history).toHaveLength(before.history.length + 1);
  });

  describe('assignment and the five fields (五落实)', () => {
    it('refuses an operator (wrong role)', () => {
      expect(refused(report(), { action: 'assign', assignee: 'zhang', plan }, zhang)).toMatchObject(
        { status: 403 },
      );
    });

    it('refuses a plan with fields missing, naming them', () => {
      const { funds: _funds, contingencyPlan: _plan, ...partial } = plan;
      const result = refused(
        report(),
        { action: 'assign', assignee: 'zhang', plan: partial },
        wang,
      );
      expect(result.status).toBe(422);
      expect(result.message).toContain('funds');
      expect(result.message).toContain('contingencyPlan');
    });

    it('refuses blank text and a negative amount as missing', () => {
      expect(missingPlanFields({ ...plan, measures: '  ', funds: -1 })).toEqual([
        'measures',
        'funds',
      ]);
    });

    it('completes the plan reported with the hazard', () => {
      const hazard = report({ plan: { responsible: '张伟', measures: 'm' } });
      const assigned = ok(
        hazard,
        {
          action: 'assign',
          assignee: 'zhang',
          plan: { funds: 0, deadline: T0 + 2 * HOUR, contingencyPlan: 'p' },
        },
        wang,
      );
      expect(missingPlanFields(assigned.plan)).toEqual([]);
      expect(assigned.plan.responsible).toBe('张伟');
    });

    it('refuses a deadline already past', () => {
      expect(
        refused(
          report(),
          { action: 'assign', assignee: 'zhang', plan: { ...plan, deadline: T0 } },
          wang,
        ),
      ).toMatchObject({ status: 422 });
    });

    it('re-assigns while in progress, and refuses once rectified', () => {
      const moved = ok(rectifying(), { action: 'assign', assignee: 'li' }, wang);
      expect(moved).toMatchObject({ state: 'rectifying', assignee: 'li' });
      expect(refused(rectified(), { action: 'assign', assignee: 'li' }, wang)).toMatchObject({
        status: 409,
      });
    });
  });

  describe('rectification', () => {
    it('is started and signed done by the assignee or a supervisor, not by another operator', () => {
      expect(refused(assigned(), { action: 'start' }, li)).toMatchObject({ status: 403 });
      expect(ok(assigned(), { action: 'start' }, boss).state).toBe('rectifying');
      expect(refused(rectifying(), { action: 'rectify', note: 'x' }, li)).toMatchObject({
        status: 403,
      });
    });

    it('refuses steps out of order', () => {
      expect(refused(report(), { action: 'start' }, wang)).toMatchObject({ status: 409 });
      expect(refused(assigned(), { action: 'rectify', note: 'x' }, zhang)).toMatchObject({
        status: 409,
      });
      expect(refused(rectifying(), { action: 'accept' }, boss)).toMatchObject({ status: 409 });
      expect(refused(rectified(), { action: 'close' }, boss)).toMatchObject({ status: 409 });
    });

    it('needs a note saying what was done', () => {
      expect(refused(rectifying(), { action: 'rectify', note: ' ' }, zhang)).toMatchObject({
        status: 400,
      });
    });

    it('records interim measures while the hazard cannot be fixed at once', () => {
      const hazard = ok(
        assigned(),
        { action: 'interim', measures: 'area cordoned, 2 h patrols' },
        zhang,
      );
      expect(hazard.interimMeasures).toBe('area cordoned, 2 h patrols');
      expect(hazard.history.at(-1)).toMatchObject({ action: 'interim', by: 'zhang' });
      expect(refused(rectified(), { action: 'interim', measures: 'x' }, zhang)).toMatchObject({
        status: 409,
      });
    });
  });

  describe('acceptance (复查验收)', () => {
    it('refuses acceptance by the rectifier, even a supervisor who did the work', () => {
      const byBoss = ok(
        ok(
          ok(report(), { action: 'assign', assignee: 'boss', plan }, wang),
          { action: 'start' },
          boss,
        ),
        { action: 'rectify', note: 'done' },
        boss,
      );
      const result = refused(byBoss, { action: 'accept' }, boss);
      expect(result.status).toBe(403);
      expect(result.message).toContain('other than the rectifier');
      expect(ok(byBoss, { action: 'accept' }, wang).acceptedBy).toBe('wang');
    });

    it('refuses acceptance by an operator (wrong role)', () => {
      expect(refused(rectified(), { action: 'accept' }, li)).toMatchObject({ status: 403 });
    });

    it('sends rejected work back to rectifying, with the reason', () => {
      const hazard = ok(rectified(), { action: 'reject', note: 'still weeping' }, boss);
      expect(hazard).toMatchObject({ state: 'rectifying', rectifiedBy: undefined });
      expect(hazard.history.at(-1)).toMatchObject({ action: 'reject', note: 'still weeping' });
      expect(refused(rectified(), { action: 'reject', note: 'x' }, li)).toMatchObject({
        status: 403,
      });
    });
  });

  describe('close-out (销号)', () => {
    it('refuses an operator', () => {
      expect(refused(accepted(), { action: 'close' }, zhang)).toMatchObject({ status: 403 });
    });

    it('refuses to close a major hazard without approval', () => {
      const result = refused(accepted('major'), { action: 'close' }, boss);
      expect(result.status).toBe(409);
      expect(result.message).toContain('approval');
    });

    it('refuses approval from the enterprise itself, accepts it from the park above', () => {
      const hazard = accepted('major');
      expect(refused(hazard, { action: 'approve' }, boss)).toMatchObject({ status: 403 });
      const approved = ok(hazard, { action: 'approve', note: '同意销号' }, wang);
      expect(approved).toMatchObject({ approvedBy: 'wang', state: 'accepted' });
      expect(ok(approved, { action: 'close' }, boss)).toMatchObject({ state: 'closed' });
    });

    it('refuses approval from outside the site’s branch and of a general hazard', () => {
      const elsewhere: HazardActor = { id: 'x', role: 'supervisor', scope: 'county-west' };
      expect(refused(accepted('major'), { action: 'approve' }, elsewhere)).toMatchObject({
        status: 403,
      });
      expect(refused(accepted('general'), { action: 'approve' }, wang)).toMatchObject({
        status: 409,
      });
    });

    it('refuses every step once closed', () => {
      const closed = ok(accepted(), { action: 'close' }, boss);
      expect(refused(closed, { action: 'interim', measures: 'x' }, boss)).toMatchObject({
        status: 409,
      });
    });

    it('answers 404 for no hazard', () => {
      expect(
        applyHazardCommand(undefined, { action: 'start' }, boss, { now: T0, siteOrgPath: ORG }),
      ).toMatchObject({ ok: false, status: 404 });
    });
  });

  describe('overdue rectification', () => {
    const policy = { ...DEFAULT_HAZARD_POLICY, escalateEveryMs: 24 * HOUR };
    const deadline = plan.deadline;

    it('does nothing before the deadline, or once the work is signed done', () => {
      expect(dueHazardTransition(assigned(), deadline, UP, policy)).toBeUndefined();
      expect(dueHazardTransition(rectified(), deadline + 1000 * HOUR, UP, policy)).toBeUndefined();
    });

    it('reminds once, then escalates one level per interval up to the root, then stops', () => {
      let hazard = rectifying();
      const steps: [string, string | undefined, number][] = [];
      for (let now = deadline + 1; now < deadline + 200 * HOUR; now += HOUR) {
        const due = dueHazardTransition(hazard, now, UP, policy);
        if (!due) continue;
        if (!due.ok) throw new Error(due.message);
        hazard = due.hazard;
        steps.push([due.action.action, due.action.nodeId, now - deadline]);
        expect(due.action.by).toBe('vigil');
      }
      expect(steps).toEqual([
        ['remind', 'ent-huaxin', 1],
        ['escalate', 'park-chem', 24 * HOUR + 1],
        ['escalate', 'county-east', 48 * HOUR + 1],
        ['escalate', 'city-demo', 72 * HOUR + 1],
      ]);
      expect(hazard).toMatchObject({
        overdue: true,
        escalation: { level: 3, nodeId: 'city-demo' },
      });
    });

    it('keeps the overdue mark after a new deadline, and reminds again from it', () => {
      const late = dueHazardTransition(assigned(), deadline + 1, UP, policy);
      if (!late?.ok) throw new Error('expected a reminder');
      const newDeadline = deadline + 10 * HOUR;
      const extended = ok(
        late.hazard,
        { action: 'assign', assignee: 'zhang', plan: { deadline: newDeadline } },
        wang,
        deadline + 2,
      );
      expect(extended).toMatchObject({ overdue: true, remindedAt: undefined });
      expect(dueHazardTransition(extended, newDeadline, UP, policy)).toBeUndefined();
      expect(dueHazardTransition(extended, newDeadline + 1, UP, policy)).toMatchObject({
        ok: true,
        action: { action: 'remind' },
      });
    });
  });
});

describe('allowedHazardCommands', () => {
  const context = { now: T0 + HOUR, siteOrgPath: ORG };
  it('offers what the reducer accepts for the role, the person and the state', () => {
    expect(allowedHazardCommands(report(), zhang, context)).toEqual(['interim']);
    expect(allowedHazardCommands(report(), wang, context)).toEqual(['assign', 'interim']);
    expect(allowedHazardCommands(assigned(), zhang, context)).toEqual(['start', 'interim']);
    expect(allowedHazardCommands(assigned(), li, context)).toEqual(['interim']);
    expect(allowedHazardCommands(rectified(), zhang, context)).toEqual([]);
    expect(allowedHazardCommands(rectified(), boss, context)).toEqual(['reject', 'accept']);
    expect(allowedHazardCommands(accepted('major'), boss, context)).toEqual([]);
    expect(allowedHazardCommands(accepted('major'), wang, context)).toEqual(['approve']);
    expect(allowedHazardCommands(accepted('general'), boss, context)).toEqual(['close']);
  });
});

describe('HAZARD_COMMANDS (contracts: the one list of hazard action names)', () => {
  it('the history records the report, the commands, and what Vigil does by itself', () => {
    expect(HAZARD_ACTIONS).toEqual(['report', ...HAZARD_COMMANDS, 'remind', 'escalate', 'photo']);
  });

  it('names exactly the commands the lifecycle applies (a compile error otherwise)', () => {
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
    const sameNames: Same<HazardCommand['action'], (typeof HAZARD_COMMANDS)[number]> = true;
    expect(sameNames).toBe(true);
  });

  it("is every hazard action a user commands, in the ledger's order", () => {
    expect(HAZARD_COMMANDS).toEqual([
      'assign',
      'start',
      'interim',
      'rectify',
      'reject',
      'accept',
      'approve',
      'close',
    ]);
  });
});

describe('attachHazardPhoto', () => {
  const sha = (n: number) => n.toString(16).padStart(64, '0');
  const file = (n: number, step: HazardPhotoFile['step'] = 'report'): HazardPhotoFile => ({
    sha256: sha(n),
    type: 'image/jpeg',
    bytes: 1000 + n,
    step,
  });
  const attach = (hazard: Hazard, photo: HazardPhotoFile, actor: HazardActor, maxPhotos = 20) =>
    attachHazardPhoto(hazard, photo, actor, {
      now: T0 + 2 * HOUR,
      policy: { ...DEFAULT_HAZARD_POLICY, maxPhotos },
    });

  it('appends a photo step signed by the uploader, naming the file and the step it documents', () => {
    const result = attach(report(), file(1), li);
    if (!result.ok || 'duplicate' in result) throw new Error('refused');
    expect(result.hazard.photoFiles).toEqual([{ ...file(1), at: T0 + 2 * HOUR, by: 'li' }]);
    expect(result.hazard.state).toBe('reported');
    expect(result.hazard.history.at(-1)).toEqual({
      action: 'photo',
      at: T0 + 2 * HOUR,
      by: 'li',
      role: 'operator',
      state: 'reported',
      photo: { sha256: sha(1), type: 'image/jpeg', bytes: 1001, step: 'report' },
    });
  });

  it('answers the same bytes twice with the photo already there, adding no step', () => {
    const first = attach(report(), file(1), zhang);
    if (!first.ok) throw new Error('refused');
    const again = attach(first.hazard, file(1), li);
    expect(again).toMatchObject({ ok: true, duplicate: { sha256: sha(1), by: 'zhang' } });
    expect(again.ok && again.hazard.history).toHaveLength(2);
  });

  it('refuses a photo beyond the bound, and any photo on a closed hazard', () => {
    let hazard = report();
    for (const n of [1, 2]) {
      const result = attach(hazard, file(n), zhang, 2);
      if (!result.ok) throw new Error('refused');
      hazard = result.hazard;
    }
    expect(attach(hazard, file(3), zhang, 2)).toMatchObject({ ok: false, status: 409 });
    // A retry of one already there is still answered (idempotent), bound or not.
    expect(attach(hazard, file(2), zhang, 2)).toMatchObject({ ok: true });
    const closed = ok(accepted(), { action: 'close' }, boss);
    expect(attach(closed, file(9), boss)).toMatchObject({ ok: false, status: 409 });
  });

  it('takes rectification evidence from the assignee or a supervisor, during or after the work', () => {
    expect(attach(assigned(), file(1, 'rectify'), zhang)).toMatchObject({ status: 409 });
    expect(attach(rectifying(), file(1, 'rectify'), li)).toMatchObject({ status: 403 });
    expect(attach(rectifying(), file(1, 'rectify'), zhang)).toMatchObject({ ok: true });
    expect(attach(rectified(), file(1, 'rectify'), boss)).toMatchObject({ ok: true });
    expect(attach(accepted(), file(1, 'rectify'), boss)).toMatchObject({ status: 409 });
    // The hazard as found may be documented by anyone in scope while it is open.
    expect(attach(rectified(), file(2, 'report'), li)).toMatchObject({ ok: true });
  });

  it('refuses an unknown hazard', () => {
    expect(attach(undefined as unknown as Hazard, file(1), zhang)).toMatchObject({ status: 404 });
  });
});
