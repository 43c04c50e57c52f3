import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';

import type { Alarm, RuleSignal } from '@vigil/contracts';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { SAMPLE_GATEWAY, sampleRegistryWithGateway } from '@vigil/testing';

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

  function start(registry = REGISTRY): {
    service: AlarmService;
    updates: AlarmUpdate[];
    metrics: VigilMetrics;
  } {
    const config = loadConfig({
      VIGIL_REGISTRY: registry,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ALARM_TICK_MS: '0',
    });
    const bus = new PipelineBus();
    const updates: AlarmUpdate[] = [];
    bus.alarms$.subscribe(batch => updates.push(...batch));
    const metrics = new VigilMetrics();
    const service = new AlarmService(config, bus, metrics, new RegistryHolder(config), () => now);
    service.onModuleInit();
    services.push(service);
    return { service, updates, metrics };
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

  describe('suppression follows its cause (issue 10 finding 4)', () => {
    const supervisor = { id: 'wang', role: 'supervisor' } as const;
    const byKey = (service: AlarmService, key: string) =>
      service.open().find(alarm => alarm.key === key);
    const quality = (
      deviceId: string,
      ruleId: string,
      active: boolean,
      at: number,
    ): RuleSignal => ({
      ...signal(deviceId, ruleId, active, at, 2),
      category: 'quality',
      level: ruleId,
      metric: undefined,
      value: undefined,
      threshold: undefined,
    });

    it('shows an alarm raised in maintenance when maintenance ends, and a new leak is not suppressed', () => {
      const { service, updates } = start();
      service.setDeviceMode('plant-1', 'gc-tf-03', 'maintenance', supervisor, 'calibration');
      service.applySignals([signal('gc-tf-03', 'gas-l2', true, now, 1)]);
      const key = 'plant-1/gc-tf-03/gas-l2';
      expect(byKey(service, key)).toMatchObject({
        suppressed: 'maintenance',
        suppressedBy: [{ kind: 'maintenance', by: 'wang', reason: 'calibration' }],
      });
      expect(service.hidden()).toEqual({
        maintenance: 1,
        'out-of-service': 0,
        'parent-offline': 0,
        shelved: 0,
      });
      // An hour in maintenance: not escalated.
      now += 3_600_000;
      service.tick(now);
      expect(updates.filter(update => update.action.action === 'escalate')).toHaveLength(0);

      // Maintenance ends: the alarm is shown at once, and escalates 60 s (P1) after that.
      service.setDeviceMode('plant-1', 'gc-tf-03', null, supervisor, 'done');
      const shown = updates.at(-1);
      expect(shown?.action).toMatchObject({ action: 'unsuppress', note: 'maintenance ended' });
      expect(shown?.alarm).toMatchObject({ suppressed: undefined, shownAt: now });
      expect(service.hidden().maintenance).toBe(0);
      now += 60_000;
      service.tick(now);
      expect(updates.at(-1)?.action.action).toBe('escalate');

      // The leak clears and comes back: the same alarm, raised visibly.
      service.applySignals([signal('gc-tf-03', 'gas-l2', false, now + 1, 1)]);
      service.applySignals([signal('gc-tf-03', 'gas-l2', true, now + 2, 1)]);
      expect(updates.at(-1)?.action.action).toBe('raise');
      expect(updates.at(-1)?.alarm.suppressed).toBeUndefined();
      expect(service.open().filter(alarm => alarm.key === key)).toHaveLength(1);
    });

    it('ends maintenance at its time: the hidden alarm is shown and escalates, by the system', () => {
      const { service, updates } = start();
      service.setDeviceMode(
        'plant-1',
        'gc-tf-03',
        'maintenance',
        supervisor,
        'calibration',
        3_600_000,
      );
      expect(service.deviceMode('plant-1', 'gc-tf-03')?.until).toBe(now + 3_600_000);
      service.applySignals([signal('gc-tf-03', 'gas-l2', true, now, 1)]);
      now += 3_599_000;
      service.tick(now);
      expect(service.hidden().maintenance).toBe(1);
      now += 1_000;
      service.tick(now);
      expect(service.deviceMode('plant-1', 'gc-tf-03')).toBeUndefined();
      expect(service.hidden().maintenance).toBe(0);
      expect(updates.at(-1)?.action).toMatchObject({ action: 'unsuppress' });
      now += 60_000;
      service.tick(now);
      expect(updates.at(-1)?.action.action).toBe('escalate');
    });

    it('never lets maintenance last longer than the configured maximum, whatever the caller asks', () => {
      const { service } = start();
      const mode = service.setDeviceMode(
        'plant-1',
        'gc-tf-03',
        'maintenance',
        supervisor,
        'x',
        1e12,
      );
      expect(mode.until).toBe(now + 72 * 3_600_000);
      expect(service.setDeviceMode('plant-1', 'gc-1', 'maintenance', supervisor, 'y').until).toBe(
        now + 8 * 3_600_000,
      );
      expect(
        service.setDeviceMode('plant-1', 'gc-2', 'out-of-service', supervisor, 'z').until,
      ).toBeUndefined();
    });

    it('suppresses the open alarms of a device put in maintenance and says who and why', () => {
      const { service, updates } = start();
      service.applySignals([signal('gc-tf-03', 'gas-l1', true, now)]);
      service.setDeviceMode('plant-1', 'gc-tf-03', 'out-of-service', supervisor, 'replaced');
      expect(updates.at(-1)?.action).toMatchObject({
        action: 'suppress',
        note: 'out-of-service by wang: replaced',
      });
      expect(service.hidden()['out-of-service']).toBe(1);
    });

    it('keeps the mode and the suppression over a restart, and shows the alarm when it ends', () => {
      const first = start();
      first.service.setDeviceMode('plant-1', 'gc-tf-03', 'maintenance', supervisor, 'calibration');
      first.service.applySignals([signal('gc-tf-03', 'gas-l2', true, now, 1)]);
      first.service.onModuleDestroy();
      services.length = 0;

      const second = start();
      expect(second.service.deviceMode('plant-1', 'gc-tf-03')?.mode).toBe('maintenance');
      expect(byKey(second.service, 'plant-1/gc-tf-03/gas-l2')?.suppressed).toBe('maintenance');
      expect(second.updates).toHaveLength(0); // nothing changed: nothing re-announced
      expect(second.service.hidden().maintenance).toBe(1);
      second.service.setDeviceMode('plant-1', 'gc-tf-03', null, supervisor, 'done');
      expect(byKey(second.service, 'plant-1/gc-tf-03/gas-l2')?.suppressed).toBeUndefined();
    });

    it('unsuppresses at start an alarm whose cause ended while the process was down', () => {
      const first = start();
      first.service.setDeviceMode('plant-1', 'gc-tf-03', 'maintenance', supervisor, 'calibration');
      first.service.applySignals([signal('gc-tf-03', 'gas-l2', true, now, 1)]);
      first.service.onModuleDestroy();
      services.length = 0;
      // The mode is cleared in the journal (as by another instance) while this one is down.
      appendFileSync(
        join(dataDir, 'alarms', 'alarm-journal.jsonl'),
        `${JSON.stringify({
          t: 'device',
          device: {
            siteId: 'plant-1',
            deviceId: 'gc-tf-03',
            mode: null,
            by: 'wang',
            reason: 'x',
            at: now,
          },
        })}\n`,
      );
      const second = start();
      expect(byKey(second.service, 'plant-1/gc-tf-03/gas-l2')?.suppressed).toBeUndefined();
      expect(second.updates.at(-1)?.action.action).toBe('unsuppress');
    });

    it('lets an offline gateway hide its children’s offline and quality alarms, never their gas alarms', async () => {
      const registry = sampleRegistryWithGateway(REGISTRY, join(dataDir, 'registry'));
      const { service, updates, metrics } = start(registry);
      const [child] = SAMPLE_GATEWAY.children;
      // The child went silent while the gateway still reported: its own offline alarm, shown.
      service.applySignals([quality(child, 'offline', true, now)]);
      expect(byKey(service, `plant-1/${child}/offline`)?.suppressed).toBeUndefined();

      // The gateway goes offline: the child's offline alarm is hidden under it at once ...
      now += 1000;
      service.applySignals([quality(SAMPLE_GATEWAY.gatewayId, 'gateway-offline', true, now)]);
      expect(byKey(service, `plant-1/${child}/offline`)).toMatchObject({
        suppressed: 'parent-offline',
        suppressedBy: [{ kind: 'parent-offline', gatewayId: 'gw-tf' }],
      });
      // ... a quality alarm raised meanwhile is hidden from the start ...
      service.applySignals([quality(child, 'stuck', true, now)]);
      expect(byKey(service, `plant-1/${child}/stuck`)?.suppressed).toBe('parent-offline');
      // ... and a gas alarm is never hidden by a parent: the reading arrived.
      service.applySignals([signal(child, 'gas-l2', true, now, 1)]);
      expect(byKey(service, `plant-1/${child}/gas-l2`)?.suppressed).toBeUndefined();
      // Nor grouped under the gateway (the console collapses P3/P4 members of a group).
      const gatewayAlarm = byKey(service, `plant-1/${SAMPLE_GATEWAY.gatewayId}/gateway-offline`);
      expect(byKey(service, `plant-1/${child}/stuck`)?.groupId).toBe(gatewayAlarm?.id);
      expect(byKey(service, `plant-1/${child}/gas-l2`)?.groupId).not.toBe(gatewayAlarm?.id);
      expect(service.hidden()['parent-offline']).toBe(2);
      expect(await metricValue(metrics, 'parent-offline')).toBe(2);

      // The gateway returns: everything it hid is shown at once.
      now += 1000;
      updates.length = 0;
      service.applySignals([quality(SAMPLE_GATEWAY.gatewayId, 'gateway-offline', false, now)]);
      const shown = updates.filter(update => update.action.action === 'unsuppress');
      expect(shown.map(update => update.alarm.key).sort()).toEqual([
        `plant-1/${child}/offline`,
        `plant-1/${child}/stuck`,
      ]);
      expect(shown.every(update => update.alarm.shownAt === now)).toBe(true);
      expect(service.hidden()['parent-offline']).toBe(0);
      expect(await metricValue(metrics, 'parent-offline')).toBe(0);
    });
  });
});

async function metricValue(metrics: VigilMetrics, cause: string): Promise<number | undefined> {
  const { values } = await metrics.alarmsSuppressed.get();
  return values.find(value => value.labels.cause === cause)?.value;
}
