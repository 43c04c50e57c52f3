import { appendFileSync, cpSync, fdatasyncSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HttpException } from '@nestjs/common';

import {
  DUTY_UNMANNED_RULE_ID,
  type Alarm,
  type DutyChanges,
  type ShiftView,
} from '@vigil/contracts';

import { AlarmCommands } from '../alarms/alarm-commands';
import { AuthService, type AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { AlarmView } from '../alarms/alarm-view';
import { HazardService } from '../hazards/hazard.service';
import { JournalStatus } from '../journal/journal-status';
import { JournalWriteError } from '../journal/jsonl-journal';
import { VigilMetrics } from '../metrics/metrics';
import { PermitBoard } from '../permits/permit-board';
import { PermitService } from '../permits/permit.service';
import { RegistryHolder } from '../registry/registry-holder';
import { DutyController } from './duty.controller';
import { ShiftService } from './shift.service';

// fdatasync as the journal sees it: the real one, unless a test makes the disk fail it once.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return { ...actual, fdatasyncSync: jest.fn(actual.fdatasyncSync) };
});
const failNextSync = () =>
  jest.mocked(fdatasyncSync).mockImplementationOnce(() => {
    throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
  });

const SAMPLE = join(__dirname, '../../../../../registry/sample');
const MIN = 60_000;
const HOUR = 60 * MIN;
const GRACE = 15 * MIN;

const user = (id: string, role: AuthenticatedUser['role'], scope: string): AuthenticatedUser => ({
  id,
  name: id,
  role,
  scope,
  scopePath: [],
});
const zhang = user('zhang', 'operator', 'ent-huaxin');
const li = user('li', 'operator', 'ent-huaxin');
const rival = user('rival', 'supervisor', 'ent-rival');

function alarm(id: string, priority: Alarm['priority'], message: string): Alarm {
  return {
    id,
    key: `plant-1/gc-tf-01/${id}`,
    ruleId: 'gas-l1',
    siteId: 'plant-1',
    deviceId: 'gc-tf-01',
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    category: 'process',
    priority,
    level: 'L1',
    state: 'active-unacknowledged',
    conditionActive: true,
    latched: false,
    metric: 'lel',
    value: 30,
    threshold: 25,
    message,
    raisedAt: 1,
    clearedAt: undefined,
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    updatedAt: 1,
    detectedAt: 1,
    history: [],
  };
}

/**
 * The duty service on the sample registry (plant-1 and its control room) with the real alarm
 * view, hazard ledger and permits, a rival enterprise's user (out of scope), and a clock the
 * test moves.
 */
