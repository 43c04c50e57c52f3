#!/usr/bin/env node
// The permit stop-work rule's cost per gas reading (issue 14 hot path), before and after a change
// to `libs/rules/src/lib/permit-stop-work.reducer.ts`, in one process and one run: both versions
// are compiled here the way scripts/build.mjs compiles (SWC, the tsconfig path aliases) from git
// (`--before`, default the reducer before its allocation-free early return) and from the working
// tree (or `--after REF`), next to the built rules lib, and driven by the same readings,
// interleaved round by round, so that the load of a shared machine falls on both alike.
//
// Fleet: `--sites` × `--areas` × `--detectors` gas detectors (8 in 10 combustible %LEL, 1 toxic
// ppm, 1 oxygen %VOL), every reading within the limits. Scenarios: no permit open anywhere; one
// active hot-work permit in one area, readings fleet-wide; the same permit, readings of its area
// only (the worst case per reading). Per round and version: CPU time (user + system, process-wide)
// per reading over `--readings` readings, and V8's minor GCs (scavenges) during them, a proxy for
// what the rule allocates. Output: bench/out/permit-reducer.json and a Markdown table on stdout.
// Needs the build (`node scripts/build.mjs`). Never run by the tests.
//
//   node bench/permit-reducer.mjs [--before REF] [--after REF] [--rounds 7] [--readings 200000]
//     [--sites 4] [--areas 10] [--detectors 100]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import { transformSync } from '@swc/core';

import { nodeSwcOptions } from '../scripts/swc-options.mjs';
import { alternateVersions, machine, measureCpu, root } from './script-common.mjs';

const require = createRequire(import.meta.url);
const SOURCE = 'libs/rules/src/lib/permit-stop-work.reducer.ts';
/** The reducer before the early return (branch `permithot`'s base, in main's history). */
const BEFORE = '660e2b8217a199bd4a6381b8cd9dd6e5b66a91e1';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string', default: BEFORE },
    after: { type: 'string' },
    rounds: { type: 'string', default: '7' },
    readings: { type: 'string', default: '200000' },
    sites: { type: 'string', default: '4' },
    areas: { type: 'string', default: '10' },
    detectors: { type: 'string', default: '100' },
  },
});
const rounds = Number(args.rounds);
const perRun = Number(args.readings);

const distLib = join(root, 'dist', dirname(SOURCE));
if (!existsSync(join(distLib, 'rule-signal.js'))) {
  console.error('dist/ lacks the rules lib: run `node scripts/build.mjs` first');
  process.exit(2);
}

/** Compiles one version of the reducer next to the built lib, so its imports resolve there. */
function load(label, ref) {
  const code =
    ref === undefined
      ? readFileSync(join(root, SOURCE), 'utf8')
      : execFileSync('git', ['show', `${ref}:${SOURCE}`], { cwd: root, encoding: 'utf8' });
  const out = join(distLib, `permit-stop-work.reducer.bench-${label}.js`);
  const compiled = transformSync(code, { ...nodeSwcOptions(root), filename: join(root, SOURCE) });
  mkdirSync(distLib, { recursive: true });
  writeFileSync(out, compiled.code);
  try {
    return require(out);
  } finally {
    rmSync(out, { force: true });
  }
}

const versions = [
  { label: 'before', ref: args.before, module: load('before', args.before) },
  { label: 'after', ref: args.after ?? 'working tree', module: load('after', args.after) },
];

// The fleet: every reading within the limits, all received at one time (none skipped as older).
const T0 = Date.UTC(2026, 11, 7, 8);
const classes = [
  ...Array(8).fill(['gas-combustible', 'lel', 3]),
  ['gas-toxic', 'ppm', 2],
  ['gas-oxygen', 'o2', 20.9],
];
function fleet(filter = () => true) {
  const records = [];
  for (let s = 0; s < Number(args.sites); s += 1)
    for (let a = 0; a < Number(args.areas); a += 1)
      for (let d = 0; d < Number(args.detectors); d += 1) {
        const siteId = `plant-${s + 1}`;
        const areaId = `area-${a}`;
        if (!filter(siteId, areaId)) continue;
        const [deviceClass, metric, value] = classes[d % classes.length];
        records.push({
          kind: 'reading',
          reading: {
            siteId,
            deviceId: `gd-${a}-${d}`,
            deviceClass,
            areaId,
            ts: T0,
            receivedAt: T0,
            seq: undefined,
            deviceTime: true,
            clockSkewMs: 0,
            values: { [metric]: value },
          },
        });
      }
  return records;
}
const permit = {
  id: 'p1',
  no: 1,
  kind: 'hot-work',
  siteId: 'plant-1',
  areaId: 'area-0',
  from: T0 - 60_000,
  to: T0 + 3_600_000,
  workers: ['tag-1'],
  limits: { maxLel: 10 },
  state: 'active',
};
const inPermitArea = (siteId, areaId) => siteId === permit.siteId && areaId === permit.areaId;
const scenarios = [
  { name: 'no permit open', permits: [], records: fleet() },
  { name: 'one active permit, readings fleet-wide', permits: [permit], records: fleet() },
  {
    name: 'one active permit, readings of its area only',
    permits: [permit],
    records: fleet(inPermitArea),
  },
];

