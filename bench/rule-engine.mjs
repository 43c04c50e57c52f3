#!/usr/bin/env node
// The device rule engine's cost per reading (issue 14, "One rule engine path"), before and after a
// change to `libs/rules`, in one process and one run: the whole rules lib and the contracts lib are
// compiled here from git (`--before`, default `main`) and from the working tree (or `--after REF`)
// the way scripts/build.mjs compiles (SWC, the tsconfig path aliases, rewritten to the copy), into
// bench/.build/ (ignored by git, removed afterwards), and driven by the same readings, interleaved
// round by round, so that the load of a shared machine falls on both alike.
//
// Fleet: `--devices` detectors with their default rules (`defaultRules`: offline, fault, device
// alarm, clock skew, range, stuck, L1/L2, over-range, rate and trend), 8 in 10 combustible %LEL,
// 1 toxic H2S ppm, 1 oxygen %VOL, one reading per device per second of event time. Scenarios:
// every reading within the limits (the fast path); the same with 1 detector in 50 across L1 for
// 20 s of every 80 s (raised and cleared signals). Per round and version: CPU time (user +
// system, process-wide) per reading over `--readings` readings through `reduceRuleEngine`, and V8's
// minor GCs (scavenges) per million readings, a proxy for what the engine allocates per reading.
// Output: bench/out/rule-engine.json and a Markdown table on stdout. Never run by the tests.
//
//   node bench/rule-engine.mjs [--before REF] [--after REF] [--rounds 7] [--readings 200000]
//     [--devices 2000]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

import { transformSync } from '@swc/core';

import { nodeSwcOptions } from '../scripts/swc-options.mjs';
import { alternateVersions, machine, measureCpu, median, root } from './script-common.mjs';

const require = createRequire(import.meta.url);
const LIBS = ['libs/rules/src', 'libs/contracts/src'];

const { values: args } = parseArgs({
  options: {
    before: { type: 'string', default: 'main' },
    after: { type: 'string' },
    rounds: { type: 'string', default: '7' },
    readings: { type: 'string', default: '200000' },
    devices: { type: 'string', default: '2000' },
  },
});
const rounds = Number(args.rounds);
const perRun = Number(args.readings);
const deviceCount = Number(args.devices);

/** The sources of the libs at `ref` (undefined: the working tree): path → text. */
function sources(ref) {
  const files = new Map();
  if (ref === undefined) {
    const walk = dir => {
      for (const name of readdirSync(join(root, dir))) {
        const path = join(dir, name);
        if (statSync(join(root, path)).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith('.spec.ts'))
          files.set(path, readFileSync(join(root, path), 'utf8'));
      }
    };
    for (const lib of LIBS) walk(lib);
    return files;
  }
  const listed = execFileSync('git', ['ls-tree', '-r', '--name-only', ref, ...LIBS], {
    cwd: root,
    encoding: 'utf8',
  });
  for (const path of listed.split('\n'))
    if (path.endsWith('.ts') && !path.endsWith('.spec.ts'))
      files.set(
        path,
        execFileSync('git', ['show', `${ref}:${path}`], {
          cwd: root,
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        }),
      );
  return files;
}

/** Compiles one version of the libs into bench/.build/<label> and loads its rules lib. */
function load(label, ref) {
  const out = join(root, 'bench/.build', label);
  rmSync(out, { recursive: true, force: true });
  const base = nodeSwcOptions(root);
  // The path aliases resolve inside the copy, so the two versions never share a module.
  const options = { ...base, jsc: { ...base.jsc, baseUrl: out } };
  for (const [path, code] of sources(ref)) {
    const target = join(out, path);
    const compiled = transformSync(code, { ...options, filename: target });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target.replace(/\.ts$/, '.js'), compiled.code);
  }
  return require(join(out, 'libs/rules/src/index.js'));
}

const versions = [
  { label: 'before', ref: args.before, module: load('before', args.before) },
  { label: 'after', ref: args.after ?? 'working tree', module: load('after', args.after) },
];
if (!process.env.KEEP_BUILD) rmSync(join(root, 'bench/.build'), { recursive: true, force: true });

const T0 = Date.UTC(2026, 11, 7, 8);
const SITE = 'plant-1';
const classes = [
  ...Array(8).fill({ deviceClass: 'gas-combustible', metric: 'lel', normal: 3, high: 30 }),
  { deviceClass: 'gas-toxic', metric: 'ppm', normal: 1, high: 20, attributes: { gas: 'H2S' } },
  { deviceClass: 'gas-oxygen', metric: 'o2', normal: 20.9, high: 20.9 },
];
const fleet = Array.from({ length: deviceCount }, (_, index) => {
  const kind = classes[index % classes.length];
  return { deviceId: `gd-${index}`, ...kind };
});

