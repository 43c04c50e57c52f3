// What the plain-JavaScript benchmark scripts of bench/ share: the workspace root, `--name value`
// options, free loopback ports, CPU time of a process, and the launcher of a benchmark built into
// dist/ (bench/run.mjs, bench/split-throughput.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The value after `--name` on the command line, as typed, or `fallback`. */
export const argValue = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
};

/** A loopback port free at the moment of asking (the OS picks it). */
export const freePort = () =>
  new Promise(resolve => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** utime + stime of a process so far, in clock ticks (/proc/<pid>/stat, fields 14 and 15). */
export function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Runs a benchmark built into dist/ (`entry`, relative to the root) with this process's
 * arguments, building the workspace first when dist/ lacks it or `needs`, or on --build; passes
 * stops on to it (by PID: it stops everything it started before exiting) and exits with its code.
 */
export function launchBuilt(label, entry, needs) {
  const args = process.argv.slice(2);
  const entryPath = join(root, entry);
  if (args.includes('--build') || !existsSync(entryPath) || !existsSync(join(root, needs))) {
    console.error(`[${label}] building the workspace (npm run build)`);
    const result = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
      cwd: root,
      stdio: 'inherit',
    });
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  const child = spawn(process.execPath, [entryPath, ...args.filter(arg => arg !== '--build')], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
