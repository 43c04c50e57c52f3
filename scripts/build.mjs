#!/usr/bin/env node
// Builds everything into dist/: the Node services, libs and simulators with SWC (which keeps the
// decorator metadata Nest's dependency injection needs and rewrites the tsconfig path aliases),
// and the console with esbuild into one self-contained folder (no CDN: control rooms run offline).
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { transformFile } from '@swc/core';
import { build } from 'esbuild';

import { consoleBuildOptions } from './console-bundle.mjs';
import { nodeSwcOptions } from './swc-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const swcOptions = nodeSwcOptions(root);

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.tsx?$/.test(name) && !/\.spec\.tsx?$/.test(name) && !name.endsWith('.d.ts'))
      yield path;
  }
}

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const nodeRoots = [
  ...readdirSync(join(root, 'libs')).map(name => join('libs', name, 'src')),
  ...['vigil', 'broker', 'ingest', 'rules', 'persister', 'gateway'].map(name =>
    join('apps', name, 'src'),
  ),
  ...['fleet', 'loadtest'].map(name => join('simulators', name, 'src')),
  join('bench', 'src'),
  join('tools', 'replay', 'src'),
];
let files = 0;
for (const sourceRoot of nodeRoots) {
  for (const file of sources(join(root, sourceRoot))) {
    const out = join(dist, relative(root, file)).replace(/\.tsx?$/, '.js');
    const { code, map } = await transformFile(file, { ...swcOptions, sourceMaps: true });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map`);
    writeFileSync(`${out}.map`, map ?? '');
    files += 1;
  }
}

const consoleOut = join(dist, 'apps', 'console');
await build(consoleBuildOptions(consoleOut));
cpSync(join(root, 'apps/console/src/index.html'), join(consoleOut, 'index.html'));

console.log(`built ${files} files and the console into dist/ in ${Date.now() - started} ms`);
