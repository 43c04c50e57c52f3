import type { IngestRecord, RuleSignal } from '@vigil/contracts';

import {
  context,
  device,
  lelRecord,
  lelRule,
  offlineConfig,
  readingRecord,
  tick,
} from '../testing/fixtures';
import { skewedReading } from '../testing/records';
import {
  rangeConfig,
  rateConfig,
  skewConfig,
  stuckConfig,
  trendConfig,
} from '../testing/rule-configs';
import type { RuleConfig } from './rule-config';
import {
  createRuleEngineState,
  reduceRuleEngine,
  type RuleEngineOptions,
  type RuleEngineState,
} from './rule-engine.reducer';
import type { EngineInput } from './rule-signal';
import {
  RULE_STATE_VERSION,
  RestoredRuleState,
  type SavedDevice,
  reconcileRuleState,
  snapshotRuleState,
} from './rule-state-snapshot';

type Seen = [string, boolean, number, string];
const seen = (signals: readonly RuleSignal[]): Seen[] =>
  signals.map(signal => [signal.ruleId, signal.active, signal.at, signal.message]);

interface Scenario {
  readonly name: string;
  readonly rule: RuleConfig;
  /** Evaluated by the old owner before the snapshot. */
  readonly before: EngineInput[];
  /** Evaluated by the new owner after it (startedAt = `takeoverAt`). */
  readonly after: EngineInput[];
  readonly takeoverAt: number;
  /**
   * The device as version 1 of the snapshot wrote it after `before` (pinned: snapshots already in
   * the KV store and on disk must restore after any refactoring of how kinds save their state).
   */
  readonly written: SavedDevice;
  /** What the uninterrupted engine says in `after` (checked, so the scenario means something). */
  readonly expected: Seen[];
}

const lelAt = (ts: number, value: number) => lelRecord('gc-1', ts, value);

/** One scenario per stateful rule kind: a timer or window running across the takeover. */
const SCENARIOS: Scenario[] = [
  {
    name: 'threshold off-delay (gas L1, 30 s)',
    rule: lelRule({ offDelayMs: 30_000 }),
    before: [lelAt(0, 30), lelAt(10_000, 10), lelAt(20_000, 10)],
    after: [lelAt(30_000, 10), lelAt(40_000, 10)],
    takeoverAt: 35_000,
    written: ['plant-1', 'gc-1', 20000, 20000, 0, [['gas-l1', 'threshold', 1, 10000]]],
    expected: [
      [
        'gas-l1',
        false,
        40_000,
        'Combustible gas 10 %LEL back below 20 %LEL (L1 set-point 25 %LEL − deadband 5 %LEL)',
      ],
    ],
  },
  {
    name: 'threshold on-delay (20 s)',
    rule: lelRule({ onDelayMs: 20_000 }),
    before: [lelAt(0, 30), lelAt(10_000, 30)],
    after: [lelAt(20_000, 30)],
    takeoverAt: 15_000,
    written: ['plant-1', 'gc-1', 10000, 10000, 0, [['gas-l1', 'threshold', 0, 0]]],
    expected: [['gas-l1', true, 20_000, 'Combustible gas 30 %LEL ≥ L1 set-point 25 %LEL']],
  },
  {
    name: 'range on-delay (60 s)',
    rule: rangeConfig({ onDelayMs: 60_000 }),
    before: [lelAt(0, 120), lelAt(30_000, 120)],
    after: [lelAt(60_000, 120)],
    takeoverAt: 45_000,
    written: ['plant-1', 'gc-1', 30000, 30000, 0, [['range-lel', 'range', 0, 0]]],
    expected: [
      [
        'range-lel',
        true,
        60_000,
        'Combustible gas 120 %LEL above the measuring range -5 … 100 %LEL for 60 s: the measurement cannot be trusted',
      ],
    ],
  },
  {
    name: 'stuck stretch (60 s)',
    rule: stuckConfig(),
    before: [lelAt(0, 10), lelAt(30_000, 10)],
    after: [lelAt(60_000, 10)],
    takeoverAt: 45_000,
    written: ['plant-1', 'gc-1', 30000, 30000, 0, [['stuck', 'stuck', 0, 0, 10, 10]]],
    expected: [
      [
        'stuck',
        true,
        60_000,
        'Combustible gas flat at 10 %LEL for 60 s (changes under 0.1 %LEL): the sensor may be stuck',
      ],
    ],
  },
  {
    name: 'rate-of-rise window (60 s)',
    rule: rateConfig(),
    before: [lelAt(0, 5), lelAt(20_000, 10)],
    after: [lelAt(40_000, 16)],
    takeoverAt: 30_000,
    // prettier-ignore
    written: ['plant-1', 'gc-1', 20000, 20000, 0, [['gas-rate', 'rate', 0, 10000,
      0, 5, 5,  null, 0, 0,  2, 10, 10,  null, 0, 0,  null, 0, 0,  null, 0, 0,  null, 0, 0]]],
    expected: [
      [
        'gas-rate',
        true,
        40_000,
        'Combustible gas rose 11 %LEL within 60 s to 16 %LEL (rate-of-rise at 10 %LEL)',
      ],
    ],
  },
  {
    name: 'trend forecast window (60 s)',
    rule: trendConfig({ minDelta: 5 }),
    before: [lelAt(0, 5), lelAt(10_000, 6)],
    after: [lelAt(20_000, 9)],
    takeoverAt: 15_000,
    // prettier-ignore
    written: ['plant-1', 'gc-1', 10000, 10000, 0, [['gas-trend', 'trend', 0, 10000, 10000,
      0, 1, 0, 5, 0, 0, 5, 5,
      1, 1, 0, 6, 0, 0, 6, 6,
      null, 0, 0, 0, 0, 0, 0, 0,
      null, 0, 0, 0, 0, 0, 0, 0,
      null, 0, 0, 0, 0, 0, 0, 0,
      null, 0, 0, 0, 0, 0, 0, 0,
      null, 0, 0, 0, 0, 0, 0, 0]]],
    expected: [
      [
        'gas-trend',
        true,
        20_000,
        'Combustible gas 9 %LEL trending up: predicted to reach 25 %LEL in 81.67 s (at 1970-01-01T00:01:41Z)',
      ],
    ],
  },
  {
    name: 'clock-skew on-delay (60 s of receive time)',
    rule: skewConfig(),
    before: [
      readingRecord(skewedReading('gc-1', 0, -120_000)),
      readingRecord(skewedReading('gc-1', 30_000, -120_000)),
    ],
    after: [readingRecord(skewedReading('gc-1', 60_000, -120_000))],
    takeoverAt: 45_000,
    written: ['plant-1', 'gc-1', -90000, 30000, -120000, [['clock-skew', 'skew', 0, 0]]],
    expected: [
      [
        'clock-skew',
        true,
        -60_000,
        'Device clock 2 min behind the server (more than 60 s): its timestamps cannot be trusted',
      ],
    ],
  },
  {
    name: 'offline watch (30 s)',
    rule: offlineConfig({ timeoutMs: 30_000 }),
    before: [lelAt(0, 3), tick(31_000)],
    after: [lelAt(40_000, 3)],
    takeoverAt: 35_000,
    written: ['plant-1', 'gc-1', 0, 0, 0, [['offline', 'offline', 1, 1, 0, 0]]],
    expected: [['offline', false, 40_000, 'Data received again after 40 s without data']],
  },
];

