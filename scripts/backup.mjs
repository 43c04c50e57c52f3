#!/usr/bin/env node
// npm run backup -- --out <dir>: InfluxDB (influxd backup -portable over its RPC address) and the
// alarm journal (<dataDir>/alarms) into <dir>, with a manifest. deploy/README.md, "Backup and
// restore"; tested by deploy/backup-restore.spec.ts on a real influxd 1.6.7.
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { influxd, parseOptions, usage } from './backup-lib.mjs';

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), process.env, '--out');
  } catch (error) {
    console.error(`backup: ${error.message}\n${usage('backup', '--out')}`);
    return 2;
  }
  const { dir, dataDir, db, rpc } = options;
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    console.error(`backup: ${dir} is not empty; choose a new folder per backup`);
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  const manifest = {
    createdAt: new Date().toISOString(),
    database: db,
    influx: false,
    alarms: false,
  };
  if (options.influx) {
    await influxd(options.influxd, [
      'backup',
      '-portable',
      '-host',
      rpc,
      '-db',
      db,
      join(dir, 'influxdb'),
    ]);
    manifest.influx = true;
    console.log(`backup: InfluxDB database ${db} from ${rpc} → ${join(dir, 'influxdb')}`);
  }
  const journal = join(dataDir, 'alarms');
  if (existsSync(journal)) {
    // The journal is append-only: a copy taken while Vigil runs may end in a half-written last
    // line, which the journal's reader skips and counts; stop the rules service for an exact copy.
    cpSync(journal, join(dir, 'alarms'), { recursive: true });
    manifest.alarms = true;
    console.log(`backup: alarm journal ${journal} → ${join(dir, 'alarms')}`);
  } else {
    console.warn(`backup: no alarm journal at ${journal} (nothing to copy)`);
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return 0;
}

main().then(
  code => process.exit(code),
  error => {
    console.error(`backup FAILED: ${error.message}`);
    process.exit(1);
  },
);
