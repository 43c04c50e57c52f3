import type { DeviceClass } from '@vigil/contracts';

import type { EventRuleConfig, RuleConfig, ThresholdRuleConfig } from '../rule-config';
import {
  type FamilyRules,
  type Measured,
  type RuleDevice,
  classRangeRule,
  clockSkewRule,
  eventRule,
  faultRule,
  rateRule,
  round,
  trendRule,
} from './common';
import { SLOW_TREND_HORIZON_MS, SLOW_TREND_MIN_SAMPLES, SLOW_TREND_WINDOW_MS } from './every-class';

// ---- Electrical fire (domain-standards §2, §9.3) ----

/** Residual-current alarm 300 mA (GB 50116-2013 §9.2.3: 300–500 mA, V). */
export const RESIDUAL_CURRENT_ALARM_MA = 300;
/** Pre-alarm at 0.7 × the alarm set-point → P3 warning (§9.3, P). */
export const PRE_ALARM_FACTOR = 0.7;
/** Electrical-fire deadband: 10 % of the set-point (P). */
export const ELECTRICAL_DEADBAND_FRACTION = 0.1;
/** Pre-alarms clear after 60 s back inside (P): natural leakage wanders by tens of mA. */
export const ELECTRICAL_PRE_ALARM_OFF_DELAY_MS = 60_000;
/** Cable temperature alarm = 0.8 × the conductor's rated temperature (§9.3, U: 70–80 % rule). */
export const CABLE_TEMP_ALARM_FACTOR = 0.8;
/**
 * Without `ratedTempC` the alarm is at 70 °C. Proposal: no standard sets a default; ≈ 0.8 × the
 * 90 °C rating of XLPE cable (the 70–80 % rule, §9.3, U). Give `ratedTempC` per circuit.
 */
export const CABLE_TEMP_ALARM_DEFAULT_C = 70;
/** Temperature pre-alarm = 0.7 × the rated temperature → P3 (§9.3, U/P). */
export const CABLE_TEMP_PRE_ALARM_FACTOR = 0.7;
/** GB 14287.3 detector alarm-setting range 55–140 °C (§2, U): the set-point must lie in it. */
export const CABLE_TEMP_SETTING_RANGE_C: readonly [number, number] = [55, 140];
/** GB 14287.2 detector alarm-setting range 20–1000 mA (§2, U). */
export const RESIDUAL_CURRENT_SETTING_RANGE_MA: readonly [number, number] = [20, 1000];
/**
 * Arc fault: ≥ 14 arc half-cycles within 1 s → alarm; < 9 → no alarm (GB 31252-2014 §4.3.1 /
 * §4.3.4, V; GB 14287.4, U). The `arc` metric is the half-cycle count of the last second, so the
 * rule raises at 14 and clears below 9; 9–13 neither raises nor clears.
 */
export const ARC_ALARM_HALF_CYCLES = 14;
export const ARC_NO_ALARM_BELOW_HALF_CYCLES = 9;
/** Step change Δ ≥ 100 mA within 60 s → P3 (§9.3, P). */
export const RESIDUAL_CURRENT_STEP_MA = 100;
/** Temperature rise ≥ 8 °C per minute → P2 (§9.3, P). */
export const CABLE_TEMP_RISE_C = 8;
export const RESIDUAL_CURRENT_TREND_MIN_RISE_MA = 20;
export const CABLE_TEMP_TREND_MIN_RISE_C = 2;
/** Electrical-fire monitors: offline after 3 × interval, capped at 15 min (§9.3 offline, P). */
export const ELECTRICAL_OFFLINE_MAX_TIMEOUT_MS = 900_000;

/** Electrical-fire monitors: residual current, cable temperature, arc faults. */
export const electricalFireFamilyRules: FamilyRules = (device, rules, errors) => {
  errors.push(...electricalFireRules(device, rules));
};

/**
 * Checks that need the merged rules (defaults and overrides together), per class: electrical-fire
 * alarm set-points must lie in the detectors' setting ranges (GB 14287.2 / .3, U).
 */
export function validateClassRules(
  deviceClass: DeviceClass,
  rules: readonly RuleConfig[],
): readonly string[] {
  if (deviceClass !== 'electrical-fire') return [];
  const errors: string[] = [];
  const check = (
    ruleId: string,
    [low, high]: readonly [number, number],
    unit: string,
    standard: string,
  ) => {
    const rule = rules.find(each => each.ruleId === ruleId);
    if (rule?.kind !== 'threshold' || !rule.enabled) return;
    if (rule.setpoint < low || rule.setpoint > high) {
      errors.push(
        `rules.${ruleId}.setpoint: ${round(rule.setpoint)} ${unit} is outside the ${low}–${high} ${unit} ` +
          `alarm-setting range of ${standard} detectors`,
      );
    }
  };
  check('temp-alarm', CABLE_TEMP_SETTING_RANGE_C, '°C', 'GB 14287.3');
  check('leak-alarm', RESIDUAL_CURRENT_SETTING_RANGE_MA, 'mA', 'GB 14287.2');
  return errors;
}

