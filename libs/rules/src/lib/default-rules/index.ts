import type { DeviceClass } from '@vigil/contracts';

import type { OfflineRuleConfig, RuleConfig } from '../rule-config';
import { type DefaultRules, type FamilyRules, GAS_CLASSES, type RuleDevice } from './common';
import { ELECTRICAL_OFFLINE_MAX_TIMEOUT_MS, electricalFireFamilyRules } from './electrical-fire';
import {
  GAS_OFFLINE_MAX_TIMEOUT_MS,
  OFFLINE_INTERVALS,
  OFFLINE_MIN_TIMEOUT_MS,
} from './every-class';
import { callPointRules, firePanelFamilyRules } from './fire';
import { combustibleRules, oxygenRules, toxicRules } from './gas';
import { tagRules } from './personnel';
import { tankRules } from './tank';

export type { DefaultRules, FamilyRules, RuleDevice } from './common';
export * from './every-class';
export * from './gas';
export * from './electrical-fire';
export * from './tank';
export * from './fire';
export * from './personnel';

/**
 * The defaults of each device family, one file per family; a new device class must have an entry
 * (the mapped type makes a missing one a compile error).
 */
const FAMILY_RULES: { readonly [C in DeviceClass]: FamilyRules } = {
  'gas-combustible': combustibleRules,
  'gas-toxic': toxicRules,
  'gas-oxygen': oxygenRules,
  'electrical-fire': electricalFireFamilyRules,
  'mhs-tank': tankRules,
  'fire-panel': firePanelFamilyRules,
  'call-point': callPointRules,
  tag: tagRules,
};

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
  FAMILY_RULES[device.deviceClass](device, rules, errors);
  return { rules, errors };
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
