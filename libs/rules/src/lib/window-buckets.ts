import { type SavedFields, restoredNumber, savedNumber } from './saved-fields';

/**
 * Fixed-size summaries of a sliding event-time window, for the rate and trend rules.
 *
 * The window `windowMs` is cut into `WINDOW_BUCKETS` buckets of `bucketMs = ceil(windowMs / 6)`;
 * bucket `i` holds the readings with `floor(ts / bucketMs) = i`. A ring of 7 slots keeps the
 * newest buckets (a window not aligned to bucket edges overlaps 7 of them), so memory per rule
 * and device is fixed whatever the reporting rate (a detector
 * reporting every second during a leak costs the same as one reporting every 5 s). The price is
 * resolution: a window query at `ts` covers every bucket that overlaps `[ts − windowMs, ts]`, so
 * it sees between `windowMs` and `windowMs + bucketMs` of history (up to 1/6 more: the rules err
 * on the sensitive side, never the blind one). README "Rate and trend".
 *
 * Buckets live in one flat `number[]` (V8 keeps it as unboxed doubles): no object per bucket.
 */
export const WINDOW_BUCKETS = 6;
/** Slots in the ring: the buckets a window query can overlap. */
const SLOTS = WINDOW_BUCKETS + 1;

export function bucketMsOf(windowMs: number): number {
  return Math.ceil(windowMs / WINDOW_BUCKETS);
}

function slotOf(index: number): number {
  return ((index % SLOTS) + SLOTS) % SLOTS;
}

/** The oldest bucket index a window query at `ts` includes. */
export function firstBucketIndex(ts: number, windowMs: number, bucketMs: number): number {
  return Math.floor((ts - windowMs) / bucketMs);
}

// ---- Extremes: [index, min, max] per slot (rate rule) ----

const EXTREMES_STRIDE = 3;

export function createExtremes(): number[] {
  return emptyBuckets(EXTREMES_STRIDE);
}

/**
 * Adds a sample to its bucket. A sample whose bucket has already left the ring (its slot holds a
 * newer bucket) is dropped; returns whether it was kept.
 */
export function addExtreme(
  buckets: number[],
  bucketMs: number,
  ts: number,
  value: number,
): boolean {
  const index = Math.floor(ts / bucketMs);
  const base = slotOf(index) * EXTREMES_STRIDE;
  const held = buckets[base] as number;
  if (held > index) return false;
  if (held < index) {
    buckets[base] = index;
    buckets[base + 1] = value;
    buckets[base + 2] = value;
    return true;
  }
  if (value < (buckets[base + 1] as number)) buckets[base + 1] = value;
  if (value > (buckets[base + 2] as number)) buckets[base + 2] = value;
  return true;
}

/** Lowest and highest value of the buckets from `first` to `last` (inclusive); NaN when empty. */
export function extremesBetween(
  buckets: readonly number[],
  first: number,
  last: number,
): { readonly min: number; readonly max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let base = 0; base < buckets.length; base += EXTREMES_STRIDE) {
    const index = buckets[base] as number;
    if (index < first || index > last) continue;
    min = Math.min(min, buckets[base + 1] as number);
    max = Math.max(max, buckets[base + 2] as number);
  }
  return min === Infinity ? { min: Number.NaN, max: Number.NaN } : { min, max };
}

// ---- Regression sums: [index, n, Σt, Σv, Σt², Σtv, min, max] per slot (trend rule), t relative
// to the bucket start. The lowest and highest value tell whether the value has turned back. ----

const SUMS_STRIDE = 8;

export function createSums(): number[] {
  return emptyBuckets(SUMS_STRIDE);
}

/**
 * A window's buckets as a rule state snapshot saves them (`SavedFields`): an empty slot's index
 * (-Infinity) travels as null.
 */
export function savedBuckets(buckets: readonly number[]): (number | null)[] {
  return buckets.map(savedNumber);
}

/** Saved extremes (`savedBuckets`) back; undefined unless they are a whole ring. */
export function restoredExtremes(saved: SavedFields): number[] | undefined {
  return restoredBuckets(saved, EXTREMES_STRIDE);
}

/** Saved regression sums (`savedBuckets`) back; undefined unless they are a whole ring. */
export function restoredSums(saved: SavedFields): number[] | undefined {
  return restoredBuckets(saved, SUMS_STRIDE);
}

