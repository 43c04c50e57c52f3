import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RuleSignal } from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';

import { type CliIo, EXIT_USAGE, runCli } from './cli';
import { leakAndFlapperRecording, stuckSensorRecording } from './samples';

const ROOT = join(__dirname, '../../../..');
const REGISTRY = join(ROOT, 'registry/sample');
const SAMPLES = join(__dirname, '../../samples');
const LEAK = join(SAMPLES, 'leak-and-flapper.jsonl');
const STUCK = join(SAMPLES, 'stuck-sensor.csv');

function run(args: string[], files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: line => out.push(line),
    err: line => err.push(line),
    readFile: path => files[path] ?? readFileSync(path, 'utf8'),
    loadRegistry,
  };
  const code = runCli(args, io);
  return { code, out, err };
}

/** `08:04:15.150 gc-tf-01 gas-l1 ACTIVE` from a --json line. */
function brief(line: string): string {
  const signal = JSON.parse(line) as RuleSignal & { type: string };
  const state =
    signal.chattering === true
      ? 'HELD'
      : `${signal.active ? 'ACTIVE' : 'CLEARED'}${signal.chattering === false ? ' (chatter end)' : ''}`;
  return `${new Date(signal.detectedAt).toISOString().slice(11, 23)} ${signal.deviceId} ${signal.ruleId} ${state}`;
}

