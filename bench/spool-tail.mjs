#!/usr/bin/env node
// What the spool's in-memory tail leaves to the garbage collector (issue 14): one process appends
// device-message-sized entries at 50,000/s (500 every 10 ms, each awaited durable, as ingest's
// journal does) and reads them back through a cursor each turn (as the persister does), under
// --trace-gc-nvp. Reports CPU per entry, bytes promoted to the old generation and mark-compacts:
// entries kept alive across scavenges are promoted, and only a full mark-compact of the whole heap
// frees them. Needs the build (node scripts/build.mjs); `--lib` points at another build of
// libs/spool (e.g. of an older commit) to compare. Never run by the tests.
//
//   node bench/spool-tail.mjs [--entries 300000] [--lib dist/libs/spool/src/index.js]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { argValue, machine, root } from './script-common.mjs';

const entries = Number(argValue('entries', '300000'));
const lib = resolve(argValue('lib', join(root, 'dist/libs/spool/src/index.js')));

if (process.argv.includes('--child')) {
  const { Spool } = createRequire(import.meta.url)(lib);
  const dir = mkdtempSync(join(tmpdir(), 'spool-tail-'));
  const spool = Spool.open({ dir, maxBytes: 2048 * 1024 * 1024, fsyncMs: 5 });
  const cursor = spool.cursor('persister');
  // A journalled device message of the 100k fleet (SpoolJournal: JSON of the message's records).
  const message = JSON.stringify({
    siteId: 'plant-01',
    deviceId: 'gc-plant-01-unit-01-001',
    msgId: 'plant-01/gc-plant-01-unit-01-001/123',
    records: [
      {
        kind: 'reading',
        reading: {
          siteId: 'plant-01',
          deviceId: 'gc-plant-01-unit-01-001',
          deviceClass: 'gas-combustible',
          areaId: 'unit-01',
          ts: 1796689112997,
          receivedAt: 1796689112997,
          seq: 123,
          deviceTime: true,
          clockSkewMs: -3,
          values: { lel: 1.3 },
        },
      },
    ],
  });
  let appended = 0;
  let read = 0;
  const cpu = process.cpuUsage();
  const turn = () => {
    for (let i = 0; i < 500; i += 1) {
      void spool.durable(spool.append(message)).then(() => undefined);
      appended += 1;
    }
    const batch = cursor.read(2000, 8 * 1024 * 1024);
    for (const entry of batch) JSON.parse(entry.payload.toString('utf8'));
    read += batch.length;
    if (batch.length > 0) cursor.commit(batch[batch.length - 1].seq);
    if (appended < entries) setTimeout(turn, 10);
    else
      setTimeout(async () => {
        const used = process.cpuUsage(cpu);
        process.stdout.write(
          `RESULT ${JSON.stringify({ appended, read, nsPerEntry: Math.round(((used.user + used.system) * 1000) / appended) })}\n`,
        );
        await spool.close();
        rmSync(dir, { recursive: true, force: true });
      }, 50);
  };
  turn();
} else {
  const load = loadavg();
  const child = spawnSync(
    process.execPath,
    [
      '--trace-gc-nvp',
      fileURLToPath(import.meta.url),
      '--child',
      '--entries',
      String(entries),
      '--lib',
      lib,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (child.status !== 0) throw new Error(child.stderr);
  const out = child.stdout;
  const result = JSON.parse(/RESULT (.*)/.exec(out)?.[1] ?? '{}');
  const promoted = [...out.matchAll(/promoted=(\d+)/g)].reduce(
    (sum, [, bytes]) => sum + Number(bytes),
    0,
  );
  const report = {
    ...machine(),
    loadAverage: [load, loadavg()],
    lib,
    ...result,
    promotedMb: Math.round(promoted / 104857.6) / 10,
    promotedBytesPerEntry: Math.round(promoted / entries),
    scavenges: (out.match(/gc=s /g) ?? []).length,
    markCompacts: (out.match(/gc=mc /g) ?? []).length,
  };
  console.log(JSON.stringify(report, null, 1));
}
