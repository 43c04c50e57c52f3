import { lelRule, offlineConfig } from '../testing/fixtures';
import { defaultRules } from './default-rules';
import { RULE_KINDS, type RuleConfig, ruleConfigSchema } from './rule-config';
import { RULE_KIND_DESCRIPTORS, ruleKindOf, ruleKindsOf } from './rule-kinds';

/** One valid rule of each kind: a combustible detector's defaults have them all. */
const examples: readonly RuleConfig[] = RULE_KINDS.map(kind => {
  const { rules } = defaultRules({
    deviceClass: 'gas-combustible',
    attributes: {},
    intervalSeconds: 10,
  });
  const rule = rules.find(each => each.kind === kind);
  if (!rule) throw new Error(`no default ${kind} rule`);
  return rule;
});

describe('rule kind descriptors', () => {
  it('registers one descriptor per rule kind, under its own kind', () => {
    expect(Object.keys(RULE_KIND_DESCRIPTORS).sort()).toEqual([...RULE_KINDS].sort());
    for (const kind of RULE_KINDS) expect(RULE_KIND_DESCRIPTORS[kind].kind).toBe(kind);
  });

  it("validates a rule with its kind's schema, as ruleConfigSchema does", () => {
    expect(examples.map(rule => rule.kind).sort()).toEqual([...RULE_KINDS].sort());
    for (const rule of examples) {
      expect(ruleKindOf(rule).schema.safeParse(rule).success).toBe(true);
      expect(ruleConfigSchema.safeParse(rule).success).toBe(true);
      // Another kind's schema refuses it.
      const other = examples.find(each => each.kind !== rule.kind);
      if (other) expect(ruleKindOf(other).schema.safeParse(rule).success).toBe(false);
    }
  });

  it('gives every descriptor the same properties in the same order (one shape in the hot loop)', () => {
    const shapes = new Set(RULE_KINDS.map(kind => Object.keys(RULE_KIND_DESCRIPTORS[kind]).join()));
    expect(shapes.size).toBe(1);
  });

  it('computes the descriptors of a rule list once and shares them', () => {
    const rules = [lelRule(), offlineConfig()];
    expect(ruleKindsOf(rules)).toBe(ruleKindsOf(rules));
    expect(ruleKindsOf(rules).map(kind => kind.kind)).toEqual(['threshold', 'offline']);
  });
});
