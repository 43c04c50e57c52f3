import { DEVICE_CLASS_DEFINITIONS, type AlarmPriority, type DeviceClass } from '@vigil/contracts';

import { processRules } from './process-setpoints';
import type {
  EventRuleConfig,
  OfflineRuleConfig,
  RangeRuleConfig,
  RateRuleConfig,
  RuleConfig,
  SkewRuleConfig,
  StuckRuleConfig,
  ThresholdRuleConfig,
  TrendRuleConfig,
} from './rule-config';
import { TOXIC_GASES, findToxicGas, mgPerM3ToPpm } from './toxic-gases';

/** What the defaults depend on: a registry device has these fields (and more). */
export interface RuleDevice {
  readonly deviceClass: DeviceClass;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly intervalSeconds: number;
}

export interface DefaultRules {
  readonly rules: readonly RuleConfig[];
  readonly errors: readonly string[];
}

// ---- Gas detectors (domain-standards §1, §9.1, §9.2) ----

/** GB/T 50493-2019 §5.5.2-1: first-level combustible alarm at most 25 %LEL. */
export const COMBUSTIBLE_L1_LEL = 25;
/** GB/T 50493-2019 §5.5.2-2: second-level combustible alarm at most 50 %LEL. */
export const COMBUSTIBLE_L2_LEL = 50;
/** Clear below set-point − 5 %LEL (domain-standards §9.1 "Clear (deadband)", proposal P). */
export const COMBUSTIBLE_DEADBAND_LEL = 5;
/**
 * Over-range: a reading at or above 100 %LEL is treated as level 2 and latched, because catalytic
 * sensors can read low at very high concentrations (domain-standards §9.1 over-range, P).
 */
export const COMBUSTIBLE_OVER_RANGE_LEL = 100;
/** GB/T 50493-2019 §5.5.2-3: toxic L1 ≤ 100 % OEL, L2 ≤ 200 % OEL. */
export const TOXIC_L1_OEL_FACTOR = 1;
export const TOXIC_L2_OEL_FACTOR = 2;
/** Toxic deadband: 10 % of the L1 set-point (proposal P, mirrors the 5/25 %LEL combustible ratio). */
export const TOXIC_DEADBAND_FRACTION_OF_L1 = 0.1;
/** Toxic measuring range 0–300 % OEL when the device gives none (domain-standards §1.1, U). */
export const TOXIC_RANGE_OEL_FACTOR = 3;
/** GB/T 50493-2019 §5.5.2-4: under-oxygen 19.5 %VOL, over-oxygen 23.5 %VOL. */
export const OXYGEN_LOW_VOL = 19.5;
export const OXYGEN_HIGH_VOL = 23.5;
/** Oxygen deadband 0.5 %VOL (proposal P). */
export const OXYGEN_DEADBAND_VOL = 0.5;
/**
 * On-delay 0 for every gas alarm: the console must show it within a second, and the 30 s detector
 * response plus ≤ 10 s transport already use the budget (domain-standards §9.1 on-delay, P).
 */
export const GAS_ON_DELAY_MS = 0;
/** Level 1 (and oxygen) clear only after 30 s inside the band (domain-standards §9.1 clear, P). */
export const GAS_L1_OFF_DELAY_MS = 30_000;
/** Level 2 is latched, so the operator reset is the real clear; no off-delay (§9.1, P). */
export const GAS_L2_OFF_DELAY_MS = 0;
/** Rate of rise: ≥ 10 %LEL within 60 s while below level 1 → P3 pre-alarm (§9.1, P). */
export const COMBUSTIBLE_RISE_LEL = 10;
/** Oxygen rate of fall: ≥ 0.5 %VOL within 60 s → P2 (asphyxiant leak; §9.2 oxygen, P). */
export const OXYGEN_FALL_VOL = 0.5;
/** Window of every rate-of-change default: "within 60 s" / "per minute" (§9.1, §9.2, §9.3, P). */
export const RATE_WINDOW_MS = 60_000;
/** A rate warning clears once the change over the window is under half its delta (P). */
export const RATE_CLEAR_FRACTION = 0.5;
/** Stuck value: Δ < 0.1 %LEL for ≥ 24 h, non-zero only → P4 (§9.1 stuck value, P). */
export const COMBUSTIBLE_STUCK_DELTA_LEL = 0.1;
export const STUCK_DURATION_MS = 86_400_000;
/** Toxic stuck threshold: Δ < 1 % of the measuring range (§9.2 offline/stuck row, P). */
export const TOXIC_STUCK_FRACTION_OF_RANGE = 0.01;
/** Below zero by more than 5 % of the span for 60 s → FAULT, zero drift (§9.1 under-range, P). */
export const GAS_UNDER_RANGE_FRACTION = 0.05;
/** Out of range: < −2 % or > 102 % of span for ≥ 60 s → FAULT (§9.4 out of range, P). */
export const OUT_OF_RANGE_FRACTION = 0.02;
export const RANGE_ON_DELAY_MS = 60_000;

