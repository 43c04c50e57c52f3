import { canaryOfSignal } from '@vigil/contracts';

import { SITE, context, lelRecord } from '../testing/fixtures';
import { registered } from '../testing/registered';
import {
  type RuleEngineOptions,
  createRuleEngineState,
  createRuleEngineStats,
  reduceRuleEngine,
} from './rule-engine.reducer';
import type { EngineInput } from './rule-signal';

describe('the rule engine and the pipeline canary', () => {
  function engine() {
    const device = registered('gc-1', 'gas-combustible');
    const stats = createRuleEngineStats();
    const options: RuleEngineOptions = {
      ...context,
      startedAt: 0,
      lookupDevice: (_siteId, deviceId) => (deviceId === 'gc-1' ? device : undefined),
      stats,
    };
    const state = createRuleEngineState(options);
    return { state, stats, feed: (input: EngineInput) => reduceRuleEngine(state, input, options) };
  }

  const canary: EngineInput = {
    kind: 'canary',
    canary: { siteId: SITE, origin: 'gw-1', seq: 7, sentAt: 1000, receivedAt: 1003 },
  };

  it('answers a canary with one heartbeat that carries it, and keeps no device for it', () => {
    const { state, stats, feed } = engine();
    const { signals } = feed(canary);
    expect(signals).toHaveLength(1);
    expect(signals.map(canaryOfSignal)).toEqual([
      {
        siteId: SITE,
        origin: 'gw-1',
        seq: 7,
        sentAt: 1000,
      },
    ]);
    expect(state.devices.size).toBe(0);
    expect(stats).toMatchObject({ canaries: 1, records: 0, unknownDeviceRecords: 0 });
  });

  it('evaluates real devices around canaries as before', () => {
    const { feed } = engine();
    feed(canary);
    const signals = feed(lelRecord('gc-1', 2000, 30)).signals;
    expect(signals.map(signal => canaryOfSignal(signal))).toEqual(signals.map(() => undefined));
    expect(signals.some(signal => signal.ruleId === 'gas-l1' && signal.active)).toBe(true);
  });
});