describe(ShiftService.name, () => {
  let dir: string;
  let now: number;
  let bus: PipelineBus;
  let view: AlarmView;
  let metrics: VigilMetrics;
  let journals: JournalStatus;
  const started: { onModuleDestroy(): void }[] = [];

  function boot(): { service: ShiftService; controller: DutyController } {
    const config = loadConfig({
      VIGIL_REGISTRY: join(dir, 'registry'),
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_USERS: join(dir, 'users.yaml'),
      VIGIL_ALARM_TICK_MS: '0',
      VIGIL_DUTY_GRACE_MS: String(GRACE),
    });
    const registry = new RegistryHolder(config);
    const hazards = new HazardService(config, registry, () => now);
    const permits = new PermitService(config, new PermitBoard(), () => now);
    hazards.onModuleInit();
    permits.onModuleInit();
    const auth = new AuthorizationService(
      registry,
      metrics,
      new AuthService(config, registry, metrics),
    );
    const service = new ShiftService(
      config,
      auth,
      view,
      hazards,
      permits,
      () => now,
      metrics,
      journals,
      registry,
    );
    service.onModuleInit();
    started.push(service, hazards, permits);
    return { service, controller: new DutyController(service, auth, registry) };
  }

  const refusal = (run: () => unknown): { status: number; body: Record<string, unknown> } => {
    try {
      run();
    } catch (error) {
      if (error instanceof HttpException)
        return { status: error.getStatus(), body: error.getResponse() as Record<string, unknown> };
      throw error;
    }
    throw new Error('expected a refusal');
  };

  const raise = (...alarms: Alarm[]) =>
    bus.publishAlarms(
      alarms.map(a => ({
        alarm: a,
        action: { action: 'raise', at: now, by: undefined, note: undefined },
      })),
    );

  const dutyAlarms = () => view.open().filter(a => a.ruleId === DUTY_UNMANNED_RULE_ID);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-duty-'));
    cpSync(SAMPLE, join(dir, 'registry'), { recursive: true });
    appendFileSync(
      join(dir, 'registry/organisation.yaml'),
      '  - { id: ent-rival, name: Rival Chemicals, kind: enterprise, parent: park-chem }\n',
    );
    writeFileSync(
      join(dir, 'users.yaml'),
      'users:\n  - { id: rival, name: Rival, role: supervisor, scope: ent-rival, passwordHash: "scrypt$x" }\n',
    );
    now = Date.UTC(2026, 11, 7, 8, 0, 0);
    bus = new PipelineBus();
    view = new AlarmView(bus, { execute: async () => ({ ok: false }) } as unknown as AlarmCommands);
    metrics = new VigilMetrics();
    journals = new JournalStatus(metrics);
  });

  afterEach(() => {
    for (const part of started.splice(0)) part.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function firstShift(controller: DutyController): ShiftView {
    return controller.start(
      {
        siteId: 'plant-1',
        roomId: 'control-room',
        lead: 'zhang',
        operators: ['wang'],
        plannedEnd: now + 8 * HOUR,
      },
      zhang,
    );
  }

  it('hands over the open alarms with the notes; a new alarm raised meanwhile must be seen before acceptance', () => {
    const { controller } = boot();
    raise(alarm('a1', 1, 'LEL 40 %'));
    const shift = firstShift(controller);
    expect(shift).toMatchObject({ state: 'on-duty', lead: 'zhang', sites: ['plant-1'] });
    // Only areas of kind control-room are control rooms; a rival user does not see the site.
    expect(
      refusal(() =>
        controller.start(
          { siteId: 'plant-1', roomId: 'tank-farm', lead: 'li', plannedEnd: now + HOUR },
          li,
        ),
      ).status,
    ).toBe(422);
    expect(
      refusal(() =>
        controller.start(
          { siteId: 'plant-1', roomId: 'control-room', lead: 'rival', plannedEnd: now + HOUR },
          rival,
        ),
      ).status,
    ).toBe(404);

    now += 7 * HOUR;
    // The incoming lead must be a user who sees the site: the rival is refused by name.
    const outside = refusal(() =>
      controller.action(
        shift.id,
        'hand-over',
        { notes: 'x', incoming: { lead: 'rival', plannedEnd: now + 8 * HOUR } },
        zhang,
      ),
    );
    expect(outside.status).toBe(422);
    expect(String(outside.body['message'])).toContain('rival');
    const opened = controller.action(
      shift.id,
      'hand-over',
      {
        notes: 'P-101 seal weeps',
        incoming: { lead: 'li', operators: ['wang'], plannedEnd: now + 8 * HOUR },
      },
      zhang,
    );
    expect(opened.handOver?.snapshot.items).toEqual([
      expect.objectContaining({
        kind: 'alarm',
        id: 'a1',
        priority: 1,
        summary: 'P1 gc-tf-01 gas-l1: LEL 40 %',
      }),
    ]);
    controller.action(shift.id, 'sign', {}, zhang);
    // The same person cannot sign both sides.
    expect(refusal(() => controller.action(shift.id, 'accept', {}, zhang)).status).toBe(403);

    now += MIN;
    raise(alarm('a2', 1, 'O2 18.1 %VOL'));
    const current = controller.one(shift.id, li);
    expect(current.changes?.added.map(item => item.id)).toEqual(['a2']);
    const stale = refusal(() => controller.action(shift.id, 'accept', { seen: [] }, li));
    expect(stale.status).toBe(409);
    expect(String(stale.body['message'])).toContain('alarm:a2 P1 gc-tf-01 gas-l1: O2 18.1 %VOL');
    expect((stale.body['changes'] as DutyChanges).added).toEqual([
      expect.objectContaining({ id: 'a2' }),
    ]);

    const incoming = controller.action(shift.id, 'accept', { seen: ['alarm:a2'] }, li);
    expect(incoming).toMatchObject({
      state: 'on-duty',
      lead: 'li',
      previousId: shift.id,
      operators: ['wang'],
    });
    const ended = controller.one(shift.id, zhang);
    expect(ended).toMatchObject({
      state: 'ended',
      handOver: { acceptedBy: 'li', signedOutBy: 'zhang' },
    });
    expect(ended.handOver?.changesAtAcceptance?.added).toEqual([
      expect.objectContaining({ id: 'a2' }),
    ]);
    expect(controller.rooms(zhang)).toEqual([
      expect.objectContaining({
        siteId: 'plant-1',
        roomId: 'control-room',
        onDuty: expect.objectContaining({ id: incoming.id }),
      }),
    ]);
    expect(controller.rooms(rival)).toEqual([]);
  });

  it('raises a P2 duty-unmanned alarm once the planned end and the grace pass, clears it on acceptance', async () => {
    const { service, controller } = boot();
    const shift = firstShift(controller);
    now = shift.plannedEnd + GRACE - 1;
    service.check(now);
    expect(dutyAlarms()).toEqual([]);
    now = shift.plannedEnd + GRACE;
    service.check(now);
    expect(dutyAlarms()).toEqual([
      expect.objectContaining({
        priority: 2,
        siteId: 'plant-1',
        areaId: 'control-room',
        state: 'active-unacknowledged',
        conditionActive: true,
      }),
    ]);
    expect(dutyAlarms()[0]?.message).toContain('no hand-over was opened');
    expect(controller.one(shift.id, zhang).unmanned).toMatchObject({
      since: shift.plannedEnd + GRACE,
    });
    expect(service.unmannedRooms().size).toBe(1);
    service.check(now + MIN); // counted once per occurrence
    expect((await metrics.dutyUnmannedTotal.get()).values[0]?.value).toBe(1);

    controller.action(
      shift.id,
      'hand-over',
      { notes: '', incoming: { lead: 'li', plannedEnd: now + 8 * HOUR } },
      zhang,
    );
    controller.action(shift.id, 'sign', {}, zhang);
    // The snapshot lists the duty alarm itself: the incoming lead sees the room went unmanned.
    expect(controller.one(shift.id, li).handOver?.snapshot.items).toEqual([
      expect.objectContaining({
        kind: 'alarm',
        summary: expect.stringContaining(DUTY_UNMANNED_RULE_ID),
      }),
    ]);
    controller.action(shift.id, 'accept', {}, li);
    expect(service.unmannedRooms().size).toBe(0);
    const [cleared] = view
      .query({ site: 'plant-1' })
      .filter(a => a.ruleId === DUTY_UNMANNED_RULE_ID);
    expect(cleared).toMatchObject({ conditionActive: false, state: 'returned-unacknowledged' });
  });

  it('escalates the duty-unmanned alarm up the tree while nobody acknowledges it', () => {
    const { service, controller } = boot();
    const shift = firstShift(controller);
    now = shift.plannedEnd + GRACE;
    service.check(now);
    expect(dutyAlarms()[0]?.escalation).toBeUndefined();
    // P2: acknowledge within 5 minutes, else one level up each time (enterprise → park → county).
    now += 5 * MIN;
    service.check(now);
    expect(dutyAlarms()[0]).toMatchObject({
      state: 'active-unacknowledged',
      escalation: { level: 1, nodeId: 'park-chem', at: now },
    });
    now += 5 * MIN;
    service.check(now);
    expect(dutyAlarms()[0]?.escalation).toEqual({ level: 2, nodeId: 'county-east', at: now });
    // Acknowledged: no further step.
    const id = dutyAlarms()[0]?.id ?? '';
    expect(
      service.executeOnAlarm(id, { action: 'acknowledge' }, { id: 'li', role: 'operator' }).ok,
    ).toBe(true);
    now += 30 * MIN;
    service.check(now);
    expect(dutyAlarms()[0]?.escalation?.level).toBe(2);
  });

  it('ends the shelving of the duty-unmanned alarm at its time', () => {
    const { service, controller } = boot();
    const shift = firstShift(controller);
    now = shift.plannedEnd + GRACE;
    service.check(now);
    const id = dutyAlarms()[0]?.id ?? '';
    const shelve = { action: 'shelve', reason: 'phone call to the lead', minutes: 10 } as const;
    expect(service.executeOnAlarm(id, shelve, { id: 'wang', role: 'supervisor' }).ok).toBe(true);
    expect(dutyAlarms()[0]?.shelved?.until).toBe(now + 10 * MIN);
    now += 10 * MIN;
    service.check(now);
    expect(dutyAlarms()[0]?.shelved).toBeUndefined();
    expect(dutyAlarms()[0]?.history.at(-1)).toMatchObject({ action: 'unshelve' });
  });

  it('keeps the log across a restart, and a room unmanned before it is raised again after it', () => {
    const first = boot();
    const shift = firstShift(first.controller);
    first.controller.action(
      shift.id,
      'hand-over',
      { notes: 'n', incoming: { lead: 'li', plannedEnd: now + 16 * HOUR } },
      zhang,
    );
    for (const part of started.splice(0)) part.onModuleDestroy();
    now = shift.plannedEnd + GRACE + MIN;
    view = new AlarmView(bus, { execute: async () => ({ ok: false }) } as unknown as AlarmCommands);
    const second = boot();
    expect(second.controller.one(shift.id, zhang)).toMatchObject({
      state: 'on-duty',
      handOver: { openedBy: 'zhang', notes: 'n' },
      history: [{ action: 'start' }, { action: 'open-hand-over' }],
    });
    expect(dutyAlarms()).toEqual([expect.objectContaining({ priority: 2 })]);
    expect(dutyAlarms()[0]?.message).toContain('not signed by zhang');
  });

  it('refuses an acceptance the disk did not keep: thrown, counted, nobody changed duty', () => {
    const { controller } = boot();
    const shift = firstShift(controller);
    controller.action(
      shift.id,
      'hand-over',
      { notes: '', incoming: { lead: 'li', plannedEnd: now + 8 * HOUR } },
      zhang,
    );
    controller.action(shift.id, 'sign', {}, zhang);
    failNextSync();
    expect(() => controller.action(shift.id, 'accept', {}, li)).toThrow(JournalWriteError);
    expect(journals.report()['duty']?.errors).toBe(1);
    expect(controller.one(shift.id, zhang)).toMatchObject({ state: 'on-duty', lead: 'zhang' });
    expect(controller.rooms(li)[0]?.onDuty?.id).toBe(shift.id);
    // The next durable append clears it.
    expect(controller.action(shift.id, 'accept', {}, li)).toMatchObject({ lead: 'li' });
    expect(journals.ok).toBe(true);
  });
});