function options(rules: RuleConfig[], startedAt: number, extra: Partial<RuleEngineOptions> = {}) {
  const registered = device('gc-1', rules);
  return {
    ...context,
    lookupDevice: () => registered,
    startedAt,
    expectedDevices: [registered],
    ...extra,
  } satisfies RuleEngineOptions;
}

function run(state: RuleEngineState, inputs: EngineInput[], engine: RuleEngineOptions) {
  return inputs.flatMap(input => reduceRuleEngine(state, input, engine).signals);
}

/** What the alarm lifecycle holds after `signals`: the key's condition active or not. */
function activeAfter(signals: readonly RuleSignal[]): (key: string) => boolean {
  const active = new Map<string, boolean>();
  for (const signal of signals) active.set(signal.key, signal.active);
  return key => active.get(key) ?? false;
}

describe('rule state snapshot: a takeover goes on where the old owner stopped', () => {
  describe.each(SCENARIOS)('$name', scenario => {
    it('the uninterrupted engine says what the scenario expects in `after`', () => {
      const engine = options([scenario.rule], 0);
      const state = createRuleEngineState(engine);
      run(state, scenario.before, engine);
      const after = seen(run(state, scenario.after, engine));
      expect(after).toEqual(scenario.expected);
    });

    it('serialised (JSON) and restored, says exactly what the uninterrupted engine says', () => {
      const old = options([scenario.rule], 0);
      const oldState = createRuleEngineState(old);
      const raised = run(oldState, scenario.before, old);
      const uninterrupted = seen(run(oldState, scenario.after, old));

      const replay = options([scenario.rule], 0);
      const saved = createRuleEngineState(replay);
      run(saved, scenario.before, replay);
      const json = JSON.parse(JSON.stringify(snapshotRuleState(saved))) as unknown;

      const restored = new RestoredRuleState(json);
      const engine = options([scenario.rule], scenario.takeoverAt, {
        activeAtStart: activeAfter(raised),
        restoredState: restored,
      });
      const state = createRuleEngineState(engine);
      expect(reconcileRuleState(state, activeAfter(raised))).toBe(0);
      expect({ unrestored: restored.unrestored, problems: restored.problems }).toEqual({
        unrestored: 0,
        problems: [],
      });
      expect(seen(run(state, scenario.after, engine))).toEqual(uninterrupted);
    });

    it('without the snapshot (as after a restart) the timer starts over: the test is not vacuous', () => {
      const old = options([scenario.rule], 0);
      const oldState = createRuleEngineState(old);
      const raised = run(oldState, scenario.before, old);
      const uninterrupted = seen(run(oldState, scenario.after, old));
      const engine = options([scenario.rule], scenario.takeoverAt, {
        activeAtStart: activeAfter(raised),
      });
      const fresh = seen(run(createRuleEngineState(engine), scenario.after, engine));
      expect(fresh).not.toEqual(uninterrupted);
    });
  });

  it('restores every kind’s state field for field', () => {
    for (const scenario of SCENARIOS) {
      const rule = scenario.rule;
      const engine = options([rule], 0);
      const state = createRuleEngineState(engine);
      run(state, scenario.before, engine);
      const snapshot = snapshotRuleState(state);
      const restoredEngine = options([rule], 100_000, {
        restoredState: new RestoredRuleState(JSON.parse(JSON.stringify(snapshot))),
      });
      const restored = createRuleEngineState(restoredEngine);
      // An offline watch counts silence from the takeover at the earliest (`countFrom`, its queue
      // deadline): the records the old owner had not evaluated are still to come.
      const comparable = (engineState: RuleEngineState) =>
        engineState.devices
          .get('plant-1')
          ?.get('gc-1')
          ?.states.map(each =>
            each?.kind === 'offline' ? { ...each, countFrom: 0, dueAt: 0, queueIndex: 0 } : each,
          );
      expect(comparable(restored)).toEqual(comparable(state));
    }
  });

  it('counts (never silently drops) what does not fit: another version, a changed window', () => {
    expect(new RestoredRuleState({ v: 99, devices: [] }).unrestored).toBe(1);
    const engine = options([rateConfig()], 0);
    const state = createRuleEngineState(engine);
    run(state, [lelAt(0, 5), lelAt(20_000, 10)], engine);
    const snapshot = JSON.parse(JSON.stringify(snapshotRuleState(state))) as unknown;
    const restored = new RestoredRuleState(snapshot);
    createRuleEngineState(
      options([rateConfig({ windowMs: 120_000 })], 30_000, { restoredState: restored }),
    );
    expect(restored.unrestored).toBe(1);
    expect(restored.problems[0]).toMatch(/plant-1\/gc-1\/gas-rate: saved rate state/);
  });

  it('writes nothing for rules in their start state, and is versioned', () => {
    const engine = options([lelRule(), stuckConfig()], 0);
    const state = createRuleEngineState(engine);
    expect(snapshotRuleState(state)).toEqual({ v: RULE_STATE_VERSION, devices: [] });
  });

  it('reconciles with the open alarms: the durable alarm wins over the restored state', () => {
    const engine = options([lelRule({ offDelayMs: 30_000 })], 0);
    const state = createRuleEngineState(engine);
    run(state, [lelAt(0, 30), lelAt(10_000, 10)], engine);
    const restoredEngine = options([lelRule({ offDelayMs: 30_000 })], 20_000, {
      restoredState: new RestoredRuleState(JSON.parse(JSON.stringify(snapshotRuleState(state)))),
    });
    const restored = createRuleEngineState(restoredEngine);
    // The alarm was cleared meanwhile (by a record after the snapshot, say): no clear again.
    expect(reconcileRuleState(restored, () => false)).toBe(1);
    expect(run(restored, [lelAt(50_000, 10)] as IngestRecord[], restoredEngine)).toEqual([]);
  });

  it('writes the version 1 format, and restores what version 1 wrote', () => {
    for (const scenario of SCENARIOS) {
      const old = options([scenario.rule], 0);
      const oldState = createRuleEngineState(old);
      const raised = run(oldState, scenario.before, old);
      expect(snapshotRuleState(oldState)).toEqual({ v: 1, devices: [scenario.written] });
      const uninterrupted = seen(run(oldState, scenario.after, old));

      const restored = new RestoredRuleState({ v: 1, devices: [scenario.written] });
      const engine = options([scenario.rule], scenario.takeoverAt, {
        activeAtStart: activeAfter(raised),
        restoredState: restored,
      });
      const state = createRuleEngineState(engine);
      expect({ name: scenario.name, restored: restored.restored }).toEqual({
        name: scenario.name,
        restored: 1,
      });
      expect(seen(run(state, scenario.after, engine))).toEqual(uninterrupted);
    }
  });
});
