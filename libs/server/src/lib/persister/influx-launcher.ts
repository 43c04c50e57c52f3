import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

import { Logger } from '@nestjs/common';

const READY_TIMEOUT_MS = 20_000;
/** How long influxd gets to stop on SIGTERM (flushing its WAL) before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** Managed mode cannot run safely: Vigil refuses to start (exit code 2) with this message. */
export class ManagedInfluxError extends Error {
  override readonly name = 'ManagedInfluxError';
}

async function ping(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.status === 204;
  } catch {
    return false;
  }
}

/** Whether anything accepts a TCP connection on host:port (InfluxDB or not). */
function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise(done => {
    const socket = connect({ host, port });
    const finish = (answered: boolean): void => {
      socket.destroy();
      done(answered);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function binaryExists(binary: string): boolean {
  return spawnSync(binary, ['version'], { stdio: 'ignore' }).status === 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * The watchdog, run as `node -e` between Vigil and influxd. Vigil holds the write end of its stdin
 * pipe and never writes to it; the kernel closes that end however Vigil ends (exit, crash,
 * SIGKILL), and the watchdog then stops influxd (SIGTERM, SIGKILL after the grace) and exits. It
 * writes the PID file (influxd's pid and its config path) and removes it when influxd is gone.
 * Arguments: binary, config, log file, PID file, grace ms.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const [binary, config, logFile, pidFile, grace] = process.argv.slice(1);
const log = fs.openSync(logFile, 'a');
const child = spawn(binary, ['-config', config], { stdio: ['ignore', log, log] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), Number(grace)).unref();
};
child.once('error', error => { process.stderr.write(String(error) + '\\n'); process.exit(1); });
child.once('exit', code => {
  try { if (JSON.parse(fs.readFileSync(pidFile, 'utf8')).pid === child.pid) fs.unlinkSync(pidFile); } catch {}
  process.exit(code === null ? 1 : code);
});
fs.writeFileSync(pidFile, JSON.stringify({ pid: child.pid, watchdogPid: process.pid, config }) + '\\n');
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop);
`;

interface PidFile {
  readonly pid: number;
  readonly watchdogPid?: number;
  readonly config: string;
}

/**
 * `managed` mode (issue 10 finding 8): Vigil runs its own InfluxDB 1.x on its own data dir
 * (VIGIL_DATA_DIR/influxdb) at the port of VIGIL_INFLUX_URL, and nothing else.
 *
 * - It never adopts what already answers on that port (another instance, a packaged daemon, any
 *   program): Vigil refuses to start (`ManagedInfluxError`, exit 2) naming the port and the
 *   variable to change, instead of writing this site's history into someone else's database.
 * - Ownership is proved by the PID file `influxd.pid` in the data dir, written by the watchdog: a
 *   live process with that pid whose command line names this data dir's config is ours, left over
 *   from a run that ended abnormally; it is stopped and replaced, never adopted, so that the
 *   running influxd is always a child of this Vigil's watchdog. A PID file naming no such process
 *   is stale: removed, with a log line.
 * - influxd never outlives Vigil: it runs under a tiny `node -e` watchdog that holds a pipe from
 *   Vigil and stops influxd when the pipe closes, also after SIGKILL of Vigil.
 *
 * Without the binary, Vigil runs on and says loudly that history is not being kept.
 */
export class InfluxLauncher {
  private readonly logger = new Logger(InfluxLauncher.name);
  private watchdog: ChildProcess | undefined;
  private readonly dir: string;
  private readonly pidFile: string;
  private readonly config: string;

  constructor(
    private readonly url: string,
    private readonly binary: string,
    dataDir: string,
  ) {
    this.dir = resolve(dataDir, 'influxdb');
    this.pidFile = join(this.dir, 'influxd.pid');
    this.config = join(this.dir, 'influxdb.conf');
  }

  /** Starts the managed influxd; throws `ManagedInfluxError` when its ports are taken. */
  async ensure(): Promise<'started' | 'unavailable'> {
    const { hostname, port } = new URL(this.url);
    const httpPort = Number(port || 8086);
    const rpcPort = httpPort + 2; // InfluxDB's own convention: 8086 HTTP, 8088 RPC
    mkdirSync(this.dir, { recursive: true });
    await this.clearLeftover();
    for (const [taken, what] of [
      [httpPort, 'HTTP'],
      [rpcPort, 'RPC (HTTP port + 2)'],
    ] as const) {
      if (await portAnswers(hostname, taken)) {
        throw new ManagedInfluxError(
          `VIGIL_INFLUX_MODE=managed: port ${taken} on ${hostname} (the managed InfluxDB's ${what} port, ` +
            `from VIGIL_INFLUX_URL=${this.url}) already answers, and it is not an influxd this Vigil ` +
            `started on ${this.dir}. Refusing to write this site's history into it. Stop what listens ` +
            `on port ${taken}, or set VIGIL_INFLUX_URL to a free port for the managed instance, or set ` +
            'VIGIL_INFLUX_MODE=external to use that InfluxDB deliberately.',
        );
      }
    }
    if (!binaryExists(this.binary)) {
      this.logger.error(
        `!!! influxd not found ("${this.binary}"): HISTORY WILL NOT BE KEPT. Install Debian's influxdb package or set VIGIL_INFLUX_URL. !!!`,
      );
      return 'unavailable';
    }
    writeFileSync(this.config, this.configText(hostname, httpPort, rpcPort));
    const watchdog = spawn(
      process.execPath,
      [
        '-e',
        WATCHDOG,
        '--',
        this.binary,
        this.config,
        join(this.dir, 'influxd.log'),
        this.pidFile,
        String(STOP_GRACE_MS),
      ],
      // stdin: the pipe whose closing stops influxd. Nothing is ever written to it.
      // detached: its own process group, so that Ctrl+C in the terminal does not stop influxd
      // before Vigil has flushed its last writes (it did: ECONNRESET warnings at every stop).
      { stdio: ['pipe', 'ignore', 'inherit'], detached: true },
    );
    this.watchdog = watchdog;
    watchdog.once('exit', code =>
      this.logger.error(`influxd exited (code ${code}); history is not being kept`),
    );
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && watchdog.exitCode === null) {
      if (await ping(this.url)) {
        this.logger.log(
          `started influxd (pid ${this.readPidFile()?.pid ?? '?'}, watchdog ${watchdog.pid}) at ${this.url}, data in ${this.dir}`,
        );
        return 'started';
      }
      await new Promise(done => setTimeout(done, 100));
    }
    this.logger.error(
      `influxd did not answer within ${READY_TIMEOUT_MS} ms; see ${join(this.dir, 'influxd.log')}`,
    );
    return 'unavailable';
  }

  async stop(): Promise<void> {
    const watchdog = this.watchdog;
    if (!watchdog || watchdog.exitCode !== null || watchdog.signalCode !== null) return;
    watchdog.removeAllListeners('exit');
    await new Promise<void>(done => {
      const timer = setTimeout(() => {
        watchdog.kill('SIGKILL');
        const leftover = this.readPidFile();
        if (leftover && this.isOurs(leftover)) process.kill(leftover.pid, 'SIGKILL');
      }, STOP_GRACE_MS + 5_000);
      watchdog.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      watchdog.stdin?.end(); // the same signal a crash of Vigil gives it
    });
  }

  private readPidFile(): PidFile | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.pidFile, 'utf8')) as Partial<PidFile>;
      return typeof parsed.pid === 'number' && typeof parsed.config === 'string'
        ? (parsed as PidFile)
        : undefined;
    } catch {
      return undefined;
    }
  }

  private isOurs(entry: PidFile): boolean {
    return (
      entry.config === this.config &&
      alive(entry.pid) &&
      commandLine(entry.pid).includes(this.config)
    );
  }

  /** Stops an influxd of ours left over from an earlier run; removes a stale PID file. */
  private async clearLeftover(): Promise<void> {
    let raw: string | undefined;
    try {
      raw = readFileSync(this.pidFile, 'utf8');
    } catch {
      return;
    }
    const entry = this.readPidFile();
    if (entry && this.isOurs(entry)) {
      this.logger.warn(
        `influxd (pid ${entry.pid}) on ${this.dir} is left over from an earlier run of Vigil: stopping it and starting a fresh one under this process`,
      );
      process.kill(entry.pid, 'SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS;
      while (alive(entry.pid) && Date.now() < deadline)
        await new Promise(done => setTimeout(done, 100));
      if (alive(entry.pid)) process.kill(entry.pid, 'SIGKILL');
      while (alive(entry.pid)) await new Promise(done => setTimeout(done, 50));
    } else {
      this.logger.warn(
        `removed a stale PID file ${this.pidFile} (${raw.trim().slice(0, 200)}): no influxd of ours runs under it`,
      );
    }
    rmSync(this.pidFile, { force: true });
  }

  private configText(hostname: string, httpPort: number, rpcPort: number): string {
    return [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(this.dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(this.dir, 'data')}"`,
      `  wal-dir = "${join(this.dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "${hostname}:${httpPort}"`,
      '  auth-enabled = false',
      '  log-enabled = false',
      '  flux-enabled = false',
      '[logging]',
      '  level = "warn"',
      '',
    ].join('\n');
  }
}
