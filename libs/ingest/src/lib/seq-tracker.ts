/** How far back a late sample is still recognised as late rather than as a device restart. */
const WINDOW = 64;
/**
 * Without a device time, a number seen before is a re-delivery only while the device's newest
 * sample arrived at most this long ago (receive time). MQTT re-sends an unacknowledged message when
 * the client reconnects, within seconds; a seen number after a longer silence is a counter that
 * started over. Erring this way evaluates a late re-delivery twice, never drops a restart.
 */
export const REDELIVERY_WINDOW_MS = 30_000;
/** Counters start at 0 or 1; a few lost first samples still leave a restart's number this small. */
export const RESTART_SEQ_MAX = 3;
/** A small seen number after this much silence is a restart, not a burst of re-deliveries. */
export const RESTART_MIN_GAP_MS = 1_000;
/** A seen number this far below the newest, and below half of it, is a counter that started over. */
const FAR_BELOW = 16;

export type SeqVerdict = 'new' | 'duplicate' | 'late' | 'restart';

export interface SeqState {
  last: number;
  /** Bit i set ⇔ `last - i` was seen (i < 32), as two 32-bit words for speed. */
  seenLow: number;
  seenHigh: number;
  lost: number;
  /** Device time of the sample with the highest seq, when it carried one (else NaN). */
  newestTs: number;
  /** Receive time of the newest accepted sample (NaN when the caller gives none). */
  lastArrivalAt: number;
}

export function initialSeqState(seq: number, ts?: number, receivedAt?: number): SeqState {
  return {
    last: seq,
    seenLow: 1,
    seenHigh: 0,
    lost: 0,
    newestTs: ts ?? Number.NaN,
    lastArrivalAt: receivedAt ?? Number.NaN,
  };
}

function seen(state: SeqState, offset: number): boolean {
  return offset < 32
    ? ((state.seenLow >>> offset) & 1) === 1
    : ((state.seenHigh >>> (offset - 32)) & 1) === 1;
}

function mark(state: SeqState, offset: number): void {
  if (offset < 32) state.seenLow |= 1 << offset;
  else state.seenHigh |= 1 << (offset - 32);
}

function shift(state: SeqState, by: number): void {
  if (by >= WINDOW) {
    state.seenLow = 0;
    state.seenHigh = 0;
  } else if (by >= 32) {
    state.seenHigh = state.seenLow << (by - 32);
    state.seenLow = 0;
  } else if (by > 0) {
    state.seenHigh = (state.seenHigh << by) | (state.seenLow >>> (32 - by));
    state.seenLow = state.seenLow << by;
  }
}

/**
 * Classifies a device sequence number and updates the state in place (this runs for every
 * sample, so it allocates nothing). Gaps are counted in `lost`; a late sample fills its gap back.
 *
 * A device that restarts its counter sends numbers it has sent before. Far behind the highest
 * (64 or more) that is a restart; closer, the device time tells: a re-delivered or late sample
 * is older than the newest one seen, a restarted device's sample is newer. Without `ts`, the
 * receive time tells (issue 10 finding 6): a number seen before is a re-delivery only while the
 * device's newest sample arrived within REDELIVERY_WINDOW_MS; a small number (≤ RESTART_SEQ_MAX)
 * after RESTART_MIN_GAP_MS of silence (seen before or not), or one far below the newest and below half of it, is a
 * restart. Without `receivedAt` (tests of the number logic alone) only the first two rules apply.
 */
export function trackSeq(
  state: SeqState,
  seq: number,
  ts?: number,
  receivedAt?: number,
): SeqVerdict {
  if (seq > state.last) {
    const gap = seq - state.last;
    state.lost += gap - 1;
    shift(state, gap);
    state.last = seq;
    state.newestTs = ts ?? Number.NaN;
    if (receivedAt !== undefined) state.lastArrivalAt = receivedAt;
    mark(state, 0);
    return 'new';
  }
  const offset = state.last - seq;
  if (
    offset >= WINDOW ||
    (ts !== undefined && ts > state.newestTs) ||
    (ts === undefined && receivedAt !== undefined && restartedUnstamped(state, seq, receivedAt))
  ) {
    // The device restarted its counter. Start over rather than drop its samples.
    Object.assign(state, initialSeqState(seq, ts, receivedAt));
    return 'restart';
  }
  if (seen(state, offset)) return 'duplicate';
  mark(state, offset);
  state.lost = Math.max(0, state.lost - 1);
  if (receivedAt !== undefined && !(receivedAt <= state.lastArrivalAt))
    state.lastArrivalAt = receivedAt;
  return 'late';
}

/** A number at or below the newest, from a device that sends no time: restart or re-delivery? */
function restartedUnstamped(state: SeqState, seq: number, receivedAt: number): boolean {
  const offset = state.last - seq;
  const quietMs = receivedAt - state.lastArrivalAt;
  // Seen or not: after a reset of this state only the restart's first number is marked.
  if (seq <= RESTART_SEQ_MAX && quietMs >= RESTART_MIN_GAP_MS) return true;
  if (!seen(state, offset)) return false; // a late sample filling its gap
  if (quietMs > REDELIVERY_WINDOW_MS) return true;
  return offset >= FAR_BELOW && seq < offset;
}
