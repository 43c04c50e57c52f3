import { join } from 'node:path';

import type { Alarm } from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';
import { startHttpRecorder, waitFor, type HttpRecorder } from '@vigil/testing';

import type { AlarmUpdate } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import type { AlarmView } from '../alarms/alarm-view';
import { VigilMetrics } from '../metrics/metrics';
import type { RegistryHolder } from '../registry/registry-holder';
import { AlertNotifier } from './alert-notifier.service';
import type { PostableAlert } from './alerts';

const registry = loadRegistry(join(__dirname, '../../../../../registry/sample'));

const now = Date.now();
function alarm(overrides: Partial<Alarm> = {}): Alarm {
  return {
    id: 'alarm-1',
    key: 'plant-1/gc-ru-01/gas-combustible',
    ruleId: 'gas-combustible',
    siteId: 'plant-1',
    deviceId: 'gc-ru-01',
    deviceClass: 'gas-combustible',
    areaId: 'reactor-unit',
    category: 'process',
    priority: 1,
    level: 'L2',
    state: 'active-unacknowledged',
    conditionActive: true,
    latched: true,
    metric: 'lel',
    value: 60,
    threshold: 50,
    message: 'Combustible gas 60 %LEL ≥ L2 set-point 50 %LEL',
    raisedAt: now,
    clearedAt: undefined,
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    updatedAt: now,
    detectedAt: now,
    history: [],
    ...overrides,
  };
}

/** A stand-in for the gateway's AlarmView: the open alarms and the update listener. */
class FakeAlarmView {
  openAlarms: Alarm[] = [];
  listener: ((updates: readonly AlarmUpdate[]) => void) | undefined;
  open(): Alarm[] {
    return this.openAlarms;
  }
  onUpdates(listener: (updates: readonly AlarmUpdate[]) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  update(next: Alarm): void {
    this.openAlarms = [...this.openAlarms.filter(a => a.id !== next.id), next].filter(
      a => a.state !== 'normal',
    );
    this.listener?.([
      { alarm: next, action: { action: 'update', at: 0, by: undefined, note: undefined } },
    ]);
  }
}

describe('AlertNotifier (against a recording Alertmanager stand-in)', () => {
  let alertmanager: HttpRecorder;
  let view: FakeAlarmView;
  let notifier: AlertNotifier;
  let metrics: VigilMetrics;

  const posted = (): PostableAlert[] =>
    alertmanager.requests.flatMap(request => JSON.parse(request.body) as PostableAlert[]);
  const isResolved = (alert: PostableAlert) => Date.parse(alert.endsAt) <= Date.now();

  beforeEach(async () => {
    alertmanager = await startHttpRecorder(() => ({ status: 200, body: '' }));
    view = new FakeAlarmView();
    metrics = new VigilMetrics();
    const config = loadConfig({
      VIGIL_ALERTMANAGER_URL: alertmanager.url,
      VIGIL_ALERTMANAGER_RESEND_MS: '60000',
      VIGIL_REGISTRY: 'unused',
    });
    notifier = new AlertNotifier(
      config,
      view as unknown as AlarmView,
      { current: registry } as RegistryHolder,
      metrics,
    );
  });

  afterEach(async () => {
    notifier.onModuleDestroy();
    await alertmanager.stop();
  });

  it('posts alarms already open at start, to /api/v2/alerts, ending four resends ahead', async () => {
    view.openAlarms = [alarm()];
    notifier.onApplicationBootstrap();
    await waitFor(() => posted().length === 1, { what: 'the first post' });
    expect(alertmanager.requests[0]?.url).toBe('/api/v2/alerts');
    const [alert] = posted();
    expect(alert?.labels['alarm_id']).toBe('alarm-1');
    const ahead = Date.parse(alert?.endsAt ?? '') - Date.now();
    expect(ahead).toBeGreaterThan(3 * 60_000);
    expect(ahead).toBeLessThanOrEqual(4 * 60_000);
  });

  it('adds the next node on escalation, resolves both on acknowledge, posts nothing for P3', async () => {
    notifier.onApplicationBootstrap();
    view.update(alarm({ id: 'p3', priority: 3 }));
    view.update(alarm());
    await waitFor(() => posted().length === 1, { what: 'the alarm' });
    view.update(alarm({ escalation: { level: 1, nodeId: 'park-chem', at: Date.now() } }));
    await waitFor(() => posted().some(a => a.labels['notify_node'] === 'park-chem'), {
      what: 'the escalation',
    });
    view.update(
      alarm({
        state: 'active-acknowledged',
        escalation: { level: 1, nodeId: 'park-chem', at: Date.now() },
      }),
    );
    await waitFor(() => posted().filter(isResolved).length === 2, { what: 'both resolved' });
    expect(
      posted()
        .filter(isResolved)
        .map(a => a.labels['notify_node'])
        .sort(),
    ).toEqual(['ent-huaxin', 'park-chem']);
    expect(posted().some(a => a.labels['alarm_id'] === 'p3')).toBe(false);
    await waitFor(() => notifier.health().status === 'ok' && notifier.health().pending === 0, {
      what: 'idle',
    });
    expect(await metrics.registry.getSingleMetricAsString('vigil_notify_alerts_total')).toContain(
      'vigil_notify_alerts_total{outcome="sent"} 4',
    );
  });

  it('does not post an unchanged alarm again on every update, only when it changes or on resend', async () => {
    notifier.onApplicationBootstrap();
    view.update(alarm());
    view.update(alarm({ history: [{ action: 'comment', at: 1, by: 'op', note: 'x' }] }));
    await waitFor(() => posted().length >= 1, { what: 'the alarm' });
    view.update(alarm({ value: 70 }));
    await waitFor(() => posted().length === 2, { what: 'the new value' });
    expect(posted()[1]?.annotations['value']).toBe('70 %LEL');
  });

  it('resolves an alarm that closed while no update reached the gateway, at the resend', async () => {
    view.openAlarms = [alarm()];
    notifier.onApplicationBootstrap();
    await waitFor(() => posted().length === 1, { what: 'the alarm' });
    view.openAlarms = [];
    (notifier as unknown as { reconcileAll(): void }).reconcileAll();
    await waitFor(() => posted().filter(isResolved).length === 1, { what: 'resolved' });
  });
});