/**
 * Gas trend forecast (the 预警; no standard states it, all P): a least-squares line
 * through the last 2 min; warn (P3) when it reaches L1 within 5 min and has risen at least 2 %LEL
 * (toxic: 10 % of L1) over the window; clear when L1 is no longer predicted within 10 min.
 */
export const GAS_TREND_WINDOW_MS = 120_000;
export const GAS_TREND_HORIZON_MS = 300_000;
export const GAS_TREND_MIN_SAMPLES = 5;
export const COMBUSTIBLE_TREND_MIN_RISE_LEL = 2;
export const TOXIC_TREND_MIN_RISE_FRACTION_OF_L1 = 0.1;

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
/**
 * Electrical trend forecast (P): insulation and joints degrade over minutes to hours, so a 10 min
 * window and a 30 min horizon; at least 20 mA / 2 °C of fitted change over the window.
 */
export const SLOW_TREND_WINDOW_MS = 600_000;
export const SLOW_TREND_HORIZON_MS = 1_800_000;
export const SLOW_TREND_MIN_SAMPLES = 5;
export const RESIDUAL_CURRENT_TREND_MIN_RISE_MA = 20;
export const CABLE_TEMP_TREND_MIN_RISE_C = 2;
/** Electrical-fire monitors: offline after 3 × interval, capped at 15 min (§9.3 offline, P). */
export const ELECTRICAL_OFFLINE_MAX_TIMEOUT_MS = 900_000;

// ---- Tanks (domain-standards §9.4) ----

/** Level stuck: Δ < 0.1 % of span for ≥ 24 h on storage tanks → P4 (§9.4 stuck value, P). */
export const LEVEL_STUCK_DELTA_PCT = 0.1;
/** Level trend toward HH (overfill): 10 min window, 30 min horizon, ≥ 1 % fitted change (P). */
export const LEVEL_TREND_MIN_RISE_PCT = 1;

// ---- Every class (domain-standards §9.8) ----

/** Offline after max(3 × interval, 30 s) of silence (domain-standards §9.1 / §9.8 offline row, P). */
export const OFFLINE_INTERVALS = 3;
export const OFFLINE_MIN_TIMEOUT_MS = 30_000;
/** Gas controllers must report a lost detector within 100 s (GB 16808, domain-standards §1.5, S). */
export const GAS_OFFLINE_MAX_TIMEOUT_MS = 100_000;
/** Clock skew: |skew| > 60 s → P4 (§9.8 clock-skew row, P); clears within 30 s (proposal: half the limit). */
export const CLOCK_SKEW_MAX_MS = 60_000;
export const CLOCK_SKEW_CLEAR_MS = 30_000;
/** …held for 60 s of receive time, so a buffered batch delivered at once never raises it (P). */
export const CLOCK_SKEW_ON_DELAY_MS = 60_000;

const GAS_CLASSES: ReadonlySet<DeviceClass> = new Set([
  'gas-combustible',
  'gas-toxic',
  'gas-oxygen',
]);

/**
 * The default rule set of a device (domain-standards §9 catalogue; README "Rule catalogue").
 * Order is evaluation order: `offline` (is the device alive), then device faults and data quality
 * (can the value be trusted), then the process alarms from the lowest level up (so one reading
 * past both levels emits L1 before L2), then warnings (pre-alarms, rates, trends). Returns errors
 * instead of throwing, e.g. for a toxic detector whose gas has no known limit.
 */
