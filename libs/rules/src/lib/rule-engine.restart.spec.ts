import type { EngineInput } from './rule-signal';
import {
  createRuleEngineState,
  reduceRuleEngine,
  type RuleEngineOptions,
} from './rule-engine.reducer';
import {
  context,
  device,
  lelRecord,
  lelRule,
  offlineConfig,
  statusRecord,
} from '../testing/fixtures';

/** After a restart the lifecycle still holds open alarms; the engine must be able to clear them. */
describe('rule engine started under open alarms (activeAtStart)', () => {
  const rules = device('gc-1', [offlineConfig({ timeoutMs: 30_000 }), lelRule()]);

  function run(inputs: EngineInput[], activeAtStart?: (key: string) => boolean) {
    const options: RuleEngineOptions = {
      ...context,
      lookupDevice: () => rules,
      startedAt: 0,
      expectedDevices: [rules],
      ...(activeAtStart ? { activeAtStart } : {}),
    };
    const state = createRuleEngineState(options);
    return inputs.flatMap(input => reduceRuleEngine(state, input, options).signals);
  }

  it('clears a restored threshold alarm at the first normal reading', () => {
    const signals = run([lelRecord('gc-1', 1000, 3)], key => key === 'plant-1/gc-1/gas-l1');
    expect(signals.map(s => [s.ruleId, s.active])).toEqual([['gas-l1', false]]);
  });

  it('clears a restored offline alarm when the device reports again', () => {
    const signals = run([statusRecord('gc-1', true, 1000)], key => key === 'plant-1/gc-1/offline');
    expect(signals.map(s => [s.ruleId, s.active])).toEqual([['offline', false]]);
  });

  it('without restored alarms, a normal reading says nothing', () => {
    expect(run([lelRecord('gc-1', 1000, 3)])).toEqual([]);
  });
});
