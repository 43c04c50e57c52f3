import { RaiseTracker, type WatchedAlarm } from './alarm-watcher';
import { ProcSampler, parseProcStat, parseProcStatusRss, readProc } from './proc-sampler';
import { parsePrometheusText, promSum, promValue } from './prometheus';

describe('Prometheus text', () => {
  const text = [
    '# HELP vigil_persister_lines_total Lines by outcome',
    '# TYPE vigil_persister_lines_total counter',
    'vigil_persister_lines_total{outcome="written"} 1200',
    'vigil_persister_lines_total{outcome="rejected"} 3',
    'vigil_ingest_dead_letters_total{reason="not-json"} 2',
    'vigil_ingest_dead_letters_total{reason="bad-value"} 5',
    'vigil_ingest_readings_total 4500 1763900000000',
    'vigil_process_resident_memory_bytes 1.5e+08',
    '',
  ].join('\n');
  const samples = parsePrometheusText(text);

  it('reads samples by name and labels', () => {
    expect(promValue(samples, 'vigil_persister_lines_total', { outcome: 'written' })).toBe(1200);
    expect(promValue(samples, 'vigil_ingest_readings_total')).toBe(4500);
    expect(promValue(samples, 'vigil_process_resident_memory_bytes')).toBe(150_000_000);
    expect(
      promValue(samples, 'vigil_persister_lines_total', { outcome: 'failed' }),
    ).toBeUndefined();
    expect(promSum(samples, 'vigil_ingest_dead_letters_total')).toBe(7);
  });
});

describe('/proc sampling', () => {
  it('counts stat fields after the command name, whatever it holds', () => {
    const stat = '1234 (node (worker) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0';
    expect(parseProcStat(stat, 100)).toBe(3);
    expect(parseProcStatusRss('Name:\tnode\nVmRSS:\t  204800 kB\n')).toBe(204_800 * 1024);
  });

  it('reads this process and reports a gone one as null', () => {
    expect(readProc(process.pid)?.rssBytes).toBeGreaterThan(0);
    const sampler = new ProcSampler({ me: process.pid, gone: 2 ** 22 + 12_345 });
    sampler.sample(0);
    const usage = sampler.sample(1000);
    expect(usage['me']?.rssMb).toBeGreaterThan(0);
    expect(usage['gone']).toBeNull();
  });
});

describe('RaiseTracker', () => {
  const alarm = (history: string[], over: Partial<WatchedAlarm> = {}): WatchedAlarm => ({
    id: 'a1',
    siteId: 's',
    deviceId: 'd',
    ruleId: 'gas-l1',
    level: 'L1',
    state: 'active-unacknowledged',
    raisedAt: 100,
    detectedAt: 110,
    history: history.map((action, at) => ({ action, at })),
    ...over,
  });

  it('counts each raise once, however often the alarm is re-sent', () => {
    const tracker = new RaiseTracker();
    expect(tracker.observe(alarm(['raise']), 1, 'ws')).toHaveLength(1);
    expect(tracker.observe(alarm(['raise', 'acknowledge']), 2, 'ws')).toHaveLength(0);
    expect(tracker.observe(alarm(['raise', 'acknowledge', 'clear']), 3, 'rest')).toHaveLength(0);
    const again = tracker.observe(
      alarm(['raise', 'acknowledge', 'clear', 'raise'], { raisedAt: 500 }),
      4,
      'ws',
    );
    expect(again).toEqual([expect.objectContaining({ raisedAt: 500, receivedAt: 4 })]);
    expect(tracker.raises).toHaveLength(2);
  });

  it('ignores raises that happened before it watched', () => {
    const tracker = new RaiseTracker();
    tracker.ignoreExisting([alarm(['raise'])]);
    expect(tracker.observe(alarm(['raise', 'acknowledge']), 1, 'ws')).toHaveLength(0);
  });
});
