import type { z } from 'zod';

import { type RuleDevice, defaultRules, validateClassRules } from './default-rules';
import { setpointRangeProblems } from './measuring-range';
import { SITE_RULE_IDS } from './site/site-config';
import { issueMessage, suggestKey } from './suggest-key';
import {
  RULE_ID_PATTERN,
  type RuleConfig,
  type RuleOverride,
  ruleConfigSchema,
  ruleOverrideSchema,
} from './rule-config';

export interface ResolvedRules {
  /** Evaluation order: the defaults' order, then rules that only the overrides define. */
  readonly rules: readonly RuleConfig[];
  /** Human-readable, one problem per line: `rules.gas-l1.setpoint: … (device overrides)`. */
  readonly errors: readonly string[];
}

/** Names of the registry's override layers when it passes all three, least specific first. */
const LAYER_NAMES = ['profile', 'area', 'device'] as const;

/**
 * Merges per-rule overrides (profile, then area, then device: later layers win field by field)
 * onto the device class defaults and validates every merged rule.
 *
 * Never throws. Each problem is listed in `errors`; an override entry that is itself invalid is
 * ignored, and a rule whose merged result is invalid keeps its default (protection stays on) or,
 * when it has none, is left out. The registry refuses to start on any error, so these fallbacks
 * only matter for a reload that a caller chooses to apply despite errors.
 *
 * A rule id that is not a default of the class defines a new rule: its layers together must give
 * `kind` and every field of that kind.
 */
export function resolveDeviceRules(
  device: RuleDevice,
  overrideLayers: ReadonlyArray<Readonly<Record<string, unknown>> | undefined>,
): ResolvedRules {
  const defaults = defaultRules(device);
  const defaultIds = new Set(defaults.rules.map(rule => rule.ruleId));
  const errors = [...defaults.errors];
  const overridesById = new Map<string, RuleOverride[]>();

  overrideLayers.forEach((layer, index) => {
    if (layer === undefined) return;
    const where = `(${layerName(index, overrideLayers.length)} overrides)`;
    if (typeof layer !== 'object' || layer === null || Array.isArray(layer)) {
      errors.push(`rules: expected a map of rule id to override ${where}`);
      return;
    }
    for (const [ruleId, raw] of Object.entries(layer)) {
      if (!RULE_ID_PATTERN.test(ruleId)) {
        errors.push(`rules.${ruleId}: rule id must match ${RULE_ID_PATTERN.source} ${where}`);
        continue;
      }
      const parsed = ruleOverrideSchema.safeParse(raw);
      const meant = defaultIds.has(ruleId)
        ? undefined
        : suggestKey(ruleId, [...defaultIds, ...SITE_RULE_IDS]);
      if (!parsed.success && meant !== undefined) {
        // A misspelt rule id (`crowdng`): its fields belong to the rule it meant.
        errors.push(
          `rules.${ruleId}: not a rule of ${device.deviceClass}; did you mean "${meant}"? ${where}`,
        );
        continue;
      }
      if (!parsed.success) {
        errors.push(...describeIssues(ruleId, parsed.error.issues, ` ${where}`, OVERRIDE_KEYS));
        continue;
      }
      const list = overridesById.get(ruleId);
      if (list) list.push(parsed.data);
      else overridesById.set(ruleId, [parsed.data]);
    }
  });

  const rules: RuleConfig[] = [];
  for (const base of defaults.rules) {
    const overrides = overridesById.get(base.ruleId);
    if (!overrides) {
      rules.push(base);
      continue;
    }
    const merged = validate(Object.assign({}, base, ...overrides, { ruleId: base.ruleId }), errors);
    rules.push(merged ?? base);
  }
  for (const [ruleId, overrides] of overridesById) {
    if (defaultIds.has(ruleId)) continue;
    const candidate: Record<string, unknown> = Object.assign({ ruleId }, ...overrides);
    if (candidate['kind'] === undefined) {
      const known = [...defaultIds].join(', ') || 'none';
      const meant = suggestKey(ruleId, [...defaultIds, ...SITE_RULE_IDS]);
      errors.push(
        `rules.${ruleId}: not a default rule of ${device.deviceClass} (defaults: ${known}); ` +
          'a new rule needs kind and every field of that kind' +
          (meant ? `; did you mean "${meant}"?` : ''),
      );
      continue;
    }
    const merged = validate(candidate, errors);
    if (merged) rules.push(merged);
  }
  errors.push(...validateClassRules(device.deviceClass, rules));
  errors.push(...setpointRangeProblems(device, rules));
  return { rules, errors };
}

function validate(candidate: Record<string, unknown>, errors: string[]): RuleConfig | undefined {
  const parsed = ruleConfigSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  errors.push(...describeIssues(String(candidate['ruleId']), parsed.error.issues, ''));
  return undefined;
}

function describeIssues(
  ruleId: string,
  issues: readonly z.core.$ZodIssue[],
  suffix: string,
  known?: readonly string[],
): string[] {
  return issues.map(issue => {
    const path = issue.path.map(String).join('.');
    const message = issueMessage(issue, issue.path.length === 0 ? known : undefined);
    return `rules.${ruleId}${path ? `.${path}` : ''}: ${message}${suffix}`;
  });
}

/** Fields an override may set, for "did you mean" hints (`setPoint` → `setpoint`). */
const OVERRIDE_KEYS = Object.keys(ruleOverrideSchema.shape);

function layerName(index: number, count: number): string {
  return (count === LAYER_NAMES.length ? LAYER_NAMES[index] : undefined) ?? `layer ${index + 1}`;
}
