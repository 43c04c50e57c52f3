import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { requireBinary } from './binaries';
import { freePort } from './free-port';
import { ServiceStartError, awaitReady, spawnService, type ExitInfo } from './service-process';

export interface PrometheusOptions {
  /** The configuration (prometheus.yml as text); rule_files must be absolute paths. */
  readonly config: string;
  /** Defaults to `prometheus` on PATH or in /usr/bin (Debian's `prometheus` package). */
  readonly binary?: string;
  readonly readyTimeoutMs?: number;
}

export interface PrometheusHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  /** GET /api/v1/<path> and its `data` (throws on an error status). */
  api<T = unknown>(path: string): Promise<T>;
  /** SIGTERM (SIGKILL after 5 s), then removes its config and data folder. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;

/** Starts a private prometheus on a loopback port, with its own TSDB folder; ready at `/-/ready`. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusHandle> {
  const binary = options.binary ?? requireBinary('prometheus', 'prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'vigil-prometheus-'));
  try {
    const configPath = join(dir, 'prometheus.yml');
    await writeFile(configPath, options.config);
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      try {
        return await launch(binary, dir, configPath, port, options);
      } catch (error) {
        const retry = error instanceof ServiceStartError && error.portTaken;
        if (!retry || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  binary: string,
  dir: string,
  configPath: string,
  port: number,
  options: PrometheusOptions,
): Promise<PrometheusHandle> {
  const url = `http://127.0.0.1:${port}`;
  const service = await spawnService('prometheus', binary, [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  await awaitReady(
    service,
    async () => {
      try {
        return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) })).ok;
      } catch {
        return false;
      }
    },
    options.readyTimeoutMs ?? READY_TIMEOUT_MS,
    100,
  );
  return {
    url,
    pid: service.pid,
    exited: service.exited,
    api: async <T>(path: string): Promise<T> => {
      const response = await fetch(`${url}/api/v1/${path}`, { signal: AbortSignal.timeout(5_000) });
      const body = (await response.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success')
        throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
      return body.data;
    },
    stop: async () => {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
