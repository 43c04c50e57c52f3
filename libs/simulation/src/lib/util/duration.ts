import { z } from 'zod';

const UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PATTERN = /^(-)?(\d+(?:\.\d+)?)(ms|s|min|m|h|d)$/;

/**
 * Reads `500ms`, `30s`, `2m`, `1.5h`, `-27h` (a sign is allowed: clock skew goes both ways); a
 * bare number is seconds. Returns milliseconds, or `undefined` when the text is not a duration.
 */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text * 1000 : undefined;
  const trimmed = text.trim();
  if (/^-?\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const match = DURATION_PATTERN.exec(trimmed);
  if (!match) return undefined;
  const [, sign, amount, unit] = match;
  const ms = Number(amount) * (UNITS_MS[unit as string] as number);
  return sign ? -ms : ms;
}

/** A zod field for a duration written as `30s` (or a number of seconds); parses to milliseconds. */
export function durationSchema(options: { min?: number; allowNegative?: boolean } = {}) {
  return z.union([z.string(), z.number()]).transform((value, context) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      context.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration (e.g. 500ms, 30s, 2m, 1h)`,
      });
      return z.NEVER;
    }
    if (!options.allowNegative && ms < 0) {
      context.addIssue({ code: 'custom', message: `must not be negative, got "${value}"` });
      return z.NEVER;
    }
    if (options.min !== undefined && Math.abs(ms) < options.min) {
      context.addIssue({ code: 'custom', message: `must be at least ${options.min} ms` });
      return z.NEVER;
    }
    return ms;
  });
}

/** `1500` → `1.5s`, `90000` → `1m30s`, `250` → `250ms`: for summaries. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${+(abs / 1000).toFixed(1)}s`;
  const minutes = Math.floor(abs / 60_000);
  const seconds = Math.round((abs % 60_000) / 1000);
  return `${sign}${minutes}m${seconds ? `${seconds}s` : ''}`;
}
