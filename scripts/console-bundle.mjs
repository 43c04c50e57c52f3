#!/usr/bin/env node
// The console's esbuild options, shared by scripts/build.mjs (which writes dist/apps/console) and
// by `node scripts/console-bundle.mjs --report` (builds in memory and prints what the bundle is
// made of, as JSON: test/system/src/console-bundle.spec.ts keeps zod out of it).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The platform:any libs are pure: their modules only declare types, constants, functions and
 * schemas, and run nothing on import. Telling esbuild so lets it leave out every module whose
 * exports the console does not use: the zod schemas of @vigil/contracts, and @vigil/alarms' risk
 * roll-up with the @vigil/rules catalogue (and zod) behind it (the console uses only the
 * lifecycles' allowed*Commands). A module the console does use is bundled whole, so schemas live
 * apart from the constants and types the console needs (contracts' *.schema.ts).
 */
export const PURE_LIBS = ['contracts', 'alarms', 'rules', 'registry', 'ingest'];

function moduleFile(base) {
  for (const candidate of [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')])
    if (existsSync(candidate)) return candidate;
  return undefined;
}

const pureLibs = {
  name: 'pure-libs',
  setup(builder) {
    const dirs = PURE_LIBS.map(name => join(root, 'libs', name, 'src'));
    const filter = new RegExp(`^@vigil/(${PURE_LIBS.join('|')})$`);
    builder.onResolve({ filter }, ({ path }) => ({
      path: join(root, 'libs', path.slice('@vigil/'.length), 'src', 'index.ts'),
      sideEffects: false,
    }));
    builder.onResolve({ filter: /^\.\.?\// }, ({ path, importer }) => {
      if (!dirs.some(dir => importer.startsWith(dir))) return undefined;
      const file = moduleFile(join(dirname(importer), path));
      return file ? { path: file, sideEffects: false } : undefined;
    });
  },
};

/** One JS and one CSS file (the console's own styles and uPlot's): nothing from a CDN. */
export function consoleBuildOptions(outdir) {
  return {
    entryPoints: [join(root, 'apps/console/src/main.tsx')],
    bundle: true,
    minify: true,
    sourcemap: true,
    target: ['chrome110', 'firefox110'],
    outdir,
    entryNames: 'main',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    plugins: [pureLibs],
    tsconfig: join(root, 'apps/console/tsconfig.json'),
    logLevel: 'warning',
  };
}

/** Bytes of main.js and main.css, and of main.js per npm package or Vigil project. */
export async function consoleBundleReport() {
  const result = await build({
    ...consoleBuildOptions(join(root, 'dist/apps/console')),
    write: false,
    metafile: true,
  });
  const bytes = {};
  for (const file of result.outputFiles) bytes[file.path.split('/').pop()] = file.contents.length;
  const js = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('main.js'));
  const parts = {};
  for (const [input, { bytesInOutput }] of Object.entries(js?.[1].inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
    const project = /^(?:.*\/)?((?:libs|apps)\/[^/]+)\//.exec(input)?.[1];
    const part = pkg ?? project ?? input;
    parts[part] = (parts[part] ?? 0) + bytesInOutput;
  }
  return { bytes, parts };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--report'))
  console.log(JSON.stringify(await consoleBundleReport(), null, 2));
