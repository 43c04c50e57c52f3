import type { Reading, RuleSignal } from '@vigil/contracts';

import type { RateRuleConfig } from './rule-config';
import {
  type ReadingOrder,
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
import type { SavedFields } from './saved-fields';
import {
  addExtreme,
  bucketMsOf,
  createExtremes,
  extremesBetween,
  firstBucketIndex,
  restoredExtremes,
  savedBuckets,
} from './window-buckets';

/**
 * One (device, rate rule) pair: whether it is active and the lowest/highest value per bucket of
 * the window (`window-buckets.ts`). Mutable and owned by one rule slot; `RATE_EMPTY` (shared,
 * never written) stands for "no reading yet", so a device that never sends the metric costs
 * nothing. `bucketMs` records the geometry the buckets were built with: a reload that changes
 * `windowMs` starts them afresh.
 */
export interface RateState {
  readonly kind: 'rate';
  active: boolean;
  bucketMs: number;
  buckets: number[];
}

export const RATE_EMPTY: RateState = Object.freeze({
  kind: 'rate',
  active: false,
  bucketMs: 0,
  buckets: [] as number[],
}) as RateState;

/**
 * Rate of change over a sliding event-time window (domain-standards §9.1 rate of rise, §9.2
 * oxygen rate of fall, §9.3 step change and temperature rise; all P):
 *
 * - the change is `value − lowest value in the window` for a rise, `highest − value` for a fall;
 * - raised when the change reaches `delta` (and, if set, the value is still `below` / `above` the
 *   guard level: past it the alarm itself speaks);
 * - cleared when the change is back under `delta − deadband`, whatever the guard says, so that a
 *   leak passing L1 keeps its pre-alarm until the rise stops instead of flapping at L1.
 *
 * One steady rise raises once: while it lasts the change stays above the clear point, and once it
 * stops the window empties of the low values and the rule clears. In-order readings are
 * evaluated; readings within the late allowance only join their bucket (a minimum and maximum do
 * not care about order or duplicates).
 */
export function reduceRate(
  state: RateState,
  reading: Reading,
  rule: RateRuleConfig,
  context: RuleContext,
  order: ReadingOrder = 'in-order',
): RuleStep<RateState> {
  return collectStep(sink => stepRate(state, reading, rule, context, order, sink));
}

/** `reduceRate` for the engine: signals go to `sink`, so a quiet reading allocates nothing. */
export function stepRate(
  state: RateState,
  reading: Reading,
  rule: RateRuleConfig,
  context: RuleContext,
  order: ReadingOrder,
  sink: SignalSink,
): RateState {
  const value = numericValue(reading, rule.metric);
  if (value === undefined || order === 'late') return state;
  const bucketMs = bucketMsOf(rule.windowMs);
  if (state === RATE_EMPTY || state.bucketMs !== bucketMs) {
    if (order !== 'in-order') return state;
    const active = state.active;
    state = { kind: 'rate', active, bucketMs, buckets: createExtremes() };
  }
  addExtreme(state.buckets, bucketMs, reading.ts, value);
  if (order !== 'in-order') return state;

  const first = firstBucketIndex(reading.ts, rule.windowMs, bucketMs);
  const { min, max } = extremesBetween(state.buckets, first, Math.floor(reading.ts / bucketMs));
  const rise = rule.direction === 'rise';
  const change = rise ? value - min : max - value;
  if (!state.active) {
    const guarded = rise
      ? rule.below !== undefined && value >= rule.below
      : rule.above !== undefined && value <= rule.above;
    if (change < rule.delta || guarded) return state;
    state.active = true;
    emitTo(sink, rateSignal(reading, rule, true, value, change, context));
    return state;
  }
  if (change >= rule.delta - rule.deadband) return state;
  state.active = false;
  emitTo(sink, rateSignal(reading, rule, false, value, change, context));
  return state;
}

/**
 * Empties the window after the device's clock jumped back (README "Clock jumps"): its buckets are
 * keyed by event time, so the new clock's samples would land behind the old ones and be dropped.
 * `active` is kept; the next reading decides on the new window alone, as after a silence. In place.
 */
export function restartRate(state: RateState): RateState {
  if (state !== RATE_EMPTY) state.buckets = createExtremes();
  return state;
}

/**
 * The window as a rule state snapshot saves it: `[bucketMs, ...buckets]`; nothing before the
 * first reading.
 */
export function saveRate(state: RateState): SavedFields | undefined {
  if (state === RATE_EMPTY) return undefined;
  return [state.bucketMs, ...savedBuckets(state.buckets)];
}

/** What `saveRate` saved, back; undefined when the rule's window has changed since. */
export function restoreRate(
  fields: SavedFields,
  active: boolean,
  rule: RateRuleConfig,
): RateState | undefined {
  const bucketMs = fields[0];
  if (bucketMs !== bucketMsOf(rule.windowMs)) return undefined;
  const buckets = restoredExtremes(fields.slice(1));
  return buckets && { kind: 'rate', active, bucketMs, buckets };
}

/** The window set to its open alarm after a restore; in place unless it is `RATE_EMPTY`. */
export function reconcileRate(state: RateState, active: boolean): RateState {
  if (state === RATE_EMPTY) return { ...RATE_EMPTY, active };
  state.active = active;
  return state;
}

function rateSignal(
  reading: Reading,
  rule: RateRuleConfig,
  active: boolean,
  value: number,
  change: number,
  context: RuleContext,
): RuleSignal {
  const label = rule.label ?? rule.metric;
  const verb = rule.direction === 'rise' ? 'rose' : 'fell';
  const window = formatDuration(rule.windowMs);
  const message = active
    ? `${label} ${verb} ${formatQuantity(change, rule.unit)} within ${window} to ` +
      `${formatQuantity(value, rule.unit)} (${rule.level} at ${formatQuantity(rule.delta, rule.unit)})`
    : `${label} ${rule.direction} over the last ${window} down to ` +
      `${formatQuantity(Math.max(0, change), rule.unit)} (clears under ` +
      `${formatQuantity(rule.delta - rule.deadband, rule.unit)})`;
  return ruleSignal(reading, rule, active, reading.ts, context, {
    value,
    threshold: rule.delta,
    message,
  });
}
