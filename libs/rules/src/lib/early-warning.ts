import type { Reading, RuleSignal } from '@vigil/contracts';

import type {
  RateRuleConfig,
  RuleConfig,
  ThresholdRuleConfig,
  TrendRuleConfig,
} from './rule-config';
import { type RuleContext, formatQuantity, numericValue, ruleSignal } from './rule-signal';

/** A rule that warns before an alarm: a rate of change or a trend forecast, category `warning`. */
export type EarlyWarningRuleConfig = RateRuleConfig | TrendRuleConfig;

/**
 * Which alarms cover which early warnings, per rule list (README "Early warnings and the alarms
 * they announce"). Indices are positions in `DeviceRules.rules`.
 */
export interface CoverPlan {
  /** Per rule: the thresholds that cover it, when it is an early warning that has any. */
  readonly coveredBy: ReadonlyArray<readonly number[] | undefined>;
  /** Per rule: the early warnings it covers, when it is a threshold that covers any. */
  readonly covers: ReadonlyArray<readonly number[] | undefined>;
}

export function isEarlyWarning(rule: RuleConfig): rule is EarlyWarningRuleConfig {
  return (rule.kind === 'rate' || rule.kind === 'trend') && rule.category === 'warning';
}

/**
 * Whether `alarm` covers `warning`: a process threshold on the same metric, on the side the
 * warning looks toward (a `high` alarm covers a `rise` rate and a `high` trend; a `low` alarm a
 * `fall` rate and a `low` trend). While it is active the condition the warning announces is
 * there and both ask the operator for the same response: the warning is a redundant alarm
 * (ISA-18.2 / EEMUA 191; an alarm must require a response of its own, domain-standards §8, V),
 * so it is suppressed by design while the alarm stands (P). A threshold of category `warning`
 * (a pre-alarm such as `leak-pre` or `temp-pre`) is an early warning itself and covers nothing:
 * `temp-rate` (P2) outranks `temp-pre` (P3).
 */
export function coversWarning(
  alarm: ThresholdRuleConfig,
  warning: EarlyWarningRuleConfig,
): boolean {
  if (alarm.category !== 'process' || alarm.metric !== warning.metric) return false;
  const warnsHigh = warning.direction === 'rise' || warning.direction === 'high';
  return warnsHigh === (alarm.direction === 'high');
}

const plans = new WeakMap<readonly RuleConfig[], CoverPlan | null>();

/**
 * The cover plan of a rule list, or undefined when nothing in it covers anything (most classes).
 * Computed once per list and shared by every device that has that list (registries share one
 * resolved list per profile where they can). Disabled rules have no state in the engine, so
 * they are left out here as well.
 */
export function coverPlanOf(rules: readonly RuleConfig[]): CoverPlan | undefined {
  let plan = plans.get(rules);
  if (plan === undefined) {
    plan = buildCoverPlan(rules);
    plans.set(rules, plan);
  }
  return plan ?? undefined;
}

function buildCoverPlan(rules: readonly RuleConfig[]): CoverPlan | null {
  const coveredBy: Array<number[] | undefined> = rules.map(() => undefined);
  const covers: Array<number[] | undefined> = rules.map(() => undefined);
  let any = false;
  rules.forEach((warning, warningIndex) => {
    if (!warning.enabled || !isEarlyWarning(warning)) return;
    rules.forEach((alarm, alarmIndex) => {
      if (!alarm.enabled || alarm.kind !== 'threshold' || !coversWarning(alarm, warning)) return;
      (coveredBy[warningIndex] ??= []).push(alarmIndex);
      (covers[alarmIndex] ??= []).push(warningIndex);
      any = true;
    });
  });
  return any ? { coveredBy, covers } : null;
}

/**
 * The cleared signal of an early warning withdrawn because an alarm that covers it is active:
 * `Combustible gas 60 %LEL: the L1 alarm (gas-l1) is active; this early warning is withdrawn
 * while it lasts`.
 */
export function withdrawnWarningSignal(
  reading: Reading,
  warning: EarlyWarningRuleConfig,
  alarm: ThresholdRuleConfig,
  context: RuleContext,
): RuleSignal {
  const value = numericValue(reading, warning.metric);
  const now = value === undefined ? '' : ` ${formatQuantity(value, warning.unit)}`;
  return ruleSignal(reading, warning, false, reading.ts, context, {
    value,
    threshold: warning.kind === 'rate' ? warning.delta : warning.target,
    message:
      `${warning.label ?? warning.metric}${now}: the ${alarm.level} alarm (${alarm.ruleId}) is ` +
      'active; this early warning is withdrawn while it lasts',
  });
}