export function defaultRules(device: RuleDevice): DefaultRules {
  const rules: RuleConfig[] = [offlineRule(device)];
  const errors: string[] = [];
  const gas = GAS_CLASSES.has(device.deviceClass);
  const attributes = device.attributes;

  switch (device.deviceClass) {
    case 'gas-combustible': {
      const measured = { metric: 'lel', label: 'Combustible gas', unit: '%LEL' };
      // 0–100 %LEL unless the profile says otherwise (domain-standards §1.1 measuring range, U).
      const span = measuringSpan(device, 'lel', errors, [0, 100]);
      rules.push(
        faultRule(gas),
        gasDeviceAlarmRule(),
        clockSkewRule(),
        // Over-range is not a data-quality fault for combustibles: it is the process alarm below.
        rangeRule(measured, span.low - GAS_UNDER_RANGE_FRACTION * span.size, undefined),
        stuckRule(measured, COMBUSTIBLE_STUCK_DELTA_LEL, true),
        gasRule(1, measured, COMBUSTIBLE_L1_LEL, COMBUSTIBLE_DEADBAND_LEL),
        gasRule(2, measured, COMBUSTIBLE_L2_LEL, COMBUSTIBLE_DEADBAND_LEL),
        overRangeRule(measured),
        rateRule('gas-rate', measured, 'rise', COMBUSTIBLE_RISE_LEL, 3, {
          below: COMBUSTIBLE_L1_LEL,
        }),
        trendRule('gas-trend', measured, 'high', COMBUSTIBLE_L1_LEL, {
          minDelta: COMBUSTIBLE_TREND_MIN_RISE_LEL,
          windowMs: GAS_TREND_WINDOW_MS,
          horizonMs: GAS_TREND_HORIZON_MS,
          minSamples: GAS_TREND_MIN_SAMPLES,
        }),
      );
      break;
    }
    case 'gas-toxic': {
      const attribute = attributes['gas'];
      const toxic = typeof attribute === 'string' ? findToxicGas(attribute) : undefined;
      rules.push(faultRule(gas), gasDeviceAlarmRule(), clockSkewRule());
      if (!toxic) {
        const known = TOXIC_GASES.map(entry => entry.formula).join(', ');
        errors.push(
          attribute === undefined
            ? `attributes.gas: a gas-toxic detector must name its gas (one of ${known})`
            : `attributes.gas: no exposure limit is known for gas "${String(attribute)}" ` +
                `(known: ${known}); give rules.gas-l1 and rules.gas-l2 in full instead`,
        );
        break;
      }
      const l1 = mgPerM3ToPpm(toxic.oelMgPerM3 * TOXIC_L1_OEL_FACTOR, toxic.molarMass);
      const l2 = mgPerM3ToPpm(toxic.oelMgPerM3 * TOXIC_L2_OEL_FACTOR, toxic.molarMass);
      const deadband = l1 * TOXIC_DEADBAND_FRACTION_OF_L1;
      const measured = { metric: 'ppm', label: toxic.formula, unit: 'ppm' };
      const span = measuringSpan(device, 'ppm', errors, [0, TOXIC_RANGE_OEL_FACTOR * l1]);
      rules.push(
        rangeRule(
          measured,
          span.low - GAS_UNDER_RANGE_FRACTION * span.size,
          span.given ? span.high + OUT_OF_RANGE_FRACTION * span.size : span.classHigh,
        ),
        stuckRule(measured, round(TOXIC_STUCK_FRACTION_OF_RANGE * span.size), true),
        gasRule(1, measured, l1, deadband),
        gasRule(2, measured, l2, deadband),
        trendRule('gas-trend', measured, 'high', l1, {
          minDelta: round(l1 * TOXIC_TREND_MIN_RISE_FRACTION_OF_L1),
          windowMs: GAS_TREND_WINDOW_MS,
          horizonMs: GAS_TREND_HORIZON_MS,
          minSamples: GAS_TREND_MIN_SAMPLES,
        }),
      );
      break;
    }
    case 'gas-oxygen': {
      const measured = { metric: 'o2', label: 'Oxygen', unit: '%VOL' };
      rules.push(
        faultRule(gas),
        gasDeviceAlarmRule(),
        clockSkewRule(),
        classRangeRule(device, measured, errors),
        // Clean air reads a constant 20.9 %VOL on many detectors: off unless a profile enables it.
        { ...stuckRule(measured, 0.1, false), enabled: false },
        oxygenRule('o2-low', 'low', OXYGEN_LOW_VOL),
        oxygenRule('o2-high', 'high', OXYGEN_HIGH_VOL),
        rateRule('o2-rate', measured, 'fall', OXYGEN_FALL_VOL, 2),
      );
      break;
    }
    case 'electrical-fire':
      errors.push(...electricalFireRules(device, rules));
      break;
    case 'mhs-tank': {
      rules.push(faultRule(gas), clockSkewRule());
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
      break;
    }
    case 'fire-panel':
      rules.push(...firePanelRules());
      break;
    case 'call-point':
      rules.push(
        eventRule(
          'call-point',
          'alarm',
          'pulse',
          1,
          'process',
          true,
          'Manual call point activated',
        ),
      );
      break;
    case 'tag':
      rules.push(
        clockSkewRule(),
        // SOS: immediate P1, latched until acknowledged and closed (domain-standards §9.7, P).
        eventRule('sos', 'sos', 'pulse', 1, 'process', true, 'SOS from personnel tag'),
      );
      break;
  }
  return { rules, errors };
}

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