describe('replay command', () => {
  it('keeps the committed samples equal to their generator', () => {
    expect(readFileSync(LEAK, 'utf8')).toBe(leakAndFlapperRecording());
    expect(readFileSync(STUCK, 'utf8')).toBe(stuckSensorRecording());
  });

  it('replays the leak, the flapping detector and the fire panel into exactly these alarms', () => {
    const { code, out, err } = run(['--registry', REGISTRY, '--input', LEAK, '--json']);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const signals = out.slice(0, -1);
    expect(signals.map(brief)).toEqual([
      // gc-tf-01: a leak. Rate-of-rise and trend warn before L1; L1 withdraws them (the alarm
      // they announced speaks now), then L2; all clear.
      '08:03:30.150 gc-tf-01 gas-rate ACTIVE',
      '08:03:40.150 gc-tf-01 gas-trend ACTIVE',
      // gc-tf-02: gusts over L1. No trend is forecast from the gusts' own samples.
      '08:04:02.000 gc-tf-02 gas-l1 ACTIVE',
      '08:04:15.150 gc-tf-01 gas-l1 ACTIVE',
      '08:04:15.150 gc-tf-01 gas-rate CLEARED',
      '08:04:15.150 gc-tf-01 gas-trend CLEARED',
      '08:04:42.000 gc-tf-02 gas-l1 CLEARED',
      // gc-tf-02: the third L1 change within a minute: held active as chattering.
      '08:04:47.000 gc-tf-02 gas-l1 HELD',
      '08:05:30.150 gc-tf-01 gas-l2 ACTIVE',
      '08:08:35.150 gc-tf-01 gas-l2 CLEARED',
      '08:09:27.000 gc-tf-02 gas-l1 CLEARED (chatter end)',
      '08:09:55.150 gc-tf-01 gas-l1 CLEARED',
      '08:12:00.080 fp-main fire ACTIVE',
      '08:14:00.080 fp-main fire CLEARED',
    ]);
    const summary = JSON.parse(out.at(-1) as string) as Record<string, unknown>;
    expect(summary).toMatchObject({
      type: 'summary',
      records: { readings: 360, events: 2, status: 1 },
      raised: 6,
      raisedByRule: { 'gas-rate': 1, 'gas-trend': 1, 'gas-l1': 2, 'gas-l2': 1, fire: 1 },
      raisedByDevice: { 'plant-1/gc-tf-01': 4, 'plant-1/gc-tf-02': 1, 'plant-1/fp-main': 1 },
      chattering: { 'plant-1/gc-tf-02/gas-l1': 1 },
    });
  });

  it('finds the stuck sensor in 25 h of CSV', () => {
    const { code, out } = run(['--registry', REGISTRY, '--input', STUCK, '--json']);
    expect(code).toBe(0);
    expect(out.slice(0, -1).map(brief)).toEqual(['07:00:08.000 gc-tf-03 stuck ACTIVE']);
    expect(JSON.parse(out[0] as string)).toMatchObject({
      level: 'stuck',
      priority: 4,
      category: 'quality',
      message:
        'Combustible gas flat at 12.3 %LEL for 24 h (changes under 0.1 %LEL): the sensor may be stuck',
    });
  });

  it('prints one line per signal and a summary table', () => {
    const { code, out } = run(['--registry', REGISTRY, '--input', STUCK]);
    expect(code).toBe(0);
    expect(out[0]).toBe(
      '2025-11-23T07:00:08.000Z  plant-1/gc-tf-03    stuck           stuck         ACTIVE                   12.3  ' +
        'Combustible gas flat at 12.3 %LEL for 24 h (changes under 0.1 %LEL): the sensor may be stuck',
    );
    expect(out[1]?.split('\n')).toEqual([
      '',
      'Replayed 3215 readings, 0 events and 0 status messages from 2025-11-22T07:00:00.000Z to 2025-11-23T07:59:52.000Z.',
      '1 signals, 1 raised; 0 readings out of order (0 late, not evaluated); 0 records of unknown devices; 0 offline signals held back by a gateway.',
      'Raised per rule:',
      '  stuck      1',
      'Raised per device:',
      '  plant-1/gc-tf-03      1',
      'Chattering keys (times held): none',
    ]);
  });

  it('answers what-if questions with --set', () => {
    const { code, out } = run([
      '--registry',
      REGISTRY,
      '--input',
      LEAK,
      '--json',
      '--set',
      'gas-trend.enabled=false',
      '--set',
      'gc-tf-02:gas-l1.offDelayMs=120000',
    ]);
    expect(code).toBe(0);
    const lines = out.slice(0, -1).map(brief);
    expect(lines.filter(line => line.includes('gc-tf-02'))).toEqual([
      '08:04:02.000 gc-tf-02 gas-l1 ACTIVE', // held through the gusts by the longer off-delay
      '08:09:57.000 gc-tf-02 gas-l1 CLEARED',
    ]);
    expect(lines.some(line => line.includes('gas-trend'))).toBe(false);
  });

  it('runs without the chatter guard to show the raw flapping', () => {
    const { out } = run(['--registry', REGISTRY, '--input', LEAK, '--json', '--no-chatter-guard']);
    const flapper = out
      .slice(0, -1)
      .map(brief)
      .filter(line => line.includes('gc-tf-02 gas-l1'));
    expect(flapper).toHaveLength(12); // 6 gusts: raised and cleared each time
  });

  it("locates a fire panel's alarm at its point, as the server does (the registry's device rules)", () => {
    const { code, out } = run(['--registry', REGISTRY, '--input', LEAK, '--json']);
    expect(code).toBe(0);
    const fire = out
      .slice(0, -1)
      .map(line => JSON.parse(line) as RuleSignal)
      .find(signal => signal.deviceId === 'fp-main' && signal.active);
    // Loop 1, point 23 of fp-main is in zone 1, the tank farm (registry/sample): one alarm per point.
    expect(fire).toMatchObject({
      key: 'plant-1/fp-main/fire/L1.P23',
      areaId: 'tank-farm',
      location: { loop: '1', point: '23', zone: '1', name: '罐区感烟 1-23' },
    });
  });

  it('reads a normalised reading line and a gateway batch, and watches all devices on request', () => {
    const t = Date.UTC(2025, 10, 23, 8);
    const text = [
      JSON.stringify({ siteId: 'plant-1', deviceId: 'gc-tf-01', ts: t, values: { lel: 1 } }),
      JSON.stringify({
        topic: 'vigil/v1/plant-1/gc-tf-01/telemetry',
        payload: {
          batch: [
            { ts: t + 5_000, values: { lel: 30 } },
            { ts: t + 10_000, values: { lel: 55 } },
          ],
        },
        receivedAt: t + 10_100,
      }),
    ].join('\n');
    const { code, out } = run(['--registry', REGISTRY, '--input', 'x.jsonl', '--json'], {
      'x.jsonl': text,
    });
    expect(code).toBe(0);
    expect(out.slice(0, -1).map(brief)).toEqual([
      '08:00:10.100 gc-tf-01 gas-l1 ACTIVE',
      '08:00:10.100 gc-tf-01 gas-l2 ACTIVE',
    ]);
    const all = run(['--registry', REGISTRY, '--input', 'x.jsonl', '--json', '--watch-all'], {
      'x.jsonl': text,
    });
    expect(all.out).toHaveLength(3); // nobody else is silent for a full timeout in 10 s
  });

  it("converts a device's own units as ingest does live (one validation path, @vigil/ingest)", () => {
    // gc-tf-01 reporting in %VOL of methane (LEL 5.0 %VOL): 1.5 %VOL is 30 %LEL, over L1 (25).
    // Before the replay used ingest's validation, it took 1.5 as %LEL and raised nothing.
    const registry = loadRegistry(REGISTRY);
    const inVol = {
      ...registry,
      device: (siteId: string, deviceId: string) => {
        const device = registry.device(siteId, deviceId);
        return device && deviceId === 'gc-tf-01'
          ? { ...device, attributes: { ...device.attributes, unit_lel: '%VOL' } }
          : device;
      },
    };
    const t0 = Date.parse('2026-01-05T08:00:00Z');
    const lines = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(i =>
      JSON.stringify({
        topic: 'vigil/v1/plant-1/gc-tf-01/telemetry',
        payload: { ts: t0 + i * 1000, seq: i + 1, values: { lel: i < 2 ? 0.05 : 1.5 } },
        receivedAt: t0 + i * 1000 + 50,
      }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const code = runCli(['--registry', REGISTRY, '--input', 'vol.jsonl', '--json'], {
      out: line => out.push(line),
      err: line => err.push(line),
      readFile: () => lines.join('\n'),
      loadRegistry: () => inVol as typeof registry,
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.slice(0, -1).map(brief)).toContain('08:00:02.050 gc-tf-01 gas-l1 ACTIVE');
  });

  it('exits 2 listing every bad line of the input', () => {
    const text = [
      '{"siteId":"plant-1","deviceId":"gc-tf-01","ts":1,"values":{"lel":"high"}}',
      'not json',
      '{"topic":"vigil/v1/plant-1/nobody/telemetry","payload":{"values":{"lel":1}},"receivedAt":1}',
      '{"topic":"vigil/v1/plant-1/gc-tf-01/event","payload":{"code":"fire"},"receivedAt":1}',
      '{"topic":"vigil/v1/plant-1/gc-tf-01/telemetry","payload":{"values":{"ppm":1}}}',
    ].join('\n');
    const { code, out, err } = run(['--registry', REGISTRY, '--input', 'bad.jsonl'], {
      'bad.jsonl': text,
    });
    expect(code).toBe(EXIT_USAGE);
    expect(out).toEqual([]);
    expect(err).toEqual([
      expect.stringMatching(/^replay: bad\.jsonl: line 1: values\.lel: /),
      expect.stringMatching(/^replay: bad\.jsonl: line 2: not JSON/),
      'replay: bad.jsonl: line 3: unknown-device: plant-1/nobody is not in the registry',
      'replay: bad.jsonl: line 4: bad-value: event code "fire" is not an event of gas-combustible',
      'replay: bad.jsonl: line 5: receivedAt: required (the server receive time, epoch ms)',
    ]);
  });

  it('exits 2 on a bad CSV row, flag, override or registry', () => {
    const csv =
      'ts,siteId,deviceId,metric,value\n1,plant-1,gc-tf-01,lel,abc\n2,plant-1,gc-tf-01,lel\n';
    expect(run(['--registry', REGISTRY, '--input', 'x.csv'], { 'x.csv': csv }).err).toEqual([
      'replay: x.csv: line 2: value "abc" is not a finite number or true/false',
      'replay: x.csv: line 3: expected 5 comma-separated fields ts,siteId,deviceId,metric,value, got 4',
    ]);
    const missing = run(['--input', LEAK, '--tick', '0']);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err.slice(0, 2)).toEqual([
      'replay: --registry: required',
      'replay: --tick: must be an integer from 1 to 60000 ms (got "0")',
    ]);
    expect(run(['--bogus']).err[0]).toMatch(/^replay: Unknown option '--bogus'/);
    const badSet = run([
      '--registry',
      REGISTRY,
      '--input',
      LEAK,
      '--set',
      'gas-l1.setPoint=20',
      '--set',
      'nope',
    ]);
    expect(badSet.code).toBe(EXIT_USAGE);
    expect(badSet.err.slice(0, 2)).toEqual([
      expect.stringMatching(/^replay: --set gas-l1\.setPoint=20: Unrecognized key/),
      'replay: --set nope: expected [deviceId:]ruleId.field=value, e.g. gas-l1.setpoint=20',
    ]);
    const invalid = run([
      '--registry',
      REGISTRY,
      '--input',
      LEAK,
      '--set',
      'gas-rate.deadband=50',
      '--set',
      'x-1.enabled=false',
    ]);
    expect(invalid.err).toContain(
      'replay: sites.plant-1.devices.gc-tf-01: --set: rules.gas-rate.deadband: deadband must be below delta',
    );
    expect(invalid.err).toContain('replay: --set x-1.enabled=false: no device has rule x-1');
    expect(run(['--registry', '/nonexistent', '--input', LEAK]).err[0]).toMatch(
      /^replay: registry: \/nonexistent: cannot read/,
    );
  });

  it('prints its usage on --help', () => {
    const { code, out } = run(['--help']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^usage: vigil-replay --registry/);
  });
});
