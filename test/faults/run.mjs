#!/usr/bin/env node
// The fault-injection suite's one command: `node test/faults/run.mjs [options]` (--help lists them,
// --list the scenarios). The suite is TypeScript in test/faults/src, built into dist/ with the rest
// of the workspace (scripts/build.mjs); this launcher builds when dist/ lacks it (or with --build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const entry = join(root, 'dist/test/faults/src/main.js');
const args = process.argv.slice(2);

if (
  args.includes('--build') ||
  !existsSync(entry) ||
  !existsSync(join(root, 'dist/apps/vigil/src/main.js'))
) {
  console.error('[faults] building the workspace (npm run build)');
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
// Pass stops on: the suite kills what it started (by PID) before exiting.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
