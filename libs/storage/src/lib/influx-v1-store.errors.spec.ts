import { InfluxV1Store, refusedLineCount } from './influx-v1-store';
import { toWriteChunks, type WriteChunk } from './schema';
import { StoreWriteError } from './telemetry-store';

// Unit tests of the HTTP classification through the fetch seam; the real influxd is exercised in
// influx-v1-store.spec.ts.
type Answer = { status: number; body?: string } | Error;

function storeAnswering(...answers: Answer[]): {
  store: InfluxV1Store;
  requests: URL[];
  bodies: unknown[];
} {
  const requests: URL[] = [];
  const bodies: unknown[] = [];
  const fakeFetch = async (
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> => {
    requests.push(new URL(String(input)));
    bodies.push(init?.body);
    const answer = answers.shift() ?? { status: 204 };
    if (answer instanceof Error) throw answer;
    return new Response(answer.status === 204 ? null : (answer.body ?? ''), {
      status: answer.status,
    });
  };
  return {
    store: new InfluxV1Store({ url: 'http://127.0.0.1:1/', fetch: fakeFetch as typeof fetch }),
    requests,
    bodies,
  };
}

/** `count` one-line chunks. */
const raw = (count: number): WriteChunk[] =>
  Array.from({ length: count }, (_, i) => ({ rp: 'raw', text: `m v=${i}`, lines: 1 }));
const events = (count: number): WriteChunk[] =>
  Array.from({ length: count }, (_, i) => ({ rp: 'events', text: `e v=${i}`, lines: 1 }));
/** One chunk of `count` lines. */
const rawChunk = (count: number, from = 0): WriteChunk[] =>
  toWriteChunks(Array.from({ length: count }, (_, i) => ({ rp: 'raw', line: `m v=${from + i}` })));

async function failure(promise: Promise<unknown>): Promise<StoreWriteError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreWriteError) return error;
    throw error;
  }
  throw new Error('expected a StoreWriteError');
}

describe('InfluxV1Store write errors', () => {
  it('posts each retention class separately with precision=n', async () => {
    const { store, requests } = storeAnswering();
    await store.write([...raw(2), ...events(1), ...raw(1)]);
    expect(requests.map(url => `${url.pathname}?${url.searchParams}`)).toEqual([
      '/write?db=vigil&rp=raw&precision=n',
      '/write?db=vigil&rp=events&precision=n',
    ]);
  });

  it('sends the chunks of a class in one request, as they are, joined by newlines', async () => {
    const { store, requests, bodies } = storeAnswering();
    await store.write([
      ...rawChunk(3),
      { rp: 'events', text: 'e v=0\ne v=1', lines: 2 },
      ...rawChunk(2, 3),
      ...raw(1),
    ]);
    expect(requests.map(url => url.searchParams.get('rp'))).toEqual(['raw', 'events']);
    expect(bodies).toEqual(['m v=0\nm v=1\nm v=2\nm v=3\nm v=4\nm v=0', 'e v=0\ne v=1']);
  });

  it("sends a lone chunk's text as the whole body", async () => {
    const { store, bodies } = storeAnswering();
    const chunks = rawChunk(4);
    await store.write(chunks);
    expect(bodies).toEqual([chunks[0]?.text]);
  });

  it.each<[string, Answer]>([
    ['a network error', new TypeError('fetch failed')],
    ['HTTP 500', { status: 500, body: '{"error":"timeout"}' }],
    ['HTTP 503', { status: 503, body: 'Service Unavailable' }],
    ['HTTP 429', { status: 429, body: '' }],
    ['a missing database', { status: 404, body: '{"error":"database not found: \\"vigil\\""}' }],
  ])('calls %s retryable', async (_case, answer) => {
    const { store } = storeAnswering(answer);
    const error = await failure(store.write(raw(3)));
    expect(error).toMatchObject({ retryable: true, rejectedLines: 0 });
  });

  it('counts the lines of a partial write as refused for good', async () => {
    const { store } = storeAnswering({
      status: 400,
      body: '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type boolean, already exists as type float dropped=2"}',
    });
    const error = await failure(store.write(raw(10)));
    expect(error).toMatchObject({ retryable: false, rejectedLines: 2, status: 400 });
    expect(error.message).toMatch(/write of 10 lines to vigil.raw: HTTP 400: partial write/);
  });

  it('refuses a whole group when the server does not say how much it dropped', async () => {
    const { store } = storeAnswering({ status: 413, body: 'Request Entity Too Large' });
    expect(await failure(store.write(raw(4)))).toMatchObject({
      retryable: false,
      rejectedLines: 4,
    });
  });

  it('counts refusals in lines, not chunks', async () => {
    const { store } = storeAnswering(
      { status: 400, body: '{"error":"partial write: field type conflict dropped=2"}' },
      { status: 413, body: 'Request Entity Too Large' },
    );
    const partly = await failure(store.write([...rawChunk(5), ...rawChunk(5, 5)]));
    expect(partly).toMatchObject({ retryable: false, rejectedLines: 2 });
    expect(partly.message).toMatch(/write of 10 lines to vigil.raw/);
    const whole = await failure(store.write([...rawChunk(3), ...rawChunk(4, 3)]));
    expect(whole).toMatchObject({ retryable: false, rejectedLines: 7 });
  });

  it('sends the other class after a refusal and adds up the refused lines', async () => {
    const { store, requests } = storeAnswering(
      { status: 400, body: '{"error":"partial write: points beyond retention policy dropped=1"}' },
      { status: 400, body: '{"error":"unable to parse \'x\': invalid field format"}' },
    );
    const error = await failure(store.write([...raw(3), ...events(2)]));
    expect(requests).toHaveLength(2);
    expect(error).toMatchObject({ retryable: false, rejectedLines: 2 });
  });

  it('recreates the schema before the next write after "database not found"', async () => {
    const { store, requests } = storeAnswering(
      { status: 404, body: '{"error":"database not found: \\"vigil\\""}' },
      { status: 200, body: '{"results":[{"statement_id":0}]}' },
      { status: 200, body: '{"results":[{"statement_id":0}]}' },
      { status: 200, body: '{"results":[{"statement_id":0}]}' },
      { status: 200, body: '{"results":[{"statement_id":0}]}' },
      // The downsampled history: the trend policy, SHOW CONTINUOUS QUERIES, the CQ.
      { status: 200, body: '{"results":[{"statement_id":0}]}' },
      { status: 200, body: '{"results":[{"statement_id":0}]}' },
      { status: 200, body: '{"results":[{"statement_id":0}]}' },
    );
    await failure(store.write(raw(1)));
    await store.write(raw(1));
    expect(requests.map(url => url.pathname)).toEqual([
      '/write',
      '/query',
      '/query',
      '/query',
      '/query',
      '/query',
      '/query',
      '/query',
      '/write',
    ]);
  });
});

