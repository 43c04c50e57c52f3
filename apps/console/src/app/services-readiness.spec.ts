import type { PipelineStatus, ServiceNotReady } from '@vigil/contracts';

import { notReadyList, servicesNotReady, uplinkBannerFields } from './services-readiness';
import type { HeartbeatSeen } from './staleness';

const ok = { state: 'ok', ageMs: 1000, stalledSites: [] } as const;
const pipeline: PipelineStatus = {
  canary: 'ok',
  stalled: [],
  hops: { ingest: ok, rules: ok, gateway: ok, persister: ok },
  lastCanaryAt: 99_000,
  timeoutMs: 6000,
};
// The server's clock runs 1 h ahead of the browser's: only durations may be compared.
const SERVER_AHEAD = 3_600_000;
const beat = (receivedAt: number, services?: readonly ServiceNotReady[]): HeartbeatSeen => ({
  receivedAt,
  serverTime: receivedAt + SERVER_AHEAD,
  pipeline,
  ...(services ? { services } : {}),
});
const ingestLost: ServiceNotReady = {
  instance: 'ingest-1',
  services: ['ingest'],
  failing: [
    {
      check: 'ingest',
      reason: "the broker lost ingest's persistent session",
      since: 40_000 + SERVER_AHEAD,
    },
  ],
  since: 40_000 + SERVER_AHEAD,
};

describe('servicesNotReady (the services banner)', () => {
  it('shows nothing without a heartbeat, or with one that lists no process (old gateways too)', () => {
    expect(servicesNotReady(undefined, 1000)).toEqual([]);
    expect(servicesNotReady(beat(50_000), 50_500)).toEqual([]);
    expect(servicesNotReady(beat(50_000, []), 50_500)).toEqual([]);
  });

  it('names each process and its failing checks, for as long as the gateway lists them', () => {
    const partitions: ServiceNotReady = {
      instance: 'rules-2',
      services: ['rules'],
      failing: [
        {
          check: 'partitions',
          reason: 'partitions nobody evaluates: 3',
          since: 49_000 + SERVER_AHEAD,
        },
        { check: 'journals', reason: 'alarms: ENOSPC', since: 48_000 + SERVER_AHEAD },
      ],
      since: 48_000 + SERVER_AHEAD,
    };
    const shown = servicesNotReady(beat(50_000, [ingestLost, partitions]), 50_000);
    expect(shown).toEqual([
      {
        instance: 'ingest-1',
        services: ['ingest'],
        checks: ['ingest'],
        reasons: ["ingest: the broker lost ingest's persistent session"],
        seconds: 10,
      },
      {
        instance: 'rules-2',
        services: ['rules'],
        checks: ['partitions', 'journals'],
        reasons: ['partitions: partitions nobody evaluates: 3', 'journals: alarms: ENOSPC'],
        seconds: 2,
      },
    ]);
    expect(notReadyList(shown)).toBe('ingest-1 (ingest), rules-2 (partitions, journals)');
  });

  it("carries the duration forward on the console's clock between heartbeats", () => {
    expect(servicesNotReady(beat(50_000, [ingestLost]), 53_500)[0]?.seconds).toBe(13);
  });

  it('goes away with the first heartbeat that no longer lists the process', () => {
    expect(servicesNotReady(beat(50_000, [ingestLost]), 50_000)).toHaveLength(1);
    expect(servicesNotReady(beat(51_000), 51_000)).toEqual([]);
  });
});

describe('uplinkBannerFields (the uplink banner, issue 15)', () => {
  it('shows the backlog, its bound, the failures and every refused item', () => {
    expect(
      uplinkBannerFields({
        ok: false,
        url: 'https://city.example',
        enterpriseCode: '91310000MA1K4XY83B',
        backlog: 12,
        capacity: 200_000,
        oldestPendingAt: 1,
        lastSeq: 40,
        ackedSeq: 28,
        lastSuccessAt: undefined,
        consecutiveFailures: 3,
        lastError: 'fetch failed',
        dropped: { alarm: 2, realtime: 5 },
      }),
    ).toEqual({ backlog: 12, capacity: 200_000, failures: 3, dropped: 7 });
  });
});
