import type { Reading } from '@vigil/contracts';

import type { StuckRuleConfig } from './rule-config';
import { type SavedFields, restoredNumber, savedNumber } from './saved-fields';
import {
  type RuleContext,
  type RuleStep,
  type SignalSink,
  collectStep,
  emitTo,
  formatDuration,
  formatQuantity,
  numericValue,
  ruleSignal,
} from './rule-signal';

/**
 * One (device, stuck rule) pair: the current flat stretch, from `since` (event time of its first
 * reading) with the lowest and highest value seen in it. Mutable and owned by one rule slot (it
 * changes with almost every reading, so copying it would only make garbage); the shared
 * `STUCK_EMPTY` stands for "no reading yet" and is never written.
 */
export interface StuckState {
  readonly kind: 'stuck';
  active: boolean;
  since: number;
  min: number;
  max: number;
}

export const STUCK_EMPTY: StuckState = Object.freeze({
  kind: 'stuck',
  active: false,
  since: Number.NaN,
  min: Number.NaN,
  max: Number.NaN,
}) as StuckState;

/**
 * Flat-line detection (domain-standards §9.1 / §9.2 / §9.4 stuck value, P): raised when every
 * reading for at least `durationMs` of event time lies within `minDelta` of every other one
 * (max − min < minDelta), cleared by the first reading that breaks the stretch (which also starts
 * a new one). With `skipZero`, a stretch whose values all lie within ±minDelta of zero is not
 * flagged: a constant 0 is clean air for most gas detectors. In-order readings only.
 */
export function reduceStuck(
  state: StuckState,
  reading: Reading,
  rule: StuckRuleConfig,
  context: RuleContext,
): RuleStep<StuckState> {
  return collectStep(sink => stepStuck(state, reading, rule, context, sink));
}

/** `reduceStuck` for the engine: signals go to `sink`, so a quiet reading allocates nothing. */
export function stepStuck(
  state: StuckState,
  reading: Reading,
  rule: StuckRuleConfig,
  context: RuleContext,
  sink: SignalSink,
): StuckState {
  const value = numericValue(reading, rule.metric);
  if (value === undefined) return state;
  if (state === STUCK_EMPTY) {
    return { kind: 'stuck', active: false, since: reading.ts, min: value, max: value };
  }
  const min = Math.min(state.min, value);
  const max = Math.max(state.max, value);
  if (max - min >= rule.minDelta) {
    const wasActive = state.active;
    const flatAt = state.min;
    state.active = false;
    state.since = reading.ts;
    state.min = value;
    state.max = value;
    if (!wasActive) return state;
    const message =
      `${rule.label ?? rule.metric} changing again: ${formatQuantity(value, rule.unit)} after ` +
      `a flat line at ${formatQuantity(flatAt, rule.unit)}`;
    emitTo(sink, stuckSignal(reading, rule, false, value, message, context));
    return state;
  }
  state.min = min;
  state.max = max;
  if (state.active || reading.ts - state.since < rule.durationMs) {
    return state;
  }
  if (rule.skipZero && Math.max(Math.abs(min), Math.abs(max)) < rule.minDelta) {
    return state;
  }
  state.active = true;
  const message =
    `${rule.label ?? rule.metric} flat at ${formatQuantity(value, rule.unit)} for ` +
    `${formatDuration(reading.ts - state.since)} (changes under ` +
    `${formatQuantity(rule.minDelta, rule.unit)}): the sensor may be stuck`;
  emitTo(sink, stuckSignal(reading, rule, true, value, message, context));
  return state;
}

/**
 * The same stretch on a device clock moved by `shiftMs` (README "Clock jumps"): its start moves
 * with the clock, so the time it has already lasted still counts and no more. In place.
 */
export function shiftStuck(state: StuckState, shiftMs: number): StuckState {
  if (state !== STUCK_EMPTY) state.since += shiftMs;
  return state;
}

/** The stretch as a rule state snapshot saves it: `[since, min, max]`; nothing before a reading. */
export function saveStuck(state: StuckState): SavedFields | undefined {
  if (state === STUCK_EMPTY) return undefined;
  return [savedNumber(state.since), savedNumber(state.min), savedNumber(state.max)];
}

/** What `saveStuck` saved, back; undefined without the stretch's start. */
export function restoreStuck(fields: SavedFields, active: boolean): StuckState | undefined {
  const state: StuckState = {
    kind: 'stuck',
    active,
    since: restoredNumber(fields[0], Number.NaN),
    min: restoredNumber(fields[1], Number.NaN),
    max: restoredNumber(fields[2], Number.NaN),
  };
  return Number.isFinite(state.since) ? state : undefined;
}

/**
 * The stretch set to its open alarm after a restore. Without a stretch there is nothing to hold
 * an active flag: the first readings decide, as after a restart. In place.
 */
export function reconcileStuck(state: StuckState, active: boolean): StuckState {
  if (state !== STUCK_EMPTY) state.active = active;
  return state;
}

function stuckSignal(
  reading: Reading,
  rule: StuckRuleConfig,
  active: boolean,
  value: number,
  message: string,
  context: RuleContext,
) {
  return ruleSignal(reading, rule, active, reading.ts, context, {
    value,
    threshold: rule.minDelta,
    message,
  });
}
