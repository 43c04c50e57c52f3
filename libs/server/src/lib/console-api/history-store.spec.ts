import { telemetrySeriesQuery, type TelemetrySeriesRequest } from '@vigil/storage';
import { startHttpRecorder, type HttpRecorder, type RecordedRequest } from '@vigil/testing';

import { loadConfig, type VigilConfig } from '../config/vigil-config';
import { telemetryStoreFor } from '../storage/telemetry-store.provider';
import { HistoryStore } from './history-store';

// History reads go through the configured API with its credentials (they used to build a 1.x
// client of their own without any, so with authentication on every history query got a 401).
describe('HistoryStore reads with the configured InfluxDB API and credentials', () => {
  let recorder: HttpRecorder;
  beforeAll(async () => {
    recorder = await startHttpRecorder(() => ({
      status: 200,
      body: '{"results":[{"statement_id":0,"series":[{"name":"telemetry","columns":["time","value"],"values":[[1,2]]}]}]}',
    }));
  });
  afterAll(() => recorder.stop());
  beforeEach(() => {
    (recorder.requests as RecordedRequest[]).length = 0;
  });

  const base = () => ({ VIGIL_INFLUX_MODE: 'external', VIGIL_INFLUX_URL: recorder.url });
  const series: TelemetrySeriesRequest = {
    siteId: 'plant-1',
    deviceId: 'gt-1',
    metric: 'ppm',
    from: 0,
    to: 1000,
    bucketMs: 0,
    limit: 10,
  };
  const query = telemetrySeriesQuery('vigil', series);
  const historyOf = (config: VigilConfig) => new HistoryStore(config, telemetryStoreFor(config));

  it('1.x with a user: HTTP Basic on the query', async () => {
    const history = historyOf(
      loadConfig({ ...base(), VIGIL_INFLUX_USERNAME: 'reader', VIGIL_INFLUX_PASSWORD: 'pw' }),
    );
    expect(await history.telemetrySeries(series)).toEqual([{ time: 1, value: 2 }]);
    expect(recorder.requests[0]?.body).toContain(new URLSearchParams({ q: query }).toString());
    expect(recorder.requests[0]?.headers['authorization']).toBe(
      `Basic ${Buffer.from('reader:pw').toString('base64')}`,
    );
  });

  it('3.x: the token, and a GET with the parameters in the query string', async () => {
    const history = historyOf(
      loadConfig({ ...base(), VIGIL_INFLUX_API: 'v3', VIGIL_INFLUX_TOKEN: 'db-token' }),
    );
    expect(await history.telemetrySeries(series)).toEqual([{ time: 1, value: 2 }]);
    const [request] = recorder.requests;
    expect(request?.method).toBe('GET');
    expect(request?.headers['authorization']).toBe('Token db-token');
    expect(new URL(request?.url ?? '', 'http://x').searchParams.get('q')).toBe(query);
  });
});
