import type { Reading, RuleSignal } from '@vigil/contracts';

import type { TrendRuleConfig } from './rule-config';
import {
  type RuleContext,
  type RuleStep,
  type SignalSink,
  collectStep,
  emitTo,
  formatDuration,
  formatInstant,
  formatQuantity,
  numericValue,
  ruleSignal,
} from './rule-signal';
import { type SavedFields, restoredNumber, savedNumber } from './saved-fields';
import {
  WINDOW_BUCKETS,
  addSample,
  bucketMsOf,
  createSums,
  firstBucketIndex,
  fitLine,
  restoredSums,
  savedBuckets,
} from './window-buckets';

/**
 * One (device, trend rule) pair: whether it is active, the regression sums per bucket of the
 * window (`window-buckets.ts`) and the event time of the newest sample in them. Mutable and owned
 * by one rule slot; `TREND_EMPTY` (shared, never written) stands for "no reading yet".
 */
export interface TrendState {
  readonly kind: 'trend';
  active: boolean;
  bucketMs: number;
  lastTs: number;
  buckets: number[];
}

export const TREND_EMPTY: TrendState = Object.freeze({
  kind: 'trend',
  active: false,
  bucketMs: 0,
  lastTs: -Infinity,
  buckets: [] as number[],
}) as TrendState;

/** What the fitted line says at the current reading. */
export interface TrendForecast {
  /** Event time at which the line reaches the target; undefined when it moves away from it. */
  readonly predictedAt: number | undefined;
  /** The line's change over the whole window, toward the target (negative: away from it). */
  readonly changeTowardTarget: number;
  /**
   * How far the reading has fallen back from the window's extreme toward the target (the highest
   * sample for `high`, the lowest for `low`); 0 while it is at that extreme.
   */
  readonly fallenBack: number;
}

/**
 * Trend forecast (the 预警: a trend says the plant soon will be unsafe): a least-squares
 * line through the samples of the last `windowMs` of event time, evaluated at each in-order
 * reading.
 *
 * - Raised when the reading has not reached `target`, at least `minSamples` samples spread over
 *   at least half the window are in the fit, the line has moved at least `minDelta` toward the
 *   target over the window, it reaches the target within `horizonMs`, and the reading has not
 *   fallen back by `minDelta` or more from the window's highest sample (lowest, for `low`). The
 *   last condition is there because a straight line through a peak still points up after the
 *   peak: the fit lags, and without it a value on its way back down (a spike that has passed, a
 *   bump below the target) was forecast to rise. A falling value is not a rising trend. The
 *   signal carries the predicted instant (`predictedAt`, also in the message).
 * - While the reading is at or past the target nothing changes: the alarm rule speaks, and the
 *   warning neither flaps at the set-point nor raises again. (In the engine, the alarm withdraws
 *   the warning and holds it back: README "Early warnings and the alarms they announce".)
 * - Cleared when the line no longer reaches the target within `clearHorizonMs` (it flattened or
 *   turned). Without a usable fit (too few samples, e.g. after a silence) nothing changes.
 *
 * Only in-order readings with a newer `ts` than the last sample join the fit: a re-delivered
 * duplicate must not weigh twice.
 */
export function reduceTrend(
  state: TrendState,
  reading: Reading,
  rule: TrendRuleConfig,
  context: RuleContext,
): RuleStep<TrendState> {
  return collectStep(sink => stepTrend(state, reading, rule, context, sink));
}

/** `reduceTrend` for the engine: signals go to `sink`, so a quiet reading allocates nothing. */
export function stepTrend(
  state: TrendState,
  reading: Reading,
  rule: TrendRuleConfig,
  context: RuleContext,
  sink: SignalSink,
): TrendState {
  const value = numericValue(reading, rule.metric);
  if (value === undefined || reading.ts <= state.lastTs) return state;
  const bucketMs = bucketMsOf(rule.windowMs);
  if (state === TREND_EMPTY || state.bucketMs !== bucketMs) {
    state = {
      kind: 'trend',
      active: state.active,
      bucketMs,
      lastTs: -Infinity,
      buckets: createSums(),
    };
  }
  addSample(state.buckets, bucketMs, reading.ts, value);
  state.lastTs = reading.ts;

  const high = rule.direction === 'high';
  if (high ? value >= rule.target : value <= rule.target) return state;
  const forecast = forecastTrend(state, reading.ts, value, rule);
  if (!forecast) return state;
  const { predictedAt } = forecast;
  const leadMs = predictedAt === undefined ? Infinity : predictedAt - reading.ts;
  if (!state.active) {
    if (
      forecast.changeTowardTarget < rule.minDelta ||
      leadMs > rule.horizonMs ||
      forecast.fallenBack >= rule.minDelta
    ) {
      return state;
    }
    state.active = true;
    emitTo(sink, trendSignal(reading, rule, true, value, predictedAt, context));
    return state;
  }
  if (leadMs <= rule.clearHorizonMs) return state;
  state.active = false;
  emitTo(sink, trendSignal(reading, rule, false, value, predictedAt, context));
  return state;
}