/** Offline timeout: max(3 × interval, 30 s), capped at 100 s for gas and 15 min for electrical. */
export function offlineTimeoutMs(
  device: Pick<RuleDevice, 'deviceClass' | 'intervalSeconds'>,
): number {
  const timeout = Math.max(
    Math.ceil(OFFLINE_INTERVALS * device.intervalSeconds * 1000),
    OFFLINE_MIN_TIMEOUT_MS,
  );
  if (GAS_CLASSES.has(device.deviceClass)) return Math.min(timeout, GAS_OFFLINE_MAX_TIMEOUT_MS);
  if (device.deviceClass === 'electrical-fire') {
    return Math.min(timeout, ELECTRICAL_OFFLINE_MAX_TIMEOUT_MS);
  }
  return timeout;
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

function offlineRule(device: RuleDevice): OfflineRuleConfig {
  return {
    ruleId: 'offline',
    kind: 'offline',
    timeoutMs: offlineTimeoutMs(device),
    // A silent gas detector leaves its area unmonitored: "loss of gas protection", P2
    // (domain-standards §9 priorities, §9.1 offline row); other classes P3 (non-critical fault).
    priority: GAS_CLASSES.has(device.deviceClass) ? 2 : 3,
    category: 'quality',
    enabled: true,
  };
}

interface Measured {
  readonly metric: string;
  readonly label: string;
  readonly unit: string;
}

function gasRule(
  level: 1 | 2,
  { metric, label, unit }: Measured,
  setpoint: number,
  deadband: number,
): ThresholdRuleConfig {
  return {
    ruleId: `gas-l${level}`,
    kind: 'threshold',
    metric,
    direction: 'high',
    setpoint,
    deadband,
    onDelayMs: GAS_ON_DELAY_MS,
    offDelayMs: level === 1 ? GAS_L1_OFF_DELAY_MS : GAS_L2_OFF_DELAY_MS,
    // Level 2 latched until manual reset (domain-standards §9.1 / §9.2, latch is proposal P).
    latched: level === 2,
    // P1 = gas/toxic level 2, P2 = level 1 (domain-standards §9 priorities).
    priority: level === 2 ? 1 : 2,
    category: 'process',
    level: `L${level}`,
    enabled: true,
    label,
    unit,
  };
}

/** ≥ 100 %LEL: treated as level 2 (P1) and latched (domain-standards §9.1 over-range, P). */
function overRangeRule({ metric, label, unit }: Measured): ThresholdRuleConfig {
  return {
    ruleId: 'gas-over-range',
    kind: 'threshold',
    metric,
    direction: 'high',
    setpoint: COMBUSTIBLE_OVER_RANGE_LEL,
    deadband: COMBUSTIBLE_DEADBAND_LEL,
    onDelayMs: 0,
    offDelayMs: 0,
    latched: true,
    priority: 1,
    category: 'process',
    level: 'over-range',
    enabled: true,
    label: `${label} over range (treated as L2)`,
    unit,
  };
}

function oxygenRule(
  ruleId: string,
  direction: 'low' | 'high',
  setpoint: number,
): ThresholdRuleConfig {
  return {
    ruleId,
    kind: 'threshold',
    metric: 'o2',
    direction,
    setpoint,
    deadband: OXYGEN_DEADBAND_VOL,
    onDelayMs: GAS_ON_DELAY_MS,
    offDelayMs: GAS_L1_OFF_DELAY_MS,
    latched: false,
    // Oxygen deficiency or enrichment is a P2 process alarm (brief; domain-standards §9.2 oxygen).
    priority: 2,
    category: 'process',
    level: direction,
    enabled: true,
    label: 'Oxygen',
    unit: '%VOL',
  };
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

/** Sensor fault flag → FAULT at once (GB 15322.1 separate fault state, V; §9.1); P2 for gas. */
function faultRule(gas: boolean): EventRuleConfig {
  return eventRule(
    'fault',
    'fault',
    'hold',
    gas ? 2 : 3,
    'quality',
    false,
    gas ? 'Detector fault reported: loss of gas protection' : 'Device fault reported',
    ['reset'],
  );
}

function eventRule(
  ruleId: string,
  code: string,
  mode: EventRuleConfig['mode'],
  priority: AlarmPriority,
  category: EventRuleConfig['category'],
  latched: boolean,
  label: string,
  clearCodes: readonly string[] = ['reset'],
): EventRuleConfig {
  return {
    ruleId,
    kind: 'event',
    code,
    mode,
    clearCodes: mode === 'pulse' ? [] : [...clearCodes],
    priority,
    category,
    latched,
    level: ruleId,
    enabled: true,
    label,
  };
}

// ---- Device-side alarms (domain-standards §1.5, §2, §6, §9.1, §9.3, §9.6) ----

/**
 * A gas detector's or gas controller's own alarm (`alarm` event, `detail.level`): the controller
 * decides the two levels itself (GB 16808 controller, levels per GB/T 50493-2019 §5.5.2, V), so
 * its decision is an alarm of its own, raised at once, keyed per `detail.channel`: L2 → P1,
 * L1 → P2 (domain-standards §9 priorities), oxygen low/high → P2. A missing or unknown level is
 * taken as L2 (fail-safe, P). Held until the device clears it (`cleared: true`) or is reset: the
 * controller latches L2 itself (GB 16808 §5.3.3.6–7 manual reset, S).
 */
export const GAS_DEVICE_ALARM_LEVELS = { L1: 2, L2: 1, low: 2, high: 2 } as const;

/**
 * An electrical-fire monitor's own alarm (`alarm` event, `detail.level` pre-alarm / alarm, per
 * `detail.channel`): alarm → P2, pre-alarm → P3 (§9.3); missing/unknown level → alarm (P).
 * Latched: electrical-fire alarms are held until manual reset (GB 14287.5, GB 31252, V).
 */
export const ELECTRICAL_DEVICE_ALARM_LEVELS = { 'pre-alarm': 3, alarm: 2 } as const;

function gasDeviceAlarmRule(): EventRuleConfig {
  return {
    ...eventRule(
      'device-alarm',
      'alarm',
      'hold',
      1,
      'process',
      false,
      'Gas alarm reported by the device',
    ),
    level: 'L2',
    levels: { ...GAS_DEVICE_ALARM_LEVELS },
  };
}

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

/**
 * GB 26875 / GB 4717 fire panels (domain-standards §6, §9.6). Every signal is keyed per point
 * (`detail.loop` / `detail.point`) or zone, located at the point's area from the registry. A panel
 * `reset` (复位) clears what the panel's reset clears: fires, faults, supervisory signals, linkage
 * starts and feedback. It does not clear isolations (屏蔽, released only by the panel), power
 * faults (present until the panel reports them restored) or manual mode (until `auto_mode`):
 * clearing those on a reset would hide a condition that is still there.
 */
export function firePanelRules(): EventRuleConfig[] {
  return [
    // Fire first (GB 26875.1 §4.1.2.3: fire alarms have priority). One P1 per point: every
    // concurrent fire is its own alarm; a zone with a confirmation window also raises a
    // confirmed fire when two of its points report (GB 50116 AND logic, S; window P).
    {
      ...eventRule(
        'fire',
        'fire',
        'hold',
        1,
        'process',
        true,
        'Unconfirmed fire (GB 25201 §5.3: confirm or reject)',
      ),
      confirmZones: true,
    },
    eventRule('fault', 'fault', 'hold', 3, 'quality', false, 'Fire panel fault'),
    eventRule(
      'supervisory',
      'supervisory',
      'hold',
      3,
      'process',
      false,
      'Supervisory signal (监管)',
    ),
    // An isolated (disabled) point detects nothing and the panel shows it only as a yellow lamp:
    // hidden loss of protection the operator must see (GB 4717 屏蔽 lamp, S). P2 (P), not
    // cleared by reset.
    eventRule(
      'isolation',
      'isolation',
      'hold',
      2,
      'quality',
      false,
      'Point isolated (屏蔽): no fire detection there',
      [],
    ),
    // Linkage start (启动) and feedback (反馈) are states the operator follows, not alarms to
    // respond to (domain-standards §8): P4 warnings, so they are on the console with the fire.
    eventRule('start', 'start', 'hold', 4, 'warning', false, 'Linkage started (启动)'),
    eventRule('feedback', 'feedback', 'hold', 4, 'warning', false, 'Linkage feedback (反馈)'),
    // Mains failure leaves the panel on its battery: detection ends when it runs down, so P2
    // (§9.6 fault row: P2 when it disables detection, P). Backup (battery) fault alone: P3.
    eventRule(
      'mains-fault',
      'mains_fault',
      'hold',
      2,
      'quality',
      false,
      'Fire panel mains power fault (主电故障)',
      [],
    ),
    eventRule(
      'backup-fault',
      'backup_fault',
      'hold',
      3,
      'quality',
      false,
      'Fire panel backup power fault (备电故障)',
      [],
    ),
    // Manual mode: linkage will not start by itself (GB 25201 §5.3 step 3 switches to AUTO on a
    // confirmed fire, V): a standing P3 warning until the panel reports auto.
    eventRule(
      'manual-mode',
      'manual_mode',
      'hold',
      3,
      'warning',
      false,
      'Fire panel in manual mode (手动): no automatic linkage',
      ['auto_mode'],
    ),
  ];
}

function clockSkewRule(): SkewRuleConfig {
  return {
    ruleId: 'clock-skew',
    kind: 'skew',
    maxSkewMs: CLOCK_SKEW_MAX_MS,
    clearSkewMs: CLOCK_SKEW_CLEAR_MS,
    onDelayMs: CLOCK_SKEW_ON_DELAY_MS,
    priority: 4,
    category: 'quality',
    level: 'clock',
    latched: false,
    enabled: true,
    label: 'Device clock',
  };
}

function rangeRule(
  { metric, label, unit }: Measured,
  low: number | undefined,
  high: number | undefined,
  ruleId = `range-${metric}`,
): RangeRuleConfig {
  return {
    ruleId,
    kind: 'range',
    metric,
    ...(low === undefined ? {} : { low: round(low) }),
    ...(high === undefined ? {} : { high: round(high) }),
    onDelayMs: RANGE_ON_DELAY_MS,
    offDelayMs: 0,
    // Sensor out of range is a non-critical fault (domain-standards §9 priorities, P3).
    priority: 3,
    category: 'quality',
    level: 'range',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

/** The measuring range: the device's (2 % tolerance, §9.4) or its class's (already tolerant). */
function classRangeRule(device: RuleDevice, measured: Measured, errors: string[]): RangeRuleConfig {
  const span = measuringSpan(device, measured.metric, errors);
  if (!span.given) return rangeRule(measured, span.classLow, span.classHigh);
  const margin = OUT_OF_RANGE_FRACTION * span.size;
  return rangeRule(measured, span.low - margin, span.high + margin);
}

function stuckRule(
  { metric, label, unit }: Measured,
  minDelta: number,
  skipZero: boolean,
  ruleId = 'stuck',
): StuckRuleConfig {
  return {
    ruleId,
    kind: 'stuck',
    metric,
    minDelta,
    durationMs: STUCK_DURATION_MS,
    skipZero,
    // Stuck value → P4 DIAGNOSTIC "长时间不变" (domain-standards §9.1 / §9.4).
    priority: 4,
    category: 'quality',
    level: 'stuck',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

function rateRule(
  ruleId: string,
  { metric, label, unit }: Measured,
  direction: RateRuleConfig['direction'],
  delta: number,
  priority: 2 | 3,
  guard: { readonly below?: number; readonly above?: number } = {},
): RateRuleConfig {
  return {
    ruleId,
    kind: 'rate',
    metric,
    direction,
    delta,
    deadband: round(delta * RATE_CLEAR_FRACTION),
    windowMs: RATE_WINDOW_MS,
    ...guard,
    priority,
    category: 'warning',
    level: direction === 'rise' ? 'rate-of-rise' : 'rate-of-fall',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

function trendRule(
  ruleId: string,
  { metric, label, unit }: Measured,
  direction: TrendRuleConfig['direction'],
  target: number,
  shape: Pick<TrendRuleConfig, 'minDelta' | 'windowMs' | 'horizonMs' | 'minSamples'>,
): TrendRuleConfig {
  return {
    ruleId,
    kind: 'trend',
    metric,
    direction,
    target: round(target),
    ...shape,
    clearHorizonMs: 2 * shape.horizonMs,
    // Trends are early warnings: category warning, P3 (domain-standards §9 priorities).
    priority: 3,
    category: 'warning',
    level: 'trend',
    latched: false,
    enabled: true,
    label,
    unit,
  };
}

function tankMeasured(metric: string): Measured {
  const unit = DEVICE_CLASS_DEFINITIONS['mhs-tank'].metrics[metric]?.unit ?? '';
  const label =
    { level_pct: 'Level', temp_c: 'Temperature', pressure_kpa: 'Pressure', flow_m3h: 'Flow' }[
      metric
    ] ?? metric;
  return { metric, label, unit };
}

interface MeasuringSpan {
  /** Whether the device gave its range (`rangeLow` / `rangeHigh` attributes). */
  readonly given: boolean;
  readonly low: number;
  readonly high: number;
  readonly size: number;
  readonly classLow: number | undefined;
  readonly classHigh: number | undefined;
}

/**
 * A device's measuring range for its main metric: the attributes `rangeLow` / `rangeHigh` (a
 * profile such as "0–100 %LEL"), else `fallback`, else 0 … the class range's top. Other metrics
 * of multi-metric classes use the class range (`DEVICE_CLASS_DEFINITIONS`).
 */
function measuringSpan(
  device: RuleDevice,
  metric: string,
  errors: string[],
  fallback?: readonly [number, number],
): MeasuringSpan {
  const classRange = DEVICE_CLASS_DEFINITIONS[device.deviceClass].metrics[metric]?.range;
  const mainMetric = Object.keys(DEVICE_CLASS_DEFINITIONS[device.deviceClass].metrics)[0];
  const rawLow = metric === mainMetric ? device.attributes['rangeLow'] : undefined;
  const rawHigh = metric === mainMetric ? device.attributes['rangeHigh'] : undefined;
  const numeric = (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value);
  let given = rawLow !== undefined || rawHigh !== undefined;
  if (given && !(numeric(rawLow) && numeric(rawHigh) && rawLow < rawHigh)) {
    errors.push(
      `attributes.rangeLow/rangeHigh: both must be numbers with rangeLow < rangeHigh ` +
        `(got ${JSON.stringify(rawLow)} and ${JSON.stringify(rawHigh)})`,
    );
    given = false;
  }
  const [low, high] =
    given && numeric(rawLow) && numeric(rawHigh)
      ? [rawLow, rawHigh]
      : (fallback ?? [0, classRange?.[1] ?? 100]);
  return {
    given,
    low,
    high,
    size: high - low,
    classLow: classRange?.[0],
    classHigh: classRange?.[1],
  };
}

/** 6 significant digits: set-points computed from factors read as the numbers people expect. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}
