/** Opaque handle returned by {@link SimulatorClock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Where the simulator gets its time and timers from, so that tests and scripted scenarios can run
 * it on virtual time (the same idea as MQTT.js's injected timers).
 */
export interface SimulatorClock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: SimulatorClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: handle => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface ManualTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

/** A clock that only moves when told to: timers fire in due order inside {@link advance}. */
export class ManualClock implements SimulatorClock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(startAt = 1_763_900_000_000) {
    this.current = startAt;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, dueAt: this.current + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers still waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, including ones set meanwhile. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let earliest: ManualTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.dueAt > target) continue;
        if (!earliest || timer.dueAt < earliest.dueAt) earliest = timer;
      }
      if (!earliest) break;
      this.timers.delete(earliest.id);
      this.current = earliest.dueAt;
      earliest.callback();
    }
    this.current = target;
  }
}
