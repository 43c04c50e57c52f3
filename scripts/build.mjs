#!/usr/bin/env node
// Builds everything into dist/: the Node services, libs and simulators with SWC (which keeps the
// decorator metadata Nest's dependency injection needs and rewrites the tsconfig path aliases),
// and the console with esbuild into one self-contained folder (no CDN: control rooms run offline).
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { transformFile } from '@swc/core';
import { build } from 'esbuild';

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
// @vigil/contracts is declarations and schemas only: marking it side-effect free lets esbuild drop
// what the console does not use (the zod payload schemas, and zod with them: ~450 KB).
const contractsDir = join(root, 'libs/contracts/src');
const pureContracts = {
  name: 'pure-contracts',
  setup(builder) {
    builder.onResolve({ filter: /^@vigil\/contracts$/ }, () => ({
      path: join(contractsDir, 'index.ts'),
      sideEffects: false,
    }));
    builder.onResolve({ filter: /^\.\.?\// }, ({ path, importer }) => {
      if (!importer.startsWith(contractsDir)) return undefined;
      const file = `${join(dirname(importer), path)}.ts`;
      return existsSync(file) ? { path: file, sideEffects: false } : undefined;
    });
  },
};
// One JS and one CSS file (the console's own styles and uPlot's, imported from main.tsx): every
// asset is bundled, nothing is fetched from a CDN.
await build({
  entryPoints: [join(root, 'apps/console/src/main.tsx')],
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['chrome110', 'firefox110'],
  outdir: consoleOut,
  entryNames: 'main',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  plugins: [pureContracts],
  tsconfig: join(root, 'apps/console/tsconfig.json'),
  logLevel: 'warning',
});
cpSync(join(root, 'apps/console/src/index.html'), join(consoleOut, 'index.html'));

console.log(`built ${files} files and the console into dist/ in ${Date.now() - started} ms`);
