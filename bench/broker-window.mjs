#!/usr/bin/env node
// The device broker's window (issue 12, defect b): readings the broker has PUBACKed to the devices
// but that Vigil has not yet made durable, measured against a real Mosquitto. A stand-in ingest
// (ingest's own MQTT options, PubackGate and SpoolJournal: a group fdatasync every
// VIGIL_SPOOL_FSYNC_MS) takes QoS 1 readings from `--devices` mqtt.js devices at `--rate`/s;
// every 100 ms the script samples
//   inBroker  = PUBACKed to a device − received by ingest (lives only in the broker's memory)
//   inIngest  = received by ingest − durable in its spool (ingest's PUBACK still held)
// Then it SIGKILLs Mosquitto (`persistence false`, as the harness runs it), starts it again on
// the same port after `--down` ms, and counts the readings a device had PUBACKed that ingest never
// received, split by when the device got the PUBACK: before the kill, or after the restart.
// Needs the build (npm run build). Usage:
//   node bench/broker-window.mjs [--rate 1000] [--devices 50] [--inflight 0] [--kill-at 8000]
//     [--down 5000] [--after 8000] [--no-kill] [--ingest-reconnect 200] [--out file.json]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
require('reflect-metadata');
const { connect } = require('mqtt');
const dist = p => require(join(root, 'dist/libs', p));
const { startMosquitto } = dist('testing/src/index.js');
const { LocalSpool } = dist('server/src/lib/bus/spool/local-spool.js');
const { SpoolJournal } = dist('server/src/lib/bus/spool/spool-journal.js');
const { PubackGate } = dist('server/src/lib/ingest/puback-gate.js');
const { PipelineBus } = dist('server/src/lib/bus/pipeline-bus.js');
const { VigilMetrics } = dist('server/src/lib/metrics/metrics.js');
const { loadConfig } = dist('server/src/lib/config/vigil-config.js');

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    devices: { type: 'string', default: '50' },
    inflight: { type: 'string' },
    'kill-at': { type: 'string', default: '8000' },
    down: { type: 'string', default: '5000' },
    after: { type: 'string', default: '8000' },
    'no-kill': { type: 'boolean', default: false },
    out: { type: 'string' },
    // bootstrap.ts: 200 ms (mqtt.js' default, 1000, before the change)
    'ingest-reconnect': { type: 'string', default: '200' },
  },
});
const rate = Number(args.rate);
const deviceCount = Number(args.devices);
const killAt = Number(args['kill-at']);
const downMs = Number(args.down);
const extraConfig = args.inflight === undefined ? [] : [`max_inflight_messages ${args.inflight}`];

const work = mkdtempSync(join(tmpdir(), 'vigil-broker-window-'));
let mosquitto = await startMosquitto({ extraConfig });
const port = mosquitto.port;
const config = loadConfig({
  VIGIL_DATA_DIR: work,
  VIGIL_INFLUX_MODE: 'external',
  VIGIL_INFLUX_URL: 'http://127.0.0.1:9',
  VIGIL_LOG_LEVEL: 'error',
});
const spool = new LocalSpool(config, new PipelineBus(), new VigilMetrics());
const journal = new SpoolJournal(spool);

// Ingest: the options bootstrap.ts gives it (persistent session, protocol 4, QoS 1).
const ingest = connect(mosquitto.url, {
  clientId: 'vigil-ingest-window',
  clean: false,
  protocolVersion: 4,
  reconnectPeriod: Number(args['ingest-reconnect']),
});
const gate = new PubackGate(ingest);
const received = new Set();
let receivedCount = 0;
let durableCount = 0;
ingest.on('error', () => undefined);
ingest.on('message', (topic, payload, packet) => {
  const release = gate.hold(packet);
  const key = `${topic}#${payload.toString()}`;
  if (!received.has(key)) receivedCount += 1;
  received.add(key);
  journal.append({ siteId: 's', deviceId: topic, msgId: key, records: [] }).then(() => {
    durableCount += 1;
    release();
  });
});
await new Promise(resolve => ingest.once('connect', resolve));
await new Promise((resolve, reject) =>
  ingest.subscribe('vigil/v1/#', { qos: 1 }, e => (e ? reject(e) : resolve())),
);

