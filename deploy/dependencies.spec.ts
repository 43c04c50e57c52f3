// The runtime image installs `dependencies` only (`npm install --omit=dev`), so that list must be
// exactly what the Node services import: an unused package there is attack surface and image
// size for nothing (issue 14: `@nestjs/websockets` and `@nestjs/platform-ws` were never imported),
// and a package only the console imports is bundled at build time and belongs in devDependencies.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..');

/** Source files (not specs) under a folder, recursively. */
function sources(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(path).isDirectory()) files.push(...sources(path));
    else if (/\.(ts|tsx|mjs|js)$/.test(name) && !/\.spec\.tsx?$/.test(name)) files.push(path);
  }
  return files;
}

/** Package names a file imports or requires (bare specifiers only; `@scope/name` kept whole). */
function importedPackages(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  const pattern = /(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*)['"]([^'"./][^'"]*)['"]/g;
  for (const match of text.matchAll(pattern)) {
    const specifier = match[1] ?? '';
    const parts = specifier.split('/');
    found.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? ''));
  }
  return found;
}

function importsUnder(folders: string[]): Set<string> {
  const all = new Set<string>();
  for (const folder of folders)
    for (const file of sources(join(REPO_ROOT, folder)))
      for (const name of importedPackages(file)) all.add(name);
  return all;
}

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

// What runs in the image: the services and the libraries and command-line tools they ship with.
const runtimeFolders = [
  'libs',
  'apps/vigil',
  'apps/ingest',
  'apps/rules',
  'apps/persister',
  'apps/gateway',
  'apps/broker',
  'simulators',
  'tools/replay',
];

describe('runtime dependencies (what the image installs with --omit=dev)', () => {
  const runtimeImports = importsUnder(runtimeFolders);
  const consoleImports = importsUnder(['apps/console']);

  it('lists only packages the services import', () => {
    const unused = Object.keys(manifest.dependencies).filter(name => !runtimeImports.has(name));
    expect(unused).toEqual([]);
  });

  it('keeps browser-only packages (bundled into the console at build time) out of them', () => {
    const browserOnly = Object.keys(manifest.dependencies).filter(
      name => consoleImports.has(name) && !runtimeImports.has(name),
    );
    expect(browserOnly).toEqual([]);
  });

  it('has every package the console imports in devDependencies or dependencies (the build needs it)', () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.devDependencies),
    ]);
    const missing = [...consoleImports].filter(
      name => !name.startsWith('@vigil/') && !name.startsWith('node:') && !declared.has(name),
    );
    expect(missing).toEqual([]);
  });
});
