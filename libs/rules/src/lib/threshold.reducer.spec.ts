import type { MetricValue, Reading, RuleSignal } from '@vigil/contracts';

import { DETECTED_AT, SITE, context, lel, lelRule, reading, runAll } from '../testing/fixtures';
import type { ThresholdRuleConfig } from './rule-config';
import {
  type SingleRuleState,
  createSingleRuleState,
  reduceSingleRule,
} from './single-rule.reducer';
import {
  THRESHOLD_INACTIVE,
  clearedMessage,
  raisedMessage,
  reduceThreshold,
} from './threshold.reducer';

/** Feeds one device's readings through the reducer and returns `[active?, value]` per signal. */
function transitions(
  rule: ThresholdRuleConfig,
  readings: readonly Reading[],
): Array<[boolean, number]> {
  return runAll(THRESHOLD_INACTIVE, readings, (state, input) =>
    reduceThreshold(state, input, rule, context),
  ).map(signal => [signal.active, signal.value as number]);
}

/** Values at ts 0, 10, 20, … */
function series(values: readonly number[]): Reading[] {
  return values.map((value, index) => lel('d1', index * 10, value));
}

describe(reduceThreshold.name, () => {
  describe('set-point and deadband (high)', () => {
    const rule = lelRule(); // set-point 25, deadband 5, no delays

    it('raises at exactly the set-point, not below it', () => {
      expect(transitions(rule, series([24.99]))).toEqual([]);
      expect(transitions(rule, series([25]))).toEqual([[true, 25]]);
    });

    it('stays active down to set-point − deadband and clears strictly below it', () => {
      expect(transitions(rule, series([30, 24, 20]))).toEqual([[true, 30]]);
      expect(transitions(rule, series([30, 20, 19.99]))).toEqual([
        [true, 30],
        [false, 19.99],
      ]);
    });

    it('never flaps while noise stays inside the deadband', () => {
      expect(transitions(rule, series([26, 21, 25.5, 20, 24.9, 26, 22]))).toEqual([[true, 26]]);
    });

    it('clears below the set-point itself when the deadband is 0', () => {
      const noBand = lelRule({ deadband: 0 });
      expect(transitions(noBand, series([25, 25, 24.99]))).toEqual([
        [true, 25],
        [false, 24.99],
      ]);
    });
  });

  describe('set-point and deadband (low)', () => {
    const rule = lelRule({
      ruleId: 'o2-low',
      metric: 'lel',
      direction: 'low',
      setpoint: 19.5,
      deadband: 0.5,
    });

    it('raises at or below the set-point and clears strictly above set-point + deadband', () => {
      expect(transitions(rule, series([19.6, 19.5, 19.9, 20, 20.01]))).toEqual([
        [true, 19.5],
        [false, 20.01],
      ]);
    });
  });

  describe('on-delay (event time)', () => {
    const rule = lelRule({ onDelayMs: 20 });

    it('raises once the value has stayed beyond the set-point for the delay', () => {
      // ts 0, 10, 20: beyond since 0, the delay completes at ts 20.
      expect(transitions(rule, series([30, 30, 30]))).toEqual([[true, 30]]);
      expect(transitions(rule, series([30, 30]))).toEqual([]);
    });

    it('restarts the delay when the value drops back below the set-point', () => {
      expect(transitions(rule, series([30, 30, 24, 30, 30, 30]))).toEqual([[true, 30]]);
      const signals = runAll(THRESHOLD_INACTIVE, series([30, 30, 24, 30, 30, 30]), (s, r) =>
        reduceThreshold(s, r, rule, context),
      );
      expect(signals.map(signal => signal.at)).toEqual([50]);
    });

    it('measures event time, not the number of readings', () => {
      const readings = [lel('d1', 0, 30), lel('d1', 5, 30), lel('d1', 19, 30), lel('d1', 100, 30)];
      const signals = runAll(THRESHOLD_INACTIVE, readings, (s, r) =>
        reduceThreshold(s, r, rule, context),
      );
      expect(signals.map(signal => signal.at)).toEqual([100]);
    });
  });

  describe('off-delay (event time)', () => {
    const rule = lelRule({ offDelayMs: 20 });

    it('clears once the value has stayed inside the clear point for the delay', () => {
      expect(transitions(rule, series([30, 10, 10, 10]))).toEqual([
        [true, 30],
        [false, 10],
      ]);
      expect(transitions(rule, series([30, 10, 10]))).toEqual([[true, 30]]);
    });

    it('keeps the alarm through a brief dip', () => {
      expect(transitions(rule, series([30, 10, 22, 10, 10]))).toEqual([[true, 30]]);
    });
  });

  it('ignores readings without the metric or with a boolean value', () => {
    const rule = lelRule();
    const active = reduceThreshold(THRESHOLD_INACTIVE, lel('d1', 0, 30), rule, context).state;
    const cases: Array<Record<string, MetricValue>> = [{ o2: 10 }, { lel: true }, { lel: false }];
    for (const values of cases) {
      const step = reduceThreshold(active, reading('d1', 10, values), rule, context);
      expect(step.state).toBe(active);
      expect(step.signals).toEqual([]);
    }
  });

  it('keeps a pending delay across a reading without the metric', () => {
    const rule = lelRule({ onDelayMs: 20 });
    const readings = [lel('d1', 0, 30), reading('d1', 10, { o2: 20 }), lel('d1', 20, 30)];
    expect(transitions(rule, readings)).toEqual([[true, 30]]);
  });

  it('allocates nothing new for a steady device', () => {
    const step = reduceThreshold(THRESHOLD_INACTIVE, lel('d1', 0, 3), lelRule(), context);
    expect(step.state).toBe(THRESHOLD_INACTIVE);
    expect(reduceThreshold(THRESHOLD_INACTIVE, lel('d1', 0, 4), lelRule(), context)).toBe(step);
  });

  it('emits a complete RuleSignal', () => {
    const rule = lelRule({
      ruleId: 'gas-l2',
      setpoint: 50,
      level: 'L2',
      priority: 1,
      latched: true,
    });
    const { signals } = reduceThreshold(THRESHOLD_INACTIVE, lel('gc-1', 1234, 62), rule, context);
    expect(signals).toEqual<RuleSignal[]>([
      {
        key: `${SITE}/gc-1/gas-l2`,
        ruleId: 'gas-l2',
        siteId: SITE,
        deviceId: 'gc-1',
        deviceClass: 'gas-combustible',
        areaId: 'tank-farm',
        category: 'process',
        priority: 1,
        level: 'L2',
        active: true,
        latched: true,
        metric: 'lel',
        value: 62,
        threshold: 50,
        message: 'Combustible gas 62 %LEL ≥ L2 set-point 50 %LEL',
        at: 1234,
        detectedAt: DETECTED_AT,
      },
    ]);
  });

  it('still emits the clear of a latched rule: the alarm lifecycle holds the latch', () => {
    const rule = lelRule({ latched: true });
    const signals = runAll(THRESHOLD_INACTIVE, series([30, 10]), (s, r) =>
      reduceThreshold(s, r, rule, context),
    );
    expect(signals.map(signal => [signal.active, signal.latched])).toEqual([
      [true, true],
      [false, true],
    ]);
  });
});

