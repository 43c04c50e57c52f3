#!/usr/bin/env node
// `npm start`: builds Vigil, then runs every service in one process with the sample site, the
// device simulator and the console. Ports come from VIGIL_HTTP_PORT / VIGIL_MQTT_PORT.
// `--fresh` (or VIGIL_FRESH=1) moves the alarm journal of earlier runs aside (never deletes it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const fresh =
  process.argv.includes('--fresh') || ['1', 'true', 'yes'].includes(env.VIGIL_FRESH ?? '');
// Read here only: Vigil itself does not know the variable.
delete env.VIGIL_FRESH;
const httpHost = env.VIGIL_HTTP_HOST ?? '127.0.0.1';
const httpPort = env.VIGIL_HTTP_PORT ?? '8080';
const httpUrl = `http://${httpHost}:${httpPort}`;
const mqttUrl = env.VIGIL_MQTT_URL ?? `mqtt://127.0.0.1:${env.VIGIL_MQTT_PORT ?? '1883'}`;

const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
  stdio: 'inherit',
  cwd: root,
});
if (built.status !== 0) process.exit(built.status ?? 1);

if (fresh) {
  const alarms = resolve(root, env.VIGIL_DATA_DIR ?? 'data', 'alarms');
  if (existsSync(alarms)) {
    const aside = `${alarms}.before-fresh-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(alarms, aside);
    console.log(`[start] --fresh: earlier alarms moved aside to ${aside}`);
  } else {
    console.log('[start] --fresh: no earlier alarms to move aside');
  }
}

const children = [];
let stopping = false;
let exitCode = 0;
function run(name, args) {
  const child = spawn(process.execPath, ['--enable-source-maps', ...args], {
    cwd: root,
    env,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    children.splice(children.indexOf(child), 1);
    // Exit code 2 is a refusal the child has already explained in one line (busy port, bad
    // configuration): no second message.
    if (!stopping && code !== 2)
      console.log(`[start] ${name} exited (${signal ?? `code ${code}`})`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

function shutdown(code) {
  if (!stopping) {
    stopping = true;
    exitCode = code;
    for (const child of children) child.kill('SIGTERM');
    // Vigil stops InfluxDB and closes its journal within seconds; never hang the terminal.
    setTimeout(() => {
      for (const child of children) child.kill('SIGKILL');
      process.exit(exitCode);
    }, 20_000).unref();
  }
  if (children.length === 0) process.exit(exitCode);
}
// Ctrl+C reaches every process of the terminal's group; the children stop themselves in order.
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

run('vigil', [join(root, 'dist/apps/vigil/src/main.js')]);

const waitForHttp = async () => {
  for (let i = 0; i < 300 && !stopping; i += 1) {
    try {
      const response = await fetch(`${httpUrl}/healthz`);
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise(done => setTimeout(done, 200));
  }
  return false;
};

async function openAlarms() {
  try {
    const response = await fetch(`${httpUrl}/api/v1/alarms?state=open`);
    if (!response.ok) return undefined;
    const alarms = await response.json();
    return Array.isArray(alarms) ? alarms.length : undefined;
  } catch {
    return undefined;
  }
}

if (await waitForHttp()) {
  const restoredAlarms = await openAlarms();
  // Start the sample fleet with a scripted leak so the console shows an alarm within the first
  // minute; its periodic summary stays off (`--quiet`), `stats` on stdin prints one.
  const simulator = run('simulator', [
    join(root, 'dist/simulators/fleet/src/main.js'),
    '--url',
    mqttUrl,
    '--registry',
    env.VIGIL_REGISTRY ?? join(root, 'registry/sample'),
    '--leak-after',
    '45:gc-tf-02',
    '--quiet',
  ]);
  process.stdin.pipe(simulator.stdin);
  const { formatBanner } = createRequire(import.meta.url)(
    join(root, 'dist/libs/server/src/lib/banner.js'),
  );
  console.log(
    formatBanner({
      httpUrl,
      mqttUrl,
      demoMode: !['false', '0', 'no', 'off'].includes(env.VIGIL_DEMO_MODE ?? 'true'),
      restoredAlarms,
      simulator: true,
    }),
  );
} else if (!stopping) {
  console.error(`[start] the gateway did not answer on ${httpUrl}/healthz; see the log above`);
  shutdown(1);
}
