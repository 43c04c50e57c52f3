/** Site and device identifiers, pinned by the public interface (`shared/spec/interfaces.md` §1). */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidIdentifier(value: string): boolean {
  return IDENTIFIER_PATTERN.test(value);
}

/** Metric names and event codes (`shared/spec/interfaces.md` §1): zod-free, so the console can use them. */
export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const EVENT_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
