#!/usr/bin/env node
// `npm test`: lint, typecheck and every test suite through Nx (the system tests depend on the
// build), then one closing line with the totals over all jest runs.
import { spawn } from 'node:child_process';

// Nx keeps a machine-wide cache (~/.nx); CI must run every suite for real, so it skips the cache.
const cacheArgs = process.env.CI ? ['--skip-nx-cache'] : [];
const nx = spawn(
  'npx',
  [
    'nx',
    'run-many',
    '-t',
    'lint',
    'typecheck',
    'test',
    '--parallel=2',
    '--output-style=static',
    ...cacheArgs,
    ...process.argv.slice(2),
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' },
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
let buffered = '';
nx.stdout.on('data', chunk => {
  process.stdout.write(chunk);
  buffered += chunk.toString();
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  for (const line of lines) {
    const totals = /^Tests:\s+(.*)$/.exec(line.trim());
    if (!totals) continue;
    for (const [, count, kind] of totals[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) {
      if (kind === 'passed') passed += Number(count);
      else if (kind === 'failed') failed += Number(count);
      else skipped += Number(count);
    }
  }
});
nx.on('exit', code => {
  // Nx replays cached runs' output too, so these totals cover every suite, cached or not. A
  // failing jest run may print its totals where this does not read them (2026-12-07: "1698
  // passed, 0 failed" under two failed tests): the line never says 0 failed for a failed run.
  const verdict =
    code === 0
      ? ''
      : failed === 0
        ? ' counted here; THE RUN FAILED: see "Failed tasks" above'
        : '; THE RUN FAILED';
  console.log(
    `\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${verdict}`,
  );
  process.exit(code ?? 1);
});
