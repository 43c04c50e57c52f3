import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { requireBinary } from './binaries';
import { freePort } from './free-port';
import {
  ServiceStartError,
  awaitReady,
  spawnService,
  type ExitInfo,
  type ServiceProcess,
} from './service-process';

export interface InfluxdOptions {
  /** Defaults to `influxd` on PATH (Debian's `influxdb` package, 1.6.7). */
  readonly binary?: string;
  /**
   * Reuse this folder (meta, data, wal, config) instead of a fresh temp dir, e.g. to restart on the
   * same data. The caller owns it: stop() leaves it in place.
   */
  readonly dataDir?: string;
  /** Fixed HTTP port, e.g. to restart where a client already points; default: a free one. */
  readonly httpPort?: number;
  readonly rpcPort?: number;
  readonly readyTimeoutMs?: number;
  /** Appended to the generated config (TOML). */
  readonly extraConfig?: string;
  /** `[http] auth-enabled = true`: every query and write needs credentials. */
  readonly authEnabled?: boolean;
  /**
   * With authEnabled: create this admin user once influxd answers (the first user may be created
   * without credentials). Leave it out to start with no user at all (every request is refused).
   */
  readonly admin?: { readonly username: string; readonly password: string };
}

export interface InfluxHandle {
  /** `http://127.0.0.1:<httpPort>`, no trailing slash. */
  readonly url: string;
  readonly httpPort: number;
  readonly rpcPort: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM (SIGKILL after 5 s), then removes the data dir unless the caller supplied it. */
  stop(): Promise<void>;
  /** Sends a signal without waiting, e.g. SIGKILL to simulate a crash; await `exited` after it. */
  kill(signal: NodeJS.Signals): void;
}

const READY_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 3;

/** Starts a private influxd on loopback ports, with its own config, ready when /ping answers 204. */
export async function startInfluxd(options: InfluxdOptions = {}): Promise<InfluxHandle> {
  const binary = options.binary ?? requireBinary('influxd', 'influxdb');
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'vigil-influxd-')));
  await mkdir(dataDir, { recursive: true });
  const portsGiven = options.httpPort !== undefined && options.rpcPort !== undefined;
  try {
    for (let attempt = 1; ; attempt += 1) {
      const httpPort = options.httpPort ?? (await freePort());
      const rpcPort = options.rpcPort ?? (await freePort());
      try {
        return await launch(binary, dataDir, ownsDataDir, httpPort, rpcPort, options);
      } catch (error) {
        const retry = error instanceof ServiceStartError && error.portTaken && !portsGiven;
        if (!retry || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  binary: string,
  dataDir: string,
  ownsDataDir: boolean,
  httpPort: number,
  rpcPort: number,
  options: InfluxdOptions,
): Promise<InfluxHandle> {
  const configPath = join(dataDir, 'influxdb.conf');
  await writeFile(
    configPath,
    influxdConfig(dataDir, httpPort, rpcPort, options.extraConfig, options.authEnabled),
  );
  const service = await spawnService('influxd', binary, ['-config', configPath]);
  const url = `http://127.0.0.1:${httpPort}`;
  await awaitReady(service, () => ping(url), options.readyTimeoutMs ?? READY_TIMEOUT_MS);
  if (options.authEnabled && options.admin) {
    try {
      await createInfluxAdmin(url, options.admin.username, options.admin.password);
    } catch (error) {
      await service.stop();
      throw error;
    }
  }
  return {
    url,
    httpPort,
    rpcPort,
    pid: service.pid,
    dataDir,
    exited: service.exited,
    kill: signal => service.kill(signal),
    stop: () => stopAndClean(service, ownsDataDir ? dataDir : undefined),
  };
}

async function stopAndClean(service: ServiceProcess, removeDir: string | undefined): Promise<void> {
  await service.stop();
  if (removeDir !== undefined) await rm(removeDir, { recursive: true, force: true });
}

/**
 * `CREATE USER … WITH ALL PRIVILEGES` through /query. Without credentials this works only while
 * the server has no admin yet (1.x's bootstrap rule); pass `as` once one exists.
 */
export async function createInfluxAdmin(
  url: string,
  username: string,
  password: string,
  as?: { readonly username: string; readonly password: string },
): Promise<void> {
  const q = `CREATE USER "${username.replace(/["\\]/g, '\\$&')}" WITH PASSWORD '${password.replace(/['\\]/g, '\\$&')}' WITH ALL PRIVILEGES`;
  const body = new URLSearchParams({ q });
  if (as) {
    body.set('u', as.username);
    body.set('p', as.password);
  }
  const response = await fetch(`${url}/query`, { method: 'POST', body });
  const text = await response.text();
  if (!response.ok || /"error"/.test(text)) {
    throw new Error(`CREATE USER ${username} failed: HTTP ${response.status}: ${text}`);
  }
}

async function ping(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 204;
  } catch {
    return false;
  }
}

/** toolchain.md §3: everything on loopback, nothing in system folders, quiet logs. */
export function influxdConfig(
  dataDir: string,
  httpPort: number,
  rpcPort: number,
  extra = '',
  authEnabled = false,
): string {
  // JSON string syntax is valid TOML basic-string syntax, so odd characters in paths stay safe.
  const path = (name: string): string => JSON.stringify(join(dataDir, name));
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = ${path('meta')}`,
    '[data]',
    `  dir = ${path('data')}`,
    `  wal-dir = ${path('wal')}`,
    '  query-log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[http]',
    '  enabled = true',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    `  auth-enabled = ${authEnabled ? 'true' : 'false'}`,
    '  log-enabled = false',
    '  flux-enabled = false',
    '[logging]',
    '  level = "warn"',
    extra,
    '',
  ].join('\n');
}
