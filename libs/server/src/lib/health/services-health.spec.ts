import type { ServiceReadiness } from '@vigil/contracts';

import { HEALTH_TTL_MS } from '../bus/jetstream/subjects';
import { loadConfig } from '../config/vigil-config';
import type { Readiness } from '../gateway/api-responses';
import { VigilMetrics } from '../metrics/metrics';
import { failingChecks } from './readiness-summary';
import { GONE_LISTED_MS, ServicesHealth } from './services-health';

function gatewayHealth() {
  const health = new ServicesHealth(
    loadConfig({ VIGIL_BUS: 'jetstream', VIGIL_SERVICES: 'gateway', VIGIL_INSTANCE: 'gw-1' }),
    new VigilMetrics(),
  );
  let now = 1_000_000;
  health.now = () => now;
  health.begin();
  const advance = (ms: number) => {
    now += ms;
  };
  return { health, advance, at: () => now };
}

const entry = (instance: string, ok: boolean, at: number): ServiceReadiness => ({
  instance,
  services: ['rules'],
  ok,
  failing: ok ? [] : [{ check: 'partitions', reason: 'partitions nobody evaluates: 3', since: at }],
  at,
});

describe('ServicesHealth (judgement, own clock)', () => {
  it('is ok while its own entry comes back and every other says ready', () => {
    const { health } = gatewayHealth();
    health.published();
    health.seen('gateway.gw-1', entry('gw-1', true, 0));
    health.seen('rules.rules-1', entry('rules-1', true, 0));
    expect(health.report()).toEqual({ ok: true });
    expect(health.notReady()).toEqual([]);
  });

  it('fails while another process says not ready, and ignores its own entry', () => {
    const { health, at } = gatewayHealth();
    health.published();
    health.seen('gateway.gw-1', { ...entry('gw-1', false, at()), services: ['gateway'] });
    health.seen('rules.rules-2', entry('rules-2', false, at()));
    const report = health.report();
    expect(report.ok).toBe(false);
    expect(report.details?.notReady.map(item => item.instance)).toEqual(['rules-2']);
    expect(health.notReady()).toEqual([
      {
        instance: 'rules-2',
        services: ['rules'],
        failing: [{ check: 'partitions', reason: 'partitions nobody evaluates: 3', since: at() }],
        since: at(),
      },
    ]);
  });

  it('lists an expired entry as gone (not failing), a deleted one as left, and forgets both after 5 minutes', () => {
    const { health, advance } = gatewayHealth();
    const keepOwn = () => {
      health.published();
      health.seen('gateway.gw-1', entry('gw-1', true, 0));
    };
    keepOwn();
    health.seen('rules.rules-2', entry('rules-2', false, 0));
    health.seen('ingest.ingest-1', entry('ingest-1', true, 0));
    health.seen('ingest.ingest-1', undefined);
    advance(HEALTH_TTL_MS + 1);
    keepOwn();
    const report = health.report();
    expect(report.ok).toBe(true);
    expect(report.details?.gone).toEqual([
      expect.objectContaining({ instance: 'ingest-1', left: true }),
      expect.objectContaining({ instance: 'rules-2', left: false }),
    ]);
    advance(GONE_LISTED_MS);
    keepOwn();
    expect(health.report()).toEqual({ ok: true });
  });

  it('is not ok while blind: its own entry has not come back for a TTL', () => {
    const { health, advance } = gatewayHealth();
    health.seen('rules.rules-2', entry('rules-2', false, 0));
    advance(HEALTH_TTL_MS + 1);
    health.published();
    const report = health.report();
    expect(report.ok).toBe(false);
    expect(report.details?.reason).toMatch(/not seen/);
    expect(health.notReady()).toEqual([
      expect.objectContaining({
        instance: 'gw-1',
        failing: [expect.objectContaining({ check: 'services' })],
      }),
    ]);
  });

  it('is not ok when its own readiness has not been published for a TTL, saying why', () => {
    const { health, advance } = gatewayHealth();
    health.seen('gateway.gw-1', entry('gw-1', true, 0));
    expect(health.publishFailed('TIMEOUT')).toBe(true);
    expect(health.publishFailed('TIMEOUT')).toBe(false);
    advance(HEALTH_TTL_MS + 1);
    health.seen('gateway.gw-1', entry('gw-1', true, 0));
    expect(health.report().details?.reason).toMatch(/has not reached vigil_health .*TIMEOUT/);
  });

  it('shows an unreadable entry as a process not ready', () => {
    const { health } = gatewayHealth();
    health.published();
    health.seen('gateway.gw-1', entry('gw-1', true, 0));
    health.unreadableEntry('persister.p-1', 'ok: expected boolean');
    expect(health.report().details?.notReady).toEqual([
      expect.objectContaining({
        instance: 'p-1',
        services: ['persister'],
        failing: [expect.objectContaining({ check: 'health-entry' })],
      }),
    ]);
  });
});

describe('failingChecks', () => {
  it('names each failing check with a reason from the details, never `services`', () => {
    const body: Readiness = {
      status: 'degraded',
      checks: { broker: true, storage: true, ingest: false, journals: false, services: false },
      details: {
        ingest: {
          ok: false,
          reason: "the broker lost ingest's persistent session",
          pubackPending: 0,
          oldestPendingMs: 0,
          sessionsLost: 1,
        },
        journals: { alarms: { errors: 1, lastError: 'ENOSPC', lastErrorAt: 1 } },
      },
    };
    expect(failingChecks(body)).toEqual([
      { check: 'ingest', reason: "the broker lost ingest's persistent session" },
      { check: 'journals', reason: 'alarms: ENOSPC' },
    ]);
  });
});
