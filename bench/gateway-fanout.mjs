#!/usr/bin/env node
// `node bench/gateway-fanout.mjs [--updates N] [--clients 1,10,50]`: how many alarm messages per
// second one gateway on the JetStream backbone (VIGIL_BUS=jetstream) fans out to N WebSocket
// consoles. Starts its own nats-server (JetStream) and mosquitto on free loopback ports and the
// built gateway (dist/apps/gateway) as its own process; publishes N alarm updates to VIGIL_ALARMS
// as the rules would (pipelined) and times until every console has all of them. Reports updates/s
// in, messages/s out and the gateway's CPU. Writes bench/out/gateway-fanout.json; needs the build.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect } from 'nats';
import WebSocket from 'ws';

import { argValue, cpuTicks, freePort, root, sleep } from './script-common.mjs';

const require = createRequire(import.meta.url);
const { applySignal } = require(join(root, 'dist/libs/alarms/src/index.js'));
const UPDATES = Number(argValue('updates', '3000'));
const CLIENTS = argValue('clients', '1,10,50').split(',').map(Number);

const cpuSeconds = pid => cpuTicks(pid) / 100; // clock ticks of 10 ms

const children = [];
const start = (command, args, env = {}) => {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
};
process.on('exit', () => children.forEach(child => child.kill('SIGKILL')));

const dir = mkdtempSync(join(tmpdir(), 'vigil-fanout-'));
const [natsPort, mqttPort, httpPort] = [await freePort(), await freePort(), await freePort()];
start('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', join(dir, 'js')]);
writeFileSync(join(dir, 'm.conf'), `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\n`);
start('mosquitto', ['-c', join(dir, 'm.conf')]);
await sleep(500);
const gateway = start(process.execPath, [join(root, 'dist/apps/gateway/src/main.js')], {
  VIGIL_BUS: 'jetstream',
  VIGIL_NATS_URL: `nats://127.0.0.1:${natsPort}`,
  VIGIL_MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
  VIGIL_INFLUX_MODE: 'off',
  VIGIL_CANARY_INTERVAL_MS: '0',
  VIGIL_REGISTRY: join(root, 'registry/sample'),
  VIGIL_DATA_DIR: join(dir, 'data'),
  VIGIL_CONSOLE_DIR: join(root, 'dist/apps/console'),
  VIGIL_HTTP_PORT: String(httpPort),
  VIGIL_LOG_LEVEL: 'error',
});
const url = `http://127.0.0.1:${httpPort}`;
for (let i = 0; ; i += 1) {
  if ((await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200) break;
  if (i > 600) throw new Error('the gateway did not start');
  await sleep(100);
}
const nc = await connect({ servers: `nats://127.0.0.1:${natsPort}` });
const js = nc.jetstream();

let serial = 0;
function update() {
  serial += 1;
  const now = Date.now();
  return applySignal(
    undefined,
    {
      key: `plant-1/gt-ru-h2s/bench-${serial}`,
      ruleId: 'gas-l2',
      siteId: 'plant-1',
      deviceId: 'gt-ru-h2s',
      deviceClass: 'gas-toxic',
      category: 'process',
      priority: 1,
      level: 'L2',
      active: true,
      latched: false,
      metric: 'ppm',
      value: 16,
      threshold: 10,
      message: 'H2S 16 ppm (L2 10 ppm)',
      at: now,
      detectedAt: now,
    },
    { newId: () => `bench-${serial}` },
  );
}

const rows = [];
for (const clientCount of CLIENTS) {
  const sockets = [];
  const counts = new Array(clientCount).fill(0);
  for (let i = 0; i < clientCount; i += 1) {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    socket.on('message', data => {
      if (String(data).startsWith('{"type":"alarm"')) counts[i] += 1;
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    sockets.push(socket);
  }
  await sleep(500);
  const payloads = Array.from({ length: UPDATES }, () => JSON.stringify(update()));
  const bytes = payloads.reduce((sum, p) => sum + p.length, 0) / UPDATES;
  const cpuBefore = cpuSeconds(gateway.pid);
  const started = performance.now();
  for (let i = 0; i < UPDATES; i += 200)
    await Promise.all(
      payloads
        .slice(i, i + 200)
        .map((p, j) =>
          js.publish(`vigil.alarms.0.plant-1.bench-${serial - UPDATES + i + j + 1}`, p),
        ),
    );
  const published = performance.now();
  while (counts.some(count => count < UPDATES)) await sleep(5);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(gateway.pid) - cpuBefore;
  rows.push({
    clients: clientCount,
    updates: UPDATES,
    alarmBytes: Math.round(bytes),
    seconds: Number(seconds.toFixed(2)),
    publishSeconds: Number(((published - started) / 1000).toFixed(2)),
    updatesPerSecond: Math.round(UPDATES / seconds),
    messagesOutPerSecond: Math.round((UPDATES * clientCount) / seconds),
    gatewayCpuSeconds: Number(cpu.toFixed(2)),
    gatewayCpuPct: Math.round((cpu / seconds) * 100),
  });
  for (const socket of sockets) socket.terminate();
  await sleep(300);
}
await nc.close();

mkdirSync(join(root, 'bench/out'), { recursive: true });
const result = { at: new Date().toISOString(), host: `${process.platform} ${process.arch}`, rows };
writeFileSync(join(root, 'bench/out/gateway-fanout.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  '| consoles | alarm updates | bytes each | updates/s in | alarm messages/s out | gateway CPU |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.clients} | ${r.updates} | ${r.alarmBytes} | ${r.updatesPerSecond} | ${r.messagesOutPerSecond} | ${r.gatewayCpuPct} % |`,
  );
process.exit(0);
