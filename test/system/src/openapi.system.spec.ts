import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { z } from 'zod';

import {
  startHttpRecorder,
  startInfluxd,
  waitFor,
  type HttpRecorder,
  type InfluxHandle,
} from '@vigil/testing';

import { loginAs, mqttClient, startSystem, telemetry } from './support';

const RELAY_SECRET = 'relay-secret-for-the-openapi-test-0123456789';

type Schema = Record<string, unknown>;
type Operation = {
  operationId?: string;
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
};
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, { type: string; scheme: string }>;
  };
};

/**
 * The OpenAPI document clients generate from (issue 13): /api/docs-json on a running Vigil with
 * the notification relay on. Real answers of the running gateway are validated against the
 * document as served (its JSON schemas turned back into validators), not against the zod source.
 */
describe('OpenAPI document', () => {
  let vigil: Awaited<ReturnType<typeof startSystem>>;
  let influx: InfluxHandle;
  let dir: string;
  let sms: HttpRecorder;
  let device: MqttClient;
  let doc: Document;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-openapi-'));
    sms = await startHttpRecorder(() => ({ status: 200, body: '{"ok":true}' }));
    writeFileSync(join(dir, 'relay-secret'), `${RELAY_SECRET}\n`, { mode: 0o600 });
    const notifyFile = join(dir, 'notify.yaml');
    writeFileSync(
      notifyFile,
      stringify({
        relay: { url: 'http://127.0.0.1:9', secretFile: 'relay-secret' },
        receivers: {
          'ent-huaxin': { sms: { webhook: `${sms.url}/send`, to: ['+8613800000000'] } },
        },
      }),
    );
    // The uplink's upper side (issue 15), so that its routes are in the document too.
    const linksFile = join(dir, 'uplink-links.json');
    writeFileSync(
      linksFile,
      JSON.stringify({
        links: [
          {
            enterpriseCode: '91310000MA1K4XY83B',
            name: 'Huaxin',
            node: 'park-chem',
            tokenSha256: 'a'.repeat(64),
          },
        ],
      }),
    );
    // A real influxd, so that history and telemetry answer with data (not only their refusal).
    influx = await startInfluxd();
    vigil = await startSystem({
      influxUrl: influx.url,
      env: { VIGIL_NOTIFY_CONFIG: notifyFile, VIGIL_UPLINK_LINKS: linksFile },
    });
    device = await mqttClient(vigil.mqttUrl);
    const response = await fetch(`${vigil.httpUrl}/api/docs-json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Document;
  });
  afterAll(async () => {
    device?.end(true);
    await vigil?.stop();
    await influx?.stop();
    await sms?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function operations() {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
  }

  /** The schema behind a `$ref` into components.schemas (or the schema itself). */
  function resolved(schema: Schema | undefined): Schema | undefined {
    const ref = schema?.['$ref'];
    if (typeof ref !== 'string') return schema;
    return doc.components.schemas[ref.replace('#/components/schemas/', '')];
  }

  /**
   * A validator for the documented answer of `METHOD path` with `status`: the document's own JSON
   * schema (components included), read back by zod's JSON-Schema reader, which resolves local
   * `#/definitions/…` references (hence the rewrite of `#/components/schemas/…`).
   */
  function documented(key: string, status: number): z.ZodType {
    const [method, path] = key.split(' ') as [string, string];
    const operation = doc.paths[path]?.[method.toLowerCase()];
    const schema = operation?.responses[String(status)]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${key} documents no JSON answer for ${status}`);
    const root = JSON.parse(
      JSON.stringify({ ...schema, definitions: doc.components.schemas }).replaceAll(
        '#/components/schemas/',
        '#/definitions/',
      ),
    ) as Schema;
    return z.fromJSONSchema(root, { defaultTarget: 'openapi-3.0' });
  }

  /** Calls the running gateway and checks the answer against the document; returns the body. */
  async function call(
    key: string,
    url: string,
    expected: number,
    init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<unknown> {
    const [method] = key.split(' ') as [string];
    const response = await fetch(`${vigil.httpUrl}${url}`, {
      method,
      headers: {
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const body: unknown = await response.json();
    expect([key, url, response.status]).toEqual([key, url, expected]);
    const result = documented(key, expected).safeParse(body);
    expect([key, expected, result.success ? 'valid' : result.error.issues]).toEqual([
      key,
      expected,
      'valid',
    ]);
    return body;
  }

  it('is served at /api/docs-json and /api/docs/openapi.json, structurally OpenAPI 3', async () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: 'Vigil API', version: '1' });
    expect(Object.keys(doc.paths).every(path => path.startsWith('/'))).toBe(true);
    const old = await fetch(`${vigil.httpUrl}/api/docs/openapi.json`);
    expect(await old.json()).toEqual(doc);
  });

  it('gives every answer of every operation a real schema, and each its security scheme', () => {
    expect(doc.components.securitySchemes['bearer']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(doc.components.securitySchemes['relaySecret']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    // No empty component either (Nest's scan left `Buffer: {type: object, properties: {}}`).
    for (const [id, schema] of Object.entries(doc.components.schemas)) {
      const properties = schema['properties'] as object | undefined;
      expect([id, properties !== undefined && Object.keys(properties).length === 0]).toEqual([
        id,
        false,
      ]);
    }
    const all = operations();
    expect(all.length).toBeGreaterThanOrEqual(25);
    expect(all.map(({ key }) => key)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/uplink/batches',
        'GET /api/v1/uplink/enterprises',
        'GET /api/v1/uplink/links/orders',
        'POST /api/v1/uplink/enterprises/{code}/orders',
      ]),
    );
    const publicOnes = new Set([
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'POST /api/v1/auth/login',
      'GET /api/v1/auth/mode',
    ]);
    for (const { key, operation } of all) {
      const codes = Object.keys(operation.responses);
      expect([key, codes.some(code => code.startsWith('2'))]).toEqual([key, true]);
      for (const [code, response] of Object.entries(operation.responses)) {
        if (code === '204') {
          expect([key, code, response.content]).toEqual([key, code, undefined]);
          continue;
        }
        const [type, media] = Object.entries(response.content ?? {})[0] ?? [];
        const schema = resolved(media?.schema);
        // Not `{}` (any): an object with properties, an array with items, or a string.
        expect([key, code, schema !== undefined && Object.keys(schema).length > 0]).toEqual([
          key,
          code,
          true,
        ]);
        if (type === 'text/plain') expect(schema).toEqual({ type: 'string' });
        // A file (hazard photos): bytes of its stored type.
        else if (type?.startsWith('image/'))
          expect(schema).toEqual({ type: 'string', format: 'binary' });
        else if (schema?.['type'] === 'array') expect(schema['items']).toBeDefined();
        else
          expect([key, code, Object.keys(schema?.['properties'] ?? {}).length > 0]).toEqual([
            key,
            code,
            true,
          ]);
        if (code.startsWith('4') || code.startsWith('5')) {
          expect([key, code, media?.schema]).toEqual([
            key,
            code,
            code === '503' && key === 'GET /readyz'
              ? { $ref: '#/components/schemas/Readiness' }
              : { $ref: '#/components/schemas/Error' },
          ]);
        }
      }
      if (key.startsWith('POST /api/v1/notify/relay/')) {
        expect([key, operation.security]).toEqual([key, [{ relaySecret: [] }]]);
        expect(operation.responses['401']).toBeDefined();
      } else if (
        key === 'POST /api/v1/uplink/batches' ||
        key === 'GET /api/v1/uplink/links/orders'
      ) {
        // A lower Vigil's link token, never a user's (docs/interfaces.md §Uplink).
        expect([key, operation.security]).toEqual([key, [{ uplinkToken: [] }]]);
        expect(operation.responses['401']).toBeDefined();
      } else if (publicOnes.has(key)) {
        expect([key, operation.security]).toEqual([key, []]);
      } else {
        expect([key, operation.security]).toEqual([key, [{ bearer: [] }]]);
        expect([key, operation.responses['401'] !== undefined]).toEqual([key, true]);
      }
    }
  });

  it('describes request bodies and queries from the zod schemas the server validates with', () => {
    const login = doc.paths['/api/v1/auth/login']?.['post'];
    expect(login?.requestBody?.content['application/json']?.schema).toMatchObject({
      type: 'object',
      required: ['username', 'password'],
      properties: { username: { type: 'string', maxLength: 64 } },
    });
    const actions = doc.paths['/api/v1/alarms/{id}/{action}']?.['post'];
    expect(actions?.requestBody?.content['application/json']?.schema).toHaveProperty('anyOf');
    const alarms = doc.paths['/api/v1/alarms']?.['get'] as unknown as {
      parameters: { name: string; in: string }[];
    };
    expect(
      alarms.parameters
        .filter(p => p.in === 'query')
        .map(p => p.name)
        .sort(),
    ).toEqual(['since', 'site', 'state'].sort());
  });

  it('documents what a running gateway really answers, success and errors', async () => {
    // An alarm to list, read and act on: the tank farm's gas detector at 70 %LEL (L2).
    device.publish('vigil/v1/plant-1/gc-lb-01/telemetry', telemetry({ lel: 70 }));
    device.publish(
      'vigil/v1/plant-1/tag-001/telemetry',
      telemetry({ x: 100, y: 200, floor: 0, battery_pct: 12 }),
    );
    const { token } = await loginAs(vigil.httpUrl, 'zhang');
    const admin = (await loginAs(vigil.httpUrl, 'admin')).token;

    await call('GET /healthz', '/healthz', 200);
    await waitFor(async () => (await fetch(`${vigil.httpUrl}/readyz`)).status === 200, {
      what: 'Vigil ready',
    });
    await call('GET /readyz', '/readyz', 200);
    await call('GET /api/v1/auth/mode', '/api/v1/auth/mode', 200);
    await call('POST /api/v1/auth/login', '/api/v1/auth/login', 200, {
      body: { username: 'li', password: 'vigil-demo' },
    });
    await call('POST /api/v1/auth/login', '/api/v1/auth/login', 401, {
      body: { username: 'li', password: 'wrong' },
    });
    await call('POST /api/v1/auth/login', '/api/v1/auth/login', 400, { body: { username: '' } });
    await call('GET /api/v1/auth/me', '/api/v1/auth/me', 200, { token });
    await call('GET /api/v1/devices', '/api/v1/devices', 200, { token });
    await call('GET /api/v1/devices', '/api/v1/devices?class=nonsense', 400, { token });
    await call('GET /api/v1/devices/{siteId}/{deviceId}', '/api/v1/devices/plant-1/gc-lb-01', 200, {
      token,
    });
    await call('GET /api/v1/devices/{siteId}/{deviceId}', '/api/v1/devices/plant-1/nothing', 404, {
      token,
    });
    await call('GET /api/v1/sites', '/api/v1/sites', 200, { token });
    const alarms = await waitFor(
      async () => {
        const list = (await call('GET /api/v1/alarms', '/api/v1/alarms?state=open', 200, {
          token,
        })) as Array<{ id: string; deviceId: string }>;
        return list.find(alarm => alarm.deviceId === 'gc-lb-01') ? list : undefined;
      },
      { what: 'the gas alarm in the list' },
    );
    const id = alarms.find(alarm => alarm.deviceId === 'gc-lb-01')?.id as string;
    await call('GET /api/v1/alarms/{id}', `/api/v1/alarms/${id}`, 200, { token });
    await call('GET /api/v1/alarms/{id}', '/api/v1/alarms/no-such-alarm', 404, { token });
    await call('GET /api/v1/alarms/hidden', '/api/v1/alarms/hidden', 200, { token });
    await call('POST /api/v1/alarms/{id}/{action}', `/api/v1/alarms/${id}/acknowledge`, 200, {
      token,
      body: { note: 'on my way' },
    });
    await call('POST /api/v1/alarms/{id}/{action}', `/api/v1/alarms/${id}/acknowledge`, 409, {
      token,
      body: {},
    });
    await call('POST /api/v1/alarms/{id}/{action}', `/api/v1/alarms/${id}/shelve`, 400, {
      token,
      body: { minutes: 0 },
    });
    await call(
      'POST /api/v1/devices/{siteId}/{deviceId}/maintenance',
      '/api/v1/devices/plant-1/gc-lb-01/maintenance',
      403,
      { token, body: { mode: 'maintenance', reason: 'calibration' } },
    );
    await call(
      'POST /api/v1/devices/{siteId}/{deviceId}/maintenance',
      '/api/v1/devices/plant-1/gc-lb-01/maintenance',
      200,
      { token: admin, body: { mode: 'maintenance', reason: 'calibration' } },
    );
    await call('GET /api/v1/reports/alarm-performance', '/api/v1/reports/alarm-performance', 200, {
      token,
    });
    await call('GET /api/v1/devices/health', '/api/v1/devices/health', 200, { token });
    await call(
      'GET /api/v1/devices/{siteId}/{deviceId}/live',
      '/api/v1/devices/plant-1/gc-lb-01/live',
      200,
      { token },
    );
    await call('GET /api/v1/risk', '/api/v1/risk', 200, { token });
    await call('GET /api/v1/positions', '/api/v1/positions', 200, { token });
    await call(
      'GET /api/v1/areas/{siteId}/{areaId}/muster',
      '/api/v1/areas/plant-1/tank-farm/muster',
      200,
      { token },
    );
    // The hazard ledger (docs/interfaces.md §Hazards).
    const wang = (await loginAs(vigil.httpUrl, 'wang')).token;
    const hazard = (await call('POST /api/v1/hazards', '/api/v1/hazards', 201, {
      token,
      body: { title: 'Loose earthing', level: 'general', siteId: 'plant-1', photos: ['p://1'] },
    })) as { id: string };
    await call('POST /api/v1/hazards', '/api/v1/hazards', 400, { token, body: { title: '' } });
    await call('POST /api/v1/hazards', '/api/v1/hazards', 422, {
      token,
      body: { title: 'x', level: 'general', alarmId: id },
    });
    await call('GET /api/v1/hazards', '/api/v1/hazards?state=open', 200, { token });
    await call('GET /api/v1/hazards/stats', '/api/v1/hazards/stats?by=site', 200, { token });
    await call('GET /api/v1/hazards/{id}', `/api/v1/hazards/${hazard.id}`, 200, { token });
    await call('GET /api/v1/hazards/{id}', '/api/v1/hazards/nothing', 404, { token });
    const step = `/api/v1/hazards/${hazard.id}/assign`;
    const assign = { assignee: 'zhang', plan: { responsible: 'r', measures: 'm', funds: 0 } };
    await call('POST /api/v1/hazards/{id}/{action}', step, 403, { token, body: assign });
    await call('POST /api/v1/hazards/{id}/{action}', step, 422, { token: wang, body: assign });
    const plan = { ...assign.plan, deadline: Date.now() + 86_400_000, contingencyPlan: 'p' };
    await call('POST /api/v1/hazards/{id}/{action}', step, 200, {
      token: wang,
      body: { ...assign, plan },
    });
    await call('POST /api/v1/hazards/{id}/{action}', `/api/v1/hazards/${hazard.id}/close`, 409, {
      token: wang,
      body: {},
    });
    // Special-operation permits (docs/interfaces.md §Permits).
    const permitBody = {
      kind: 'confined-space',
      title: 'Sump desilting',
      siteId: 'plant-1',
      areaId: 'confined-space',
      from: Date.now() - 1000,
      to: Date.now() + 3_600_000,
      workers: ['tag-001'],
      guardian: 'li',
    };
    const permit = (await call('POST /api/v1/permits', '/api/v1/permits', 201, {
      token,
      body: permitBody,
    })) as { id: string };
    await call('POST /api/v1/permits', '/api/v1/permits', 400, { token, body: { kind: 'x' } });
    await call('POST /api/v1/permits', '/api/v1/permits', 422, {
      token,
      body: { ...permitBody, workers: ['go-cs-01'] },
    });
    await call('GET /api/v1/permits', '/api/v1/permits?state=open', 200, { token });
    await call('GET /api/v1/permits/{id}', `/api/v1/permits/${permit.id}`, 200, { token });
    await call('GET /api/v1/permits/{id}', '/api/v1/permits/nothing', 404, { token });
    const permitStep = (action: string) => `/api/v1/permits/${permit.id}/${action}`;
    await call('POST /api/v1/permits/{id}/{action}', permitStep('approve'), 403, {
      token,
      body: {},
    });
    await call('POST /api/v1/permits/{id}/{action}', permitStep('approve'), 200, {
      token: wang,
      body: {},
    });
    // No oxygen reading of the area yet: the gas analysis cannot pass.
    await call('POST /api/v1/permits/{id}/{action}', permitStep('start'), 409, {
      token,
      body: {},
    });
    // Duty and shift hand-over (docs/interfaces.md §Duty): zhang on duty, hands over to wang.
    const shiftBody = {
      siteId: 'plant-1',
      roomId: 'control-room',
      lead: 'zhang',
      plannedEnd: Date.now() + 3_600_000,
    };
    await call('POST /api/v1/duty/shifts', '/api/v1/duty/shifts', 400, { token, body: {} });
    await call('POST /api/v1/duty/shifts', '/api/v1/duty/shifts', 422, {
      token,
      body: { ...shiftBody, roomId: 'tank-farm' },
    });
    await call('POST /api/v1/duty/shifts', '/api/v1/duty/shifts', 403, {
      token: wang,
      body: shiftBody,
    });
    const shift = (await call('POST /api/v1/duty/shifts', '/api/v1/duty/shifts', 201, {
      token,
      body: shiftBody,
    })) as { id: string };
    await call('POST /api/v1/duty/shifts', '/api/v1/duty/shifts', 409, { token, body: shiftBody });
    await call('GET /api/v1/duty/rooms', '/api/v1/duty/rooms', 200, { token });
    await call('GET /api/v1/duty/shifts', '/api/v1/duty/shifts?state=on-duty', 200, { token });
    await call('GET /api/v1/duty/shifts', '/api/v1/duty/shifts?state=x', 400, { token });
    await call('GET /api/v1/duty/shifts/{id}', '/api/v1/duty/shifts/nothing', 404, { token });
    const shiftStep = (action: string) => `/api/v1/duty/shifts/${shift.id}/${action}`;
    await call('POST /api/v1/duty/shifts/{id}/{action}', shiftStep('hand-over'), 422, {
      token,
      body: { incoming: { lead: 'zhang', plannedEnd: Date.now() + 3_600_000 } },
    });
    await call('POST /api/v1/duty/shifts/{id}/{action}', shiftStep('hand-over'), 200, {
      token,
      body: { notes: 'n', incoming: { lead: 'wang', plannedEnd: Date.now() + 3_600_000 } },
    });
    await call('POST /api/v1/duty/shifts/{id}/{action}', shiftStep('accept'), 409, {
      token: wang,
      body: {},
    });
    await call('POST /api/v1/duty/shifts/{id}/{action}', shiftStep('sign'), 200, {
      token,
      body: {},
    });
    await call('POST /api/v1/duty/shifts/{id}/{action}', shiftStep('accept'), 403, {
      token,
      body: {},
    });
    await call('GET /api/v1/duty/shifts/{id}', `/api/v1/duty/shifts/${shift.id}`, 200, { token });
    await call('POST /api/v1/duty/shifts/{id}/{action}', shiftStep('accept'), 200, {
      token: wang,
      body: {},
    });
    // From InfluxDB: the alarm's stored transitions, and the detector's readings.
    await waitFor(
      async () => {
        const history = (await call('GET /api/v1/history/alarms', '/api/v1/history/alarms', 200, {
          token,
        })) as { events: Array<{ alarmId: string; action: string }> };
        return history.events.some(event => event.alarmId === id && event.action === 'acknowledge');
      },
      { what: 'the acknowledgement in the alarm history' },
    );
    await waitFor(
      async () => {
        const series = (await call(
          'GET /api/v1/telemetry/{siteId}/{deviceId}',
          '/api/v1/telemetry/plant-1/gc-lb-01?metric=lel',
          200,
          { token },
        )) as { value: unknown[]; setpoints: unknown[] };
        return series.value.length > 0 && series.setpoints.length > 0;
      },
      { what: 'the detector’s stored readings' },
    );
    // The report reads the stored activations through the same store: InfluxDB, not memory.
    const report = (await call(
      'GET /api/v1/reports/alarm-performance',
      '/api/v1/reports/alarm-performance',
      200,
      { token },
    )) as { source: string; mostFrequent: unknown[] };
    expect(report.source).toBe('influxdb');
    expect(report.mostFrequent.length).toBeGreaterThan(0);
    await call(
      'GET /api/v1/telemetry/{siteId}/{deviceId}',
      '/api/v1/telemetry/plant-1/gc-lb-01?metric=nothing',
      400,
      { token },
    );
    await call('POST /api/v1/registry/reload', '/api/v1/registry/reload', 403, {
      token,
      body: {},
    });
    await call('POST /api/v1/registry/reload', '/api/v1/registry/reload', 200, {
      token: admin,
      body: {},
    });
    await call('GET /api/v1/sites', '/api/v1/sites', 401, { token: 'not-a-token' });
  });

  it('documents the relay with its own secret, and the relay answers as documented', async () => {
    const key = 'POST /api/v1/notify/relay/{node}/{channel}';
    const webhook = {
      version: '4',
      status: 'firing',
      receiver: 'ent-huaxin-sms',
      groupKey: 'g',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'VigilAlarm', priority: 'P1', site: 'plant-1' },
          annotations: { summary: 'gas L2' },
          startsAt: new Date().toISOString(),
        },
      ],
    };
    const secret = { Authorization: `Bearer ${RELAY_SECRET}` };
    await call(key, '/api/v1/notify/relay/ent-huaxin/sms', 200, { headers: secret, body: webhook });
    expect(sms.requests).toHaveLength(1);
    // A user's token is not the relay secret.
    const { token } = await loginAs(vigil.httpUrl, 'admin');
    await call(key, '/api/v1/notify/relay/ent-huaxin/sms', 401, { token, body: webhook });
    await call(key, '/api/v1/notify/relay/ent-huaxin/sms', 400, {
      headers: secret,
      body: { alerts: 'none' },
    });
    await call(key, '/api/v1/notify/relay/ent-huaxin/pager', 404, {
      headers: secret,
      body: webhook,
    });
    expect(sms.requests).toHaveLength(1);
  });
});
