import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { Logger } from '@nestjs/common';

const READY_TIMEOUT_MS = 20_000;

async function ping(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return response.status === 204;
  } catch {
    return false;
  }
}

function binaryExists(binary: string): boolean {
  return spawnSync(binary, ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * In `managed` mode Vigil runs a local InfluxDB 1.x itself when none answers at the configured
 * URL and the `influxd` binary is installed (Debian's `influxdb` package). Its data lives in
 * VIGIL_DATA_DIR/influxdb and survives restarts. Without the binary, Vigil runs on and says
 * loudly that history is not being kept.
 */
export class InfluxLauncher {
  private readonly logger = new Logger(InfluxLauncher.name);
  private child: ChildProcess | undefined;

  constructor(
    private readonly url: string,
    private readonly binary: string,
    private readonly dataDir: string,
  ) {}

  async ensure(): Promise<'external' | 'started' | 'unavailable'> {
    if (await ping(this.url)) {
      this.logger.log(`InfluxDB already answers at ${this.url}`);
      return 'external';
    }
    if (!binaryExists(this.binary)) {
      this.logger.error(
        `!!! influxd not found ("${this.binary}"): HISTORY WILL NOT BE KEPT. Install Debian's influxdb package or set VIGIL_INFLUX_URL. !!!`,
      );
      return 'unavailable';
    }
    const { hostname, port } = new URL(this.url);
    const dir = resolve(this.dataDir, 'influxdb');
    mkdirSync(dir, { recursive: true });
    const rpcPort = Number(port || 8086) + 2; // InfluxDB's own convention: 8086 HTTP, 8088 RPC
    const config = join(dir, 'influxdb.conf');
    writeFileSync(
      config,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = "${join(dir, 'meta')}"`,
        '[data]',
        `  dir = "${join(dir, 'data')}"`,
        `  wal-dir = "${join(dir, 'wal')}"`,
        '  query-log-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '[http]',
        '  enabled = true',
        `  bind-address = "${hostname}:${port || 8086}"`,
        '  auth-enabled = false',
        '  log-enabled = false',
        '  flux-enabled = false',
        '[logging]',
        '  level = "warn"',
        '',
      ].join('\n'),
    );
    const log = openSync(join(dir, 'influxd.log'), 'a');
    this.child = spawn(this.binary, ['-config', config], { stdio: ['ignore', log, log] });
    this.child.once('exit', code =>
      this.logger.error(`influxd exited (code ${code}); history is not being kept`),
    );
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await ping(this.url)) {
        this.logger.log(`started influxd (pid ${this.child.pid}) at ${this.url}, data in ${dir}`);
        return 'started';
      }
      await new Promise(done => setTimeout(done, 100));
    }
    this.logger.error(
      `influxd did not answer within ${READY_TIMEOUT_MS} ms; see ${join(dir, 'influxd.log')}`,
    );
    return 'unavailable';
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.removeAllListeners('exit');
    await new Promise<void>(done => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      child.kill('SIGTERM');
    });
  }
}
