/** How far back a late sample is still recognised as late rather than as a device restart. */
const WINDOW = 64;

export type SeqVerdict = 'new' | 'duplicate' | 'late' | 'restart';

export interface SeqState {
  last: number;
  /** Bit i set ⇔ `last - i` was seen (i < 32), as two 32-bit words for speed. */
  seenLow: number;
  seenHigh: number;
  lost: number;
  /** Device time of the sample with the highest seq, when it carried one (else NaN). */
  newestTs: number;
}

export function initialSeqState(seq: number, ts?: number): SeqState {
  return { last: seq, seenLow: 1, seenHigh: 0, lost: 0, newestTs: ts ?? Number.NaN };
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
 * is older than the newest one seen, a restarted device's sample is newer. Without `ts` a
 * number seen before within the window stays a duplicate (a device that restarts after fewer
 * than 64 samples and sends no time loses its first samples up to its old count).
 */
export function trackSeq(state: SeqState, seq: number, ts?: number): SeqVerdict {
  if (seq > state.last) {
    const gap = seq - state.last;
    state.lost += gap - 1;
    shift(state, gap);
    state.last = seq;
    state.newestTs = ts ?? Number.NaN;
    mark(state, 0);
    return 'new';
  }
  const offset = state.last - seq;
  if (offset >= WINDOW || (ts !== undefined && ts > state.newestTs)) {
    // The device restarted its counter. Start over rather than drop its samples.
    Object.assign(state, initialSeqState(seq, ts));
    return 'restart';
  }
  if (seen(state, offset)) return 'duplicate';
  mark(state, offset);
  state.lost = Math.max(0, state.lost - 1);
  return 'late';
}
