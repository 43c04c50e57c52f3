#!/usr/bin/env node
// npm run restore -- --from <dir>: what scripts/backup.mjs saved, back into InfluxDB (influxd
// restore -portable over its RPC address) and <dataDir>/alarms. Stop Vigil first. influxd refuses
// to restore over an existing database: drop it first (DROP DATABASE) or restore on a fresh server.
import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { influxd, parseOptions, usage } from './backup-lib.mjs';

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), process.env, '--from');
  } catch (error) {
    console.error(`restore: ${error.message}\n${usage('restore', '--from')}`);
    return 2;
  }
  const { dir, dataDir, rpc } = options;
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    console.error(`restore: ${manifestPath} not found: not a backup made by npm run backup`);
    return 1;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const journal = join(dataDir, 'alarms');
  if (manifest.alarms && existsSync(journal) && readdirSync(journal).length > 0) {
    console.error(`restore: ${journal} is not empty; move it away first (it is never overwritten)`);
    return 1;
  }
  if (options.influx && manifest.influx) {
    await influxd(options.influxd, [
      'restore',
      '-portable',
      '-host',
      rpc,
      '-db',
      manifest.database,
      '-newdb',
      options.db,
      join(dir, 'influxdb'),
    ]);
    console.log(`restore: InfluxDB database ${manifest.database} → ${options.db} at ${rpc}`);
  }
  if (manifest.alarms) {
    cpSync(join(dir, 'alarms'), journal, { recursive: true });
    console.log(`restore: alarm journal → ${journal}`);
  }
  return 0;
}

main().then(
  code => process.exit(code),
  error => {
    console.error(`restore FAILED: ${error.message}`);
    process.exit(1);
  },
);
