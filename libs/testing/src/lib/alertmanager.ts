import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { requireBinary } from './binaries';
import { freePort } from './free-port';
import { ServiceStartError, awaitReady, spawnService, type ExitInfo } from './service-process';

export interface AlertmanagerHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM (SIGKILL after 5 s), then removes its config and storage dir. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const PORT_ATTEMPTS = 3;

/**
 * Starts Debian's `prometheus-alertmanager` with `configYaml` on a free loopback port, clustering
 * off (empty `--cluster.listen-address`), storage in a temp dir; ready when `/-/ready` answers.
 */
export async function startAlertmanager(configYaml: string): Promise<AlertmanagerHandle> {
  const binary = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = await mkdtemp(join(tmpdir(), 'vigil-alertmanager-'));
  const configPath = join(dir, 'alertmanager.yml');
  await writeFile(configPath, configYaml);
  try {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const service = await spawnService('prometheus-alertmanager', binary, [
        `--config.file=${configPath}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        `--storage.path=${join(dir, 'data')}`,
        '--log.level=warn',
      ]);
      const url = `http://127.0.0.1:${port}`;
      try {
        await awaitReady(
          service,
          () =>
            fetch(`${url}/-/ready`)
              .then(response => response.ok)
              .catch(() => false),
          READY_TIMEOUT_MS,
          100,
        );
      } catch (error) {
        if (error instanceof ServiceStartError && error.portTaken && attempt < PORT_ATTEMPTS)
          continue;
        throw error;
      }
      return {
        url,
        pid: service.pid,
        exited: service.exited,
        stop: async () => {
          await service.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
