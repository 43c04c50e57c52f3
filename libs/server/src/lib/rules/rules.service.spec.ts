import { join } from 'node:path';

import type { IngestRecord, RuleSignal } from '@vigil/contracts';

import type { AlarmService } from '../alarms/alarm.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { PermitBoard } from '../permits/permit-board';
import { RegistryHolder } from '../registry/registry-holder';
import { RulesService } from './rules.service';

const REGISTRY = join(__dirname, '../../../../../registry/sample');

function lel(deviceId: string, value: number, ts = Date.now()): IngestRecord {
  return {
    kind: 'reading',
    reading: {
      siteId: 'plant-1',
      deviceId,
      deviceClass: 'gas-combustible',
      areaId: 'tank-farm',
      ts,
      receivedAt: ts,
      seq: undefined,
      deviceTime: true,
      clockSkewMs: 0,
      values: { lel: value },
    },
  };
}

function setup(mutate: (registry: RegistryHolder) => void = () => undefined) {
  const config = loadConfig({ VIGIL_REGISTRY: REGISTRY, VIGIL_RULE_TICK_MS: '100000' });
  const registry = new RegistryHolder(config);
  mutate(registry);
  const bus = new PipelineBus();
  const metrics = new VigilMetrics();
  const applied: RuleSignal[] = [];
  const alarms = {
    applySignals: (signals: readonly RuleSignal[]) => void applied.push(...signals),
    conditionActive: () => false,
    open: () => [],
  } as unknown as AlarmService;
  const service = new RulesService(config, registry, bus, alarms, metrics, new PermitBoard());
  const isolated = async (scope: string) =>
    (await metrics.registry.getSingleMetric('vigil_rules_isolated_total')?.get())?.values.find(
      value => value.labels['scope'] === scope,
    )?.value ?? 0;
  return { service, bus, applied, isolated, registry };
}

const settle = () => new Promise(resolve => setImmediate(resolve));

describe(RulesService.name, () => {
  it('a device whose rules throw raises monitoring-lost, is counted and reported; other devices still alarm', async () => {
    const { service, bus, applied, isolated, registry } = setup(holder => {
      const rulesOf = holder.rulesOf.bind(holder);
      holder.rulesOf = device => {
        const rules = rulesOf(device);
        if (!rules || device.deviceId !== 'gc-tf-01') return rules;
        return {
          ...rules,
          rules: rules.rules.map(rule =>
            rule.kind === 'threshold'
              ? Object.defineProperty({ ...rule }, 'setpoint', {
                  get: () => {
                    throw new Error('injected rule fault');
                  },
                })
              : rule,
          ),
        };
      };
    });
    expect(registry.current.device('plant-1', 'gc-tf-02')).toBeDefined();
    service.onModuleInit();
    try {
      bus.publishRecords([lel('gc-tf-01', 90), lel('gc-tf-02', 90)]);
      await settle();
      expect(applied).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            key: 'plant-1/gc-tf-01/monitoring-lost',
            category: 'system',
            priority: 1,
            active: true,
          }),
          expect.objectContaining({ key: 'plant-1/gc-tf-02/gas-l2', active: true }),
        ]),
      );
      expect(await isolated('device')).toBe(1);
      expect(service.monitoringLost()).toEqual([
        expect.objectContaining({ scope: 'device', siteId: 'plant-1', deviceId: 'gc-tf-01' }),
      ]);
    } finally {
      service.onModuleDestroy();
    }
  });

  it('a site-rule stream that errors is restarted, raises monitoring-lost on every site, and device rules go on', async () => {
    const { service, bus, applied, isolated } = setup(holder => {
      // Issue 10 finding 2: a typo in an area's site rules used to error the merged stream.
      const area = holder.current.sites[0]?.areas[0] as { rules?: unknown };
      area.rules = { crowding: { minpeople: 2 } };
    });
    service.onModuleInit();
    try {
      await settle();
      bus.publishRecords([lel('gc-tf-02', 90)]);
      await settle();
      expect(applied).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            ruleId: 'monitoring-lost',
            deviceId: 'rule-engine-site-rules',
            level: 'stream',
            priority: 1,
            active: true,
          }),
          expect.objectContaining({ key: 'plant-1/gc-tf-02/gas-l2', active: true }),
        ]),
      );
      expect(await isolated('stream')).toBeGreaterThanOrEqual(1);
      expect(service.monitoringLost()).toEqual([
        expect.objectContaining({ scope: 'stream', deviceId: 'rule-engine-site-rules' }),
      ]);
      // Resubscribed after a second: the device engine is still alive after the restart attempts.
      await new Promise(resolve => setTimeout(resolve, 1200));
      applied.length = 0;
      bus.publishRecords([lel('gc-tf-03', 90)]);
      await settle();
      expect(applied).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ key: 'plant-1/gc-tf-03/gas-l2', active: true }),
        ]),
      );
    } finally {
      service.onModuleDestroy();
    }
  });
});
