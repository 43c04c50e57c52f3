import { planBridge } from './mqtt-bridge';

describe(planBridge.name, () => {
  it('forwards nothing when every service runs in this process', () => {
    expect(planBridge(['broker', 'ingest', 'rules', 'persister', 'gateway'])).toEqual({
      publish: [],
      subscribe: [],
    });
  });

  it('sends the canary reports of ingest, rules and persister to the gateway process', () => {
    expect(planBridge(['ingest', 'rules'])).toEqual({
      publish: ['records', 'alarms', 'canary'],
      subscribe: [],
    });
    expect(planBridge(['persister', 'gateway'])).toEqual({
      publish: [],
      subscribe: ['records', 'alarms', 'canary'],
    });
    expect(planBridge(['rules'])).toEqual({
      publish: ['alarms', 'canary'],
      subscribe: ['records'],
    });
    expect(planBridge(['gateway'])).toEqual({
      publish: [],
      subscribe: ['records', 'alarms', 'canary'],
    });
  });
});
