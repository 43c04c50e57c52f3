import type { DeviceClass } from '@vigil/contracts';

import type { OfflineRuleConfig, RuleConfig, ThresholdRuleConfig } from './rule-config';
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

/** GB/T 50493-2019 §5.5.2-1: first-level combustible alarm at most 25 %LEL. */
export const COMBUSTIBLE_L1_LEL = 25;
/** GB/T 50493-2019 §5.5.2-2: second-level combustible alarm at most 50 %LEL. */
export const COMBUSTIBLE_L2_LEL = 50;
/** Clear below set-point − 5 %LEL (domain-standards §9.1 "Clear (deadband)", proposal P). */
export const COMBUSTIBLE_DEADBAND_LEL = 5;
/** GB/T 50493-2019 §5.5.2-3: toxic L1 ≤ 100 % OEL, L2 ≤ 200 % OEL. */
export const TOXIC_L1_OEL_FACTOR = 1;
export const TOXIC_L2_OEL_FACTOR = 2;
/** Toxic deadband: 10 % of the L1 set-point (proposal P, mirrors the 5/25 %LEL combustible ratio). */
export const TOXIC_DEADBAND_FRACTION_OF_L1 = 0.1;
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
/** Offline after max(3 × interval, 30 s) of silence (domain-standards §9.1 / §9.8 offline row, P). */
export const OFFLINE_INTERVALS = 3;
export const OFFLINE_MIN_TIMEOUT_MS = 30_000;
/** Gas controllers must report a lost detector within 100 s (GB 16808, domain-standards §1.5, S). */
export const GAS_OFFLINE_MAX_TIMEOUT_MS = 100_000;

const GAS_CLASSES: ReadonlySet<DeviceClass> = new Set([
  'gas-combustible',
  'gas-toxic',
  'gas-oxygen',
]);

/**
 * The default rule set of a device (domain-standards §9 catalogue; README "Rule catalogue").
 * Order is evaluation order: `offline` first (is the device alive), then its value rules from the
 * lowest level up, so that one reading crossing both levels emits L1 before L2.
 * Returns errors instead of throwing, e.g. for a toxic detector whose gas has no known limit.
 */
export function defaultRules(device: RuleDevice): DefaultRules {
  const rules: RuleConfig[] = [offlineRule(device)];
  const errors: string[] = [];

  switch (device.deviceClass) {
    case 'gas-combustible': {
      const measured = { metric: 'lel', label: 'Combustible gas', unit: '%LEL' };
      rules.push(
        gasRule(1, measured, COMBUSTIBLE_L1_LEL, COMBUSTIBLE_DEADBAND_LEL),
        gasRule(2, measured, COMBUSTIBLE_L2_LEL, COMBUSTIBLE_DEADBAND_LEL),
      );
      break;
    }
    case 'gas-toxic': {
      const attribute = device.attributes['gas'];
      const gas = typeof attribute === 'string' ? findToxicGas(attribute) : undefined;
      if (!gas) {
        const known = TOXIC_GASES.map(entry => entry.formula).join(', ');
        errors.push(
          attribute === undefined
            ? `attributes.gas: a gas-toxic detector must name its gas (one of ${known})`
            : `attributes.gas: no exposure limit is known for gas "${String(attribute)}" ` +
                `(known: ${known}); give rules.gas-l1 and rules.gas-l2 in full instead`,
        );
        break;
      }
      const l1 = mgPerM3ToPpm(gas.oelMgPerM3 * TOXIC_L1_OEL_FACTOR, gas.molarMass);
      const l2 = mgPerM3ToPpm(gas.oelMgPerM3 * TOXIC_L2_OEL_FACTOR, gas.molarMass);
      const deadband = l1 * TOXIC_DEADBAND_FRACTION_OF_L1;
      const measured = { metric: 'ppm', label: gas.formula, unit: 'ppm' };
      rules.push(gasRule(1, measured, l1, deadband), gasRule(2, measured, l2, deadband));
      break;
    }
    case 'gas-oxygen':
      rules.push(
        oxygenRule('o2-low', 'low', OXYGEN_LOW_VOL),
        oxygenRule('o2-high', 'high', OXYGEN_HIGH_VOL),
      );
      break;
    case 'electrical-fire':
    case 'mhs-tank':
    case 'fire-panel':
    case 'call-point':
    case 'tag':
      // Only the offline rule so far; their catalogue rules (domain-standards §9.3–§9.7) come later.
      break;
  }
  return { rules, errors };
}

/** Offline timeout for a device: max(3 × interval, 30 s), capped at 100 s for gas detectors. */
export function offlineTimeoutMs(
  device: Pick<RuleDevice, 'deviceClass' | 'intervalSeconds'>,
): number {
  const timeout = Math.max(
    Math.ceil(OFFLINE_INTERVALS * device.intervalSeconds * 1000),
    OFFLINE_MIN_TIMEOUT_MS,
  );
  return GAS_CLASSES.has(device.deviceClass)
    ? Math.min(timeout, GAS_OFFLINE_MAX_TIMEOUT_MS)
    : timeout;
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
