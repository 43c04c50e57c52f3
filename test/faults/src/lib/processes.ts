import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';

/** A Vigil process the suite started: output in `<logDir>/<name>.log`, stopped by its PID only. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<void>;
  alive(): boolean;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Nothing the suite started outlives it, also when it fails or is interrupted.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function startChild(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  logDir: string,
  cwd: string,
): Child {
  hookExit();
  mkdirSync(logDir, { recursive: true });
  const fd = openSync(join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [...args], { env, cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start`);
  const pid = child.pid;
  running.add(child);
  let gone = false;
  const exited = new Promise<void>(resolve =>
    child.once('exit', () => {
      gone = true;
      running.delete(child);
      resolve();
    }),
  );
  const signal = (sig: NodeJS.Signals): void => {
    if (gone) return;
    try {
      process.kill(pid, sig);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  return {
    name,
    pid,
    exited,
    alive: () => !gone,
    kill: signal,
    async stop(graceMs = 10_000) {
      if (gone) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Every child still running (for an interrupt handler). */
export function killAllStarted(): void {
  for (const child of running) child.kill('SIGKILL');
}

export const sleep = (ms: number): Promise<void> =>
  new Promise(resolve => setTimeout(resolve, Math.max(0, ms)));
