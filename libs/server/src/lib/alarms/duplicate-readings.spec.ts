import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { from, toArray } from 'rxjs';

import type { IngestRecord, RuleSignal } from '@vigil/contracts';
import { ruleEngine } from '@vigil/rules';

import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AlarmService } from './alarm.service';

const REGISTRY = join(__dirname, '../../../../../registry/sample');
const DEVICES = ['gc-tf-01', 'gc-tf-02', 'gc-ru-01'];

/**
 * Concurrent duplicate readings (issue 4): the same readings delivered several times, interleaved
 * across devices and cut into arbitrary batches, through the real rule engine and the real alarm
 * service with its journal. There is never more than one open alarm per (source, rule).
 */
describe('duplicate and concurrent readings through the rule engine and the alarm lifecycle', () => {
  it('never opens two alarms for one key (property)', async () => {
    const config = loadConfig({ VIGIL_REGISTRY: REGISTRY, VIGIL_ALARM_TICK_MS: '0' });
    const registry = new RegistryHolder(config);
    const reading = fc.record({
      device: fc.constantFrom(...DEVICES),
      lel: fc.oneof(
        fc.double({ min: 0, max: 80, noNaN: true }),
        fc.constantFrom(24.9, 25, 45, 50, 55),
      ),
      copies: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(reading, { maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }),
        async (readings, cuts) => {
          const dataDir = mkdtempSync(join(tmpdir(), 'vigil-dup-'));
          const service = new AlarmService(
            { ...config, dataDir },
            new PipelineBus(),
            new VigilMetrics(),
            registry,
            () => 0,
          );
          service.onModuleInit();
          try {
            const records: IngestRecord[] = [];
            let ts = 1_000_000;
            for (const { device, lel, copies } of readings) {
              ts += 1000;
              const record: IngestRecord = {
                kind: 'reading',
                reading: {
                  siteId: 'plant-1',
                  deviceId: device,
                  deviceClass: 'gas-combustible',
                  areaId: registry.current.device('plant-1', device)?.areaId,
                  ts,
                  receivedAt: ts,
                  seq: undefined,
                  deviceTime: true,
                  clockSkewMs: 0,
                  values: { lel },
                },
              };
              for (let copy = 0; copy < copies; copy += 1) records.push(record);
            }
            const signals = await new Promise<RuleSignal[]>((resolve, reject) =>
              from(records)
                .pipe(
                  ruleEngine({
                    lookupDevice: (siteId, deviceId) => {
                      const device = registry.current.device(siteId, deviceId);
                      return device ? registry.rulesOf(device) : undefined;
                    },
                    clock: () => 0,
                    startedAt: 0,
                  }),
                  toArray(),
                )
                .subscribe({ next: resolve, error: reject }),
            );
            // Deliver the signals in arbitrary batches, each batch twice (a retry after a reconnect).
            let index = 0;
            for (let cut = 0; index < signals.length; cut += 1) {
              const size = cuts[cut % cuts.length] as number;
              const batch = signals.slice(index, index + size);
              service.applySignals(batch);
              service.applySignals(batch);
              index += size;
              const keys = service.open().map(alarm => alarm.key);
              expect(new Set(keys).size).toBe(keys.length);
            }
          } finally {
            service.onModuleDestroy();
            rmSync(dataDir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
