import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Alarm, AlarmAction, UplinkBatch } from '@vigil/contracts';
import { freePort, waitFor } from '@vigil/testing';

import type { AlarmListener, AlarmView } from '../alarms/alarm-view';
import { loadConfig } from '../config/vigil-config';
import type { LiveDevices } from '../console-api/live-devices';
import type { HazardService } from '../hazards/hazard.service';
import { VigilMetrics } from '../metrics/metrics';
import type { RegistryHolder } from '../registry/registry-holder';
import { UplinkForwarder } from './uplink-forwarder';

const TOKEN = 'a-link-token-of-at-least-thirty-two-characters';

const alarm = (n: number, message = 'leak'): Alarm =>
  ({
    id: `a${n}`,
    ruleId: 'gas-threshold',
    level: 'H',
    category: 'process',
    priority: 1,
    state: 'active-unacknowledged',
    siteId: 'plant-1',
    deviceId: 'gc-tf-01',
    areaId: undefined,
    metric: 'lel',
    value: 30,
    threshold: 25,
    message,
    raisedAt: n,
    clearedAt: undefined,
  }) as unknown as Alarm;
const raise = (n: number): AlarmAction => ({
  action: 'raise',
  at: n,
  by: undefined,
  note: undefined,
});

/**
 * The forwarder against a real HTTP upper on loopback: bounded and loud while the upper is away,
 * everything waiting delivered once it is back, nothing numbered twice across a restart.
 */
describe('UplinkForwarder (a real HTTP upper on loopback)', () => {
  let dir: string;
  let port: number;
  let upper: Server | undefined;
  const received: number[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-forwarder-'));
    port = await freePort();
    received.length = 0;
  });
  afterEach(async () => {
    await new Promise(resolve => (upper ? upper.close(resolve) : resolve(undefined)));
    upper = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** An upper that checks the token and acknowledges the whole batch. */
  async function startUpper(): Promise<void> {
    upper = createServer((request, response) => {
      let body = '';
      request.on('data', chunk => (body += String(chunk)));
      request.on('end', () => {
        // Express's JSON body parser (the real upper) takes 100 kB, counted in bytes.
        if (Buffer.byteLength(body) > 100_000) {
          response.writeHead(413).end();
          return;
        }
        if (request.headers.authorization !== `Bearer ${TOKEN}`) {
          response.writeHead(401).end();
          return;
        }
        if (request.url?.startsWith('/api/v1/uplink/links/orders')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ orders: [] }));
          return;
        }
        const batch = JSON.parse(body) as UplinkBatch;
        for (const item of batch.items) received.push(item.seq);
        const acked = batch.items[batch.items.length - 1]?.seq ?? 0;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ acked, accepted: batch.items.length, duplicates: 0 }));
      });
    });
    await new Promise<void>(resolve => upper?.listen(port, '127.0.0.1', resolve));
  }

  function forwarder(metrics: VigilMetrics) {
    let listener: AlarmListener | undefined;
    const config = loadConfig({
      VIGIL_DATA_DIR: dir,
      VIGIL_UPLINK_URL: `http://127.0.0.1:${port}`,
      VIGIL_UPLINK_TOKEN: TOKEN,
      VIGIL_UPLINK_ENTERPRISE_CODE: '91310000MA1K4XY83B',
      VIGIL_UPLINK_OUTBOX_MAX: '100',
      VIGIL_UPLINK_BATCH: '30',
      VIGIL_UPLINK_SAMPLE_MS: '0',
      VIGIL_UPLINK_RETRY_MAX_MS: '500',
    });
    const alarms = {
      onUpdates: (next: AlarmListener) => {
        listener = next;
        return () => undefined;
      },
    } as unknown as AlarmView;
    const hazards = { onSteps: () => () => undefined } as unknown as HazardService;
    const registry = {
      current: { site: () => undefined, device: () => undefined },
    } as unknown as RegistryHolder;
    const uplink = new UplinkForwarder(
      config,
      alarms,
      hazards,
      {} as LiveDevices,
      registry,
      metrics,
    );
    uplink.onModuleInit();
    uplink.onApplicationBootstrap();
    const emit = (from: number, to: number, message?: string) => {
      const updates = [];
      for (let n = from; n <= to; n += 1)
        updates.push({ alarm: alarm(n, message), action: raise(n) });
      listener?.(updates);
    };
    return { uplink, emit };
  }

  it('refuses beyond its bound (counted, not ok) while the upper is away, then delivers the rest once', async () => {
    const metrics = new VigilMetrics();
    const { uplink, emit } = forwarder(metrics);
    emit(1, 120);
    await waitFor(() => uplink.status().consecutiveFailures > 0, { what: 'a failed post' });
    const away = uplink.status();
    expect(away).toMatchObject({ ok: false, backlog: 100, lastSeq: 100, dropped: { alarm: 20 } });
    const refused = await metrics.uplinkItems.get();
    expect(refused.values).toEqual(
      expect.arrayContaining([
        { labels: { kind: 'alarm', outcome: 'queued' }, value: 100 },
        { labels: { kind: 'alarm', outcome: 'refused' }, value: 20 },
      ]),
    );

    await startUpper();
    await waitFor(() => uplink.status().backlog === 0, {
      what: 'the backlog drained',
      timeoutMs: 10_000,
    });
    // Every numbered item once, in order; the refused ones were never numbered (no hole).
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(uplink.status()).toMatchObject({ ok: true, ackedSeq: 100, dropped: { alarm: 20 } });
    uplink.onModuleDestroy();

    // A restart on the same directory: nothing to send again, the numbering goes on.
    const again = forwarder(new VigilMetrics());
    expect(again.uplink.status()).toMatchObject({ backlog: 0, lastSeq: 100, ackedSeq: 100 });
    again.emit(121, 121);
    await waitFor(() => received.length === 101, { what: 'the next item', timeoutMs: 10_000 });
    expect(received[100]).toBe(101);
    again.uplink.onModuleDestroy();
  });

  it('keeps a batch under the 100 kB body limit in bytes (Chinese text is 3 bytes a character)', async () => {
    await startUpper();
    const { uplink, emit } = forwarder(new VigilMetrics());
    // 30 items of 2000 characters: 60,000 characters, but about 180 kB of UTF-8.
    emit(1, 30, '可燃气体泄漏'.repeat(333));
    await waitFor(() => uplink.status().backlog === 0, {
      what: 'the backlog drained',
      timeoutMs: 10_000,
    });
    expect(received).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(uplink.status().consecutiveFailures).toBe(0);
    uplink.onModuleDestroy();
  });
});
