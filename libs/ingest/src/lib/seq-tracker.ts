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

/**
 * `stale`: a number more than WINDOW below the newest, with a device time no newer than any seen:
 * an old sample, re-delivered or late, which the seen-bitmap no longer tells apart. Never a
 * restart (a restarted device's samples are newer than anything seen); passed on to be evaluated
 * (the rules count it late beyond their allowance; InfluxDB overwrites the same point) and
 * counted, so that an original is never dropped on a guess.
 */
export type SeqVerdict = 'new' | 'duplicate' | 'late' | 'restart' | 'stale';

export interface SeqState {
  last: number;
  /** Bit i set ⇔ `last - i` was seen (i < 32), as two 32-bit words for speed. */
  seenLow: number;
  seenHigh: number;
  lost: number;
  /**
   * Newest device time seen since this counter (re)started (NaN: none carried one). A sample
   * whose time is not newer than this cannot be a restarted counter's: a repeated (seq, ts) pair
   * is a re-delivery however far behind it is and however long ingest was away.
   */
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
 * A device that restarts its counter sends numbers it has sent before. The device time tells: a
 * re-delivered or late sample is no newer than the newest one seen, a restarted device's sample
 * is newer. Without `ts`, far behind the highest (64 or more) is a restart, and the
 * receive time tells (issue 10 finding 6): a number seen before is a re-delivery only while the
 * device's newest sample arrived within REDELIVERY_WINDOW_MS; a small number (≤ RESTART_SEQ_MAX)
 * after RESTART_MIN_GAP_MS of silence (seen before or not), or one far below the newest and below half of it, is a
 * restart. Without `receivedAt` (tests of the number logic alone) only the first two rules apply.
 * `redelivered`: the broker re-sent the message to ingest (the PUBLISH's DUP flag): a seen number
 * (above RESTART_SEQ_MAX) is then a duplicate, never a restart, whatever the silence.
 * With a device time and one seen before, the time alone decides: a sample no newer than the newest
 * seen is never a restart (duplicate, late, or `stale` beyond the window), a newer one with a number
 * at or below the newest is.
 */
export function trackSeq(
  state: SeqState,
  seq: number,
  ts?: number,
  receivedAt?: number,
  redelivered = false,
): SeqVerdict {
  if (seq > state.last) {
    const gap = seq - state.last;
    state.lost += gap - 1;
    shift(state, gap);
    state.last = seq;
    if (ts !== undefined && !(ts <= state.newestTs)) state.newestTs = ts;
    if (receivedAt !== undefined) state.lastArrivalAt = receivedAt;
    mark(state, 0);
    return 'new';
  }
  const offset = state.last - seq;
  // With a device time, the time alone decides (load runs, 2026-12-07: a re-delivered backlog of
  // more than WINDOW samples after ingest's keepalive timeout was taken for a restart, the state
  // started over, and the whole backlog was evaluated a second time as new).
  const stamped = ts !== undefined && state.newestTs === state.newestTs; // not NaN
  if (
    stamped
      ? ts > state.newestTs
      : offset >= WINDOW ||
        (receivedAt !== undefined && restartedUnstamped(state, seq, receivedAt, redelivered))
  ) {
    // The device restarted its counter. Start over rather than drop its samples.
    Object.assign(state, initialSeqState(seq, ts, receivedAt));
    return 'restart';
  }
  if (offset >= WINDOW) return 'stale';
  if (seen(state, offset)) return 'duplicate';
  mark(state, offset);
  state.lost = Math.max(0, state.lost - 1);
  if (receivedAt !== undefined && !(receivedAt <= state.lastArrivalAt))
    state.lastArrivalAt = receivedAt;
  return 'late';
}

/** A number at or below the newest, from a device that sends no time: restart or re-delivery? */
function restartedUnstamped(
  state: SeqState,
  seq: number,
  receivedAt: number,
  redelivered: boolean,
): boolean {
  const offset = state.last - seq;
  const quietMs = receivedAt - state.lastArrivalAt;
  // Seen or not: after a reset of this state only the restart's first number is marked.
  if (seq <= RESTART_SEQ_MAX && quietMs >= RESTART_MIN_GAP_MS) return true;
  if (!seen(state, offset)) return false; // a late sample filling its gap
  // The broker re-sends (MQTT DUP flag, 3.1.1 §3.3.1.1) what it had sent to ingest and not had
  // PUBACKed: a number ingest has seen is that message again, however long ingest was away.
  if (redelivered) return false;
  if (quietMs > REDELIVERY_WINDOW_MS) return true;
  return offset >= FAR_BELOW && seq < offset;
}
