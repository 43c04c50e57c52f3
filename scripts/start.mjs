#!/usr/bin/env node
// `npm start`: builds Vigil, then runs every service in one process with the sample site, the
// device simulator and the console. Ports come from VIGIL_HTTP_PORT / VIGIL_MQTT_PORT.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const httpPort = env.VIGIL_HTTP_PORT ?? '8080';
const mqttUrl = env.VIGIL_MQTT_URL ?? `mqtt://127.0.0.1:${env.VIGIL_MQTT_PORT ?? '1883'}`;

const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
  stdio: 'inherit',
  cwd: root,
});
if (built.status !== 0) process.exit(built.status ?? 1);

const children = [];
function run(name, args) {
  const child = spawn(process.execPath, ['--enable-source-maps', ...args], {
    cwd: root,
    env,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  child.on('exit', code => {
    console.log(`[start] ${name} exited with code ${code}`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

run('vigil', [join(root, 'dist/apps/vigil/src/main.js')]);

// Give the broker and services a moment, then start the sample fleet with a scripted leak so the
// console shows an alarm within the first minute of the demo.
const waitForHttp = async () => {
  for (let i = 0; i < 300; i += 1) {
    try {
      const response = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      if (response.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise(done => setTimeout(done, 200));
  }
  return false;
};
if (await waitForHttp()) {
  const simulator = run('simulator', [
    join(root, 'dist/simulators/fleet/src/main.js'),
    '--url',
    mqttUrl,
    '--registry',
    env.VIGIL_REGISTRY ?? join(root, 'registry/sample'),
    '--leak-after',
    '45:gc-tf-02',
  ]);
  process.stdin.pipe(simulator.stdin);
  console.log(
    `\n  Vigil is running. Console: http://127.0.0.1:${httpPort}/  API docs: http://127.0.0.1:${httpPort}/api/docs`,
  );
  console.log(
    '  Type "leak <deviceId>" (e.g. "leak gc-ru-01") and Enter to inject a gas leak; Ctrl+C stops.\n',
  );
} else {
  console.error('[start] the gateway did not come up; see the log above');
  shutdown(1);
}
