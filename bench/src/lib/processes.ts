import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

/** A process the benchmark started; stopped by its PID, never by name. */
export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

const running = new Set<Started>();
const cleanups: (() => Promise<void>)[] = [];
let hooked = false;

/** Runs on an interrupt before exiting (at most 20 s in all): stop services, remove temp files. */
export function onInterrupt(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/**
 * Makes sure nothing the benchmark started outlives it: on exit (normal, error or signal) every
 * child still running gets SIGKILL by PID.
 */
export function installCleanup(log: (line: string) => void): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const started of running) {
      try {
        process.kill(started.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping ${running.size} process(es) and exiting`);
      const deadline = new Promise(done => setTimeout(done, 20_000).unref());
      const stops = [...running].map(started => started.stop(5000));
      void Promise.race([
        Promise.allSettled([...stops, ...cleanups.map(cleanup => cleanup())]),
        deadline,
      ]).then(() => process.exit(130));
    });
  }
}

/** Starts a child with its output in `logDir/name.log`, tracked for cleanup. */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logDir: string },
): Started {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = openSync(join(options.logDir, `${name}.log`), 'a');
  const child = spawn(command, [...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', logFile, logFile],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
  const started: Started = {
    name,
    pid: child.pid,
    child,
    exited,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(started);
    },
  };
  running.add(started);
  void exited.then(() => running.delete(started));
  return started;
}

/** Polls `probe` until it answers true, the process exits, or the timeout passes. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  started: Started | undefined,
  timeoutMs: number,
): Promise<number> {
  const begin = Date.now();
  let gone = false;
  void started?.exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`${what}: the process exited before it was ready (see its log)`);
    try {
      if (await probe()) return Date.now() - begin;
    } catch {
      // not yet
    }
    if (Date.now() - begin > timeoutMs)
      throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.ok;
}
