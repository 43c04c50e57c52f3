import { createInfluxAdmin, startInfluxd, type InfluxHandle } from '@vigil/testing';

import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { PipelineBus } from '../bus/pipeline-bus';
import { PersisterService } from '../persister/persister.service';
import { telemetryStoreFor } from '../storage/telemetry-store.provider';
import { StorageStatus } from './storage-status';

// Integration: influxd 1.6.7 with `auth-enabled = true` (issue 13): /ping answers 204 throughout,
// yet history is not kept until Vigil's credentials are accepted.
jest.setTimeout(90_000);

describe('StorageStatus and the persister against influxd with authentication on', () => {
  let influx: InfluxHandle;
  let persister: PersisterService | undefined;
  afterAll(async () => {
    await persister?.onModuleDestroy();
    await influx?.stop();
  });

  it('is not ready with the reason while the credentials are refused, keeps the lines, and delivers them once the user exists', async () => {
    influx = await startInfluxd({ authEnabled: true });
    expect((await fetch(`${influx.url}/ping`)).status).toBe(204);
    const config = loadConfig({
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_INFLUX_USERNAME: 'vigil',
      VIGIL_INFLUX_PASSWORD: 'pw',
      VIGIL_WRITE_FLUSH_MS: '10',
    });
    const metrics = new VigilMetrics();
    // One store for both, as the module provides it.
    const store = telemetryStoreFor(config);
    const status = new StorageStatus(config, store, metrics);
    expect(await status.probe()).toBe(false);
    expect(status.current).toMatchObject({ kept: false, kind: 'forbidden' });
    expect(status.current.reason).toMatch(/403/);
    expect(await metrics.registry.getSingleMetricAsString('vigil_storage_ready')).toMatch(
      /vigil_storage_ready\{reason="forbidden"\} 0/,
    );

    const bus = new PipelineBus();
    persister = new PersisterService(config, store, bus, metrics);
    await persister.onModuleInit();
    bus.publishRecords([
      {
        kind: 'reading',
        reading: {
          siteId: 'plant-1',
          deviceId: 'gt-1',
          deviceClass: 'gas-toxic',
          ts: Date.now() - 1000,
          receivedAt: Date.now(),
          deviceTime: true,
          clockSkewMs: 0,
          values: { ppm: 4.5 },
        },
      },
    ] as never);
    const retries = async (): Promise<string> =>
      metrics.registry.getSingleMetricAsString('vigil_persister_write_retries_total');
    for (let i = 0; i < 200 && !/cause="auth"\} [1-9]/.test(await retries()); i += 1) {
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    expect(await retries()).toMatch(/cause="auth"\} [1-9]/);

    // The operator fixes the credentials: here, the user is created.
    await createInfluxAdmin(influx.url, 'vigil', 'pw');
    // The schema is retried every 5 s by the persister; the buffered reading arrives after it.
    await persister.flush();
    await persister.onModuleDestroy();
    persister = undefined;
    for (let i = 0; i < 200 && !(await status.probe()); i += 1) {
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    expect(status.current).toMatchObject({ kept: true, kind: undefined });
    const body = new URLSearchParams({
      q: 'SELECT ppm FROM "vigil"."raw"."telemetry"',
      db: 'vigil',
    });
    const auth = new URLSearchParams({ u: 'vigil', p: 'pw' });
    const rows = (await (
      await fetch(`${influx.url}/query?${auth}`, { method: 'POST', body })
    ).json()) as {
      results: { series?: { values: unknown[][] }[] }[];
    };
    expect(rows.results[0]?.series?.[0]?.values.map(row => row[1])).toEqual([4.5]);
    expect(await metrics.registry.getSingleMetricAsString('vigil_persister_lines_total')).toMatch(
      /outcome="failed"\} 0/,
    );
  });
});

// docs/interfaces.md (VIGIL_INFLUX_MANAGE_SCHEMA): carrying on with a schema Vigil did not manage is
// "logged as an error and shown as the storage reason". The probe used to have a store of its own,
// which never prepared the schema, so /readyz never showed it.
describe('StorageStatus shows the schema notice of the store the persister prepared', () => {
  let influx: InfluxHandle | undefined;
  let persister: PersisterService | undefined;
  afterAll(async () => {
    await persister?.onModuleDestroy();
    await influx?.stop();
  });

  it('VIGIL_INFLUX_MANAGE_SCHEMA=false: kept, with the reason saying the schema is not Vigil’s', async () => {
    influx = await startInfluxd();
    const env = { VIGIL_INFLUX_MODE: 'external', VIGIL_INFLUX_URL: influx.url };
    // The operator created the database and the policies.
    await telemetryStoreFor(loadConfig(env))?.ensureSchema();
    const config = loadConfig({ ...env, VIGIL_INFLUX_MANAGE_SCHEMA: 'false' });
    const store = telemetryStoreFor(config);
    const metrics = new VigilMetrics();
    persister = new PersisterService(config, store, new PipelineBus(), metrics);
    await persister.onModuleInit();
    expect(persister.ready).toBe(true);
    const status = new StorageStatus(config, store, metrics);
    expect(await status.probe()).toBe(true);
    expect(status.current.reason).toMatch(
      /schema not managed by Vigil: VIGIL_INFLUX_MANAGE_SCHEMA=false/,
    );
  });
});
