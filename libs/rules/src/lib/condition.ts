import { NO_SIGNALS, type RuleStep } from './rule-signal';
import type { SavedFields } from './saved-fields';

/**
 * The delayed two-sided condition that threshold, range and skew rules share (OPC UA Part 9
 * §B.1.5 on/off-delay semantics). `since` is the time at which the condition for leaving the
 * current state started to hold (`enter` while inactive, `leave` while active), or undefined while
 * it does not hold. Immutable: the two steady states of each kind are shared frozen constants, so
 * a rule that is not changing state costs no memory of its own.
 */
export interface ConditionState<K extends string> {
  readonly kind: K;
  readonly active: boolean;
  readonly since: number | undefined;
}

/** The shared steady states of one rule kind, and the "nothing happened" steps around them. */
export interface ConditionStates<K extends string> {
  readonly inactive: ConditionState<K>;
  readonly active: ConditionState<K>;
  readonly inactiveStep: RuleStep<ConditionState<K>>;
  readonly activeStep: RuleStep<ConditionState<K>>;
}

export function conditionStates<K extends string>(kind: K): ConditionStates<K> {
  const inactive: ConditionState<K> = Object.freeze({ kind, active: false, since: undefined });
  const active: ConditionState<K> = Object.freeze({ kind, active: true, since: undefined });
  return {
    inactive,
    active,
    inactiveStep: Object.freeze({ state: inactive, signals: NO_SIGNALS }),
    activeStep: Object.freeze({ state: active, signals: NO_SIGNALS }),
  };
}

/** A step without signals; allocates nothing for the steady states (the hot path). */
export function unchangedStep<K extends string>(
  states: ConditionStates<K>,
  state: ConditionState<K>,
): RuleStep<ConditionState<K>> {
  if (state === states.inactive) return states.inactiveStep;
  if (state === states.active) return states.activeStep;
  return { state, signals: NO_SIGNALS };
}

/**
 * The same state on a device clock moved by `shiftMs` (the engine re-bases a device whose clock
 * jumped back, README "Clock jumps"): a pending delay keeps the time it has already run, measured
 * up to the last reading on the old clock. Steady states are returned as they are.
 */
export function shiftCondition<K extends string>(
  state: ConditionState<K>,
  shiftMs: number,
): ConditionState<K> {
  if (state.since === undefined) return state;
  return { kind: state.kind, active: state.active, since: state.since + shiftMs };
}

/** The steady state that is `active` or not (no pending delay): one of the shared constants. */
export function steadyCondition<K extends string>(
  states: ConditionStates<K>,
  active: boolean,
): ConditionState<K> {
  return active ? states.active : states.inactive;
}

/**
 * The state as a rule state snapshot saves it: `[since]` (null for none); nothing for the steady
 * inactive state, the one a fresh engine starts with anyway.
 */
export function saveCondition(state: ConditionState<string>): SavedFields | undefined {
  if (!state.active && state.since === undefined) return undefined;
  return [state.since ?? null];
}

/** What `saveCondition` saved, back; undefined when its `since` is not a time. */
export function restoreCondition<K extends string>(
  states: ConditionStates<K>,
  fields: SavedFields,
  active: boolean,
): ConditionState<K> | undefined {
  const since = fields[0];
  if (since === null || since === undefined) return steadyCondition(states, active);
  if (!Number.isFinite(since)) return undefined;
  return { kind: states.inactive.kind, active, since };
}

/**
 * One step of the delayed condition at time `at` (non-decreasing per rule):
 *
 * - inactive → active once `enter` has held at every step spanning at least `onDelayMs`;
 * - active → inactive once `leave` has held at every step spanning at least `offDelayMs`.
 *
 * A delay completes at the first step after it elapsed; a step where the condition does not hold
 * restarts it; a delay of 0 acts on the step itself. `enter` and `leave` must never both hold.
 * The caller emits a signal when the returned state's `active` differs from the given one.
 */
export function stepCondition<K extends string>(
  states: ConditionStates<K>,
  state: ConditionState<K>,
  at: number,
  enter: boolean,
  leave: boolean,
  onDelayMs: number,
  offDelayMs: number,
): ConditionState<K> {
  const holds = state.active ? leave : enter;
  if (!holds) return state.active ? states.active : states.inactive;
  const since = state.since ?? at;
  const delayMs = state.active ? offDelayMs : onDelayMs;
  if (delayMs === 0 || at - since >= delayMs) return state.active ? states.inactive : states.active;
  if (state.since !== undefined) return state;
  return { kind: states.inactive.kind, active: state.active, since };
}
