import { createServer, type IncomingMessage } from 'node:http';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/robot/send?access_token=…&timestamp=…&sign=…`. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The body's bytes as received (a gzip body, say). */
  readonly raw: Buffer;
}

export interface HttpRecorder {
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  stop(): Promise<void>;
}

/**
 * A loopback HTTP server that records every request and answers with `respond` (default
 * `200 {"errcode":0,"errmsg":"ok"}`, what the WeCom and DingTalk robots answer).
 */
export async function startHttpRecorder(
  respond: (request: RecordedRequest) => { status: number; body: string } = () => ({
    status: 200,
    body: '{"errcode":0,"errmsg":"ok"}',
  }),
): Promise<HttpRecorder> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: raw.toString('utf8'),
        raw,
      };
      requests.push(recorded);
      const { status, body } = respond(recorded);
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('http recorder: no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
