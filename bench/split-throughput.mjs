#!/usr/bin/env node
// `node bench/split-throughput.mjs [--docs] [options]` (--help lists them): the split deployment
// (ingest, rules, persister, gateway on JetStream) beside the all-in-one process at stepped rates,
// and the JetStream hop's cost end to end (issue 12). The benchmark is TypeScript
// (bench/src/split.ts), built into dist/bench with the rest; this launcher builds when dist/ lacks
// it (or with --build), then runs it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/bench/src/split.js');
const args = process.argv.slice(2);

if (
  args.includes('--build') ||
  !existsSync(entry) ||
  !existsSync(join(root, 'dist/apps/ingest/src/main.js'))
) {
  console.error('[split] building the workspace (npm run build)');
  const result = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const child = spawn(process.execPath, [entry, ...args.filter(arg => arg !== '--build')], {
  cwd: root,
  stdio: 'inherit',
});
// Pass stops on (by PID): the benchmark stops everything it started before exiting.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
