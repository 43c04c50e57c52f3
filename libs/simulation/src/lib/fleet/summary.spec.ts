import { ManualClock } from './clock';
import type { FleetStats } from './fleet-simulator';
import { RateLimitedLog } from './rate-limited-log';
import { formatSummary } from './summary';

const zero: FleetStats = {
  devices: 3,
  connections: 3,
  connected: 3,
  sent: 0,
  sentByKind: { telemetry: 0, event: 0, status: 0 },
  sentByClass: {
    'gas-combustible': 0,
    'gas-toxic': 0,
    'gas-oxygen': 0,
    'electrical-fire': 0,
    'mhs-tank': 0,
    'fire-panel': 0,
    'call-point': 0,
    tag: 0,
  },
  failed: 0,
  dropped: 0,
  connectionErrors: 0,
  activeLeaks: 0,
};

describe(formatSummary.name, () => {
  it('shows totals, the rate since last time and the classes that sent anything', () => {
    const now: FleetStats = {
      ...zero,
      sent: 250,
      sentByClass: { ...zero.sentByClass, 'gas-combustible': 200, tag: 50 },
      failed: 2,
      activeLeaks: 1,
    };
    expect(formatSummary(now, { stats: zero, elapsedMs: 10_000 })).toBe(
      'sent 250 (25.0/s) gas-combustible 200, tag 50 | failed 2 dropped 0 connection errors 0 | connected 3/3 | leaks 1',
    );
    expect(formatSummary(zero)).toBe(
      'sent 0 | failed 0 dropped 0 connection errors 0 | connected 3/3 | leaks 0',
    );
  });
});

describe(RateLimitedLog.name, () => {
  it('passes a few lines per window, then reports how many it held back', () => {
    const clock = new ManualClock(0);
    const lines: string[] = [];
    const log = new RateLimitedLog(line => lines.push(line), clock, 2, 1000);
    for (let i = 0; i < 5; i++) log.log(`refused ${i}`);
    clock.advance(1000);
    log.log('refused again');
    expect(lines).toEqual([
      'refused 0',
      'refused 1',
      '(3 similar lines suppressed)',
      'refused again',
    ]);
  });
});
