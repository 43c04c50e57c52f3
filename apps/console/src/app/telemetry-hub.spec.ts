import { TelemetryHub } from './telemetry-hub';

describe('TelemetryHub', () => {
  it('subscribes a device while any view watches it and routes updates to the views that asked', () => {
    const calls: string[] = [];
    const hub = new TelemetryHub({
      subscribe: devices => calls.push(`+${devices.join(',')}`),
      unsubscribe: devices => calls.push(`-${devices.join(',')}`),
    });
    const plan: string[] = [];
    const panel: string[] = [];
    const stopPlan = hub.watch(['s/tag-1', 's/tag-2'], update => plan.push(update.deviceId));
    const stopPanel = hub.watch(['s/tag-1'], update => panel.push(update.deviceId));
    hub.dispatch({ siteId: 's', deviceId: 'tag-2', ts: 0, values: {} });
    hub.dispatch({ siteId: 's', deviceId: 'tag-1', ts: 0, values: {} });
    stopPlan();
    hub.dispatch({ siteId: 's', deviceId: 'tag-1', ts: 0, values: {} });
    stopPanel();
    expect(plan).toEqual(['tag-2', 'tag-1']);
    expect(panel).toEqual(['tag-1', 'tag-1']);
    expect(calls).toEqual(['+s/tag-1,s/tag-2', '-s/tag-2', '-s/tag-1']);
  });
});
