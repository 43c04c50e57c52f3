import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect as mqttConnect } from 'mqtt';

import { applySignal } from '@vigil/alarms';
import type { CanaryHop, PipelineStatus, RuleSignal, ServerMessage } from '@vigil/contracts';
import { loadConfig, openBackbone, partitionOf, type Backbone } from '@vigil/server';
import {
  freePort,
  startMosquitto,
  startNats,
  waitFor,
  type MosquittoHandle,
  type NatsHandle,
} from '@vigil/testing';

import { node, stop, type LoggedChild } from './console-browser';
import { REPO_ROOT, SAMPLE_REGISTRY, WsRecorder, loginAs } from './support';

type AlarmMessage = Extract<ServerMessage, { type: 'alarm' }>;

/**
 * Any number of gateways on the JetStream backbone (issue 12): two gateway processes follow
 * VIGIL_ALARMS; the seq of an alarm message is its stream sequence and the epoch names the
 * stream, so a console resumes on the other gateway, or on a restarted one, with exactly what
 * it missed; a gateway SIGKILLed under steady alarm traffic loses nothing for a console that
 * reconnects elsewhere. The test publishes the alarm updates to the stream as rules would.
 */
describe('gateways on the JetStream backbone', () => {
  let nats: NatsHandle;
  let mosquitto: MosquittoHandle;
  let backbone: Backbone;
  const gateways: LoggedChild[] = [];
  const recorders: WsRecorder[] = [];
  let published = 0;

  async function startGateway(
    env: Record<string, string> = {},
  ): Promise<{ child: LoggedChild; url: string }> {
    const port = await freePort();
    const child = node('dist/apps/gateway/src/main.js', [], {
      VIGIL_BUS: 'jetstream',
      VIGIL_NATS_URL: nats.url,
      VIGIL_INSTANCE: `gw-${port}`,
      VIGIL_MQTT_URL: mosquitto.url,
      VIGIL_CANARY_INTERVAL_MS: '0',
      VIGIL_INFLUX_MODE: 'off',
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-gw-')),
      VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
      VIGIL_HTTP_PORT: String(port),
      VIGIL_WS_REPLAY: '100', // the minimum: a resume from further back reads the stream
      VIGIL_LOG_LEVEL: 'warn',
      ...env,
    });
    gateways.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited: ${child.log.join('')}`);
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200 || undefined;
      },
      { what: `gateway on ${port}`, timeoutMs: 60_000 },
    );
    return { child, url };
  }

  async function open(url: string, query = ''): Promise<WsRecorder> {
    const recorder = await WsRecorder.open(url, query);
    recorders.push(recorder);
    return recorder;
  }

  /** One alarm update (a new alarm each time) published to VIGIL_ALARMS as rules does. */
  async function publishAlarm(): Promise<number> {
    published += 1;
    const signal: RuleSignal = {
      key: `plant-1/gt-ru-h2s/test-${published}`,
      ruleId: 'gas-l2',
      siteId: 'plant-1',
      deviceId: 'gt-ru-h2s',
      deviceClass: 'gas-toxic',
      areaId: undefined,
      category: 'process',
      priority: 1,
      level: 'L2',
      active: true,
      latched: false,
      metric: 'ppm',
      value: 16,
      threshold: 10,
      message: `test alarm ${published}`,
      at: Date.now(),
      detectedAt: Date.now(),
    };
    const update = applySignal(undefined, signal, { newId: () => `test-${published}` });
    if (!update) throw new Error('no transition');
    const ack = await backbone.js.publish(
      `vigil.alarms.0.plant-1.test-${published}`,
      JSON.stringify(update),
    );
    return ack.seq;
  }

  const seqs = (recorder: WsRecorder, from = 0) =>
    recorder.messages
      .slice(from)
      .filter((m): m is AlarmMessage => m.type === 'alarm')
      .map(m => m.seq);
  const hello = (recorder: WsRecorder) =>
    recorder.messages.find(m => m.type === 'hello') as Extract<ServerMessage, { type: 'hello' }>;
  const lastSeq = (recorder: WsRecorder) => recorder.messages.at(-1)?.seq ?? 0;
  const resumeQuery = (recorder: WsRecorder) =>
    `?lastSeq=${lastSeq(recorder)}&epoch=${encodeURIComponent(hello(recorder).epoch)}`;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/apps/gateway/src/main.js')))
      throw new Error(
        'dist/ is missing: the system tests depend on the build (node scripts/build.mjs)',
      );
    [nats, mosquitto] = await Promise.all([startNats(), startMosquitto()]);
    backbone = await openBackbone(
      loadConfig({ VIGIL_NATS_URL: nats.url, VIGIL_SERVICES: 'rules' }).bus.nats,
      'gateways-test',
    );
    for (let i = 0; i < 3; i += 1) await publishAlarm(); // open before any gateway starts
  }, 60_000);

  afterAll(async () => {
    for (const recorder of recorders) recorder.close();
    for (const child of gateways) await stop(child);
    await backbone?.close();
    await nats?.stop();
    await mosquitto?.stop();
  });

  it('two gateways show the same alarms with the same seqs; a console resumes on the other and on a restarted one with exactly what it missed', async () => {
    const [a, b] = await Promise.all([startGateway(), startGateway()]);
    const onA = await open(a.url);
    const onB = await open(b.url);
    // Both started from the stream's snapshot: the three alarms open before them.
    for (const recorder of [onA, onB]) {
      const snapshot = await waitFor(() => recorder.messages.find(m => m.type === 'snapshot'), {
        what: 'the snapshot',
      });
      expect(snapshot.type === 'snapshot' && snapshot.alarms.length).toBe(3);
    }
    expect(hello(onA).epoch).toBe(hello(onB).epoch);
    expect(hello(onA).epoch).toMatch(/^VIGIL_ALARMS@/);

    const live: number[] = [];
    for (let i = 0; i < 4; i += 1) live.push(await publishAlarm());
    await waitFor(() => (seqs(onA).length === 4 && seqs(onB).length === 4) || undefined, {
      what: 'the live updates on both gateways',
    });
    expect(seqs(onA)).toEqual(live);
    expect(seqs(onB)).toEqual(live);

    // The console on A drops; meanwhile 120 updates (more than B's ring of 100); it resumes on B.
    const query = resumeQuery(onA);
    onA.close();
    const missed: number[] = [];
    for (let i = 0; i < 120; i += 1) missed.push(await publishAlarm());
    await waitFor(() => seqs(onB).length === 124 || undefined, { what: 'B has them' });
    const resumed = await open(b.url, query);
    await waitFor(() => seqs(resumed).length >= 120 || undefined, { what: 'the replay on B' });
    expect(resumed.messages.some(m => m.type === 'snapshot')).toBe(false);
    expect(seqs(resumed)).toEqual(missed);

    // B restarts (its ring is gone); 3 more updates meanwhile; the console resumes on the new B.
    const again = resumeQuery(resumed);
    resumed.close();
    await stop(b.child);
    const whileDown: number[] = [];
    for (let i = 0; i < 3; i += 1) whileDown.push(await publishAlarm());
    const b2 = await startGateway();
    const afterRestart = await open(b2.url, again);
    await waitFor(() => seqs(afterRestart).length >= 3 || undefined, {
      what: 'the replay on the restarted gateway',
    });
    expect(afterRestart.messages.some(m => m.type === 'snapshot')).toBe(false);
    expect(seqs(afterRestart)).toEqual(whileDown);
    // And it keeps following.
    const next = await publishAlarm();
    await waitFor(() => seqs(afterRestart).includes(next) || undefined, { what: 'live after' });
    expect(seqs(afterRestart)).toEqual([...whileDown, next]);

    // No rules process owns plant-1's partition: an operator command is refused loudly (503
    // naming the partition), never lost silently.
    const zhang = await loginAs(b2.url, 'zhang');
    const response = await zhang.post(`/api/v1/alarms/test-${published}/acknowledge`, {});
    expect(response.status).toBe(503);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /partition \d+ has no rules owner/,
    );
  }, 180_000);

  it('SIGKILL of a gateway under steady alarm traffic loses nothing for a console that reconnects elsewhere', async () => {
    const [a, b] = await Promise.all([startGateway(), startGateway()]);
    const console1 = await open(a.url);
    const first = lastSeq(console1);
    const sent: number[] = [];
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        sent.push(await publishAlarm());
        await new Promise(resolve => setTimeout(resolve, 20));
      }
    })();
    await waitFor(() => seqs(console1).length >= 10 || undefined, { what: 'traffic on A' });
    a.child.kill('SIGKILL');
    // What A sent before it died is read first (a console resumes once its socket closed).
    await new Promise(resolve => setTimeout(resolve, 300));
    const query = resumeQuery(console1);
    const console2 = await open(b.url, query);
    await new Promise(resolve => setTimeout(resolve, 500));
    sending = false;
    await traffic;
    const last = sent.at(-1) ?? 0;
    await waitFor(() => seqs(console2).includes(last) || undefined, {
      what: 'the last update at the console on B',
    });
    const received = [...seqs(console1), ...seqs(console2)];
    expect(received).toEqual(sent.filter(seq => seq > first));
  }, 120_000);

  it('the canary works across processes: the gateway hop from vigil.records, the others from vigil.canary; a silent hop is a stall', async () => {
    const gateway = await startGateway({
      VIGIL_CANARY_INTERVAL_MS: '500',
      VIGIL_CANARY_TIMEOUT_MS: '2000',
    });
    // Play ingest, rules and the persister: each canary the gateway publishes on the broker goes
    // into the records stream (the gateway hop) and the three hops report it on vigil.canary.
    const silent = new Set<CanaryHop>();
    const device = mqttConnect(mosquitto.url);
    device.on('message', (_topic, payload) => {
      const { canary } = JSON.parse(payload.toString()) as {
        canary: { origin: string; seq: number; sentAt: number };
      };
      const stamp = { siteId: 'plant-1', ...canary, receivedAt: Date.now() };
      void backbone.js.publish(
        `vigil.records.${partitionOf('plant-1', 16)}.plant-1`,
        JSON.stringify([{ kind: 'canary', canary: stamp }]),
      );
      const reports = (['ingest', 'rules', 'persister'] as const)
        .filter(hop => !silent.has(hop))
        .map(hop => ({ hop, siteId: 'plant-1', ...canary, seenAt: Date.now() }));
      if (reports.length > 0) backbone.nc.publish('vigil.canary', JSON.stringify(reports));
    });
    await device.subscribeAsync('vigil/v1/+/_canary/telemetry');
    const pipeline = async () =>
      ((await (await fetch(`${gateway.url}/readyz`)).json()) as { pipeline?: PipelineStatus })
        .pipeline;
    try {
      await waitFor(
        async () => {
          const status = await pipeline();
          return (
            (status?.canary === 'ok' &&
              (['ingest', 'rules', 'gateway'] as const).every(
                hop => status.hops[hop].state === 'ok',
              )) ||
            undefined
          );
        },
        { what: 'every hop seeing canaries', timeoutMs: 20_000, intervalMs: 200 },
      );
      silent.add('rules');
      const stalled = await waitFor(
        async () => ((await pipeline())?.stalled.includes('rules') ? await pipeline() : undefined),
        { what: 'the rules hop stalled', timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(stalled?.stalled).toEqual(['rules']);
    } finally {
      await device.endAsync();
      await stop(gateway.child);
    }
  }, 120_000);
});