/**
 * Empties the window after the device's clock jumped back (README "Clock jumps"): a fit across
 * the jump would be meaningless, and every sample of the new clock is older than `lastTs`.
 * `active` is kept; it changes again once the new window holds a usable fit. In place.
 */
export function restartTrend(state: TrendState): TrendState {
  if (state === TREND_EMPTY) return state;
  state.buckets = createSums();
  state.lastTs = -Infinity;
  return state;
}

/**
 * The window as a rule state snapshot saves it: `[bucketMs, lastTs, ...buckets]`; nothing before
 * the first reading.
 */
export function saveTrend(state: TrendState): SavedFields | undefined {
  if (state === TREND_EMPTY) return undefined;
  return [state.bucketMs, savedNumber(state.lastTs), ...savedBuckets(state.buckets)];
}

/** What `saveTrend` saved, back; undefined when the rule's window has changed since. */
export function restoreTrend(
  fields: SavedFields,
  active: boolean,
  rule: TrendRuleConfig,
): TrendState | undefined {
  const bucketMs = fields[0];
  if (bucketMs !== bucketMsOf(rule.windowMs)) return undefined;
  const buckets = restoredSums(fields.slice(2));
  if (!buckets) return undefined;
  return { kind: 'trend', active, bucketMs, lastTs: restoredNumber(fields[1], -Infinity), buckets };
}

/** The window set to its open alarm after a restore; in place unless it is `TREND_EMPTY`. */
export function reconcileTrend(state: TrendState, active: boolean): TrendState {
  if (state === TREND_EMPTY) return { ...TREND_EMPTY, active };
  state.active = active;
  return state;
}

/**
 * The line through the window at `ts` (the reading's time; `value` its value), or undefined
 * without enough well-spread samples.
 */
export function forecastTrend(
  state: TrendState,
  ts: number,
  value: number,
  rule: TrendRuleConfig,
): TrendForecast | undefined {
  if (state === TREND_EMPTY) return undefined;
  const last = Math.floor(ts / state.bucketMs);
  const first = firstBucketIndex(ts, rule.windowMs, state.bucketMs);
  const fit = fitLine(state.buckets, state.bucketMs, first, last, ts);
  if (!fit || fit.count < rule.minSamples || fit.bucketSpan * 2 < WINDOW_BUCKETS) return undefined;
  const sign = rule.direction === 'high' ? 1 : -1;
  const towardPerMs = fit.slope * sign;
  const remaining = (rule.target - fit.valueAtOrigin) * sign;
  let predictedAt: number | undefined;
  if (remaining <= 0) predictedAt = ts;
  else if (towardPerMs > 0) predictedAt = ts + Math.round(remaining / towardPerMs);
  return {
    predictedAt,
    changeTowardTarget: towardPerMs * rule.windowMs,
    fallenBack: sign === 1 ? fit.highest - value : value - fit.lowest,
  };
}

function trendSignal(
  reading: Reading,
  rule: TrendRuleConfig,
  active: boolean,
  value: number,
  predictedAt: number | undefined,
  context: RuleContext,
): RuleSignal {
  const label = rule.label ?? rule.metric;
  const target = formatQuantity(rule.target, rule.unit);
  const now = formatQuantity(value, rule.unit);
  const message =
    active && predictedAt !== undefined
      ? `${label} ${now} trending ${rule.direction === 'high' ? 'up' : 'down'}: predicted to ` +
        `reach ${target} in ${formatDuration(Math.max(0, predictedAt - reading.ts))} ` +
        `(at ${formatInstant(predictedAt)})`
      : `${label} ${now} no longer predicted to reach ${target} within ` +
        formatDuration(rule.clearHorizonMs);
  return ruleSignal(reading, rule, active, reading.ts, context, {
    value,
    threshold: rule.target,
    message,
    ...(active && predictedAt !== undefined ? { predictedAt } : {}),
  });
}
