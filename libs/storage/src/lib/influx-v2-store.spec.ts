import { startHttpRecorder, type HttpRecorder, type RecordedRequest } from '@vigil/testing';

import { InfluxV2Store } from './influx-v2-store';
import { toWriteChunks, encodeChunks } from './schema';
import { StoreWriteError } from './telemetry-store';

// Contract tests of what the official InfluxDB 2.x client sends on Vigil's behalf, against a
// local recorder. No live InfluxDB 2.x/3.x runs on the build machines: this is all that is tested.
describe('InfluxV2Store (InfluxDB 2.x/3.x through @influxdata/influxdb-client)', () => {
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
            body: '{"results":[{"statement_id":0,"series":[{"name":"x","columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["raw","0s","168h0m0s",1,true],["events","0s","168h0m0s",1,false]]}]}]}',
          }
        : { status: 204, body: '' };
  });

  const store = () =>
    new InfluxV2Store({
      url: recorder.url,
      token: 'svc-token',
      org: 'plant',
      buckets: { raw: 'vigil', events: 'vigil-events' },
      database: 'vigil',
    });

  it('writes each retention class to its bucket with the token, precision ns and the lines as they are', async () => {
    const lines = [
      {
        rp: 'raw' as const,
        line: 'telemetry,device=gt-1,site=plant-1 ppm=4.5 1700000000000000000',
      },
      {
        rp: 'events' as const,
        line: 'alarm_event,rule=gas-h2s action="raise" 1700000000000000001',
      },
      { rp: 'raw' as const, line: 'telemetry,device=gt-2,site=plant-1 ppm=1 1700000000000000002' },
    ];
    await store().write(encodeChunks(toWriteChunks(lines)));
    const writes = recorder.requests.filter(request => request.url.startsWith('/api/v2/write'));
    expect(writes).toHaveLength(2);
    const byBucket = new Map(
      writes.map(request => [new URL(request.url, 'http://x').searchParams.get('bucket'), request]),
    );
    for (const request of writes) {
      const params = new URL(request.url, 'http://x').searchParams;
      expect(request.method).toBe('POST');
      expect(params.get('org')).toBe('plant');
      expect(params.get('precision')).toBe('ns');
      expect(request.headers['authorization']).toBe('Token svc-token');
      expect(request.headers['content-encoding']).toBeUndefined();
    }
    expect(byBucket.get('vigil')?.body).toBe(`${lines[0]?.line}\n${lines[2]?.line}`);
    expect(byBucket.get('vigil-events')?.body).toBe(lines[1]?.line);
  });

  it('keeps the lines for retry on 401/403 and 5xx, refuses them on 400', async () => {
    for (const status of [401, 403, 503]) {
      answer = () => ({ status, body: '{"code":"unauthorized","message":"unauthorized access"}' });
      const error = await store()
        .write(toWriteChunks([{ rp: 'raw', line: 'm v=1 1' }]))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreWriteError);
      expect(error).toMatchObject({ retryable: true, rejectedLines: 0, status });
    }
    answer = () => ({
      status: 400,
      body: '{"code":"invalid","message":"unable to parse \'m v=\'"}',
    });
    const refused = await store()
      .write(toWriteChunks([{ rp: 'raw', line: 'm v=1 1' }]))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ retryable: false, rejectedLines: 1, status: 400 });
  });

  it('proves readiness and reads through the v1 compatibility API with the same token, no DDL', async () => {
    const s = store();
    await s.ensureSchema();
    expect(await s.check()).toMatchObject({ ok: true });
    const queries = recorder.requests.filter(request => request.url.startsWith('/query'));
    expect(queries.length).toBeGreaterThan(0);
    for (const request of queries) {
      expect(request.headers['authorization']).toBe('Token svc-token');
      expect(decodeURIComponent(request.body.replace(/\+/g, ' '))).toMatch(
        /q=SHOW RETENTION POLICIES ON "vigil"/,
      );
    }
  });
});
