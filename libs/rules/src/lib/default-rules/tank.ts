import { DEVICE_CLASS_DEFINITIONS } from '@vigil/contracts';

import { processRules } from '../process-setpoints';
import {
  type FamilyRules,
  type Measured,
  classRangeRule,
  clockSkewRule,
  faultRule,
  rangeRule,
  stuckRule,
  trendRule,
} from './common';
import {
  OUT_OF_RANGE_FRACTION,
  SLOW_TREND_HORIZON_MS,
  SLOW_TREND_MIN_SAMPLES,
  SLOW_TREND_WINDOW_MS,
} from './every-class';

// ---- Tanks (domain-standards §9.4) ----

/** Level stuck: Δ < 0.1 % of span for ≥ 24 h on storage tanks → P4 (§9.4 stuck value, P). */
export const LEVEL_STUCK_DELTA_PCT = 0.1;
/** Level trend toward HH (overfill): 10 min window, 30 min horizon, ≥ 1 % fitted change (P). */
export const LEVEL_TREND_MIN_RISE_PCT = 1;

/** Major-hazard storage tanks: level, temperature, pressure, flow, and the process set-points. */
export const tankRules: FamilyRules = (device, rules, errors) => {
  const attributes = device.attributes;
  rules.push(faultRule(false), clockSkewRule());
  for (const metric of ['level_pct', 'temp_c', 'pressure_kpa', 'flow_m3h']) {
    const measured = tankMeasured(metric);
    rules.push(
      metric === 'level_pct'
        ? rangeRule(
            measured,
            -OUT_OF_RANGE_FRACTION * 100,
            100 + OUT_OF_RANGE_FRACTION * 100,
            'range-level',
          )
        : classRangeRule(device, measured, errors),
    );
  }
  rules.push(stuckRule(tankMeasured('level_pct'), LEVEL_STUCK_DELTA_PCT, true, 'stuck-level'));
  const process = processRules(attributes);
  errors.push(...process.errors);
  rules.push(...process.rules);
  const hh = process.rules.find(rule => rule.ruleId === 'level-hh');
  if (hh) {
    rules.push(
      trendRule('level-trend', tankMeasured('level_pct'), 'high', hh.setpoint, {
        minDelta: LEVEL_TREND_MIN_RISE_PCT,
        windowMs: SLOW_TREND_WINDOW_MS,
        horizonMs: SLOW_TREND_HORIZON_MS,
        minSamples: SLOW_TREND_MIN_SAMPLES,
      }),
    );
  }
};

function tankMeasured(metric: string): Measured {
  const unit = DEVICE_CLASS_DEFINITIONS['mhs-tank'].metrics[metric]?.unit ?? '';
  const label =
    { level_pct: 'Level', temp_c: 'Temperature', pressure_kpa: 'Pressure', flow_m3h: 'Flow' }[
      metric
    ] ?? metric;
  return { metric, label, unit };
}
