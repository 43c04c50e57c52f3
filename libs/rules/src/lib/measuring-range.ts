import { DEVICE_CLASS_DEFINITIONS } from '@vigil/contracts';

import type { RuleDevice } from './default-rules';
import type { RuleConfig } from './rule-config';

/**
 * Set-points a device can never reach: a high set-point above the top of the device's declared
 * measuring range (`rangeHigh`), or a low one below its bottom (`rangeLow`), in Vigil's unit of
 * the device's main metric. A detector saturates at full scale, so such an alarm could never raise
 * (a threshold raises at `≥` / `≤` the set-point, so a set-point at full scale still can).
 * Devices that declare no range are not checked. One line per problem, `rules.<id>.setpoint: …`.
 */
export function setpointRangeProblems(device: RuleDevice, rules: readonly RuleConfig[]): string[] {
  const mainMetric = Object.keys(DEVICE_CLASS_DEFINITIONS[device.deviceClass].metrics)[0];
  const low = device.attributes['rangeLow'];
  const high = device.attributes['rangeHigh'];
  if (mainMetric === undefined || typeof low !== 'number' || typeof high !== 'number') return [];
  const problems: string[] = [];
  for (const rule of rules) {
    if (rule.kind !== 'threshold' || !rule.enabled || rule.metric !== mainMetric) continue;
    if (rule.direction === 'high' && rule.setpoint > high) {
      problems.push(
        `rules.${rule.ruleId}.setpoint: ${rule.setpoint} is above the measuring range ` +
          `(rangeHigh ${high}): the detector cannot report it, the alarm could never raise`,
      );
    } else if (rule.direction === 'low' && rule.setpoint < low) {
      problems.push(
        `rules.${rule.ruleId}.setpoint: ${rule.setpoint} is below the measuring range ` +
          `(rangeLow ${low}): the detector cannot report it, the alarm could never raise`,
      );
    }
  }
  return problems;
}
