import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

import { requireBinary } from './binaries';
import { freePort } from './free-port';
import { ServiceStartError, awaitReady, spawnService, type ExitInfo } from './service-process';

export interface MosquittoOptions {
  /** Defaults to `mosquitto` on PATH or in /usr/sbin (Debian's `mosquitto` package). */
  readonly binary?: string;
  /** Fixed port, e.g. to restart where clients already point; default: a free one. */
  readonly port?: number;
  /** Extra mosquitto.conf lines, appended after the defaults. */
  readonly extraConfig?: readonly string[];
  /**
   * A closed broker: no anonymous clients, this password file and ACL (e.g. what
   * `npm run credentials -- mosquitto` generates). Default: anonymous clients, no ACL.
   */
  readonly security?: { readonly passwordFile: string; readonly aclFile: string };
  readonly readyTimeoutMs?: number;
}

export interface MosquittoHandle {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM (SIGKILL after 5 s), then removes the config dir. */
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

const READY_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 3;

/**
 * Starts a private mosquitto on a loopback port; ready when a TCP connect succeeds. A system
 * mosquitto already owns 1883 on the build machines, hence always a port of our own.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const binary = options.binary ?? requireBinary('mosquitto', 'mosquitto');
  const dir = await mkdtemp(join(tmpdir(), 'vigil-mosquitto-'));
  try {
    for (let attempt = 1; ; attempt += 1) {
      const port = options.port ?? (await freePort());
      try {
        return await launch(binary, dir, port, options);
      } catch (error) {
        const retry =
          error instanceof ServiceStartError && error.portTaken && options.port === undefined;
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
  port: number,
  options: MosquittoOptions,
): Promise<MosquittoHandle> {
  const configPath = join(dir, 'mosquitto.conf');
  const security = options.security
    ? [
        'allow_anonymous false',
        `password_file ${options.security.passwordFile}`,
        `acl_file ${options.security.aclFile}`,
        // Started as root, mosquitto would switch to the `mosquitto` user, which cannot read
        // owner-only secrets files.
        `user ${userInfo().username}`,
      ]
    : ['allow_anonymous true'];
  await writeFile(configPath, mosquittoConfig(port, [...security, ...(options.extraConfig ?? [])]));
  const service = await spawnService('mosquitto', binary, ['-c', configPath]);
  await awaitReady(service, () => canConnect(port), options.readyTimeoutMs ?? READY_TIMEOUT_MS);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: service.pid,
    exited: service.exited,
    kill: signal => service.kill(signal),
    stop: async () => {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** toolchain.md §2, plus logging to stderr so that a failed start can be explained. */
export function mosquittoConfig(port: number, extra: readonly string[] = []): string {
  return [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'max_queued_messages 100000',
    'max_inflight_messages 0',
    // Alarms must not wait for Nagle's algorithm: without it small PUBLISHes sat up to tens of ms.
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    ...extra,
    '',
  ].join('\n');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
