import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect, type MqttClient } from 'mqtt';

import { startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import { startSystem, telemetry, writeFleetRegistry } from './support';

const DEVICES = 20;
const SITE = 'storm';
const deviceId = (i: number) => `gc-${String(i).padStart(3, '0')}`;
/** Per device: normal, over L2 (raise), back to normal (clear), over again, normal: order matters. */
const PATTERN = [5, 5, 60, 60, 5, 5, 60, 5] as const;
const ROUNDS = 12;

/** Sums of Prometheus series by metric name (labels summed). */
async function metrics(httpUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (match?.[1] && match[2]) sums[match[1]] = (sums[match[1]] ?? 0) + Number(match[2]);
  }
  return sums;
}

/**
 * All-in-one (VIGIL_BUS=memory) start order: at a restart Mosquitto holds a backlog for ingest's
 * persistent session. Ingest may take it only once the rule state is restored and the spool
 * replayed (docs/reliability.md, "Start and stop order"): every reading is evaluated exactly
 * once and in order (no late or out-of-order reading), and /readyz says `starting` until then.
 * Vigil in this process on a real Mosquitto; InfluxDB off.
 */
describe('all-in-one start order: a broker backlog at restart', () => {
  let mosquitto: MosquittoHandle | undefined;
  let work: string;
  let device: MqttClient | undefined;
  let vigil: Awaited<ReturnType<typeof startSystem>> | undefined;

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'vigil-start-order-'));
    writeFleetRegistry(
      work,
      Array.from({ length: DEVICES }, (_, i) => deviceId(i)),
    );
    // No limit on what the broker queues for an offline persistent session (default 1000).
    mosquitto = await startMosquitto({ extraConfig: ['max_queued_messages 0'] });
  });

  afterEach(async () => {
    await device?.endAsync(true).catch(() => undefined);
    await vigil?.stop().catch(() => undefined);
    await mosquitto?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const start = () =>
    startSystem({
      mqttUrl: mosquitto?.url ?? '',
      env: {
        VIGIL_BUS: 'memory',
        VIGIL_INSTANCE: 'start-order-test',
        VIGIL_REGISTRY: work,
        VIGIL_DATA_DIR: join(work, 'data'),
      },
    });

  it('evaluates every queued reading once, in order, after the replay; /readyz says starting until ingest runs', async () => {
    // First run: ingest's persistent session exists at the broker from now on.
    vigil = await start();
    await vigil.stop();
    vigil = undefined;

    device = connect(mosquitto?.url ?? '', { clientId: 'start-order-fleet', clean: true });
    device.on('error', () => undefined);
    await new Promise<void>(resolve => device?.once('connect', () => resolve()));
    const t0 = Date.now() - 60_000;
    let sent = 0;
    for (let round = 0; round < ROUNDS; round += 1)
      for (const [k, lel] of PATTERN.entries()) {
        const n = round * PATTERN.length + k;
        for (let i = 0; i < DEVICES; i += 1) {
          await device.publishAsync(
            `vigil/v1/${SITE}/${deviceId(i)}/telemetry`,
            telemetry({ lel }, n + 1, t0 + n * 100),
            { qos: 1 },
          );
          sent += 1;
        }
      }

    vigil = await start();
    const httpUrl = vigil.httpUrl;
    await waitFor(async () => (await metrics(httpUrl))['vigil_ingest_readings_total'] === sent, {
      what: `all ${sent} queued readings accepted`,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    // Quiet for a moment: what was accepted is evaluated (the bus is synchronous).
    await new Promise(resolve => setTimeout(resolve, 1_000));
    const after = await metrics(httpUrl);
    expect({
      accepted: after['vigil_ingest_readings_total'],
      evaluated: after['vigil_rules_engine_records_total'],
      outOfOrder: after['vigil_rules_engine_out_of_order_readings_total'] ?? 0,
      late: after['vigil_rules_engine_late_readings_total'] ?? 0,
    }).toEqual({ accepted: sent, evaluated: sent, outOfOrder: 0, late: 0 });
  });
});
