import { createInfluxAdmin, startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { BatchingWriter, type WriteErrorContext } from './batching-writer';
import {
  InfluxV1Store,
  TREND_CONTINUOUS_QUERY,
  TREND_MEASUREMENT,
  downsampleSelect,
} from './influx-v1-store';
import { toWriteChunks, type WriteLine } from './schema';

// Integration: a real influxd 1.6.7 with `auth-enabled = true` (issue 13).
jest.setTimeout(90_000);

const ADMIN = { username: 'vigil', password: 'right-password' };
const MINUTE = 60_000;
// Two whole minutes back, so the downsampled minute is complete.
const BASE = Math.floor(Date.now() / MINUTE) * MINUTE - 2 * MINUTE;

async function authQuery(url: string, q: string, db = 'vigil'): Promise<unknown[][]> {
  // 1.x reads `u`/`p` from the URL's query string only, not from a form body.
  const credentials = new URLSearchParams({ u: ADMIN.username, p: ADMIN.password });
  const body = new URLSearchParams({ q, db, epoch: 'ms' });
  const response = await fetch(`${url}/query?${credentials}`, { method: 'POST', body });
  const json = (await response.json()) as {
    results?: { error?: string; series?: { values?: unknown[][] }[] }[];
  };
  const result = json.results?.[0];
  if (!response.ok || result?.error) throw new Error(`${q}: ${JSON.stringify(json)}`);
  return result?.series?.flatMap(series => series.values ?? []) ?? [];
}

function lines(count: number, from = 0): WriteLine[] {
  return Array.from({ length: count }, (_, i) => ({
    rp: 'raw' as const,
    line: `telemetry,device=gt-1,site=plant-1 ppm=${from + i} ${(BASE + (from + i) * 1000) * 1e6}`,
  }));
}

describe('InfluxV1Store against influxd 1.6.7 with authentication on', () => {
  let influx: InfluxHandle;

  afterEach(async () => {
    await influx?.stop();
  });

  it('keeps the lines while the credentials are refused, says why, and delivers them once the user exists', async () => {
    // No user yet: every request is refused (1.6.7 answers 403 "create admin user first").
    influx = await startInfluxd({ authEnabled: true });
    const store = new InfluxV1Store({ url: influx.url, ...ADMIN, requestTimeoutMs: 2_000 });

    const health = await store.check();
    expect(health).toMatchObject({ ok: false, kind: 'forbidden' });
    expect(health.reason).toMatch(/403.*create admin user first/);
    expect(await store.ping()).toBe(false);

    const errors: WriteErrorContext[] = [];
    const writer = new BatchingWriter(store, {
      flushIntervalMs: 10,
      retryInitialMs: 20,
      retryMaxMs: 200,
      onError: (_error, context) => errors.push(context),
    });
    expect(writer.offerChunks(toWriteChunks(lines(50)))).toBe(true);
    await waitFor(() => errors.length >= 2, { what: 'two refused attempts', timeoutMs: 20_000 });
    expect(errors.every(context => context.outcome === 'retrying')).toBe(true);
    expect(writer.stats()).toMatchObject({ buffered: 50, failedPermanent: 0, written: 0 });

    // The operator fixes the credentials (here: the user is created).
    await createInfluxAdmin(influx.url, ADMIN.username, ADMIN.password);
    await store.ensureSchema();
    await writer.flush();
    expect(writer.stats()).toMatchObject({
      buffered: 0,
      written: 50,
      failedPermanent: 0,
      rejected: 0,
    });
    await writer.close();
    const rows = await authQuery(influx.url, 'SELECT count(ppm) FROM "raw"."telemetry"');
    expect(rows[0]?.[1]).toBe(50);
    expect(await store.check()).toEqual({ ok: true });
  });

  it('a wrong password is not ready, with the reason, and writes are retried, not refused', async () => {
    influx = await startInfluxd({ authEnabled: true, admin: ADMIN });
    const wrong = new InfluxV1Store({ url: influx.url, username: ADMIN.username, password: 'x' });
    expect(await wrong.check()).toMatchObject({ ok: false, kind: 'unauthorized' });
    await expect(wrong.write(toWriteChunks(lines(3)))).rejects.toMatchObject({
      retryable: true,
      rejectedLines: 0,
      status: 401,
    });
    await expect(wrong.ensureSchema()).rejects.toThrow(/401/);
  });

  it('without admin rights sends no DDL it cannot run, says so, and writes into the existing database', async () => {
    influx = await startInfluxd({ authEnabled: true, admin: ADMIN });
    const admin = new InfluxV1Store({ url: influx.url, ...ADMIN });
    await admin.ensureSchema();
    expect(admin.schemaNotice).toBeUndefined();
    await authQuery(influx.url, `CREATE USER "writer" WITH PASSWORD 'w-pass'`);
    await authQuery(influx.url, 'GRANT ALL ON "vigil" TO "writer"');

    const writer = new InfluxV1Store({ url: influx.url, username: 'writer', password: 'w-pass' });
    await writer.ensureSchema();
    expect(writer.schemaNotice).toMatch(/refused CREATE DATABASE/);
    expect(await writer.check()).toMatchObject({
      ok: true,
      reason: expect.stringMatching(/not managed/),
    });
    await writer.write(toWriteChunks(lines(2)));

    const unmanaged = new InfluxV1Store({
      url: influx.url,
      username: 'writer',
      password: 'w-pass',
      manageSchema: false,
    });
    await unmanaged.ensureSchema();
    expect(unmanaged.schemaNotice).toMatch(/VIGIL_INFLUX_MANAGE_SCHEMA=false/);

    // A database that does not exist and may not be created: loud, never "ready".
    const missing = new InfluxV1Store({
      url: influx.url,
      username: 'writer',
      password: 'w-pass',
      database: 'other',
    });
    await expect(missing.ensureSchema()).rejects.toThrow();
    expect((await missing.check()).ok).toBe(false);
  });

  it('creates the 1-year trend policy and the 1-minute continuous query, whose statement produces mean/min/max rows', async () => {
    influx = await startInfluxd({ authEnabled: true, admin: ADMIN });
    const store = new InfluxV1Store({ url: influx.url, ...ADMIN });
    await store.ensureSchema();
    await store.ensureSchema(); // idempotent
    const policies = await authQuery(influx.url, 'SHOW RETENTION POLICIES ON "vigil"');
    expect(policies).toContainEqual(['trend', '8760h0m0s', expect.anything(), 1, false]);
    const cqs = JSON.stringify(await authQuery(influx.url, 'SHOW CONTINUOUS QUERIES'));
    expect(cqs).toContain(TREND_CONTINUOUS_QUERY);
    expect(cqs).toContain('GROUP BY time(1m)');

    await store.write(toWriteChunks(lines(60)));
    // CQs run on their own schedule: run the same statement by hand over the finished minute.
    await authQuery(
      influx.url,
      downsampleSelect('vigil', `time >= ${BASE}ms AND time < ${BASE + MINUTE}ms`),
    );
    const rows = await authQuery(
      influx.url,
      `SELECT mean_ppm, min_ppm, max_ppm, device FROM "trend"."${TREND_MEASUREMENT}"`,
    );
    expect(rows).toEqual([[BASE, 29.5, 0, 59, 'gt-1']]);
  });
});
