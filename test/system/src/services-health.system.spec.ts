import type { ServerMessage } from '@vigil/contracts';
import type { RunningVigil } from '@vigil/server';
import {
  startInfluxd,
  startMosquitto,
  startNats,
  waitFor,
  type InfluxHandle,
  type MosquittoHandle,
  type NatsHandle,
} from '@vigil/testing';

import { WsRecorder, startSystem } from './support';

interface ReadyBody {
  status: string;
  checks: Record<string, boolean>;
  details?: {
    services?: {
      notReady: Array<{
        instance: string;
        services: string[];
        failing: Array<{ check: string; reason: string }>;
      }>;
    };
  };
}

/**
 * The split deployment's failing checks reach the operator's front (fault suite, 2026-12-07):
 * Mosquitto restarted without persistence loses ingest's persistent session; ingest's own
 * /readyz said 503 (`checks.ingest`), but the gateway's /readyz, which the console, the load
 * balancers and the fault suite watch, said 200 and the console showed nothing. Now every
 * process publishes its readiness to `vigil_health` and the gateway's /readyz and heartbeat
 * name it.
 */
describe('split services: a failing check of ingest shows on the gateway', () => {
  let influx: InfluxHandle;
  let mosquitto: MosquittoHandle;
  let nats: NatsHandle;
  const running: RunningVigil[] = [];
  let gateway: RunningVigil;
  let ingest: RunningVigil;
  let ws: WsRecorder;

  const start = async (services: string) => {
    const system = await startSystem({
      influxUrl: influx.url,
      mqttUrl: mosquitto.url,
      services,
      env: { VIGIL_BUS: 'jetstream', VIGIL_NATS_URL: nats.url, VIGIL_INSTANCE: `${services}-1` },
    });
    running.push(system);
    return system;
  };

  const readyz = async (system: RunningVigil) => {
    const response = await fetch(`${system.httpUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as ReadyBody };
  };

  beforeAll(async () => {
    [influx, mosquitto, nats] = await Promise.all([startInfluxd(), startMosquitto(), startNats()]);
    gateway = await start('gateway');
    await start('persister');
    await start('rules');
    ingest = await start('ingest');
    ws = await WsRecorder.open(gateway.httpUrl);
  }, 90_000);

  afterAll(async () => {
    ws?.close();
    for (const system of running.reverse()) await system.stop();
    await nats?.stop();
    await mosquitto?.stop();
    await influx?.stop();
  });

  it("answers 503 on the gateway's /readyz, naming ingest and its check, and tells the console, when the broker lost ingest's session", async () => {
    await waitFor(async () => (await readyz(gateway)).status === 200, {
      what: 'the gateway ready with every process ready',
      timeoutMs: 30_000,
    });
    expect((await readyz(gateway)).body.checks['services']).toBe(true);

    // The broker restarts without persistence on the same port: ingest's session is gone.
    const port = mosquitto.port;
    await mosquitto.stop();
    mosquitto = await startMosquitto({ port });

    const own = await waitFor(
      async () => {
        const answer = await readyz(ingest);
        return answer.body.checks['ingest'] === false ? answer : undefined;
      },
      { what: "ingest's own /readyz to report the lost session", timeoutMs: 30_000 },
    );
    expect(own.status).toBe(503);

    const front = await waitFor(
      async () => {
        const answer = await readyz(gateway);
        // Other processes may list their broker check for a moment while they reconnect: wait
        // for the state the test is about, ingest alone with its lost session.
        const notReady = answer.body.details?.services?.notReady ?? [];
        return answer.body.checks['services'] === false &&
          notReady.length === 1 &&
          notReady[0]?.instance === 'ingest-1' &&
          notReady[0].failing.some(failing => failing.check === 'ingest')
          ? answer
          : undefined;
      },
      { what: "the gateway's /readyz to name ingest", timeoutMs: 15_000 },
    );
    expect(front.status).toBe(503);
    expect(front.body.details?.services?.notReady).toEqual([
      expect.objectContaining({
        instance: 'ingest-1',
        services: ['ingest'],
        failing: expect.arrayContaining([
          expect.objectContaining({
            check: 'ingest',
            reason: expect.stringContaining("lost ingest's persistent session"),
          }),
        ]),
      }),
    ]);

    // The heartbeats after that (during the start, the processes still starting were listed).
    const from = ws.messages.length;
    const beat = await waitFor(
      () =>
        ws.messages
          .slice(from)
          .find(
            (message): message is Extract<ServerMessage, { type: 'heartbeat' }> =>
              message.type === 'heartbeat',
          ),
      { what: 'a heartbeat after the gateway named ingest', timeoutMs: 10_000 },
    );
    expect(beat.services).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          instance: 'ingest-1',
          services: ['ingest'],
          failing: expect.arrayContaining([expect.objectContaining({ check: 'ingest' })]),
        }),
      ]),
    );
  }, 120_000);
});
