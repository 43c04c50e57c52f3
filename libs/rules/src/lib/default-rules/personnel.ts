import { type FamilyRules, clockSkewRule, eventRule } from './common';

// ---- Personnel tags (domain-standards §9.7) ----

/** Personnel tags: clock skew and SOS. */
export const tagRules: FamilyRules = (_device, rules) => {
  rules.push(
    clockSkewRule(),
    // SOS: immediate P1, latched until acknowledged and closed (domain-standards §9.7, P).
    eventRule('sos', 'sos', 'pulse', 1, 'process', true, 'SOS from personnel tag'),
  );
};
