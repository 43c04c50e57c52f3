#!/usr/bin/env node
// `node bench/login-flood.mjs [--rounds N] [--logins N]`: how long a gas L2 reading takes from its
// MQTT publish to the alarm on an operator's WebSocket, with and without a flood of bad logins
// (issue 11: with scrypt on the event loop, 200 parallel bad logins delayed it to 2.7–6.7 s).
// Runs the built Vigil (dist/apps/vigil) as its own process on free loopback ports, outside demo
// mode; writes bench/out/login-flood.json and prints a Markdown table. Needs `npm run build`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mqtt from 'mqtt';
import WebSocket from 'ws';

import { argValue, freePort, root, sleep } from './script-common.mjs';

const arg = (name, fallback) => Number(argValue(name, fallback));
const rounds = arg('rounds', 5);
const logins = arg('logins', 600);
const DETECTORS = ['gc-tf-01', 'gc-tf-02', 'gc-tf-03', 'gc-ru-01', 'gc-ru-02', 'gc-lb-01'];

function post(url, body, localAddress) {
  const target = new URL(url);
  const text = JSON.stringify(body);
  return new Promise(resolve => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
      },
      response => {
        let data = '';
        response.on('data', chunk => (data += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body: data }));
      },
    );
    req.on('error', () => resolve({ status: -1, body: '' }));
    req.end(text);
  });
}

const work = mkdtempSync(join(tmpdir(), 'vigil-bench-flood-'));
const { hashPassword } = (await import(join(root, 'dist/libs/server/src/lib/auth/passwords.js')))
  .default;
writeFileSync(
  join(work, 'users.yaml'),
  `users:\n  - { id: op1, name: Operator One, role: operator, scope: ent-huaxin, passwordHash: "${hashPassword('correct horse battery')}" }\n`,
);
// Outside demo mode the broker admits no anonymous device: one login per detector
// (docs/security.md), issued with the credentials CLI into the run's data directory.
execFileSync(
  process.execPath,
  [
    join(root, 'dist/apps/vigil/src/credentials.js'),
    'issue',
    ...DETECTORS.map(d => `plant-1/${d}`),
    '--secrets-out',
    join(work, 'device-secrets.json'),
  ],
  { cwd: root, env: { ...process.env, VIGIL_DATA_DIR: join(work, 'data') }, stdio: 'ignore' },
);
const deviceSecrets = JSON.parse(readFileSync(join(work, 'device-secrets.json'), 'utf8'));
const httpPort = await freePort();
const mqttPort = await freePort();
const vigil = spawn(process.execPath, [join(root, 'dist/apps/vigil/src/main.js')], {
  cwd: root,
  env: {
    ...process.env,
    VIGIL_DEMO_MODE: 'false',
    VIGIL_USERS: join(work, 'users.yaml'),
    VIGIL_AUTH_SECRET: 'a-bench-secret-of-at-least-32-characters',
    VIGIL_HTTP_PORT: String(httpPort),
    VIGIL_MQTT_PORT: String(mqttPort),
    VIGIL_INFLUX_MODE: 'off',
    VIGIL_DATA_DIR: join(work, 'data'),
    VIGIL_LOG_LEVEL: 'error',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const httpUrl = `http://127.0.0.1:${httpPort}`;
try {
  for (let i = 0; ; i += 1) {
    const ok = await fetch(`${httpUrl}/healthz`).then(
      r => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error('Vigil did not start');
    await sleep(100);
  }
  const { token } = JSON.parse(
    (
      await post(`${httpUrl}/api/v1/auth/login`, {
        username: 'op1',
        password: 'correct horse battery',
      })
    ).body,
  );
  const alarms = [];
  const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/ws?token=${token}`);
  socket.on('message', data => {
    const message = JSON.parse(data.toString());
    if (message.type === 'alarm') alarms.push({ at: Date.now(), alarm: message.alarm });
  });
  await new Promise(resolve => socket.once('open', resolve));
  const devices = new Map();
  for (const detector of DETECTORS) {
    const { username, secret } = deviceSecrets[`plant-1/${detector}`];
    devices.set(
      detector,
      await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username, password: secret }),
    );
  }

  let seq = 1;
  const measure = async (detector, lel) => {
    const sentAt = Date.now();
    await devices
      .get(detector)
      .publishAsync(
        `vigil/v1/plant-1/${detector}/telemetry`,
        JSON.stringify({ ts: sentAt, seq: seq++, values: { lel } }),
        { qos: 1 },
      );
    for (let i = 0; i < 600; i += 1) {
      const hit = alarms.find(
        a => a.at >= sentAt && a.alarm.deviceId === detector && a.alarm.level === 'L2',
      );
      if (hit) return hit.at - sentAt;
      await sleep(5);
    }
    return Number.NaN;
  };
  const clear = async detector => {
    await devices
      .get(detector)
      .publishAsync(
        `vigil/v1/plant-1/${detector}/telemetry`,
        JSON.stringify({ ts: Date.now(), seq: seq++, values: { lel: 0 } }),
        { qos: 1 },
      );
  };

  const quiet = [];
  const flooded = [];
  const answers = { 401: 0, 429: 0, 503: 0, other: 0 };
  for (let round = 0; round < rounds; round += 1) {
    const detector = DETECTORS[round % DETECTORS.length];
    quiet.push(await measure(detector, 60));
    await clear(detector);
    await sleep(500);
    const flood = Promise.all(
      Array.from({ length: logins }, (_, i) =>
        post(
          `${httpUrl}/api/v1/auth/login`,
          { username: i % 2 ? `nobody-${round}-${i}` : 'op1', password: 'wrong' },
          i % 2 ? `127.2.${round}.${i % 250}` : '127.0.0.1',
        ),
      ),
    );
    await sleep(50);
    flooded.push(await measure(DETECTORS[(round + 3) % DETECTORS.length], 60));
    for (const { status } of await flood) answers[status in answers ? status : 'other'] += 1;
    await clear(DETECTORS[(round + 3) % DETECTORS.length]);
    await sleep(500);
  }
  socket.close();
  await Promise.all([...devices.values()].map(device => device.endAsync()));

  const stats = values => {
    const sorted = [...values].sort((a, b) => a - b);
    return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) };
  };
  const result = {
    at: new Date().toISOString(),
    rounds,
    loginsPerFlood: logins,
    quietMs: stats(quiet),
    floodedMs: stats(flooded),
    answers,
  };
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/login-flood.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('| gas L2 publish → WebSocket alarm | min | median | max |');
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| quiet | ${result.quietMs.min} ms | ${result.quietMs.median} ms | ${result.quietMs.max} ms |`,
  );
  console.log(
    `| during ${logins} bad logins | ${result.floodedMs.min} ms | ${result.floodedMs.median} ms | ${result.floodedMs.max} ms |`,
  );
  console.log(`login answers over ${rounds} floods: ${JSON.stringify(answers)}`);
} finally {
  vigil.kill('SIGTERM');
  await sleep(500);
  rmSync(work, { recursive: true, force: true });
}
