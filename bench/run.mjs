#!/usr/bin/env node
// The benchmark's one command: `node bench/run.mjs [--quick] [options]` (--help lists them).
// The benchmark itself is TypeScript in bench/src, built into dist/ with the rest of the
// workspace (scripts/build.mjs); this launcher builds when dist/ lacks it (or with --build), then
// runs it. It installs the Node-RED peer into bench/.peer (ignored by git) when missing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/bench/src/main.js');
const args = process.argv.slice(2);
const build = args.includes('--build');

if (build || !existsSync(entry) || !existsSync(join(root, 'dist/apps/vigil/src/main.js'))) {
  console.error('[bench] building the workspace (npm run build)');
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
// Pass stops on to the benchmark (by PID): it stops everything it started before exiting.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
