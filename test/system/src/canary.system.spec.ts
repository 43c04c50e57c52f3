import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { CanaryHop, PipelineStatus, ServerMessage } from '@vigil/contracts';
import {
  freePort,
  startInfluxd,
  startMosquitto,
  waitFor,
  type InfluxHandle,
  type MosquittoHandle,
} from '@vigil/testing';

import { node, requireBuildAndBrowser, stop, type LoggedChild } from './console-browser';
import { REPO_ROOT, SAMPLE_REGISTRY, WsRecorder } from './support';

/** The bound: a stalled hop is detected within 10 s (default canary: 2 s / 6 s). */
const DETECT_WITHIN_MS = 10_000;

type Heartbeat = Extract<ServerMessage, { type: 'heartbeat' }>;
type Readiness = { status: string; checks: Record<string, boolean>; pipeline?: PipelineStatus };

/**
 * Watch the watcher (issue 10): every service in a process of its own on a real Mosquitto and a
 * real influxd, with the default canary. Stopping the rules process (SIGSTOP: alive, silent) or
 * the influxd (writes hang) raises a P1 alarm on the console naming the hop within 10 s, fails
 * /readyz with the hop in its body, logs it and counts it; resuming clears it.
 */
describe('the pipeline canary on separate processes', () => {
  let influx: InfluxHandle;
  let mosquitto: MosquittoHandle;
  const services: Partial<Record<'ingest' | 'rules' | 'persister' | 'gateway', LoggedChild>> = {};
  let gatewayUrl: string;
  let ws: WsRecorder;

  async function startService(name: 'ingest' | 'rules' | 'persister' | 'gateway'): Promise<string> {
    const port = await freePort();
    services[name] = node(`dist/apps/${name}/src/main.js`, [], {
      VIGIL_MQTT_URL: mosquitto.url,
      // The legacy MQTT bus: the canary's stall detection is transport-independent.
      VIGIL_BUS: 'mqtt',
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), `vigil-canary-${name}-`)),
      VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
      VIGIL_HTTP_PORT: String(port),
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_LOG_LEVEL: 'warn',
    });
    return `http://127.0.0.1:${port}`;
  }

  const readiness = async (): Promise<{ code: number; body: Readiness }> => {
    const response = await fetch(`${gatewayUrl}/readyz`);
    return { code: response.status, body: (await response.json()) as Readiness };
  };

  const heartbeats = (from: number): Heartbeat[] =>
    ws.messages.slice(from).filter((m): m is Heartbeat => m.type === 'heartbeat');

  const stallAlarm = (from: number, hop: CanaryHop) =>
    ws.messages
      .slice(from)
      .find(
        m =>
          m.type === 'alarm' &&
          m.alarm.ruleId === 'pipeline-stalled' &&
          m.alarm.level === hop &&
          m.alarm.conditionActive,
      );

  async function metric(name: string, hop: CanaryHop): Promise<number> {
    const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
    const line = text.split('\n').find(l => l.startsWith(`${name}{hop="${hop}"}`));
    return Number(line?.split(' ')[1] ?? Number.NaN);
  }

  async function allHopsOk(): Promise<void> {
    await waitFor(
      async () => {
        const { code, body } = await readiness();
        // lastCanaryAt: a canary has crossed every hop (not merely none overdue yet).
        return (
          code === 200 &&
          body.pipeline?.canary === 'ok' &&
          (body.pipeline.lastCanaryAt ?? 0) > Date.now() - 5000
        );
      },
      {
        what: `every hop seeing canaries (gateway log: ${services.gateway?.log.join('').slice(-1500)})`,
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
  }

  beforeAll(async () => {
    requireBuildAndBrowser();
    [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
    gatewayUrl = await startService('gateway');
    await Promise.all([startService('ingest'), startService('rules'), startService('persister')]);
    await waitFor(
      async () => (await fetch(`${gatewayUrl}/healthz`).catch(() => undefined))?.status === 200,
      { what: 'the gateway process', timeoutMs: 30_000, intervalMs: 100 },
    );
    await allHopsOk();
    ws = await WsRecorder.open(gatewayUrl);
  });

  afterAll(async () => {
    ws?.close();
    for (const child of Object.values(services)) {
      child?.kill('SIGCONT');
      await stop(child);
    }
    influx?.kill('SIGCONT');
    await mosquitto?.stop();
    await influx?.stop();
  });

  it('heartbeats every console with the pipeline status, all hops ok and the canary fresh', async () => {
    const from = ws.messages.length;
    const beat = await waitFor(() => heartbeats(from)[0], { what: 'a heartbeat' });
    expect(beat.pipeline).toMatchObject({ canary: 'ok', stalled: [], timeoutMs: 6000 });
    for (const hop of ['ingest', 'rules', 'gateway', 'persister'] as const) {
      expect(beat.pipeline.hops[hop].state).toBe('ok');
      expect(beat.pipeline.hops[hop].ageMs).toBeLessThan(6000);
    }
    expect(beat.pipeline.lastCanaryAt).toBeGreaterThan(Date.now() - 60_000);
    // The canary is never a device: not in the device list.
    const devices = (await (await fetch(`${gatewayUrl}/api/v1/devices`)).json()) as Array<{
      deviceId: string;
    }>;
    expect(devices.map(device => device.deviceId)).not.toContain('_canary');
  });

  it('detects a stopped rules process within 10 s, names it everywhere, and recovers', async () => {
    const rules = services.rules as LoggedChild;
    const from = ws.messages.length;
    const stallsBefore = await metric('vigil_canary_stalls_total', 'rules');
    const stoppedAt = Date.now();
    rules.kill('SIGSTOP');

    const raised = await waitFor(() => stallAlarm(from, 'rules'), {
      what: 'a P1 alarm naming the stalled rules hop',
      timeoutMs: DETECT_WITHIN_MS,
      intervalMs: 100,
    });
    const detectedAfterMs = Date.now() - stoppedAt;
    expect(raised).toMatchObject({
      alarm: { priority: 1, state: 'active-unacknowledged', deviceId: '_canary' },
    });
    if (raised.type === 'alarm') expect(raised.alarm.message).toMatch(/stalled at rules/);
    const { code, body } = await readiness();
    expect(code).toBe(503);
    expect(body.checks.pipeline).toBe(false);
    expect(body.pipeline?.stalled).toEqual(['rules']);
    expect(await metric('vigil_canary_stalls_total', 'rules')).toBeGreaterThan(stallsBefore);
    expect(await metric('vigil_canary_age_seconds', 'rules')).toBeGreaterThan(6);
    expect(services.gateway?.log.join('')).toMatch(/PIPELINE STALLED at rules/);
    await waitFor(() => heartbeats(from).some(beat => beat.pipeline.stalled.includes('rules')), {
      what: 'a heartbeat naming the rules hop',
    });
    process.stdout.write(`canary: stopped rules process detected after ${detectedAfterMs} ms\n`);

    const resumedFrom = ws.messages.length;
    rules.kill('SIGCONT');
    await waitFor(
      () =>
        ws.messages
          .slice(resumedFrom)
          .some(
            m =>
              m.type === 'alarm' &&
              m.alarm.ruleId === 'pipeline-stalled' &&
              m.alarm.level === 'rules' &&
              !m.alarm.conditionActive,
          ),
      { what: 'the rules stall alarm cleared', timeoutMs: 20_000 },
    );
    await allHopsOk();
  });

  it('detects a stalled InfluxDB (influxd stopped, writes hang) within 10 s at the persister hop', async () => {
    const from = ws.messages.length;
    const stoppedAt = Date.now();
    influx.kill('SIGSTOP');

    const raised = await waitFor(() => stallAlarm(from, 'persister'), {
      what: 'a P1 alarm naming the stalled persister hop',
      timeoutMs: DETECT_WITHIN_MS,
      intervalMs: 100,
    });
    const detectedAfterMs = Date.now() - stoppedAt;
    expect(raised).toMatchObject({ alarm: { priority: 1, level: 'persister' } });
    const { code, body } = await readiness();
    expect(code).toBe(503);
    expect(body.pipeline?.stalled).toEqual(['persister']);
    expect(services.gateway?.log.join('')).toMatch(/PIPELINE STALLED at persister/);
    process.stdout.write(`canary: stalled influxd detected after ${detectedAfterMs} ms\n`);

    influx.kill('SIGCONT');
    await allHopsOk();
  });
});