function options(scenario) {
  const permits = scenario.permits;
  // As PermitBoard answers: the open permits' areas, two map lookups.
  const gasAreas = new Map();
  for (const { siteId, areaId } of permits) {
    if (!gasAreas.has(siteId)) gasAreas.set(siteId, new Set());
    gasAreas.get(siteId).add(areaId);
  }
  return {
    clock: () => T0,
    permits: () => permits,
    keepsGasOf: (siteId, areaId) => gasAreas.get(siteId)?.has(areaId) ?? false,
    peopleInArea: () => [],
    includesSite: () => true,
  };
}

/** Runs `perRun` readings through one version's reducer: CPU ns per reading, scavenges. */
async function run(version, scenario, state, opts) {
  const { reducePermitStopWork } = version.module;
  const records = scenario.records;
  const { nsPerReading, scavengesPerMillion, result } = await measureCpu(perRun, count => {
    let signals = 0;
    for (let i = 0; i < count; i += 1)
      signals += reducePermitStopWork(state, records[i % records.length], opts).signals.length;
    return signals;
  });
  if (result !== 0) throw new Error(`${version.label}: ${result} signal(s) on readings within`);
  return { nsPerReading, scavengesPerMillion };
}

/** Entries the state keeps for the start's gas analysis (both layouts). */
function kept(state) {
  let entries = 0;
  const count = map => {
    for (const value of map.values()) {
      if (value instanceof Map) count(value);
      else entries += Array.isArray(value) ? value.length : 1;
    }
  };
  count(state.latest);
  return entries;
}

const loadBefore = loadavg();
const results = [];
for (const scenario of scenarios) {
  const opts = options(scenario);
  const states = versions.map(version => version.module.createPermitStopWorkState());
  const { figures } = await alternateVersions(versions, rounds, index =>
    run(versions[index], scenario, states[index], opts),
  );
  const row = { scenario: scenario.name, readings: perRun, rounds };
  for (const [index, version] of versions.entries())
    row[version.label] = { ...figures(index), keptEntries: kept(states[index]) };
  results.push(row);
}
const loadAfter = loadavg();

const report = {
  ...machine(),
  loadavgBefore: loadBefore,
  loadavgAfter: loadAfter,
  fleet: {
    sites: Number(args.sites),
    areasPerSite: Number(args.areas),
    detectorsPerArea: Number(args.detectors),
  },
  results,
};
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/permit-reducer.json'), `${JSON.stringify(report, null, 2)}\n`);

const f = value => value.toFixed(value < 10 ? 2 : 0);
console.log(
  `Permit stop-work rule, CPU per gas reading (median of ${rounds} rounds of ${perRun} readings, ` +
    `min in brackets), node ${process.version}, load ${loadBefore[0].toFixed(1)} → ${loadAfter[0].toFixed(1)}; ` +
    `fleet ${report.fleet.sites} × ${report.fleet.areasPerSite} × ${report.fleet.detectorsPerArea} detectors\n`,
);
console.log(
  '| scenario | before ns/reading | after ns/reading | before minor GCs per 1M | after minor GCs per 1M | entries kept before / after |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const row of results)
  console.log(
    `| ${row.scenario} | ${f(row.before.nsPerReadingMedian)} (${f(row.before.nsPerReadingMin)}) | ` +
      `${f(row.after.nsPerReadingMedian)} (${f(row.after.nsPerReadingMin)}) | ` +
      `${f(row.before.scavengesPerMillionMedian)} | ${f(row.after.scavengesPerMillionMedian)} | ` +
      `${row.before.keptEntries} / ${row.after.keptEntries} |`,
  );
console.log(
  `\nbefore = ${versions[0].ref}, after = ${versions[1].ref}; bench/out/permit-reducer.json`,
);
