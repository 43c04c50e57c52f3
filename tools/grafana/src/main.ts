// Generates Grafana's provisioning and dashboards into deploy/grafana (`npm run grafana`, from
// the repository root; `--out <dir>` elsewhere). Dashboards that the generator no longer makes
// are removed, so that the folder is exactly what the code says.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { grafanaFiles } from './lib/generate';

const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex > 0 ? (process.argv[outIndex + 1] ?? '') : 'deploy/grafana');
const files = grafanaFiles();
const dashboardsDir = join(out, 'dashboards');
mkdirSync(dashboardsDir, { recursive: true });
for (const name of readdirSync(dashboardsDir)) {
  if (name.endsWith('.json') && !files.has(`dashboards/${name}`)) rmSync(join(dashboardsDir, name));
}
for (const [path, text] of files) {
  mkdirSync(dirname(join(out, path)), { recursive: true });
  writeFileSync(join(out, path), text);
}
console.log(`grafana: ${files.size} files written to ${out}`);
