import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type {
  Alarm,
  AlarmAction,
  Hazard,
  HazardAction,
  SupervisionOrder,
  UplinkBatch,
} from '@vigil/contracts';
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
  const receivedItems: UplinkBatch['items'][number][] = [];
  /** The supervision orders (and approvals) the upper serves. */
  let served: SupervisionOrder[] = [];
  /** What the lower's ledger is asked to approve, and answers. */
  let approvals: { hazardId: string; orderId: string; by: string; role: string }[] = [];
  let approve: (hazardId: string) => unknown = () => ({ ok: true, hazard: { no: 1 } });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-forwarder-'));
    port = await freePort();
    received.length = 0;
    receivedItems.length = 0;
    ledger = [];
    served = [];
    approvals = [];
    approve = () => ({ ok: true, hazard: { no: 1 } });
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
          const after = Number(
            new URL(request.url, 'http://upper').searchParams.get('after') ?? '0',
          );
          response.end(JSON.stringify({ orders: served.filter(order => order.seq > after) }));
          return;
        }
        const batch = JSON.parse(body) as UplinkBatch;
        for (const item of batch.items) received.push(item.seq);
        receivedItems.push(...batch.items);
        const acked = batch.items[batch.items.length - 1]?.seq ?? 0;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ acked, accepted: batch.items.length, duplicates: 0 }));
      });
    });
    await new Promise<void>(resolve => upper?.listen(port, '127.0.0.1', resolve));
  }

  /** The lower's hazard ledger as HazardService lists it. */
  let ledger: Hazard[] = [];

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
    const hazards = {
      onSteps: () => () => undefined,
      list: () => ledger,
      approveFromUpper: (
        hazardId: string,
        order: { orderId: string; by: string; role: string },
      ) => {
        approvals.push({ hazardId, ...order });
        return approve(hazardId);
      },
    } as unknown as HazardService;
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
    await waitFor(() => uplink.status().consecutiveFailures > 0, {
      what: 'a failed post',
      timeoutMs: 10_000,
    });
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

  it('forwards the steps of the ledger the outbox never numbered, each once, across restarts', async () => {
    await startUpper();
    const step = (action: string, state: string, at: number): HazardAction =>
      ({ action, state, at, by: 'zhang', role: 'operator' }) as HazardAction;
    const hazard = (history: HazardAction[]): Hazard =>
      ({
        id: 'h1',
        no: 1,
        title: 'flange leak',
        level: 'general',
        state: history[history.length - 1]?.state,
        siteId: 'plant-1',
        deviceIds: [],
        plan: {},
        reportedAt: 1,
        history,
      }) as unknown as Hazard;
    // A ledger that existed before the uplink was set up: its whole history goes up.
    ledger = [hazard([step('report', 'reported', 1), step('assign', 'assigned', 2)])];
    const first = forwarder(new VigilMetrics());
    await waitFor(() => received.length === 2 && first.uplink.status().backlog === 0, {
      what: 'the ledger so far, acknowledged',
      timeoutMs: 10_000,
    });
    first.uplink.onModuleDestroy();
    // A step the journal made durable but the outbox never heard of (the process died between).
    ledger = [
      hazard([
        step('report', 'reported', 1),
        step('assign', 'assigned', 2),
        step('start', 'rectifying', 3),
      ]),
    ];
    const second = forwarder(new VigilMetrics());
    // Acknowledged before the stop (an answer that arrives after it is not recorded, and the item
    // would be sent again: at least once, the upper dedupes by seq).
    await waitFor(() => received.length === 3 && second.uplink.status().backlog === 0, {
      what: 'the missed step, acknowledged',
      timeoutMs: 10_000,
    });
    second.uplink.onModuleDestroy();
    // Nothing more on the next start: each step once.
    const third = forwarder(new VigilMetrics());
    await new Promise(resolve => setTimeout(resolve, 300));
    third.uplink.onModuleDestroy();
    expect(
      receivedItems.map(item =>
        item.kind === 'hazard' ? [item.seq, item.step, item.transition, item.state] : [],
      ),
    ).toEqual([
      [1, 1, 'report', 'reported'],
      [2, 2, 'assign', 'assigned'],
      [3, 3, 'start', 'rectifying'],
    ]);
  });

  it("applies the upper's approvals once each, reports every answer back up, and retries what its ledger could not store", async () => {
    await startUpper();
    const order = (seq: number, hazardId: string, kind?: 'approve'): SupervisionOrder => ({
      seq,
      id: `o${seq}`,
      ...(kind ? { kind } : {}),
      enterpriseCode: '91310000MA1K4XY83B',
      title: kind ? 'approve' : '挂牌督办',
      text: '',
      hazardId,
      issuedBy: 'wang',
      issuedByNode: 'city',
      issuedByRole: 'supervisor',
      issuedAt: 1,
    });
    served = [order(1, 'h1'), order(2, 'h1', 'approve'), order(3, 'h2', 'approve')];
    approve = hazardId => {
      if (approvals.length === 1) throw new Error('hazards journal: disk full');
      return hazardId === 'h1'
        ? { ok: true, hazard: { no: 1 } }
        : {
            ok: false,
            status: 409,
            message: 'the hazard is rectifying: approval comes after acceptance',
          };
    };
    const first = forwarder(new VigilMetrics());
    // The first fetch: the ledger refused to store the first approval; nothing is held yet, not
    // even across a restart (the order is journaled only after its approval is durable).
    await waitFor(() => approvals.length === 1, { what: 'the first approval', timeoutMs: 10_000 });
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(first.uplink.orders()).toEqual([]);
    first.uplink.onModuleDestroy();
    // After a restart, the next poll fetches them again; each approval is applied or refused,
    // and each answer goes up.
    const { uplink } = forwarder(new VigilMetrics());
    await waitFor(() => uplink.orders().length === 3, { what: 'the orders', timeoutMs: 10_000 });
    expect(uplink.orders().map(held => held.seq)).toEqual([3, 2, 1]);
    await waitFor(() => receivedItems.filter(item => item.kind === 'outcome').length === 2, {
      what: 'both answers at the upper',
      timeoutMs: 10_000,
    });
    expect(approvals.map(call => [call.hazardId, call.orderId, call.by, call.role])).toEqual([
      ['h1', 'o2', 'city:wang', 'supervisor'],
      ['h1', 'o2', 'city:wang', 'supervisor'],
      ['h2', 'o3', 'city:wang', 'supervisor'],
    ]);
    expect(receivedItems.filter(item => item.kind === 'outcome')).toEqual([
      expect.objectContaining({ orderId: 'o2', orderSeq: 2, outcome: 'applied', hazardId: 'h1' }),
      expect.objectContaining({
        orderId: 'o3',
        outcome: 'refused',
        message: 'the hazard is rectifying: approval comes after acceptance',
      }),
    ]);
    // Polling again (and after a restart) asks after the newest held: nothing applied twice.
    await uplink.fetchOrders();
    uplink.onModuleDestroy();
    const again = forwarder(new VigilMetrics());
    await again.uplink.fetchOrders();
    again.uplink.onModuleDestroy();
    expect(approvals).toHaveLength(3);
  });
});
