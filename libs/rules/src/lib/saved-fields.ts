/**
 * One rule's state as a rule state snapshot saves it (`rule-state-snapshot.ts`), after its
 * `[ruleId, kind, active]`: numbers only, so that the snapshot is compact JSON (tuples, no keys).
 * Each rule kind writes and reads its own (`RuleKindDescriptor.save` and `restore`, next to its
 * reducer). Which field stands where is part of the snapshot format: changing it means a new
 * `RULE_STATE_VERSION`, or the snapshots already saved no longer restore.
 */
export type SavedFields = readonly (number | null)[];

/** JSON has no infinities nor NaN: they travel as null and come back as the field's default. */
export function savedNumber(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** A saved number back, or `fallback` where it was not finite (or is not a number at all). */
export function restoredNumber(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
