import { spawn, type ChildProcess } from 'node:child_process';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A service binary running as our child, stopped by its PID. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** The last few kilobytes of stdout and stderr, for error messages. */
  outputTail(): string;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_CHARS = 4_000;
const DEFAULT_GRACE_MS = 5_000;

// A crashed or interrupted test run must not leave services holding ports and temp dirs.
const running = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running.values()) child.kill('SIGKILL');
  });
}

/** Spawns `binary` and resolves once the OS has started it; rejects if it cannot (ENOENT, EACCES). */
export function spawnService(
  name: string,
  binary: string,
  args: readonly string[],
): Promise<ServiceProcess> {
  installExitHook();
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const append = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>(resolve => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      if (child.pid !== undefined) running.delete(child.pid);
      resolve(exitInfo);
    });
  });

  return new Promise((resolve, reject) => {
    child.once('error', error =>
      reject(new Error(`cannot start ${name} (${binary}): ${error.message}`)),
    );
    child.once('spawn', () => {
      const pid = child.pid;
      if (pid === undefined) {
        reject(new Error(`cannot start ${name} (${binary}): no pid`));
        return;
      }
      running.set(pid, child);
      const handle: ServiceProcess = {
        name,
        pid,
        exited,
        hasExited: () => exitInfo !== undefined,
        outputTail: () => tail.trim(),
        kill: signal => {
          if (exitInfo === undefined) signalPid(pid, signal);
        },
        stop: async (graceMs = DEFAULT_GRACE_MS) => {
          if (exitInfo !== undefined) return;
          signalPid(pid, 'SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const killed = new Promise<void>(resolveKill => {
            timer = setTimeout(() => {
              if (exitInfo === undefined) signalPid(pid, 'SIGKILL');
              resolveKill();
            }, graceMs);
          });
          await Promise.race([exited, killed]);
          clearTimeout(timer);
          await exited;
        },
      };
      resolve(handle);
    });
  });
}

// The process may have died before its 'exit' event ran: that is the outcome we wanted.
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function describeExit({ code, signal }: ExitInfo): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

/**
 * Polls `probe` until it says ready. Fails early when the process exits, and stops the process
 * when it never becomes ready, in both cases quoting what it printed.
 */
export async function awaitReady(
  service: ServiceProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.hasExited()) {
      const info = await service.exited;
      throw new ServiceStartError(
        `${service.name} (pid ${service.pid}) exited with ${describeExit(info)} before it was ready`,
        service.outputTail(),
      );
    }
    if (await probe()) return;
    if (Date.now() >= deadline) {
      await service.stop(1_000);
      throw new ServiceStartError(
        `${service.name} (pid ${service.pid}) was not ready after ${timeoutMs} ms`,
        service.outputTail(),
      );
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}

export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';

  constructor(
    summary: string,
    readonly output: string,
  ) {
    super(output === '' ? `${summary} (it printed nothing)` : `${summary}; it printed:\n${output}`);
  }

  /** Whether another process took the port between freePort() and the service's bind. */
  get portTaken(): boolean {
    return /address already in use/i.test(this.output);
  }
}
