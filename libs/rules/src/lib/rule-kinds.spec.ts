import { context, device, lelRule, offlineConfig } from '../testing/fixtures';
import { defaultRules } from './default-rules';
import { RULE_KINDS, type RuleConfig, ruleConfigSchema } from './rule-config';
import { createRuleEngineState } from './rule-engine.reducer';
import { RULE_KIND_DESCRIPTORS, ruleKindOf, ruleKindsOf } from './rule-kinds';
import type { SavedFields } from './saved-fields';

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

/**
 * The state a new engine creates for `rule` (each in an engine of its own, so that an offline
 * watch is queued alike), and that state as it starts under an open alarm.
 */
function startStates(rule: RuleConfig) {
  const create = (active: boolean) => {
    const registered = device('gc-1', [rule]);
    const engine = createRuleEngineState({ ...context, lookupDevice: () => registered });
    const kind = ruleKindOf(rule);
    const initial = kind.initial(registered, rule, 1_000, false, engine.services);
    return active ? kind.activeAtStart(initial) : initial;
  };
  return { create, inactive: create(false), active: create(true) };
}

describe('rule kind snapshots (rule-state-snapshot.ts is generic: each kind saves its own)', () => {
  it.each(RULE_KINDS)('%s: has save, restore and reconcile', kind => {
    const descriptor = RULE_KIND_DESCRIPTORS[kind];
    expect(descriptor.save).toEqual(expect.any(Function));
    expect(descriptor.restore).toEqual(expect.any(Function));
    expect(descriptor.alarmRuleId).toEqual(expect.any(Function));
    expect(descriptor.reconcile).toEqual(expect.any(Function));
  });

  it.each(RULE_KINDS)('%s: its start states round-trip through JSON', kind => {
    const rule = examples.find(each => each.kind === kind);
    if (!rule) throw new Error(`no ${kind} rule`);
    const descriptor = ruleKindOf(rule);
    const { create, inactive, active } = startStates(rule);
    for (const [state, isActive] of [
      [inactive, false],
      [active, true],
    ] as const) {
      const fields = descriptor.save(state);
      // Nothing saved: what a fresh engine starts with is the state itself.
      if (fields === undefined) {
        expect(create(isActive)).toEqual(state);
        continue;
      }
      const json = JSON.parse(JSON.stringify(fields)) as SavedFields;
      const restored = descriptor.restore(json, state.active, rule, create(false));
      // A restored offline watch counts silence from this engine's start at the earliest
      // (`restoreWatch`); its deadline is the same.
      expect(restored).toEqual(state.kind === 'offline' ? { ...state, countFrom: 1_000 } : state);
    }
  });
});