describe(refusedLineCount.name, () => {
  it('reads dropped=N and counts parse errors, capped at the group size', () => {
    expect(refusedLineCount('partial write: x dropped=3', 10)).toBe(3);
    expect(
      refusedLineCount(
        "partial write: unable to parse 'a': x\nunable to parse 'b': y dropped=0",
        10,
      ),
    ).toBe(2);
    expect(refusedLineCount('partial write: dropped=30', 10)).toBe(10);
    expect(refusedLineCount('bad request', 10)).toBe(10);
  });
});

describe('InfluxV1Store options', () => {
  it('lists every problem', () => {
    expect(
      () => new InfluxV1Store({ url: 'ftp://x', database: 'no spaces', rawRetention: '1y' }),
    ).toThrow(/url: .*; database: .*; rawRetention: /);
  });
});

describe('InfluxV1Store credentials (issue 13)', () => {
  function recording(
    status: number,
    body = '',
  ): {
    fetch: typeof fetch;
    headers: Array<Record<string, string>>;
  } {
    const headers: Array<Record<string, string>> = [];
    const fake = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      headers.push({ ...(init?.headers as Record<string, string>) });
      return new Response(status === 204 ? null : body, { status });
    };
    return { fetch: fake as typeof fetch, headers };
  }

  it.each([401, 403])(
    'a %i keeps the lines for retry instead of counting them refused',
    async status => {
      const { fetch } = recording(status, '{"error":"authorization failed"}');
      const store = new InfluxV1Store({ url: 'http://127.0.0.1:1', fetch });
      const error = await failure(store.write(raw(3)));
      expect(error).toMatchObject({ retryable: true, rejectedLines: 0, status });
    },
  );

  it('sends a token as `Authorization: Token`, a user as Basic', async () => {
    const token = recording(204);
    await new InfluxV1Store({ url: 'http://127.0.0.1:1', token: 't0k', fetch: token.fetch }).write(
      raw(1),
    );
    expect(token.headers[0]?.['authorization']).toBe('Token t0k');
    const basic = recording(204);
    await new InfluxV1Store({
      url: 'http://127.0.0.1:1',
      username: 'u',
      password: 'p',
      fetch: basic.fetch,
    }).write(raw(1));
    expect(basic.headers[0]?.['authorization']).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
  });

  it('proves readiness by an authenticated query, not /ping', async () => {
    const urls: string[] = [];
    const fake = async (input: string | URL | Request): Promise<Response> => {
      urls.push(String(input));
      return new Response('{"error":"authorization failed"}', { status: 401 });
    };
    const store = new InfluxV1Store({ url: 'http://127.0.0.1:1', fetch: fake as typeof fetch });
    expect(await store.check()).toMatchObject({ ok: false, kind: 'unauthorized' });
    expect(urls).toEqual(['http://127.0.0.1:1/query']);
  });
});
