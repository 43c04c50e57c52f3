import { startSystem } from './support';

/** The OpenAPI document clients generate from (issue 13): /api/docs-json on a running Vigil. */
describe('OpenAPI document', () => {
  let vigil: Awaited<ReturnType<typeof startSystem>>;

  beforeAll(async () => {
    vigil = await startSystem();
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  type Operation = {
    operationId?: string;
    security?: Record<string, string[]>[];
    requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
    responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  };

  async function document() {
    const response = await fetch(`${vigil.httpUrl}/api/docs-json`);
    expect(response.status).toBe(200);
    return (await response.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, Operation>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
  }

  function operations(doc: Awaited<ReturnType<typeof document>>) {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
  }

  it('is served at /api/docs-json and /api/docs/openapi.json, structurally OpenAPI 3', async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: 'Vigil API', version: '1' });
    expect(Object.keys(doc.paths).every(path => path.startsWith('/'))).toBe(true);
    const old = await fetch(`${vigil.httpUrl}/api/docs/openapi.json`);
    expect(await old.json()).toEqual(doc);
  });

  it('gives every operation a response schema and the bearer scheme to every protected one', async () => {
    const doc = await document();
    expect(doc.components.securitySchemes['bearer']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const all = operations(doc);
    expect(all.length).toBeGreaterThanOrEqual(19);
    const publicOnes = new Set([
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'POST /api/v1/auth/login',
      'GET /api/v1/auth/mode',
    ]);
    for (const { key, operation } of all) {
      const success = Object.entries(operation.responses).filter(([code]) => code.startsWith('2'));
      expect([key, success.length > 0]).toEqual([key, true]);
      for (const [, response] of success) {
        expect([key, response.content?.['application/json']?.schema]).toEqual([
          key,
          expect.anything(),
        ]);
      }
      if (publicOnes.has(key)) expect([key, operation.security]).toEqual([key, []]);
      else if (!key.startsWith('POST /api/v1/notify/relay'))
        expect([key, operation.security]).toEqual([key, [{ bearer: [] }]]);
    }
  });

  it('describes request bodies and queries from the zod schemas the server validates with', async () => {
    const doc = await document();
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
});