function electricalFireRules(device: RuleDevice, rules: RuleConfig[]): string[] {
  const errors: string[] = [];
  const rated = device.attributes['ratedTempC'];
  let tempAlarm = CABLE_TEMP_ALARM_DEFAULT_C;
  let tempPre = round(
    (CABLE_TEMP_ALARM_DEFAULT_C * CABLE_TEMP_PRE_ALARM_FACTOR) / CABLE_TEMP_ALARM_FACTOR,
  );
  if (rated !== undefined) {
    if (typeof rated === 'number' && Number.isFinite(rated) && rated > 0) {
      tempAlarm = round(rated * CABLE_TEMP_ALARM_FACTOR);
      tempPre = round(rated * CABLE_TEMP_PRE_ALARM_FACTOR);
    } else {
      errors.push(
        `attributes.ratedTempC: must be a positive number of °C (got ${JSON.stringify(rated)})`,
      );
    }
  }
  const leak = { metric: 'leak_ma', label: 'Residual current', unit: 'mA' };
  const temp = { metric: 'temp_c', label: 'Cable temperature', unit: '°C' };
  const arc = { metric: 'arc', label: 'Arc fault', unit: 'half-cycles/s' };
  const leakPre = round(RESIDUAL_CURRENT_ALARM_MA * PRE_ALARM_FACTOR);
  rules.push(
    // Sensor open/short, CT disconnected → FAULT (P3), never an alarm (GB 14287.5 §5.3.5, V).
    faultRule(false),
    ...electricalDeviceAlarmRules(),
    clockSkewRule(),
    classRangeRule(device, leak, errors),
    classRangeRule(device, temp, errors),
    classRangeRule(device, arc, errors),
    electricalRule('leak-pre', leak, leakPre, false),
    electricalRule('leak-alarm', leak, RESIDUAL_CURRENT_ALARM_MA, true),
    electricalRule('temp-pre', temp, tempPre, false),
    electricalRule('temp-alarm', temp, tempAlarm, true),
    {
      ...electricalRule('arc', arc, ARC_ALARM_HALF_CYCLES, true),
      deadband: ARC_ALARM_HALF_CYCLES - ARC_NO_ALARM_BELOW_HALF_CYCLES,
      offDelayMs: 0,
    },
    rateRule('leak-step', leak, 'rise', RESIDUAL_CURRENT_STEP_MA, 3),
    rateRule('temp-rate', temp, 'rise', CABLE_TEMP_RISE_C, 2),
    trendRule('leak-trend', leak, 'high', RESIDUAL_CURRENT_ALARM_MA, {
      minDelta: RESIDUAL_CURRENT_TREND_MIN_RISE_MA,
      windowMs: SLOW_TREND_WINDOW_MS,
      horizonMs: SLOW_TREND_HORIZON_MS,
      minSamples: SLOW_TREND_MIN_SAMPLES,
    }),
    trendRule('temp-trend', temp, 'high', tempAlarm, {
      minDelta: CABLE_TEMP_TREND_MIN_RISE_C,
      windowMs: SLOW_TREND_WINDOW_MS,
      horizonMs: SLOW_TREND_HORIZON_MS,
      minSamples: SLOW_TREND_MIN_SAMPLES,
    }),
  );
  return errors;
}

/**
 * Electrical-fire alarm (P2 process, latched: GB 31252, GB 14287.5, V) or pre-alarm (P3 warning,
 * not latched, §9.3 P). Deadband 10 % of the set-point; no on-delay (the detector already
 * integrates: alarm within 30 s at the set value, GB 14287.2, U).
 */
function electricalRule(
  ruleId: string,
  { metric, label, unit }: Measured,
  setpoint: number,
  alarm: boolean,
): ThresholdRuleConfig {
  return {
    ruleId,
    kind: 'threshold',
    metric,
    direction: 'high',
    setpoint,
    deadband: round(setpoint * ELECTRICAL_DEADBAND_FRACTION),
    onDelayMs: 0,
    offDelayMs: alarm ? 0 : ELECTRICAL_PRE_ALARM_OFF_DELAY_MS,
    latched: alarm,
    priority: alarm ? 2 : 3,
    category: alarm ? 'process' : 'warning',
    level: alarm ? 'alarm' : 'pre-alarm',
    enabled: true,
    label,
    unit,
  };
}

// ---- Device-side alarms (domain-standards §2, §9.3) ----

/**
 * An electrical-fire monitor's own alarm (`alarm` event, `detail.level` pre-alarm / alarm, per
 * `detail.channel`): alarm → P2, pre-alarm → P3 (§9.3); missing/unknown level → alarm (P).
 * Latched: electrical-fire alarms are held until manual reset (GB 14287.5, GB 31252, V).
 */
export const ELECTRICAL_DEVICE_ALARM_LEVELS = { 'pre-alarm': 3, alarm: 2 } as const;

function electricalDeviceAlarmRules(): EventRuleConfig[] {
  return [
    {
      ...eventRule(
        'device-alarm',
        'alarm',
        'hold',
        2,
        'process',
        true,
        'Electrical-fire alarm reported by the monitor',
      ),
      level: 'alarm',
      levels: { ...ELECTRICAL_DEVICE_ALARM_LEVELS },
    },
    // The arc-fault detector's own decision (GB 14287.4, U; ≥ 14 half-cycles in 1 s, GB 31252
    // §4.3.1, V) as an event: raised at once, not found by sampling `arc` every 30 s. P2, latched
    // until reset (domain-standards §9.3 arc fault row), per channel.
    eventRule('arc-fault', 'arc_fault', 'hold', 2, 'process', true, 'Arc fault (故障电弧)'),
  ];
}
