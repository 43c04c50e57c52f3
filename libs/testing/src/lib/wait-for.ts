export interface WaitForOptions {
  /** Named in the timeout error, e.g. `'influxd to answer /ping'`. */
  readonly what: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

export class WaitForTimeoutError extends Error {
  override readonly name = 'WaitForTimeoutError';
}

/**
 * Polls `probe` until it returns a truthy value and returns that value. A probe that throws counts
 * as "not yet"; its last error goes into the timeout message. Uses real timers, so it must not run
 * under jest fake timers.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { what, timeoutMs = 5_000, intervalMs = 50 }: WaitForOptions,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const cause = lastError === undefined ? '' : `; last error: ${describeError(lastError)}`;
      throw new WaitForTimeoutError(
        `timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${what}${cause}`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
