import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';

import type { Alarm, RuleSignal } from '@vigil/contracts';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AlarmService } from './alarm.service';

const REGISTRY = join(__dirname, '../../../../../registry/sample');

function signal(
  deviceId: string,
  ruleId: string,
  active: boolean,
  at: number,
  priority: 1 | 2 | 3 = 2,
): RuleSignal {
  return {
    key: `plant-1/${deviceId}/${ruleId}`,
    ruleId,
    siteId: 'plant-1',
    deviceId,
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    category: 'process',
    priority,
    level: ruleId,
    active,
    latched: false,
    metric: 'lel',
    value: active ? 30 : 1,
    threshold: 25,
    message: active ? 'raised' : 'cleared',
    at,
    detectedAt: at,
  };
}

describe(AlarmService.name, () => {
  let dataDir: string;
  let now: number;
  const services: AlarmService[] = [];

  function start(): { service: AlarmService; updates: AlarmUpdate[] } {
    const config = loadConfig({
      VIGIL_REGISTRY: REGISTRY,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ALARM_TICK_MS: '0',
    });
    const bus = new PipelineBus();
    const updates: AlarmUpdate[] = [];
    bus.alarms$.subscribe(batch => updates.push(...batch));
    const service = new AlarmService(
      config,
      bus,
      new VigilMetrics(),
      new RegistryHolder(config),
      () => now,
    );
    service.onModuleInit();
    services.push(service);
    return { service, updates };
  }

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-alarms-'));
    now = 1_000_000;
  });

  afterEach(() => {
    for (const service of services.splice(0)) service.onModuleDestroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rebuilds the open alarms and their actions from the journal after a restart', () => {
    const first = start();
    first.service.applySignals([
      signal('gc-tf-01', 'gas-l1', true, now),
      signal('gc-tf-02', 'gas-l1', true, now),
    ]);
    const [one] = first.service.open();
    const acked = first.service.execute(
      one?.id ?? '',
      { action: 'acknowledge', note: 'seen' },
      { id: 'zhang', role: 'operator' },
    );
    expect(acked.ok).toBe(true);
    first.service.onModuleDestroy();
    services.length = 0;

    const second = start();
    const restored = second.service.open();
    expect(restored.map(alarm => alarm.key).sort()).toEqual([
      'plant-1/gc-tf-01/gas-l1',
      'plant-1/gc-tf-02/gas-l1',
    ]);
    expect(restored.find(alarm => alarm.id === one?.id)).toMatchObject({
      state: 'active-acknowledged',
      owner: 'zhang',
    });
    // A re-delivered raise after the restart is recognised: still one alarm per key.
    second.service.applySignals([signal('gc-tf-01', 'gas-l1', true, now + 1)]);
    expect(second.service.open()).toHaveLength(2);
    expect(second.updates).toHaveLength(0);
  });

  it('skips a torn last line left by a crash mid-write', () => {
    const first = start();
    first.service.applySignals([signal('gc-tf-01', 'gas-l1', true, now)]);
    first.service.onModuleDestroy();
    services.length = 0;
    appendFileSync(join(dataDir, 'alarms', 'alarm-journal.jsonl'), '{"t":"alarm","alarm":{"id":"x');
    expect(start().service.open()).toHaveLength(1);
  });

  it('escalates an unacknowledged P1 up the organisation tree on the clock it is given', () => {
    const { service, updates } = start();
    service.applySignals([signal('gc-tf-01', 'gas-l2', true, now, 1)]);
    now += 59_000;
    service.tick(now);
    expect(updates.filter(update => update.action.action === 'escalate')).toHaveLength(0);
    now += 1_000;
    service.tick(now);
    now += 60_000;
    service.tick(now);
    const escalations = updates.filter(update => update.action.action === 'escalate');
    expect(escalations.map(update => update.alarm.escalation?.nodeId)).toEqual([
      'park-chem',
      'county-east',
    ]);
    expect(service.escalationPath('plant-1')).toEqual([
      'ent-huaxin',
      'park-chem',
      'county-east',
      'city-demo',
    ]);
  });

  it('groups alarms of the same area under the first-out alarm and suppresses devices in maintenance', () => {
    const { service } = start();
    service.applySignals([signal('gc-tf-01', 'gas-l1', true, now)]);
    now += 1000;
    service.applySignals([signal('gc-tf-02', 'gas-l1', true, now)]);
    const [first, second] = service
      .open()
      .sort((a, b) => (a.openedAt ?? 0) - (b.openedAt ?? 0)) as [Alarm, Alarm];
    expect(first.groupId).toBe(first.id);
    expect(second.groupId).toBe(first.id);

    service.setDeviceMode(
      'plant-1',
      'gc-tf-03',
      'maintenance',
      { id: 'wang', role: 'supervisor' },
      'calibration',
    );
    service.applySignals([signal('gc-tf-03', 'gas-l1', true, now)]);
    expect(service.open().find(alarm => alarm.deviceId === 'gc-tf-03')?.suppressed).toBe(
      'maintenance',
    );
  });

  it('never holds two open alarms for a key, whatever the duplication and interleaving (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            device: fc.constantFrom('gc-tf-01', 'gc-tf-02'),
            active: fc.boolean(),
            copies: fc.integer({ min: 1, max: 3 }),
            restart: fc.boolean(),
          }),
          { maxLength: 25 },
        ),
        steps => {
          rmSync(join(dataDir, 'alarms'), { recursive: true, force: true });
          let current = start();
          for (const step of steps) {
            now += 10;
            const batch = Array.from({ length: step.copies }, () =>
              signal(step.device, 'gas-l1', step.active, now, 3),
            );
            current.service.applySignals(batch);
            if (step.restart) {
              current.service.onModuleDestroy();
              services.length = 0;
              current = start();
            }
            const keys = current.service.open().map(alarm => alarm.key);
            expect(new Set(keys).size).toBe(keys.length);
          }
          current.service.onModuleDestroy();
          services.length = 0;
        },
      ),
      { numRuns: 40 },
    );
  });
});
