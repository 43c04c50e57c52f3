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

/** Prometheus figures: each series by its name and labels, and their sum by name alone. */
async function metrics(httpUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^(([a-z_]+)(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
    if (!match?.[1] || !match[2] || !match[3]) continue;
    sums[match[2]] = (sums[match[2]] ?? 0) + Number(match[3]);
    if (match[1] !== match[2]) sums[match[1]] = Number(match[3]);
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

  /** The fleet's readings, PATTERN repeated ROUNDS times, from reading index `from` on. */
  async function sendSequence(from: number, t0: number): Promise<number> {
    let sent = 0;
    for (let round = 0; round < ROUNDS; round += 1)
      for (const [k, lel] of PATTERN.entries()) {
        const n = from + round * PATTERN.length + k;
        for (let i = 0; i < DEVICES; i += 1) {
          await device?.publishAsync(
            `vigil/v1/${SITE}/${deviceId(i)}/telemetry`,
            telemetry({ lel }, n + 1, t0 + n * 100),
            { qos: 1 },
          );
          sent += 1;
        }
      }
    return sent;
  }

  /** Waits until `count` readings were accepted and evaluated, then a quiet moment; the figures. */
  async function settled(httpUrl: string, count: number) {
    await waitFor(async () => (await metrics(httpUrl))['vigil_ingest_readings_total'] === count, {
      what: `all ${count} readings accepted`,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    // Quiet for a moment: what was accepted is evaluated (the bus is synchronous).
    await new Promise(resolve => setTimeout(resolve, 1_000));
    const figures = await metrics(httpUrl);
    return {
      accepted: figures['vigil_ingest_readings_total'],
      evaluated: figures['vigil_rules_engine_records_total'],
      outOfOrder: figures['vigil_rules_engine_out_of_order_readings_total'] ?? 0,
      late: figures['vigil_rules_engine_late_readings_total'] ?? 0,
      // What the rule engine signalled (before the alarm lifecycle, which carries the alarms
      // still open across the restart: an open L1 alarm is updated, not raised again).
      signals: figures['vigil_rules_engine_signals_total'] ?? 0,
      l2Raised: figures['vigil_rules_signals_total{rule="gas-l2",active="true"}'] ?? 0,
      l2Cleared: figures['vigil_rules_signals_total{rule="gas-l2",active="false"}'] ?? 0,
    };
  }

  it('evaluates every queued reading once and in order after the replay: the same alarm changes as live', async () => {
    const t0 = Date.now() - 120_000;
    const perRun = DEVICES * PATTERN.length * ROUNDS;
    // First run, the reference: the sequence live. Ingest's persistent session exists from now on.
    vigil = await start();
    device = connect(mosquitto?.url ?? '', { clientId: 'start-order-fleet', clean: true });
    device.on('error', () => undefined);
    await new Promise<void>(resolve => device?.once('connect', () => resolve()));
    expect(await sendSequence(0, t0)).toBe(perRun);
    const live = await settled(vigil.httpUrl, perRun);
    await vigil.stop();
    vigil = undefined;

    // While it is down: the same sequence, later, queued by Mosquitto for ingest's session.
    await sendSequence(PATTERN.length * ROUNDS, t0);
    vigil = await start();
    const readyz = await fetch(`${vigil.httpUrl}/readyz`);
    const body = (await readyz.json()) as { phase?: string; checks: Record<string, boolean> };
    const backlog = await settled(vigil.httpUrl, perRun);

    expect(live).toMatchObject({ accepted: perRun, evaluated: perRun, outOfOrder: 0, late: 0 });
    expect(live.signals).toBeGreaterThan(0);
    // Each reading evaluated once, none late or out of order, and so each alarm change made once,
    // in the order the devices sent them: what the same sequence made live.
    expect(backlog).toEqual(live);
    // Running: no phase, no `started` check.
    expect({ phase: body.phase, started: body.checks['started'] }).toEqual({
      phase: undefined,
      started: undefined,
    });
  });
});