// Devices: the fault suite's (persistent sessions, reconnect every 500 ms, QoS 1).
const devices = [];
for (let i = 0; i < deviceCount; i += 1) {
  const client = connect(mosquitto.url, {
    clientId: `window-device-${i}`,
    clean: false,
    reconnectPeriod: 500,
    protocolVersion: 4,
  });
  client.on('error', () => undefined);
  devices.push({ client, topic: `vigil/v1/site/d${i}/telemetry`, seq: 0 });
}
await Promise.all(devices.map(d => new Promise(r => d.client.once('connect', r))));

const acked = new Map(); // key -> phase ('before' | 'down' | 'after')
let phase = 'before';
let ackedCount = 0;
let offered = 0;
const samples = [];
const t0 = Date.now();
let killedAt;
let restartedAt;
const sampler = setInterval(() => {
  samples.push({
    t: Date.now() - t0,
    phase,
    inBroker: ackedCount - receivedCount,
    inIngest: receivedCount - durableCount,
    gateWaiting: gate.waiting,
  });
}, 100);

const periodMs = 10;
const perTick = (rate * periodMs) / 1000;
let cursor = 0;
const loadMs = (args['no-kill'] ? killAt : killAt + downMs) + Number(args.after);
const ticker = setInterval(() => {
  for (let n = 0; n < perTick; n += 1) {
    const device = devices[cursor % devices.length];
    cursor += 1;
    device.seq += 1;
    const key = `${device.topic}#${device.seq}`;
    offered += 1;
    device.client.publish(device.topic, String(device.seq), { qos: 1 }, error => {
      if (error) return;
      ackedCount += 1;
      acked.set(key, phase);
    });
  }
}, periodMs);

if (!args['no-kill']) {
  await sleep(killAt);
  mosquitto.kill('SIGKILL');
  await mosquitto.exited;
  killedAt = Date.now() - t0;
  phase = 'down';
  await sleep(downMs);
  await mosquitto.stop();
  mosquitto = await startMosquitto({ port, extraConfig });
  restartedAt = Date.now() - t0;
  phase = 'after';
}
await sleep(loadMs - (Date.now() - t0));
clearInterval(ticker);
// Drain: everything offered acknowledged, and ingest quiet for 2 s.
const deadline = Date.now() + 30_000;
while (ackedCount < offered && Date.now() < deadline) await sleep(100);
let last = -1;
while (last !== receivedCount && Date.now() < deadline) {
  last = receivedCount;
  await sleep(2000);
}
clearInterval(sampler);

const lost = { before: 0, down: 0, after: 0 };
for (const [key, when] of acked) if (!received.has(key)) lost[when] += 1;
const steady = samples.filter(s => s.phase === 'before' && s.t > 1000);
const max = (rows, field) => rows.reduce((m, s) => Math.max(m, s[field]), 0);
const mean = (rows, field) => rows.reduce((m, s) => m + s[field], 0) / Math.max(1, rows.length);
const beforeKill = samples.filter(s => s.phase === 'before').at(-1);
const result = {
  rate,
  devices: deviceCount,
  maxInflightMessages: args.inflight ?? '0 (harness default)',
  fsyncMs: config.bus.spool.fsyncMs,
  offered,
  pubacked: ackedCount,
  received: receivedCount,
  steady: {
    inBrokerMean: Math.round(mean(steady, 'inBroker')),
    inBrokerMax: max(steady, 'inBroker'),
    inIngestMean: Math.round(mean(steady, 'inIngest')),
    inIngestMax: max(steady, 'inIngest'),
  },
  lastSampleBeforeKill: beforeKill,
  killedAt,
  restartedAt,
  lostPubacked: lost,
};
console.log(JSON.stringify(result, null, 2));
if (args.out) writeFileSync(args.out, JSON.stringify({ result, samples }, null, 2));

for (const d of devices) d.client.end(true);
ingest.end(true);
await spool.onModuleDestroy();
await mosquitto.stop();
rmSync(work, { recursive: true, force: true });
process.exit(0);

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, Math.max(0, ms)));
}
