import type { Alarm } from '@vigil/contracts';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { VigilMetrics } from '../metrics/metrics';
import type { AlarmCommands } from './alarm-commands';
import { AlarmView, LISTENER_FAILURE_SHOWN_MS } from './alarm-view';

function update(id: string): AlarmUpdate {
  const alarm = {
    id,
    key: `s1/gd-1/${id}`,
    siteId: 's1',
    deviceId: 'gd-1',
    ruleId: 'gas-l1',
    priority: 1,
    state: 'active-unacknowledged',
    conditionActive: true,
    raisedAt: 1000,
    updatedAt: 1000,
    detectedAt: 1000,
  } as unknown as Alarm;
  return { alarm, action: { action: 'raise', at: 1000 } } as unknown as AlarmUpdate;
}

describe('AlarmView listeners', () => {
  it('a listener that throws keeps no update from the others, and is counted and reported', async () => {
    const bus = new PipelineBus();
    const metrics = new VigilMetrics();
    const view = new AlarmView(bus, {} as AlarmCommands, undefined, undefined, metrics);
    // Registered first, as the WebSocket hub is before the notifier: here the one that throws.
    view.onUpdates(() => {
      throw new Error('notifier bug');
    }, 'alertmanager');
    const consoles: string[] = [];
    view.onUpdates(updates => consoles.push(...updates.map(u => u.alarm.id)), 'websocket');

    bus.publishAlarms([update('a1')]);
    bus.publishAlarms([update('a2')]);

    // The consoles had both updates, and the feed still delivers (the subscription lives on).
    expect(consoles).toEqual(['a1', 'a2']);
    expect(view.open().map(alarm => alarm.id)).toEqual(['a1', 'a2']);
    const [failure] = view.listenerFailures();
    expect(failure).toMatchObject({
      listener: 'alertmanager',
      errors: 2,
      lastError: 'notifier bug',
    });
    expect(view.listenerFailures((failure?.lastAt ?? 0) + LISTENER_FAILURE_SHOWN_MS)).toEqual([]);
    const metric = await metrics.registry.getSingleMetricAsString(
      'vigil_alarm_listener_errors_total',
    );
    expect(metric).toContain('vigil_alarm_listener_errors_total{listener="alertmanager"} 2');
  });
});
