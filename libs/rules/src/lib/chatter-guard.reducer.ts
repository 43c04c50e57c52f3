import type { RuleSignal } from '@vigil/contracts';

import { type DeadlineItem, DeadlineQueue } from './deadline-queue';
import { type EngineTick, NO_SIGNALS, type RuleStep, formatDuration } from './rule-signal';

/**
 * Chattering (ISA-18.2 / EEMUA 191 as quoted in domain-standards §8: "≥ 3 active/clear transitions
 * within 1 min", S) and its remedy (§9.8 chattering row: "hold ACTIVE, apply off-delay 60 s", P).
 */
export interface ChatterGuardConfig {
  /** State changes counted within this much server time… (60 s) */
  readonly windowMs: number;
  /** …this many of them make a key chatter (3). */
  readonly transitions: number;
  /** A chattering key is released after this long without a change (60 s). */
  readonly holdMs: number;
}

export const DEFAULT_CHATTER_GUARD: ChatterGuardConfig = Object.freeze({
  windowMs: 60_000,
  transitions: 3,
  holdMs: 60_000,
});

/** One signal key with recent changes. Owned by one guard; queued at its next deadline. */
interface ChatterEntry extends DeadlineItem {
  readonly key: string;
  /** `detectedAt` of the changes let through within the window, oldest first. */
  times: number[];
  /** What the guard last let through for the key: active or not. */
  shownActive: boolean;
  chattering: boolean;
  /** The newest signal from upstream: the real state while the key is held. */
  last: RuleSignal;
  /** `detectedAt` of the newest upstream change. */
  lastChangeAt: number;
}

export interface ChatterGuardState {
  /** Only keys with a change within the window, or chattering: bounded by recent activity. */
  readonly entries: Map<string, ChatterEntry>;
  readonly queue: DeadlineQueue<ChatterEntry>;
}

export function createChatterGuardState(): ChatterGuardState {
  return { entries: new Map(), queue: new DeadlineQueue() };
}

/**
 * The chatter guard over the rule engine's output, per signal key, on server time (`detectedAt`
 * of the signals and `now` of ticks, the same clock):
 *
 * - A change that would be the `transitions`-th within `windowMs` instead turns the key into
 *   chattering: one signal goes out with `active: true, chattering: true` (held active, whatever
 *   the change was), and every further change is held back.
 * - After `holdMs` without a change the key is released: one signal with `chattering: false` and
 *   the real state of the last upstream signal (cleared, or still active), and counting restarts
 *   from that signal.
 *
 * So within any `windowMs` a key changes state at most `transitions` times downstream, nothing is
 * lost (the final state always comes out), and a flapping detector costs the operator one alarm.
 * Signals of other keys pass untouched. A tick only visits keys whose deadline is due.
 */
export function reduceChatterGuard(
  state: ChatterGuardState,
  input: RuleSignal | EngineTick,
  config: ChatterGuardConfig = DEFAULT_CHATTER_GUARD,
): RuleStep<ChatterGuardState> {
  if ('kind' in input) return { state, signals: onTick(state, input.now, config) };
  return { state, signals: onSignal(state, input, config) };
}

function onSignal(
  state: ChatterGuardState,
  signal: RuleSignal,
  config: ChatterGuardConfig,
): readonly RuleSignal[] {
  const at = signal.detectedAt;
  let entry = state.entries.get(signal.key);
  if (!entry) {
    entry = {
      key: signal.key,
      times: [],
      shownActive: !signal.active,
      chattering: false,
      last: signal,
      lastChangeAt: at,
      dueAt: 0,
      queueIndex: -1,
    };
    state.entries.set(signal.key, entry);
  }
  entry.last = signal;
  entry.lastChangeAt = at;
  if (entry.chattering) {
    state.queue.schedule(entry, at + config.holdMs);
    return NO_SIGNALS;
  }
  if (entry.shownActive === signal.active) return [signal]; // not a change: nothing to count
  prune(entry, at, config);
  if (entry.times.length + 1 < config.transitions) {
    entry.times.push(at);
    entry.shownActive = signal.active;
    state.queue.schedule(entry, at + config.windowMs);
    return [signal];
  }
  entry.chattering = true;
  entry.times = [];
  entry.shownActive = true;
  state.queue.schedule(entry, at + config.holdMs);
  const message =
    `Chattering: ${config.transitions} state changes within ${formatDuration(config.windowMs)}; ` +
    `held active until ${formatDuration(config.holdMs)} without a change (now: ${signal.message})`;
  return [{ ...signal, active: true, chattering: true, message }];
}

function onTick(
  state: ChatterGuardState,
  now: number,
  config: ChatterGuardConfig,
): readonly RuleSignal[] {
  let signals: RuleSignal[] | undefined;
  for (let entry = state.queue.peek(); entry && entry.dueAt <= now; entry = state.queue.peek()) {
    state.queue.pop();
    if (entry.chattering) {
      const quietFor = now - entry.lastChangeAt;
      if (quietFor < config.holdMs) {
        state.queue.schedule(entry, entry.lastChangeAt + config.holdMs);
        continue;
      }
      const last = entry.last;
      entry.chattering = false;
      const changed = entry.shownActive !== last.active;
      entry.shownActive = last.active;
      entry.times = changed ? [now] : [];
      const message = `Chattering ended after ${formatDuration(quietFor)} without a change: ${last.message}`;
      (signals ??= []).push({ ...last, chattering: false, detectedAt: now, message });
    } else {
      prune(entry, now, config);
    }
    if (entry.times.length > 0) {
      state.queue.schedule(entry, (entry.times[0] as number) + config.windowMs);
    } else {
      state.entries.delete(entry.key);
    }
  }
  return signals ?? NO_SIGNALS;
}

/** Drops the changes that are `windowMs` or more before `at`. */
function prune(entry: ChatterEntry, at: number, config: ChatterGuardConfig): void {
  let drop = 0;
  while (drop < entry.times.length && (entry.times[drop] as number) <= at - config.windowMs) {
    drop += 1;
  }
  if (drop > 0) entry.times.splice(0, drop);
}
