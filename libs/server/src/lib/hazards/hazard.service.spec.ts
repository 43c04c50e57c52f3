import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Logger } from '@nestjs/common';

import type { HazardActor, HazardReport } from '@vigil/alarms';
import type { HazardPlan } from '@vigil/contracts';

import { loadConfig } from '../config/vigil-config';
import { RegistryHolder } from '../registry/registry-holder';
import { HazardService } from './hazard.service';

const REGISTRY = join(__dirname, '../../../../../registry/sample');
const HOUR = 3_600_000;
const zhang: HazardActor = { id: 'zhang', role: 'operator', scope: 'ent-huaxin' };
const wang: HazardActor = { id: 'wang', role: 'supervisor', scope: 'park-chem' };
const chen: HazardActor = { id: 'chen', role: 'supervisor', scope: 'city-demo' };

describe(HazardService.name, () => {
  let dataDir: string;
  let now: number;
  const services: HazardService[] = [];

  function start(): HazardService {
    const config = loadConfig({
      VIGIL_REGISTRY: REGISTRY,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ALARM_TICK_MS: '0',
      VIGIL_HAZARD_ESCALATE_HOURS: '2',
    });
    const service = new HazardService(config, new RegistryHolder(config), () => now);
    service.onModuleInit();
    services.push(service);
    return service;
  }

  function stop(service: HazardService): void {
    service.onModuleDestroy();
    services.splice(services.indexOf(service), 1);
  }

  const report = (overrides: Partial<HazardReport> = {}): HazardReport => ({
    title: '罐区法兰泄漏 Flange leak',
    description: '',
    level: 'major',
    source: 'alarm',
    alarmId: 'alarm-1',
    siteId: 'plant-1',
    enterprise: 'ent-huaxin',
    areaId: 'tank-farm',
    deviceIds: ['gc-tf-01'],
    photos: ['photo://site/123.jpg'],
    plan: {},
    ...overrides,
  });

  const plan = (): HazardPlan => ({
    responsible: '张伟',
    measures: 'replace the gasket',
    funds: 3000,
    deadline: now + 10 * HOUR,
    contingencyPlan: 'YA-03',
  });

  function must<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
    if (!result.ok) throw new Error(JSON.stringify(result));
    return result as Extract<T, { ok: true }>;
  }

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-hazards-'));
    now = 1_800_000_000_000;
  });

  afterEach(() => {
    for (const service of services.splice(0)) service.onModuleDestroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rebuilds the ledger with every signed step after a restart on the same data dir', () => {
    const first = start();
    const { hazard } = must(first.report(report(), zhang));
    must(first.execute(hazard.id, { action: 'assign', assignee: 'zhang', plan: plan() }, wang));
    must(first.execute(hazard.id, { action: 'start' }, zhang));
    must(first.execute(hazard.id, { action: 'rectify', note: 'done' }, zhang));
    must(first.execute(hazard.id, { action: 'accept' }, wang));
    must(first.execute(hazard.id, { action: 'approve' }, chen));
    const closed = must(first.execute(hazard.id, { action: 'close' }, wang)).hazard;
    const other = must(first.report(report({ alarmId: undefined, source: 'manual' }), zhang));
    stop(first);

    const second = start();
    expect(second.get(hazard.id)).toEqual(closed);
    expect(second.get(hazard.id)?.history.map(step => `${step.action}:${step.by}`)).toEqual([
      'report:zhang',
      'assign:wang',
      'start:zhang',
      'rectify:zhang',
      'accept:wang',
      'approve:chen',
      'close:wang',
    ]);
    expect(second.list().map(h => h.no)).toEqual([1, 2]);
    expect(second.get(other.hazard.id)?.state).toBe('reported');
    // The ledger number goes on from the last one, and one alarm still opens one hazard.
    expect(must(second.report(report({ alarmId: 'alarm-2' }), zhang)).hazard.no).toBe(3);
    expect(second.report(report(), zhang)).toMatchObject({ ok: false, status: 409 });
  });

  it("applies an upper Vigil's approval once per order, across a restart, and refuses it on a changed hazard", () => {
    const first = start();
    const { hazard } = must(first.report(report(), zhang));
    must(first.execute(hazard.id, { action: 'assign', assignee: 'zhang', plan: plan() }, wang));
    must(first.execute(hazard.id, { action: 'start' }, zhang));
    must(first.execute(hazard.id, { action: 'rectify', note: 'done' }, zhang));
    must(first.execute(hazard.id, { action: 'accept' }, wang));
    const order = { orderId: 'order-1', by: 'city:wang', role: 'supervisor' };
    // The upper's user is scoped to a node of the upper's tree, not of this one: its Vigil
    // checked the scope; this ledger takes the approval as coming from above.
    const applied = must(first.approveFromUpper(hazard.id, order, 'approved at the city'));
    expect(applied.action).toMatchObject({
      action: 'approve',
      by: 'city:wang',
      role: 'supervisor',
      upperOrder: 'order-1',
      note: 'approved at the city',
    });
    expect(applied.duplicate).toBeUndefined();
    const journal = () =>
      readFileSync(join(dataDir, 'hazards', 'hazard-journal.jsonl'), 'utf8')
        .trim()
        .split('\n');
    const lines = journal().length;
    // The same order again (a re-poll): the step already there, nothing journaled.
    expect(first.approveFromUpper(hazard.id, order, undefined)).toMatchObject({
      ok: true,
      duplicate: true,
    });
    expect(journal()).toHaveLength(lines);
    stop(first);
    const second = start();
    expect(second.approveFromUpper(hazard.id, order, undefined)).toMatchObject({
      ok: true,
      duplicate: true,
    });
    expect(second.get(hazard.id)?.history.filter(step => step.action === 'approve')).toHaveLength(
      1,
    );
    // Another order for the same hazard: refused, it is approved already.
    expect(
      second.approveFromUpper(hazard.id, { ...order, orderId: 'order-2' }, undefined),
    ).toMatchObject({ ok: false, status: 409 });
    // A hazard that is not accepted (changed meanwhile) and an unknown one: refused.
    const other = must(second.report(report({ alarmId: 'alarm-2' }), zhang)).hazard;
    expect(second.approveFromUpper(other.id, order, undefined)).toMatchObject({
      ok: false,
      status: 409,
    });
    expect(second.approveFromUpper('nope', order, undefined)).toMatchObject({
      ok: false,
      status: 404,
    });
  });

  it('takes no approval signed by a user of this Vigil scoped to the enterprise', () => {
    const service = start();
    const { hazard } = must(service.report(report(), zhang));
    must(service.execute(hazard.id, { action: 'assign', assignee: 'zhang', plan: plan() }, wang));
    must(service.execute(hazard.id, { action: 'start' }, zhang));
    must(service.execute(hazard.id, { action: 'rectify', note: 'done' }, zhang));
    must(service.execute(hazard.id, { action: 'accept' }, wang));
    const local: HazardActor = { id: 'li', role: 'supervisor', scope: 'ent-huaxin' };
    expect(service.execute(hazard.id, { action: 'approve' }, local)).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('writes each step to the journal before answering', () => {
    const service = start();
    const { hazard } = must(service.report(report(), zhang));
    const lines = readFileSync(join(dataDir, 'hazards', 'hazard-journal.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      t: 'hazard',
      hazard: { id: hazard.id },
      action: { action: 'report', by: 'zhang' },
    });
  });

  it('skips a torn last line (a crash mid-write) and keeps everything before it', () => {
    const first = start();
    const { hazard } = must(first.report(report(), zhang));
    stop(first);
    appendFileSync(join(dataDir, 'hazards', 'hazard-journal.jsonl'), '{"t":"hazard","haz');
    const second = start();
    expect(second.list().map(h => h.id)).toEqual([hazard.id]);
  });

  it('reminds past the deadline, escalates up the tree, and keeps it across a restart', () => {
    const first = start();
    const { hazard } = must(first.report(report(), zhang));
    must(first.execute(hazard.id, { action: 'assign', assignee: 'zhang', plan: plan() }, wang));
    now += 10 * HOUR + 1;
    first.tick(now);
    expect(first.get(hazard.id)).toMatchObject({ overdue: true, remindedAt: now });
    now += 2 * HOUR;
    first.tick(now);
    expect(first.get(hazard.id)?.escalation).toMatchObject({ level: 1, nodeId: 'park-chem' });
    stop(first);

    const second = start();
    expect(second.get(hazard.id)?.escalation).toMatchObject({ level: 1, nodeId: 'park-chem' });
    second.tick(now + 1); // not yet due again: nothing is repeated after the restart
    expect(second.get(hazard.id)?.history.filter(step => step.by === 'vigil')).toHaveLength(2);
    now += 2 * HOUR;
    second.tick(now);
    expect(second.get(hazard.id)?.escalation).toMatchObject({ level: 2, nodeId: 'county-east' });
  });

  it('tells listeners of every durable step, its own reminders included, until unsubscribed', () => {
    const service = start();
    const heard: string[] = [];
    const unsubscribe = service.onChange(hazards =>
      heard.push(...hazards.map(h => h.history.at(-1)?.action ?? '?')),
    );
    const { hazard } = must(service.report(report(), zhang));
    must(service.execute(hazard.id, { action: 'assign', assignee: 'zhang', plan: plan() }, wang));
    now += 10 * HOUR + 1;
    service.tick(now);
    expect(heard).toEqual(['report', 'assign', 'remind']);
    // A listener that throws does not undo or hide the step; the defect is logged.
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    service.onChange(() => {
      throw new Error('listener defect');
    });
    unsubscribe();
    now += 2 * HOUR;
    service.tick(now);
    expect(heard).toEqual(['report', 'assign', 'remind']);
    expect(service.get(hazard.id)?.escalation?.level).toBe(1);
    expect(String(errors.mock.calls[0]?.[0])).toContain('hazard listener failed');
    errors.mockRestore();
  });

  it('counts open, overdue and closed per level and enterprise, zeros included', () => {
    const service = start();
    const a = must(service.report(report({ level: 'general' }), zhang)).hazard;
    must(service.report(report({ alarmId: 'alarm-2' }), zhang));
    must(service.execute(a.id, { action: 'assign', assignee: 'zhang', plan: plan() }, wang));
    const rows = service.stats(
      service.list(),
      ['ent-huaxin', 'ent-other'].map(enterprise => ({ key: enterprise, row: { enterprise } })),
      hazard => [hazard.enterprise],
      now + 11 * HOUR,
    );
    expect(rows).toEqual([
      {
        enterprise: 'ent-huaxin',
        levels: {
          general: { open: 1, overdue: 1, closed: 0 },
          major: { open: 1, overdue: 0, closed: 0 },
        },
        total: { open: 2, overdue: 1, closed: 0 },
      },
      {
        enterprise: 'ent-other',
        levels: {
          general: { open: 0, overdue: 0, closed: 0 },
          major: { open: 0, overdue: 0, closed: 0 },
        },
        total: { open: 0, overdue: 0, closed: 0 },
      },
    ]);
  });
});
