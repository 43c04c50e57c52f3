#!/usr/bin/env node
// The fault-injection suite's one command: `node test/faults/run.mjs [options]` (--help lists them,
// --list the scenarios). The suite is TypeScript in test/faults/src, run from source with
// @swc-node/register (it is a test tool: not compiled into dist/ nor into the image); the Vigil
// processes it starts are the built ones, so this launcher builds when dist/ lacks them (or with
// --build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);

if (args.includes('--build') || !existsSync(join(root, 'dist/apps/vigil/src/main.js'))) {
  console.error('[faults] building the workspace (npm run build)');
  const result = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const child = spawn(
  process.execPath,
  [
    '-r',
    '@swc-node/register',
    join(root, 'test/faults/src/main.ts'),
    ...args.filter(arg => arg !== '--build'),
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SWC_NODE_PROJECT: join(root, 'tsconfig.base.json') },
  },
);
// Pass stops on: the suite kills what it started (by PID) before exiting.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
