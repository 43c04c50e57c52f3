import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HttpException } from '@nestjs/common';

import type { Alarm, Hazard } from '@vigil/contracts';

import { AlarmCommands } from '../alarms/alarm-commands';
import { AuthService, type AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { AlarmView } from '../alarms/alarm-view';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { HazardService } from './hazard.service';
import { HazardsController } from './hazards.controller';
import { testUser, writeTwoEnterpriseRegistry } from '../common/two-enterprises.fixture';

/** Two enterprises under one city: each enterprise's users see only their own hazards. */
const zhang = testUser('zhang', 'operator', 'ent-huaxin');
const wang = testUser('wang', 'supervisor', 'park-chem');
const admin = testUser('admin', 'admin', 'city-demo');

function alarm(id: string, siteId: string, disposition?: Alarm['disposition']): Alarm {
  return {
    id,
    key: `${siteId}/gc-${siteId}/gas-l1`,
    ruleId: 'gas-l1',
    siteId,
    deviceId: `gc-${siteId}`,
    deviceClass: 'gas-combustible',
    areaId: 'unit-1',
    category: 'process',
    priority: 2,
    level: 'L1',
    state: 'active-acknowledged',
    conditionActive: true,
    latched: false,
    metric: 'lel',
    value: 30,
    threshold: 25,
    message: 'leak',
    raisedAt: 1,
    clearedAt: undefined,
    acknowledgedAt: 2,
    acknowledgedBy: 'zhang',
    updatedAt: 3,
    detectedAt: 1,
    history: [],
    ...(disposition ? { disposition } : {}),
  };
}

describe(HazardsController.name, () => {
  let dir: string;
  let service: HazardService;
  let controller: HazardsController;

  const status = (run: () => unknown): number => {
    try {
      run();
    } catch (error) {
      if (error instanceof HttpException) return error.getStatus();
      throw error;
    }
    return 200;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-hazards-api-'));
    writeTwoEnterpriseRegistry(dir);
    const config = loadConfig({
      VIGIL_REGISTRY: dir,
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_ALARM_TICK_MS: '0',
    });
    const registry = new RegistryHolder(config);
    const bus = new PipelineBus();
    const commands = { execute: async () => ({ ok: false }) } as unknown as AlarmCommands;
    const view = new AlarmView(bus, commands);
    bus.publishAlarms([
      {
        alarm: alarm('disposed-a', 'plant-a', {
          kind: 'real-event',
          note: 'n',
          by: 'zhang',
          at: 3,
        }),
        action: { action: 'dispose', at: 3, by: 'zhang', note: undefined },
      },
      {
        alarm: alarm('false-a', 'plant-a', { kind: 'false-alarm', note: 'n', by: 'zhang', at: 3 }),
        action: { action: 'dispose', at: 3, by: 'zhang', note: undefined },
      },
      {
        alarm: alarm('disposed-b', 'plant-b', { kind: 'device-fault', note: 'n', by: 'x', at: 3 }),
        action: { action: 'dispose', at: 3, by: 'x', note: undefined },
      },
    ]);
    service = new HazardService(config, registry, () => 1_000);
    service.onModuleInit();
    const metrics = new VigilMetrics();
    const authorization = new AuthorizationService(
      registry,
      metrics,
      new AuthService(config, registry, metrics),
    );
    controller = new HazardsController(service, view, authorization, registry, () => 1_000);
  });

  afterEach(() => {
    service.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links a hazard to an alarm disposed as a real event, with its site, area and device', () => {
    const hazard = controller.create(
      { alarmId: 'disposed-a', title: 'leak', level: 'general' },
      zhang,
    );
    expect(hazard).toMatchObject({
      source: 'alarm',
      alarmId: 'disposed-a',
      siteId: 'plant-a',
      enterprise: 'ent-huaxin',
      areaId: 'unit-1',
      deviceIds: ['gc-plant-a'],
    });
    expect(
      status(() =>
        controller.create({ alarmId: 'disposed-a', title: 'x', level: 'general' }, zhang),
      ),
    ).toBe(409);
  });

  it('refuses an alarm not disposed as a real event or device fault (422), a bad body (400), an unknown area (422)', () => {
    expect(
      status(() => controller.create({ alarmId: 'false-a', title: 'x', level: 'general' }, zhang)),
    ).toBe(422);
    expect(status(() => controller.create({ title: 'x', level: 'general' }, zhang))).toBe(400);
    expect(
      status(() => controller.create({ title: 'x', level: 'huge', siteId: 'plant-a' }, zhang)),
    ).toBe(400);
    expect(
      status(() =>
        controller.create({ title: 'x', level: 'general', siteId: 'plant-a', extra: 1 }, zhang),
      ),
    ).toBe(400);
    expect(
      status(() =>
        controller.create(
          { title: 'x', level: 'general', siteId: 'plant-a', areaId: 'nowhere' },
          zhang,
        ),
      ),
    ).toBe(422);
    expect(
      status(() =>
        controller.create(
          { title: 'x', level: 'general', siteId: 'plant-a', deviceIds: ['gc-9'] },
          zhang,
        ),
      ),
    ).toBe(422);
  });

  it('is fail-closed: another enterprise’s site, alarm and hazards are answered 404, never 403', () => {
    expect(
      status(() => controller.create({ title: 'x', level: 'general', siteId: 'plant-b' }, zhang)),
    ).toBe(404);
    expect(
      status(() =>
        controller.create({ alarmId: 'disposed-b', title: 'x', level: 'general' }, zhang),
      ),
    ).toBe(404);
    const theirs: Hazard = controller.create(
      { title: 'theirs', level: 'major', siteId: 'plant-b' },
      admin,
    );
    const ours: Hazard = controller.create(
      { title: 'ours', level: 'general', siteId: 'plant-a' },
      zhang,
    );
    expect(controller.list({}, zhang).map(h => h.id)).toEqual([ours.id]);
    expect(controller.list({}, wang).map(h => h.id)).toEqual([ours.id]);
    expect(controller.list({}, admin).map(h => h.id)).toEqual([ours.id, theirs.id]); // newest first;
    expect(status(() => controller.one(theirs.id, zhang))).toBe(404);
    expect(status(() => controller.action(theirs.id, 'assign', { assignee: 'x' }, zhang))).toBe(
      404,
    );
    expect(controller.stats({}, wang).rows.map(row => row.enterprise)).toEqual(['ent-huaxin']);
    // By region: the park counts what is beneath it, the city everything; never a sibling region.
    const regions = (who: AuthenticatedUser) =>
      controller.stats({ by: 'region' }, who).rows.map(row => [row.nodeId, row.total.open]);
    expect(regions(admin)).toEqual([
      ['city-demo', 2],
      ['park-chem', 1],
    ]);
    expect(regions(wang)).toEqual([['park-chem', 1]]);
    expect(regions(zhang)).toEqual([]);
    expect(controller.stats({ by: 'site' }, admin).rows.map(row => row.siteId)).toEqual([
      'plant-a',
      'plant-b',
    ]);
  });

  it('shows a user whose scope is not in the organisation tree nothing, and refuses their steps (403)', () => {
    const ours = controller.create({ title: 'ours', level: 'general', siteId: 'plant-a' }, zhang);
    const lost = testUser('lost', 'admin', 'nowhere');
    expect(controller.list({}, lost)).toEqual([]);
    expect(controller.stats({ by: 'region' }, lost).rows).toEqual([]);
    expect(controller.stats({ by: 'site' }, lost).rows).toEqual([]);
    expect(status(() => controller.one(ours.id, lost))).toBe(404);
    expect(
      status(() => controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, lost)),
    ).toBe(403);
    expect(status(() => controller.action(ours.id, 'assign', { assignee: 'zhang' }, lost))).toBe(
      403,
    );
  });

  it('answers the lifecycle’s refusals with their status, and filters the list', () => {
    const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
    expect(status(() => controller.action(hazard.id, 'fly', {}, wang))).toBe(404);
    expect(status(() => controller.action(hazard.id, 'assign', { assignee: 'zhang' }, zhang))).toBe(
      403,
    );
    expect(status(() => controller.action(hazard.id, 'assign', { assignee: 'zhang' }, wang))).toBe(
      422,
    );
    const plan = {
      responsible: 'r',
      measures: 'm',
      funds: 1,
      deadline: 5_000,
      contingencyPlan: 'p',
    };
    // The rectifier must be someone who logs in and sees the site.
    expect(
      status(() => controller.action(hazard.id, 'assign', { assignee: 'nobody', plan }, wang)),
    ).toBe(422);
    expect(status(() => controller.action(hazard.id, 'rectify', {}, wang))).toBe(400);
    expect(status(() => controller.action(hazard.id, 'accept', {}, wang))).toBe(409);
    controller.action(
      hazard.id,
      'assign',
      {
        assignee: 'zhang',
        plan: { responsible: 'r', measures: 'm', funds: 1, deadline: 5_000, contingencyPlan: 'p' },
      },
      wang,
    );
    expect(controller.list({ state: 'assigned' }, zhang)).toHaveLength(1);
    expect(controller.list({ state: 'closed' }, zhang)).toHaveLength(0);
    expect(controller.list({ overdue: 'false' }, zhang)).toHaveLength(1);
    expect(controller.list({ level: 'major' }, zhang)).toHaveLength(0);
    expect(status(() => controller.list({ overdue: 'yes' }, zhang))).toBe(400);
  });
});
