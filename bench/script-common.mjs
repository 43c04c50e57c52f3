// What the plain-JavaScript benchmark scripts of bench/ share: the workspace root, `--name value`
// options, free loopback ports, CPU time of a process, the launcher of a benchmark built into
// dist/ (bench/run.mjs, bench/split-throughput.mjs), and the in-process CPU and GC measure of the
// A/B scripts (bench/rule-engine.mjs, bench/permit-reducer.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
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

let scavenges = 0;
let observing = false;
// GC entries reach the observer a timer turn later, not on the next immediate.
const settleGc = () => new Promise(resolve => setTimeout(resolve, 20));

/**
 * CPU time (user + system, process-wide) per item of `body(count)` and V8's minor GCs
 * (scavenges) per million items during it, a proxy for what the code allocates per item; with
 * whatever `body` returned. For the A/B scripts (rule-engine.mjs, permit-reducer.mjs).
 */
export async function measureCpu(count, body) {
  if (!observing) {
    observing = true;
    new PerformanceObserver(list => {
      for (const entry of list.getEntries())
        if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges += 1;
    }).observe({ entryTypes: ['gc'] });
  }
  await settleGc();
  const gcBefore = scavenges;
  const cpu = process.cpuUsage();
  const result = body(count);
  const used = process.cpuUsage(cpu);
  await settleGc();
  return {
    nsPerReading: ((used.user + used.system) * 1000) / count,
    scavengesPerMillion: ((scavenges - gcBefore) * 1e6) / count,
    result,
  };
}

export const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * The A/B protocol of rule-engine.mjs and permit-reducer.mjs: one warm-up run per version (fills
 * its state and lets V8 optimise both before anything is timed), then `rounds` rounds of
 * `measure(index)` (a `measureCpu` sample) per version, alternating which goes first so that
 * neither always follows the other's garbage. Returns the samples per version, and each version's
 * figures for the report row (`figures(index)`).
 */
export async function alternateVersions(versions, rounds, measure) {
  for (const index of versions.keys()) await measure(index);
  const samples = versions.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const index of order) samples[index].push(await measure(index));
  }
  const figures = index => {
    const ns = samples[index].map(sample => sample.nsPerReading);
    return {
      ref: versions[index].ref,
      nsPerReadingMedian: median(ns),
      nsPerReadingMin: Math.min(...ns),
      nsPerReading: ns,
      scavengesPerMillionMedian: median(samples[index].map(sample => sample.scavengesPerMillion)),
    };
  };
  return { samples, figures };
}

/** The machine a figure was measured on, for the JSON reports. */
export const machine = () => ({
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
});
