import { gunzipSync } from 'node:zlib';

import { startHttpRecorder, type HttpRecorder, type RecordedRequest } from '@vigil/testing';

import { InfluxV3Store } from './influx-v3-store';
import { encodeChunks, toWriteChunks, type WriteLine } from './schema';
import { StoreWriteError } from './telemetry-store';

// Contract tests of what the official InfluxDB 3 client (and the v1-compatible InfluxQL reads)
// send on Vigil's behalf, against a local recorder. No live InfluxDB 3.x runs on the build
// machines: this is all that is tested.
describe('InfluxV3Store (InfluxDB 3.x through @influxdata/influxdb3-client)', () => {
  let recorder: HttpRecorder;
  let answer: (request: RecordedRequest) => { status: number; body: string };
  beforeAll(async () => {
    recorder = await startHttpRecorder(request => answer(request));
  });
  afterAll(() => recorder.stop());
  beforeEach(() => {
    (recorder.requests as RecordedRequest[]).length = 0;
    answer = request =>
      request.url.startsWith('/query')
        ? {
            status: 200,
            body: '{"results":[{"statement_id":0,"series":[{"name":"telemetry","columns":["time","value"],"values":[[1700000000000,4.5]]}]}]}\r\n',
          }
        : { status: 204, body: '' };
  });

  const store = (options: { gzip?: boolean } = {}) =>
    new InfluxV3Store({ url: recorder.url, token: 'db-token', database: 'vigil', ...options });
  const params = (request: RecordedRequest) => new URL(request.url, 'http://x').searchParams;
  const writes = () => recorder.requests.filter(request => request.url.startsWith('/api/'));

  const lines: WriteLine[] = [
    { rp: 'raw', line: 'telemetry,device=gt-1,site=plant-1 ppm=4.5 1700000000000000000' },
    { rp: 'events', line: 'alarm_event,rule=gas-h2s action="raise" 1700000000000000001' },
    { rp: 'raw', line: 'telemetry,device=gt-2,site=plant-1 ppm=1 1700000000000000002' },
  ];

  it('writes each retention class to <database>/<class> with the token, precision ns, no gzip, the lines as they are', async () => {
    await store().write(encodeChunks(toWriteChunks(lines)));
    expect(writes()).toHaveLength(2);
    for (const request of writes()) {
      expect(request.method).toBe('POST');
      // noSync off: the v2-compatible endpoint, answered after the WAL is persisted.
      expect(request.url.split('?')[0]).toBe('/api/v2/write');
      expect([...params(request).keys()].sort()).toEqual(['bucket', 'precision']);
      expect(params(request).get('precision')).toBe('ns');
      expect(request.headers['authorization']).toBe('Token db-token');
      expect(request.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(request.headers['content-encoding']).toBeUndefined();
    }
    const byDatabase = new Map(writes().map(request => [params(request).get('bucket'), request]));
    expect(byDatabase.get('vigil/raw')?.body).toBe(`${lines[0]?.line}\n${lines[2]?.line}`);
    expect(byDatabase.get('vigil/events')?.body).toBe(lines[1]?.line);
    // Exactly encoded: `/` as %2F in the query string.
    expect(writes().map(request => request.url)).toContain(
      '/api/v2/write?bucket=vigil%2Fraw&precision=ns',
    );
  });

  it('gzips the body when asked', async () => {
    await store({ gzip: true }).write(toWriteChunks([lines[0] as WriteLine]));
    const [request] = writes();
    expect(request?.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(request?.raw ?? Buffer.alloc(0)).toString('utf8')).toBe(lines[0]?.line);
  });

  it('keeps the lines for retry on 401/403 and 5xx, counts refused lines on 400', async () => {
    for (const status of [401, 403, 503]) {
      answer = () => ({ status, body: '{"error":"cannot authorize request"}' });
      const error = await store()
        .write(toWriteChunks([{ rp: 'raw', line: 'm v=1 1' }]))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreWriteError);
      expect(error).toMatchObject({ retryable: true, rejectedLines: 0, status });
      expect((error as Error).message).toMatch(`HTTP ${status}`);
    }
    // 3.x stores the valid lines of a batch and lists the refused ones (partial write).
    answer = () => ({
      status: 400,
      body: '{"error":"partial write of line protocol occurred","data":[{"original_line":"m v=","line_number":2,"error_message":"invalid field value"}]}',
    });
    const partial = await store()
      .write(toWriteChunks([0, 1, 2].map(i => ({ rp: 'raw' as const, line: `m v=${i} ${i}` }))))
      .catch((e: unknown) => e);
    expect(partial).toMatchObject({ retryable: false, rejectedLines: 1, status: 400 });
    answer = () => ({ status: 400, body: '{"error":"write of line protocol failed","data":[]}' });
    const all = await store()
      .write(toWriteChunks([0, 1].map(i => ({ rp: 'raw' as const, line: `m v=${i} ${i}` }))))
      .catch((e: unknown) => e);
    expect(all).toMatchObject({ retryable: false, rejectedLines: 2, status: 400 });
  });

  it('keeps the lines when the server does not answer', async () => {
    const down = new InfluxV3Store({ url: 'http://127.0.0.1:1', token: 't', database: 'vigil' });
    const error = await down
      .write(toWriteChunks([{ rp: 'raw', line: 'm v=1 1' }]))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true, rejectedLines: 0 });
  });

  it('reads through the v1-compatible /query as a GET with the parameters in the query string and the token', async () => {
    const rows = await store().query(
      'SELECT ppm AS "value" FROM "vigil"."raw"."telemetry" WHERE time >= 0ms',
    );
    expect(rows).toEqual([{ time: 1700000000000, value: 4.5 }]);
    const [request] = recorder.requests;
    expect(request?.method).toBe('GET');
    expect(request?.body).toBe('');
    expect(request?.headers['authorization']).toBe('Token db-token');
    expect(Object.fromEntries(params(request as RecordedRequest))).toEqual({
      db: 'vigil',
      q: 'SELECT ppm AS "value" FROM "vigil"."raw"."telemetry" WHERE time >= 0ms',
      epoch: 'ms',
    });
  });

  it('sends no DDL, proves readiness by an authenticated query on each database, and says what 3.x lacks', async () => {
    const s = store();
    await s.ensureSchema();
    expect(recorder.requests).toHaveLength(0);
    const health = await s.check();
    expect(health).toMatchObject({ ok: true });
    expect(health.reason).toBe(s.schemaNotice);
    expect(s.schemaNotice).toMatch(/no DDL/);
    expect(s.schemaNotice).toMatch(/vigil\/raw \(retention period at least 30d/);
    expect(s.schemaNotice).toMatch(/downsampled trends .* not kept/);
    expect(s.schemaNotice).toMatch(/Untested against a live InfluxDB 3\.x/);
    expect(recorder.requests.map(request => Object.fromEntries(params(request)))).toEqual([
      { db: 'vigil/raw', q: 'SHOW MEASUREMENTS LIMIT 1', epoch: 'ms' },
      { db: 'vigil/events', q: 'SHOW MEASUREMENTS LIMIT 1', epoch: 'ms' },
    ]);
    for (const request of recorder.requests) {
      expect(request.method).toBe('GET');
      expect(request.headers['authorization']).toBe('Token db-token');
    }
  });

  it('reports a refused token or a missing database as not ready, with the database named', async () => {
    answer = () => ({ status: 401, body: '{"error":"cannot authorize request"}' });
    expect(await store().check()).toMatchObject({
      ok: false,
      kind: 'unauthorized',
      reason: expect.stringMatching(/^vigil\/raw: .*HTTP 401/),
    });
    answer = request =>
      params(request).get('db') === 'vigil/events'
        ? { status: 404, body: '{"error":"database not found: vigil/events"}' }
        : { status: 200, body: '{"results":[{"statement_id":0,"series":[]}]}' };
    expect(await store().check()).toMatchObject({
      ok: false,
      kind: 'database-missing',
      reason: expect.stringMatching(/^vigil\/events: /),
    });
    expect(await store().ping()).toBe(false);
  });
});