describe('threshold messages', () => {
  it('says which level was crossed, in plain English with units', () => {
    expect(raisedMessage(lelRule({ setpoint: 50, level: 'L2' }), 62)).toBe(
      'Combustible gas 62 %LEL ≥ L2 set-point 50 %LEL',
    );
    expect(clearedMessage(lelRule(), 19.5)).toBe(
      'Combustible gas 19.5 %LEL back below 20 %LEL (L1 set-point 25 %LEL − deadband 5 %LEL)',
    );
    const o2 = lelRule({
      label: 'Oxygen',
      unit: '%VOL',
      direction: 'low',
      setpoint: 19.5,
      deadband: 0.5,
      level: 'low',
    });
    expect(raisedMessage(o2, 18.25)).toBe('Oxygen 18.25 %VOL ≤ low set-point 19.5 %VOL');
    expect(clearedMessage(o2, 20.1)).toBe(
      'Oxygen 20.1 %VOL back above 20 %VOL (low set-point 19.5 %VOL + deadband 0.5 %VOL)',
    );
  });

  it('rounds converted set-points and falls back to the metric name without a label', () => {
    const h2s = lelRule({ label: 'H2S', unit: 'ppm', setpoint: 7.054054, deadband: 0 });
    expect(raisedMessage(h2s, 8)).toBe('H2S 8 ppm ≥ L1 set-point 7.054 ppm');
    expect(clearedMessage(h2s, 1)).toBe('H2S 1 ppm back below L1 set-point 7.054 ppm');
    const { label: _label, unit: _unit, ...bare } = lelRule();
    expect(raisedMessage(bare, 4916.3)).toBe('lel 4916 ≥ L1 set-point 25');
  });
});

describe(`${reduceSingleRule.name} (threshold rule)`, () => {
  const rule = lelRule();

  function run(readings: readonly Reading[]): {
    signals: RuleSignal[];
    state: SingleRuleState;
  } {
    const state = createSingleRuleState(rule, context);
    const signals = runAll(state, readings, reduceSingleRule);
    return { signals, state };
  }

  it('ignores and counts readings older than the newest one of the device', () => {
    const { signals, state } = run([lel('d1', 100, 10), lel('d1', 50, 90), lel('d1', 100, 30)]);
    expect(signals.map(signal => signal.at)).toEqual([100]);
    expect(state.engine.devices.get(SITE)?.get('d1')).toMatchObject({ lastTs: 100, outOfOrder: 1 });
  });

  it('keeps each device apart', () => {
    const { signals, state } = run([lel('d1', 100, 30), lel('d2', 10, 30), lel('d1', 110, 10)]);
    expect(signals.map(signal => [signal.deviceId, signal.active])).toEqual([
      ['d1', true],
      ['d2', true],
      ['d1', false],
    ]);
    expect(state.engine.devices.get(SITE)?.get('d2')).toMatchObject({ lastTs: 10, outOfOrder: 0 });
  });
});
