import {
  judgeSustained,
  summariseProcesses,
  type AlarmAccounting,
  type SecondSample,
} from './load-report';

const alarms = (over: Partial<AlarmAccounting> = {}): AlarmAccounting => ({
  expected: 100,
  exactlyOnce: 100,
  missed: 0,
  duplicated: 0,
  unexpected: 0,
  missedOnWebSocket: 0,
  unexpectedByRule: {},
  ...over,
});

describe('judgeSustained', () => {
  const good = {
    durationMs: 60_000,
    offered: 600_000,
    sent: 600_000,
    stored: 600_000,
    alarms: alarms(),
    p99Ms: 12,
  };

  it('passes a clean minute', () => {
    expect(judgeSustained(good)).toEqual({ ok: true, reasons: [] });
  });

  it('names every reason a run is not sustained', () => {
    const verdict = judgeSustained({
      durationMs: 15_000,
      offered: 600_000,
      sent: 500_000,
      stored: 499_000,
      alarms: alarms({ missed: 2, duplicated: 1 }),
      p99Ms: 51,
    });
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons).toEqual([
      'ran 15 s, under the 60 s a sustained rate needs',
      'the load generator sent 500000 of 600000 offered readings (83.33 %): it could not keep up',
      '1000 of 500000 readings not stored (0.20 % lost)',
      '2 of 100 expected alarms missed',
      '1 expected alarms raised more than once',
      'publish → WebSocket p99 51 ms is over 50 ms',
    ]);
  });

  it('needs storage and alarms to judge at all', () => {
    const verdict = judgeSustained({
      ...good,
      stored: null,
      alarms: alarms({ expected: 0, exactlyOnce: 0 }),
      p99Ms: null,
    });
    expect(verdict.reasons).toEqual([
      'stored readings were not counted (no InfluxDB given)',
      'no alarm was provoked, so latency was not measured',
    ]);
  });

  it('accepts a p99 exactly at the target', () => {
    expect(judgeSustained({ ...good, p99Ms: 50 }).ok).toBe(true);
  });
});

describe('summariseProcesses', () => {
  it('averages CPU after the priming sample and tracks memory', () => {
    const sample = (t: number, cpuPct: number, rssMb: number): SecondSample => ({
      t,
      offered: 0,
      sent: 0,
      ingested: null,
      stored: null,
      backlog: null,
      raises: 0,
      latency: null,
      eventLoopLagMs: null,
      processes: { vigil: { cpuPct, rssMb }, gone: null },
    });
    expect(summariseProcesses([sample(0, 0, 100), sample(1, 50, 120), sample(2, 70, 110)])).toEqual(
      {
        vigil: { cpuAvgPct: 60, cpuMaxPct: 70, rssStartMb: 100, rssMaxMb: 120, rssEndMb: 110 },
      },
    );
  });
});
