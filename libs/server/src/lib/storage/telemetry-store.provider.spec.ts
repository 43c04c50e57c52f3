import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Test, type TestingModule } from '@nestjs/testing';

import { InfluxV1Store } from '@vigil/storage';

import { AlarmActivity } from '../alarms/alarm-activity';
import { loadConfig } from '../config/vigil-config';
import { HistoryStore } from '../console-api/history-store';
import { StorageStatus } from '../gateway/storage-status';
import { PersisterService } from '../persister/persister.service';
import { VigilModule } from '../vigil.module';
import { TELEMETRY_STORE } from './telemetry-store.provider';

/** The store a consumer holds (a private field: the test looks, the code never does). */
const storeOf = (consumer: object): unknown => Reflect.get(consumer, 'store');
const probeStoreOf = (status: StorageStatus): unknown => Reflect.get(status, 'probeStore');

// The module as the all-in-one process builds it, compiled (constructors run, nothing starts).
describe('TELEMETRY_STORE: one store per process, injected everywhere', () => {
  let dir: string;
  let module: TestingModule | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-store-'));
  });
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('persister, storage status, history and the reports’ alarm activity share the one store the factory built', async () => {
    const config = loadConfig({
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: 'http://127.0.0.1:9',
      VIGIL_DATA_DIR: dir,
    });
    module = await Test.createTestingModule({
      imports: [VigilModule.forConfig(config)],
    }).compile();
    const store = module.get(TELEMETRY_STORE);
    expect(store).toBeInstanceOf(InfluxV1Store);
    expect(storeOf(module.get(PersisterService))).toBe(store);
    expect(probeStoreOf(module.get(StorageStatus))).toBe(store);
    expect(storeOf(module.get(HistoryStore))).toBe(store);
    expect(storeOf(module.get(AlarmActivity))).toBe(store);
  });

  it('VIGIL_INFLUX_MODE=off: no store at all, and every consumer knows it', async () => {
    const config = loadConfig({ VIGIL_INFLUX_MODE: 'off', VIGIL_DATA_DIR: dir });
    module = await Test.createTestingModule({
      imports: [VigilModule.forConfig(config)],
    }).compile();
    expect(module.get(TELEMETRY_STORE)).toBeNull();
    expect(storeOf(module.get(PersisterService))).toBeUndefined();
    expect(probeStoreOf(module.get(StorageStatus))).toBeUndefined();
    expect(storeOf(module.get(HistoryStore))).toBeUndefined();
    expect(storeOf(module.get(AlarmActivity))).toBeUndefined();
  });
});