function restoredBuckets(saved: SavedFields, stride: number): number[] | undefined {
  if (saved.length !== SLOTS * stride) return undefined;
  // Slot indexes (every `stride`-th field) default to -Infinity (empty slot), the rest to 0.
  return saved.map((value, index) => restoredNumber(value, index % stride === 0 ? -Infinity : 0));
}

/** Allocated at its final size (pushing would over-allocate capacity); slot index -Infinity. */
function emptyBuckets(stride: number): number[] {
  const buckets = new Array<number>(SLOTS * stride).fill(0);
  for (let base = 0; base < buckets.length; base += stride) buckets[base] = -Infinity;
  return buckets;
}

/** Adds a sample to its bucket's sums; a sample whose bucket has left the ring is dropped. */
export function addSample(buckets: number[], bucketMs: number, ts: number, value: number): boolean {
  const index = Math.floor(ts / bucketMs);
  const base = slotOf(index) * SUMS_STRIDE;
  const held = buckets[base] as number;
  if (held > index) return false;
  if (held < index) {
    buckets[base] = index;
    for (let field = 1; field < 6; field += 1) buckets[base + field] = 0;
    buckets[base + 6] = value;
    buckets[base + 7] = value;
  } else {
    if (value < (buckets[base + 6] as number)) buckets[base + 6] = value;
    if (value > (buckets[base + 7] as number)) buckets[base + 7] = value;
  }
  const t = ts - index * bucketMs;
  buckets[base + 1] = (buckets[base + 1] as number) + 1;
  buckets[base + 2] = (buckets[base + 2] as number) + t;
  buckets[base + 3] = (buckets[base + 3] as number) + value;
  buckets[base + 4] = (buckets[base + 4] as number) + t * t;
  buckets[base + 5] = (buckets[base + 5] as number) + t * value;
  return true;
}

export interface LineFit {
  /** Samples in the fit. */
  readonly count: number;
  /** Value change per ms. */
  readonly slope: number;
  /** The fitted value at `origin`. */
  readonly valueAtOrigin: number;
  /** Buckets between the oldest non-empty one and `last`, inclusive (how spread the samples are). */
  readonly bucketSpan: number;
  /** Lowest and highest sample in the fit. */
  readonly lowest: number;
  readonly highest: number;
}

/**
 * Least-squares line through every sample of the buckets from `first` to `last`, with time
 * measured from `origin` (the current reading), and the range of those samples; undefined when
 * fewer than 2 distinct instants.
 * Each bucket's sums are shifted to the origin (`t' = t + d`: Σt' = Σt + n·d, Σt'² = Σt² + 2d·Σt +
 * n·d², Σt'v = Σtv + d·Σv), so times stay small and no precision is lost however long the device
 * has run.
 */
export function fitLine(
  buckets: readonly number[],
  bucketMs: number,
  first: number,
  last: number,
  origin: number,
): LineFit | undefined {
  let n = 0;
  let st = 0;
  let sv = 0;
  let stt = 0;
  let stv = 0;
  let oldest = Infinity;
  let lowest = Infinity;
  let highest = -Infinity;
  for (let base = 0; base < buckets.length; base += SUMS_STRIDE) {
    const index = buckets[base] as number;
    const count = buckets[base + 1] as number;
    if (index < first || index > last || count === 0) continue;
    const d = index * bucketMs - origin;
    const bt = buckets[base + 2] as number;
    const bv = buckets[base + 3] as number;
    n += count;
    st += bt + count * d;
    sv += bv;
    stt += (buckets[base + 4] as number) + 2 * d * bt + count * d * d;
    stv += (buckets[base + 5] as number) + d * bv;
    oldest = Math.min(oldest, index);
    lowest = Math.min(lowest, buckets[base + 6] as number);
    highest = Math.max(highest, buckets[base + 7] as number);
  }
  if (n < 2) return undefined;
  // Below 1 ms² the samples share one instant and the remainder is rounding error.
  const sxx = stt - (st * st) / n;
  if (!(sxx >= 1)) return undefined;
  const slope = (stv - (st * sv) / n) / sxx;
  return {
    count: n,
    slope,
    valueAtOrigin: (sv - slope * st) / n,
    bucketSpan: last - oldest + 1,
    lowest,
    highest,
  };
}
