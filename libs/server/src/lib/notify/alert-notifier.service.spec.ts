import { join } from 'node:path';

import { DEFAULT_HAZARD_POLICY, dueHazardTransition, reportHazard } from '@vigil/alarms';
import type { Alarm, Hazard } from '@vigil/contracts';
import { loadRegistry } from '@vigil/registry-node';
import { startHttpRecorder, waitFor, type HttpRecorder } from '@vigil/testing';

import type { AlarmUpdate } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import type { AlarmView } from '../alarms/alarm-view';
import type { AuthService } from '../auth/auth.service';
import type { HazardService } from '../hazards/hazard.service';
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

/** A stand-in for HazardService: the ledger and its change listener. */
class FakeHazards {
  hazards = new Map<string, Hazard>();
  listener: ((hazards: readonly Hazard[]) => void) | undefined;
  list(): Hazard[] {
    return [...this.hazards.values()];
  }
  onChange(listener: (hazards: readonly Hazard[]) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  commit(hazard: Hazard): void {
    this.hazards.set(hazard.id, hazard);
    this.listener?.([hazard]);
  }
}

describe('AlertNotifier: overdue hazards (issue 15) go through the same outbox', () => {
  const PATH = ['ent-huaxin', 'park-chem', 'county-east', 'city-demo'];
  const policy = { ...DEFAULT_HAZARD_POLICY, escalateEveryMs: 1000 };
  let alertmanager: HttpRecorder;
  let hazards: FakeHazards;
  let notifier: AlertNotifier;

  const posted = (): PostableAlert[] =>
    alertmanager.requests.flatMap(request => JSON.parse(request.body) as PostableAlert[]);
  const isResolved = (alert: PostableAlert) => Date.parse(alert.endsAt) <= Date.now();

  function overdueHazard(deadline: number): Hazard {
    const reported = reportHazard(
      {
        title: 'Flange leak',
        description: '',
        level: 'general',
        source: 'manual',
        siteId: 'plant-1',
        enterprise: 'ent-huaxin',
        deviceIds: [],
        photos: [],
        plan: {
          responsible: 'zhang',
          measures: 'm',
          funds: 0,
          deadline,
          contingencyPlan: 'p',
        },
      },
      { id: 'wang', role: 'supervisor' },
      { now: deadline - 10_000, id: 'hz-1', no: 1 },
    );
    if (!reported.ok) throw new Error(reported.message);
    return { ...reported.hazard, state: 'rectifying', assignee: 'zhang' };
  }
  function step(hazard: Hazard, now: number): Hazard {
    const due = dueHazardTransition(hazard, now, PATH, policy);
    if (!due?.ok) throw new Error('no step due');
    return due.hazard;
  }

  function start(): void {
    notifier = new AlertNotifier(
      loadConfig({
        VIGIL_ALERTMANAGER_URL: alertmanager.url,
        VIGIL_ALERTMANAGER_RESEND_MS: '60000',
        VIGIL_REGISTRY: 'unused',
      }),
      new FakeAlarmView() as unknown as AlarmView,
      { current: registry } as RegistryHolder,
      new VigilMetrics(),
      hazards as unknown as HazardService,
      {
        contactOf: (id: string) =>
          id === 'zhang' ? { name: '张伟', email: 'zhang@huaxin.test' } : undefined,
      } as unknown as AuthService,
    );
    notifier.onApplicationBootstrap();
  }

  beforeEach(async () => {
    alertmanager = await startHttpRecorder(() => ({ status: 200, body: '' }));
    hazards = new FakeHazards();
  });

  afterEach(async () => {
    notifier.onModuleDestroy();
    await alertmanager.stop();
  });

  it('posts the reminder, then the escalation, and resolves both when rectified', async () => {
    start();
    const deadline = Date.now() - 5000;
    const reminded = step(overdueHazard(deadline), deadline + 1);
    hazards.commit(reminded);
    await waitFor(() => posted().length === 1, { what: 'the reminder' });
    expect(posted()[0]?.labels).toMatchObject({
      alertname: 'VigilHazard',
      hazard_id: 'hz-1',
      hazard_step: 'remind',
      notify_node: 'ent-huaxin',
      people_email: 'zhang@huaxin.test',
    });
    const escalated = step(reminded, deadline + 1001);
    hazards.commit(escalated);
    await waitFor(() => posted().some(a => a.labels['hazard_step'] === 'escalate-1'), {
      what: 'the escalation',
    });
    expect(posted().find(a => a.labels['hazard_step'] === 'escalate-1')?.labels).toMatchObject({
      notify_node: 'park-chem',
    });
    hazards.commit({ ...escalated, state: 'rectified' });
    await waitFor(() => posted().filter(isResolved).length === 2, { what: 'both resolved' });
    expect(
      posted()
        .filter(isResolved)
        .map(a => a.labels['hazard_step'])
        .sort(),
    ).toEqual(['escalate-1', 'remind']);
    expect(notifier.health().status).toBe('ok');
  });

  it('after a restart, posts the steps journaled meanwhile and resolves those settled recently', async () => {
    const deadline = Date.now() - 5000;
    const reminded = step(overdueHazard(deadline), deadline + 1);
    hazards.hazards.set('hz-1', reminded);
    hazards.hazards.set('hz-2', {
      ...reminded,
      id: 'hz-2',
      state: 'closed',
      updatedAt: Date.now() - 1000,
    });
    hazards.hazards.set('hz-3', {
      ...reminded,
      id: 'hz-3',
      state: 'closed',
      updatedAt: Date.now() - 3_600_000,
    });
    start();
    await waitFor(() => posted().length === 2, { what: 'the reconcile at start' });
    const byHazard = Object.fromEntries(posted().map(a => [a.labels['hazard_id'], isResolved(a)]));
    expect(byHazard).toEqual({ 'hz-1': false, 'hz-2': true });
  });
});