/** The registry as the engine sees it: one `DeviceRules` object per device, kept. */
function registry(module) {
  const devices = new Map();
  for (const each of fleet) {
    const { rules, errors } = module.defaultRules({
      deviceClass: each.deviceClass,
      attributes: each.attributes ?? {},
      intervalSeconds: 1,
    });
    if (errors.length > 0) throw new Error(`${each.deviceId}: ${errors.join('; ')}`);
    devices.set(each.deviceId, {
      siteId: SITE,
      deviceId: each.deviceId,
      deviceClass: each.deviceClass,
      areaId: 'area-1',
      rules,
    });
  }
  return devices;
}

/**
 * `perRun` reading records from `second` on (one per device per second, in order), built before
 * the timing. In `swinging`, 1 detector in 50 reads its high value for 20 s of every 80 s (the L1
 * off-delay is 30 s).
 */
function readings(second, swinging) {
  const records = new Array(perRun);
  for (let index = 0; index < perRun; index += 1) {
    const device = fleet[index % fleet.length];
    const at = second + Math.floor(index / fleet.length);
    const ts = T0 + at * 1000;
    const swings = swinging && (index % fleet.length) % 50 === 7 && at % 80 < 20;
    const value = swings ? device.high : device.normal + ((index * 7) % 5) * 0.01;
    records[index] = {
      kind: 'reading',
      reading: {
        siteId: SITE,
        deviceId: device.deviceId,
        deviceClass: device.deviceClass,
        areaId: 'area-1',
        ts,
        receivedAt: ts,
        seq: undefined,
        deviceTime: true,
        clockSkewMs: 0,
        values: { [device.metric]: value },
      },
    };
  }
  return records;
}

/** One engine per version and scenario, as RulesService creates it. */
function engine(version) {
  const devices = registry(version.module);
  const options = {
    clock: () => T0,
    startedAt: T0,
    lookupDevice: (_siteId, deviceId) => devices.get(deviceId),
    expectedDevices: devices.values(),
  };
  return { state: version.module.createRuleEngineState(options), options, second: 0 };
}

/** Runs one batch of readings through one version's engine: CPU ns per reading, scavenges. */
async function run(version, run, swinging) {
  const records = readings(run.second, swinging);
  run.second += Math.ceil(perRun / fleet.length);
  const { reduceRuleEngine } = version.module;
  const { nsPerReading, scavengesPerMillion, result } = await measureCpu(perRun, count => {
    let signals = 0;
    for (let i = 0; i < count; i += 1)
      signals += reduceRuleEngine(run.state, records[i], run.options).signals.length;
    return signals;
  });
  return { nsPerReading, scavengesPerMillion, signals: result };
}

const scenarios = [
  { name: 'every reading within the limits', swinging: false },
  { name: '1 detector in 50 across L1 for 20 s of every 80 s', swinging: true },
];
const loadBefore = loadavg();
const results = [];
for (const scenario of scenarios) {
  const runs = versions.map(version => engine(version));
  const { samples, figures } = await alternateVersions(versions, rounds, index =>
    run(versions[index], runs[index], scenario.swinging),
  );
  const row = { scenario: scenario.name, readings: perRun, rounds };
  for (const [index, version] of versions.entries()) {
    row[version.label] = {
      ...figures(index),
      signalsPerRound: samples[index].map(sample => sample.signals),
    };
  }
  // Same readings, same rules: both versions must emit the same number of signals.
  if (JSON.stringify(row.before.signalsPerRound) !== JSON.stringify(row.after.signalsPerRound))
    console.warn(`${scenario.name}: the versions emitted different signal counts`);
  results.push(row);
}
const loadAfter = loadavg();

const report = {
  ...machine(),
  loadavgBefore: loadBefore,
  loadavgAfter: loadAfter,
  devices: deviceCount,
  results,
};
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/rule-engine.json'), `${JSON.stringify(report, null, 2)}\n`);

const f = value => value.toFixed(value < 10 ? 2 : 0);
console.log(
  `Rule engine, CPU per reading (median of ${rounds} rounds of ${perRun} readings, min in ` +
    `brackets), node ${process.version}, load ${loadBefore[0].toFixed(1)} → ${loadAfter[0].toFixed(1)}; ` +
    `${deviceCount} detectors with their default rules\n`,
);
console.log(
  '| scenario | before ns/reading | after ns/reading | before minor GCs per 1M | after minor GCs per 1M | signals per round |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const row of results)
  console.log(
    `| ${row.scenario} | ${f(row.before.nsPerReadingMedian)} (${f(row.before.nsPerReadingMin)}) | ` +
      `${f(row.after.nsPerReadingMedian)} (${f(row.after.nsPerReadingMin)}) | ` +
      `${f(row.before.scavengesPerMillionMedian)} | ${f(row.after.scavengesPerMillionMedian)} | ` +
      `${median(row.after.signalsPerRound)} |`,
  );
console.log(
  `\nbefore = ${versions[0].ref}, after = ${versions[1].ref}; ` +
    `${relative(process.cwd(), join(root, 'bench/out/rule-engine.json'))}`,
);
