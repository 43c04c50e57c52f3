import type { PipelineStatus } from '@vigil/contracts';

import { staleness, type HeartbeatSeen } from './staleness';

const ok = { state: 'ok', ageMs: 1000, stalledSites: [] } as const;
const pipeline = (overrides: Partial<PipelineStatus> = {}): PipelineStatus => ({
  canary: 'ok',
  stalled: [],
  hops: { ingest: ok, rules: ok, gateway: ok, persister: ok },
  lastCanaryAt: 99_000,
  timeoutMs: 6000,
  ...overrides,
});
// The server's clock runs 1 h ahead of the browser's: only durations may be compared.
const beat = (receivedAt: number, status = pipeline()): HeartbeatSeen => ({
  receivedAt,
  serverTime: 100_000 + 3_600_000,
  pipeline: { ...status, lastCanaryAt: (status.lastCanaryAt ?? 0) + 3_600_000 },
});

describe('staleness', () => {
  it('is fresh while heartbeats arrive and the canary is recent', () => {
    expect(staleness(beat(50_000), 50_900, 0)).toEqual({ stale: false });
    expect(staleness(undefined, 9_000, 0)).toEqual({ stale: false }); // just opened
  });

  it('shows the banner when heartbeats stop, on the console clock alone', () => {
    const fresh = pipeline({ lastCanaryAt: 100_000 });
    expect(staleness(beat(50_000, fresh), 56_000, 0)).toEqual({ stale: false });
    expect(staleness(beat(50_000, fresh), 56_001, 0)).toMatchObject({
      stale: true,
      reason: 'no-heartbeat',
      seconds: 6,
    });
    // Never heard from the gateway: counted from when the console started watching.
    expect(staleness(undefined, 10_001, 0)).toMatchObject({ stale: true, reason: 'no-heartbeat' });
  });

  it('names the stalled hops the gateway reports', () => {
    const stalled = pipeline({
      canary: 'stalled',
      stalled: ['rules'],
      hops: {
        ingest: ok,
        rules: { state: 'stalled', ageMs: 7000, stalledSites: ['s1'] },
        gateway: ok,
        persister: ok,
      },
    });
    expect(staleness(beat(50_000, stalled), 50_500, 0)).toEqual({
      stale: true,
      reason: 'stalled',
      seconds: 7,
      hops: ['rules'],
    });
  });

  it('shows the banner when the last complete canary is too old, carried forward locally', () => {
    // lastCanaryAt is 1 s before the heartbeat's server time; 5.5 s later it is 6.5 s old.
    expect(staleness(beat(50_000), 55_000, 0)).toEqual({ stale: false });
    expect(staleness(beat(50_000), 55_500, 0)).toMatchObject({
      stale: true,
      reason: 'canary-old',
      seconds: 6,
    });
  });

  it('says so when nothing watches the path', () => {
    expect(staleness(beat(50_000, pipeline({ canary: 'off' })), 50_100, 0)).toMatchObject({
      stale: true,
      reason: 'off',
    });
  });
});
