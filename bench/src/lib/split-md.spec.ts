import {
  carryBlock,
  deploymentFailed,
  highestKeptUp,
  hopCosts,
  keptUp,
  renderSplitMarkdown,
  replaceBlock,
  type SplitResult,
  type SplitStep,
} from './split-md';

const step = (over: Partial<SplitStep>): SplitStep => ({
  deployment: 'allinone',
  rate: 2000,
  durationMs: 30_000,
  offered: 60_000,
  sent: 60_000,
  achievedRate: 2000,
  stored: 60_000,
  lost: 0,
  missingSamples: 0,
  alarms: { expected: 280, exactlyOnce: 280, missed: 0, duplicated: 0 },
  p50Ms: 4,
  p99Ms: 20,
  cpuPct: { vigil: 10, mosquitto: 2, influxd: 5, 'load-generator': 3 },
  rssMaxMb: { vigil: 300 },
  loadStart: [3.2, 2, 1],
  loadEnd: [4.1, 2.5, 1.2],
  error: null,
  ...over,
});

const split2k = step({
  deployment: 'split',
  cpuPct: { ingest: 20, rules: 10, persister: 6, gateway: 8, nats: 12, mosquitto: 2 },
  p50Ms: 9,
  p99Ms: 45,
});

describe('keptUp', () => {
  it('needs every reading stored, every alarm once and the generator at its rate', () => {
    expect(keptUp(step({}))).toBe(true);
    expect(keptUp(step({ lost: 3 }))).toBe(false);
    expect(keptUp(step({ sent: 50_000 }))).toBe(false);
    expect(
      keptUp(step({ alarms: { expected: 280, exactlyOnce: 279, missed: 0, duplicated: 1 } })),
    ).toBe(false);
    expect(keptUp(step({ error: 'nats-server did not start' }))).toBe(false);
  });
});

describe('deploymentFailed', () => {
  it('is the deployment failing, not a generator behind its rate', () => {
    expect(deploymentFailed(step({ sent: 50_000 }))).toBe(false);
    expect(deploymentFailed(step({ lost: 1 }))).toBe(true);
    expect(deploymentFailed(step({ error: 'x' }))).toBe(true);
  });
});

describe('hopCosts', () => {
  it('subtracts the all-in-one process from the split processes and nats-server, per 1k/s', () => {
    const [cost] = hopCosts([step({}), split2k]);
    // split: 20 + 10 + 6 + 8 + 12 = 56 % at 2k/s = 28 % per 1k/s; all-in-one 10 % = 5 % per 1k/s.
    expect(cost).toEqual({
      rate: 2000,
      addedCpuPer1k: 23,
      natsCpuPer1k: 6,
      addedP50Ms: 5,
      addedP99Ms: 25,
      bothKeptUp: true,
    });
  });

  it('compares only rates both deployments ran', () => {
    expect(hopCosts([step({ rate: 5000 }), split2k])).toEqual([]);
  });
});

describe('renderSplitMarkdown', () => {
  const result: SplitResult = {
    kind: 'vigil-split-bench',
    startedAt: '2026-12-07T15:00:00.000Z',
    finishedAt: '2026-12-07T15:08:00.000Z',
    commit: 'abc1234',
    machine: { cpuModel: 'Xeon', cores: 2, node: 'v20' },
    config: {
      rates: [2000, 5000],
      durationMs: 30_000,
      qos: 1,
      devices: 20_000,
      sites: 4,
      alarmsPerSecond: 10,
      natsReplicas: 1,
      partitions: 16,
    },
    steps: [
      step({}),
      split2k,
      step({ rate: 5000, lost: 1200, stored: 148_800, sent: 150_000 }),
      step({ deployment: 'split', rate: 5000, error: 'gateway: not ready | in time' }),
    ],
  };
  const md = renderSplitMarkdown(result, 'bench/out/split-x.json');

  it('says the conditions: shared cores and the load average', () => {
    expect(md).toContain('2-core machine');
    expect(md).toContain('other work sharing it');
    expect(md).toContain('load average 3.2–4.1');
  });

  it('has one row per step, the failed ones with their reason, and the hop cost', () => {
    expect(md).toContain(
      '| split (JetStream) | 2,000 | 2,000 | 60,000 / 60,000 (lost 0) | 280/280 (missed 0, dup 0) | 9 ms / 45 ms | ingest 20 %, rules 10 %, persister 6 %, gateway 8 % (Σ 44 %; 22.00 % per 1k/s) | nats 12 %, mosquitto 2 % | 3.2 / 2.0 / 1.0 → 4.1 / 2.5 / 1.2 | yes |',
    );
    expect(md).toContain('could not run: gateway: not ready / in time');
    expect(md).toContain('| 2,000 | +23.00 % (6.00 %) | +5 ms | +25 ms | yes |');
    expect(md).toContain('all-in-one **2,000**/s, split on JetStream **2,000**/s');
    expect(highestKeptUp(result.steps, 'split')).toBe(2000);
  });
});

describe('replaceBlock and carryBlock', () => {
  const withBlock =
    'a\n\n## Split\n\ntext\n\n<!-- bench:split:begin -->\nold\n<!-- bench:split:end -->\n';

  it('replaces only the marked block', () => {
    expect(replaceBlock(withBlock, 'split', 'new')).toBe(
      'a\n\n## Split\n\ntext\n\n<!-- bench:split:begin -->\n\nnew\n\n<!-- bench:split:end -->\n',
    );
    expect(() => replaceBlock('a', 'split', 'x')).toThrow(/bench:split:begin/);
  });

  it('carries the block and its section into a regenerated page that lacks it', () => {
    expect(carryBlock(withBlock, '# Benchmarks\n\nnew figures\n', 'split')).toBe(
      '# Benchmarks\n\nnew figures\n\n## Split\n\ntext\n\n<!-- bench:split:begin -->\nold\n<!-- bench:split:end -->\n',
    );
    expect(carryBlock('nothing here', 'page\n', 'split')).toBe('page\n');
  });
});
