import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import { freePort, waitFor } from '@vigil/testing';

import { REPO_ROOT, SAMPLE_REGISTRY, WsRecorder, mqttClient, telemetry } from './support';

/**
 * Issue 10 finding 3, on the built process (`npm run build` first): SIGHUP, the documented reload
 * of separate processes, used to run Nest's shutdown hooks (HTTP, WebSocket, ingest and rules
 * closed while the process and its embedded broker stayed up). Now it reloads the registry, a
 * refused reload is logged with every problem and changes nothing, and the process keeps raising
 * alarms. A bad registry at start ends the process with exit code 2 and every problem listed.
 */

const SITE_FILE = 'site-plant-1.yaml';
const TANK_FARM = `        polygon: [[20, 160], [180, 160], [180, 280], [20, 280]]
        maxPeople: 3`;
const CROWDING_TYPO = `${TANK_FARM}\n        rules: { crowding: { minpeople: 2 } }`;
const GC_TF_03 =
  '{ id: gc-tf-03, class: gas-combustible, profile: catalytic-ch4, area: tank-farm, position: [150, 250], name: 罐区可燃气 3 }';

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function startBuilt(env: Record<string, string>): Running {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/vigil/src/main.js')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', chunk => (output += String(chunk)));
  child.stderr?.on('data', chunk => (output += String(chunk)));
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
  return { child, output: () => output, exited };
}

async function environment(registryDir: string): Promise<Record<string, string>> {
  return {
    VIGIL_HTTP_PORT: String(await freePort()),
    VIGIL_MQTT_PORT: String(await freePort()),
    VIGIL_INFLUX_MODE: 'off',
    VIGIL_REGISTRY: registryDir,
    VIGIL_DATA_DIR: join(registryDir, 'data'),
    VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
    VIGIL_RULE_TICK_MS: '200',
    VIGIL_LOG_LEVEL: 'log',
  };
}

function registryCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sighup-'));
  cpSync(SAMPLE_REGISTRY, dir, { recursive: true });
  return dir;
}

function edit(dir: string, change: (site: string) => string): void {
  const file = join(dir, SITE_FILE);
  writeFileSync(file, change(readFileSync(join(SAMPLE_REGISTRY, SITE_FILE), 'utf8')));
}

function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`sample registry changed: "${from}" not found`);
  return text.replace(from, to);
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
  await running.exited;
  clearTimeout(timer);
}

describe('finding 3: SIGHUP reloads in the built process and never tears it down', () => {
  const dirs: string[] = [];
  let vigil: Running | undefined;
  let device: MqttClient | undefined;
  let ws: WsRecorder | undefined;

  afterAll(async () => {
    ws?.close();
    await device?.endAsync().catch(() => undefined);
    await stop(vigil);
    dirs.forEach(dir => rmSync(dir, { recursive: true, force: true }));
  });

  it('exits 2 at start, listing every problem of the registry', async () => {
    const dir = registryCopy();
    dirs.push(dir);
    edit(dir, site =>
      replaceOnce(
        replaceOnce(site, TANK_FARM, CROWDING_TYPO),
        'attributes: { gas: CH4, rangeLow: 0, rangeHigh: 100 }',
        'attributes: { rangeLow: 0, rangeHigh: 100, unit_lel: "%volume" }',
      ),
    );
    const bad = startBuilt(await environment(dir));
    const timer = setTimeout(() => bad.child.kill('SIGKILL'), 60_000);
    expect(await bad.exited).toBe(2);
    clearTimeout(timer);
    const output = bad.output();
    expect(output).toMatch(
      /rules\.crowding: Unrecognized key: "minpeople"; did you mean "minPeople"\?/,
    );
    expect(output).toMatch(
      /gc-tf-01\.attributes\.gas: a combustible-gas detector must name its gas/,
    );
    expect(output).toMatch(/gc-tf-01\.attributes\.unit_lel: unknown unit "%volume"/);
  });

  it('keeps raising alarms through SIGHUP, refuses a broken registry, applies a fixed one', async () => {
    const dir = registryCopy();
    dirs.push(dir);
    const env = await environment(dir);
    const httpUrl = `http://127.0.0.1:${env['VIGIL_HTTP_PORT']}`;
    vigil = startBuilt(env);
    const running = vigil;
    await waitFor(
      async () => (await fetch(`${httpUrl}/healthz`).catch(() => undefined))?.status === 200,
      { what: 'the built Vigil answering', timeoutMs: 60_000 },
    );
    ws = await WsRecorder.open(httpUrl);
    device = await mqttClient(`mqtt://127.0.0.1:${env['VIGIL_MQTT_PORT']}`);
    const recorder = ws;
    const client = device;
    let seq = 0;

    const raises = async (deviceId: string, lel: number, level: string) => {
      seq += 1;
      await client.publishAsync(`vigil/v1/plant-1/${deviceId}/telemetry`, telemetry({ lel }, seq), {
        qos: 1,
      });
      return waitFor(
        () => recorder.alarms().find(m => m.alarm.deviceId === deviceId && m.alarm.level === level),
        { what: `${level} on ${deviceId}`, timeoutMs: 15_000 },
      );
    };
    const logged = (pattern: RegExp, what: string) =>
      waitFor(() => pattern.test(running.output()), { what, timeoutMs: 15_000 });

    // A plain SIGHUP: reloads, and alarms keep coming over the same WebSocket.
    running.child.kill('SIGHUP');
    await logged(/SIGHUP: registry reloaded/, 'the SIGHUP reload');
    await raises('gc-tf-01', 90, 'L2');

    // A broken registry: refused, every problem logged, the process keeps evaluating.
    edit(dir, site => replaceOnce(site, TANK_FARM, CROWDING_TYPO));
    running.child.kill('SIGHUP');
    await logged(/registry reload refused[\s\S]*did you mean "minPeople"/, 'the refused reload');
    await raises('gc-tf-02', 90, 'L2');
    // …and /readyz says the files on disk are not what runs, until a reload applies.
    const readyz = async () =>
      (await (await fetch(`${httpUrl}/readyz`)).json()) as {
        details?: { registry?: { reloadRefused: boolean; problems: string[] } };
      };
    const refusedReport = (await readyz()).details?.registry;
    expect(refusedReport?.reloadRefused).toBe(true);
    expect(refusedReport?.problems.join('\n')).toMatch(/minPeople/);

    // Fixed, with gc-tf-03's first level lowered to 10 %LEL: the next SIGHUP applies it.
    edit(dir, site =>
      replaceOnce(
        site,
        GC_TF_03,
        GC_TF_03.replace(' }', ', rules: { gas-l1: { setpoint: 10, deadband: 2 } } }'),
      ),
    );
    const reloads = running.output().match(/SIGHUP: registry reloaded/g)?.length ?? 0;
    running.child.kill('SIGHUP');
    await waitFor(
      () => (running.output().match(/SIGHUP: registry reloaded/g)?.length ?? 0) > reloads,
      { what: 'the second SIGHUP reload', timeoutMs: 15_000 },
    );
    const l1 = await raises('gc-tf-03', 12, 'L1');
    expect(l1.alarm.threshold).toBe(10);
    expect((await readyz()).details?.registry).toBeUndefined();

    expect(running.child.exitCode).toBeNull();
    expect((await fetch(`${httpUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/vigil_registry_reloads_total\{result="refused"\} 1/);
    expect(metrics).toMatch(/vigil_registry_reloads_total\{result="applied"\} 2/);
  });
});
