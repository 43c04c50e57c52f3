import type { EventRuleConfig, ThresholdRuleConfig } from '../rule-config';
import { TOXIC_GASES, findToxicGas, mgPerM3ToPpm } from '../toxic-gases';
import {
  type FamilyRules,
  type Measured,
  clockSkewRule,
  classRangeRule,
  eventRule,
  faultRule,
  measuringSpan,
  rangeRule,
  rateRule,
  round,
  stuckRule,
  trendRule,
} from './common';
import { OUT_OF_RANGE_FRACTION } from './every-class';

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
/** Stuck value: Δ < 0.1 %LEL for ≥ 24 h, non-zero only → P4 (§9.1 stuck value, P). */
export const COMBUSTIBLE_STUCK_DELTA_LEL = 0.1;
/** Toxic stuck threshold: Δ < 1 % of the measuring range (§9.2 offline/stuck row, P). */
export const TOXIC_STUCK_FRACTION_OF_RANGE = 0.01;
/** Below zero by more than 5 % of the span for 60 s → FAULT, zero drift (§9.1 under-range, P). */
export const GAS_UNDER_RANGE_FRACTION = 0.05;
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

/** Combustible gas detectors (%LEL). */
export const combustibleRules: FamilyRules = (device, rules, errors) => {
  const measured = { metric: 'lel', label: 'Combustible gas', unit: '%LEL' };
  // 0–100 %LEL unless the profile says otherwise (domain-standards §1.1 measuring range, U).
  const span = measuringSpan(device, 'lel', errors, [0, 100]);
  rules.push(
    faultRule(true),
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
};

/** Toxic gas detectors (ppm): set-points from the gas's occupational exposure limit. */
export const toxicRules: FamilyRules = (device, rules, errors) => {
  const attributes = device.attributes;
  const attribute = attributes['gas'];
  const toxic = typeof attribute === 'string' ? findToxicGas(attribute) : undefined;
  rules.push(faultRule(true), gasDeviceAlarmRule(), clockSkewRule());
  if (!toxic) {
    const known = TOXIC_GASES.map(entry => entry.formula).join(', ');
    errors.push(
      attribute === undefined
        ? `attributes.gas: a gas-toxic detector must name its gas (one of ${known})`
        : `attributes.gas: no exposure limit is known for gas "${String(attribute)}" ` +
            `(known: ${known}); give rules.gas-l1 and rules.gas-l2 in full instead`,
    );
    return;
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
};

/** Oxygen detectors (%VOL): deficiency and enrichment. */
export const oxygenRules: FamilyRules = (device, rules, errors) => {
  const measured = { metric: 'o2', label: 'Oxygen', unit: '%VOL' };
  rules.push(
    faultRule(true),
    gasDeviceAlarmRule(),
    clockSkewRule(),
    classRangeRule(device, measured, errors),
    // Clean air reads a constant 20.9 %VOL on many detectors: off unless a profile enables it.
    { ...stuckRule(measured, 0.1, false), enabled: false },
    oxygenRule('o2-low', 'low', OXYGEN_LOW_VOL),
    oxygenRule('o2-high', 'high', OXYGEN_HIGH_VOL),
    rateRule('o2-rate', measured, 'fall', OXYGEN_FALL_VOL, 2),
  );
};

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

// ---- Device-side alarms (domain-standards §1.5, §9.1) ----

/**
 * A gas detector's or gas controller's own alarm (`alarm` event, `detail.level`): the controller
 * decides the two levels itself (GB 16808 controller, levels per GB/T 50493-2019 §5.5.2, V), so
 * its decision is an alarm of its own, raised at once, keyed per `detail.channel`: L2 → P1,
 * L1 → P2 (domain-standards §9 priorities), oxygen low/high → P2. A missing or unknown level is
 * taken as L2 (fail-safe, P). Held until the device clears it (`cleared: true`) or is reset: the
 * controller latches L2 itself (GB 16808 §5.3.3.6–7 manual reset, S).
 */
export const GAS_DEVICE_ALARM_LEVELS = { L1: 2, L2: 1, low: 2, high: 2 } as const;

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
