#!/usr/bin/env node
// How fast the all-in-one persister drains a spool backlog into InfluxDB (issue 12): fills the
// spool's records lane with N device messages (5 readings each, as the outage test sends them),
// then starts the persister on it against a real influxd and times until its cursor reaches the
// end. Needs the build (node scripts/build.mjs). Usage: node bench/allinone-drain.mjs [messages]
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
require('reflect-metadata');
const { startInfluxd } = require(join(root, 'dist/libs/testing/src/index.js'));
const { LocalSpool } = require(join(root, 'dist/libs/server/src/lib/bus/spool/local-spool.js'));
const { SpoolJournal } = require(join(root, 'dist/libs/server/src/lib/bus/spool/spool-journal.js'));
const { SpoolPersisterSource } = require(join(root, 'dist/libs/server/src/lib/bus/spool/spool-persister-source.js'));
const { PersisterService } = require(join(root, 'dist/libs/server/src/lib/persister/persister.service.js'));
const { PipelineBus } = require(join(root, 'dist/libs/server/src/lib/bus/pipeline-bus.js'));
const { VigilMetrics } = require(join(root, 'dist/libs/server/src/lib/metrics/metrics.js'));
const { loadConfig } = require(join(root, 'dist/libs/server/src/lib/config/vigil-config.js'));
const { telemetryStoreFor } = require(join(root, 'dist/libs/server/src/lib/storage/telemetry-store.provider.js'));

const messages = Number(process.argv[2] ?? 40_000);
const work = mkdtempSync(join(tmpdir(), 'vigil-drain-'));
const influx = await startInfluxd();
try {
  const config = loadConfig({
    VIGIL_DATA_DIR: work,
    VIGIL_INFLUX_MODE: 'external',
    VIGIL_INFLUX_URL: influx.url,
    VIGIL_LOG_LEVEL: 'error',
  });
  const bus = new PipelineBus();
  const metrics = new VigilMetrics();
  const spool = new LocalSpool(config, bus, metrics);
  const journal = new SpoolJournal(spool);
  const t0 = Date.now() - messages * 10;
  let last;
  for (let m = 0; m < messages; m += 1) {
    const device = `gc-${String(m % 100).padStart(3, '0')}`;
    const records = [];
    for (let k = 0; k < 5; k += 1) {
      const seq = Math.floor(m / 100) * 5 + k + 1;
      records.push({
        kind: 'reading',
        reading: { siteId: 'storm', deviceId: device, seq, ts: t0 + m * 10 + k, values: { lel: 5 }, class: 'gas-combustible', areaId: 'unit-1' },
      });
    }
    last = journal.append({ siteId: 'storm', deviceId: device, msgId: `storm/${device}/${m}`, records });
  }
  await last;
  const readings = messages * 5;
  const persister = new PersisterService(
    config,
    telemetryStoreFor(config),
    bus,
    metrics,
    new SpoolPersisterSource(spool),
  );
  const started = Date.now();
  const cpu = process.cpuUsage();
  await persister.onModuleInit();
  while ((spool.persisterRecords?.committed ?? 0) < spool.records.lastSeq)
    await new Promise(resolve => setTimeout(resolve, 20));
  const seconds = (Date.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const result = {
    readings,
    seconds,
    readingsPerSecond: Math.round(readings / seconds),
    cpuSecondsPer100kReadings: +(((used.user + used.system) / 1e6) * (100_000 / readings)).toFixed(2),
  };
  console.log(JSON.stringify(result));
  await persister.onModuleDestroy();
  await spool.onModuleDestroy();
} finally {
  await influx.stop();
  rmSync(work, { recursive: true, force: true });
}
