import { Subject } from 'rxjs';

import {
  canaryReport,
  type CanaryHop,
  type CanaryPayload,
  type CanaryStamp,
} from '@vigil/contracts';
import type { Registry } from '@vigil/registry';

import type { AlarmCommands } from '../alarms/alarm-commands';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { AlarmView } from '../alarms/alarm-view';
import { VigilMetrics } from '../metrics/metrics';
import type { RegistryHolder } from '../registry/registry-holder';
import { CanaryService } from './canary.service';

/**
 * The gateway's canary service on jest's fake clock: a fake publisher stands in for the broker
 * and feeds every canary straight to the hops that are "alive".
 */
function setup() {
  const config = loadConfig({ VIGIL_INFLUX_MODE: 'off', VIGIL_REGISTRY: 'unused' });
  // plant-1 of enterprise ent, under park-1: where its stall alarm escalates.
  const path = [{ id: 'park-1' }, { id: 'ent' }];
  const registry = {
    current: {
      sites: [{ id: 'plant-1' }],
      site: (id: string) => (id === 'plant-1' ? { id, enterprise: 'ent' } : undefined),
      orgPath: (id: string) => (id === 'ent' ? path : []),
    } as unknown as Registry,
    changes$: new Subject<Registry>(),
  } as unknown as RegistryHolder;
  const bus = new PipelineBus();
  const metrics = new VigilMetrics();
  const view = new AlarmView(bus, {} as AlarmCommands);
  const service = new CanaryService(config, registry, bus, metrics, view);
  const alive = new Set<CanaryHop>(['ingest', 'rules', 'gateway']);
  const published: CanaryPayload[] = [];
  const deliver = (siteId: string, payload: CanaryPayload) => {
    published.push(payload);
    const stamp: CanaryStamp = { siteId, ...payload.canary, receivedAt: Date.now() };
    if (!alive.has('ingest')) return true;
    bus.publishCanary([canaryReport('ingest', stamp, Date.now())]);
    if (alive.has('gateway')) bus.publishRecords([{ kind: 'canary', canary: stamp }]);
    if (alive.has('rules')) bus.publishCanary([canaryReport('rules', stamp, Date.now())]);
    return true;
  };
  Object.assign(service, {
    publisher: {
      start: (onConnect: () => void) => onConnect(),
      publish: deliver,
      stop: async () => undefined,
    },
  });
  return { service, view, metrics, alive, published };
}

describe(CanaryService.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('raises a P1 alarm naming the stalled hop within the timeout, owned by the gateway, and clears it', async () => {
    const { service, view, alive, published } = setup();
    service.onModuleInit();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(published.length).toBeGreaterThanOrEqual(5);
    expect(service.status).toMatchObject({ canary: 'ok', stalled: [] });
    expect(service.status.hops.persister.state).toBe('off'); // no InfluxDB: not watched
    expect(view.open()).toEqual([]);

    alive.delete('rules');
    await jest.advanceTimersByTimeAsync(8_000);
    expect(service.status.stalled).toEqual(['rules']);
    const [alarm] = view.open();
    expect(alarm).toMatchObject({
      ruleId: 'pipeline-stalled',
      level: 'rules',
      priority: 1,
      deviceId: '_canary',
      siteId: 'plant-1',
      state: 'active-unacknowledged',
    });
    expect(view.ownerOf(alarm?.id ?? '')).toBe(service);
    expect(view.recentRaises()).toEqual([]); // not a plant alarm: kept out of the KPIs

    const acknowledged = service.execute(
      alarm?.id ?? '',
      { action: 'acknowledge' },
      { id: 'li', role: 'operator' },
    );
    expect(acknowledged).toMatchObject({ ok: true, transition: { alarm: { owner: 'li' } } });

    alive.add('rules');
    await jest.advanceTimersByTimeAsync(3_000);
    expect(service.status.canary).toBe('ok');
    expect(view.open()).toEqual([]); // acknowledged and cleared: closed
    expect(view.ownerOf(alarm?.id ?? '')).toBeUndefined();
    await service.onModuleDestroy();
  });

  it('escalates its P1 stall alarm up the tree while nobody acknowledges it', async () => {
    const { service, view, alive } = setup();
    service.onModuleInit();
    await jest.advanceTimersByTimeAsync(4_000);
    alive.delete('rules');
    await jest.advanceTimersByTimeAsync(8_000);
    expect(view.open()[0]).toMatchObject({ priority: 1 });
    expect(view.open()[0]?.escalation).toBeUndefined();
    // P1: acknowledge within 60 s, else up to the park.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(view.open()[0]).toMatchObject({
      state: 'active-unacknowledged',
      escalation: { level: 1, nodeId: 'park-1' },
    });
    await service.onModuleDestroy();
  });

  it('raises only the ingest alarm when the canary does not reach ingest at all', async () => {
    const { service, view, alive, metrics } = setup();
    service.onModuleInit();
    await jest.advanceTimersByTimeAsync(4_000);
    alive.delete('ingest');
    await jest.advanceTimersByTimeAsync(8_000);
    expect(service.status.stalled).toEqual(['ingest', 'rules', 'gateway']);
    expect(view.open().map(alarm => alarm.level)).toEqual(['ingest']);
    const stalls = await metrics.registry.getSingleMetric('vigil_canary_stalls_total')?.get();
    expect(stalls?.values.find(v => v.labels['hop'] === 'ingest')?.value).toBe(1);
    await service.onModuleDestroy();
  });
});
