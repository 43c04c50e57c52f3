/** InfluxQL quoting and durations, for the statements the adapter builds itself. */

/** A double-quoted identifier (database, retention policy, measurement). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/[\\"]/g, '\\$&')}"`;
}

/** A single-quoted string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&')}'`;
}

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** How retentions are configured: `<integer><h|d|w>` (VIGIL_INFLUX_*_RETENTION). */
export const RETENTION_PATTERN = /^(\d+)([hdw])$/;

/** A retention duration as configured (`30d`, `400d`, `12w`, `48h`) in ms; throws if malformed. */
export function retentionMs(duration: string): number {
  const match = RETENTION_PATTERN.exec(duration);
  if (!match) throw new RangeError(`retention "${duration}" is not <integer><h|d|w>`);
  const [, count, unit] = match;
  return Number(count) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

const GO_DURATION_PART = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g;
const GO_UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  ns: 1e-6,
};

/** A duration as SHOW RETENTION POLICIES prints it (`720h0m0s`; `0s` = infinite) in ms. */
export function goDurationMs(text: string): number {
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(GO_DURATION_PART)) {
    total += Number(match[1]) * (GO_UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed += match[0].length;
  }
  if (consumed !== text.length || consumed === 0 || Number.isNaN(total)) {
    throw new RangeError(`unreadable duration "${text}"`);
  }
  return total;
}
