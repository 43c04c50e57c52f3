/**
 * InfluxDB line protocol, as InfluxDB 1.6.7 parses it (checked against the real influxd, and
 * round-tripped through it by a property test):
 * - measurement, tag keys, tag values and field keys ("names") escape `,`, space and `=` with a
 *   backslash. Names have no escape for a backslash itself: one before an ordinary character is
 *   stored as is, but one before `\`, `,`, space, `=` or `"`, or at the end, is read differently
 *   by each part of the 1.x parser (field keys also unescape `\"`; a measurement written
 *   `g\\\ b` is stored as `g\ b`). Such names, and names with a newline (it ends the line), are
 *   refused rather than stored mangled; identifiers and metric names never contain them;
 * - a tab or NUL at the start of a measurement or field key is skipped as blank, so refused too;
 * - string field values escape `"` and `\`; newlines inside the quotes are literal and allowed;
 * - floats are plain numbers, integers end in `i`, booleans are `true`/`false`;
 * - the keys `time` are refused by the server, so they are refused here too.
 */

export class LineProtocolError extends Error {
  override readonly name = 'LineProtocolError';
}

/** A float is a `number`, an integer a `bigint` (int64), so the type chosen at the call site is the type written. */
export type FieldValue = number | bigint | boolean | string;

export interface LinePoint {
  readonly measurement: string;
  /** Undefined and empty values are left out (InfluxDB reads a missing tag as the empty string). */
  readonly tags?: Readonly<Record<string, string | undefined>>;
  /** Undefined values are left out; at least one field must remain. */
  readonly fields: Readonly<Record<string, FieldValue | undefined>>;
  /** Nanoseconds since the epoch (write with `precision=n`); the server's clock when absent. */
  readonly timestampNs?: string | bigint;
}

const ESCAPED_NAME_CHARS = /[,= ]/g;
// One test on the hot path: most names (identifiers, metric names) need no escaping and pass here.
const NAME_NEEDS_WORK = /[,= \n\\]/;
const AMBIGUOUS_BACKSLASH = /\\(?:[\\,= "]|$)/;
const NEEDS_STRING_ESCAPE = /["\\]/;
const STRING_ESCAPE_CHARS = /["\\]/g;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function checkName(value: string, what: string): void {
  if (value.length === 0) throw new LineProtocolError(`${what} is empty`);
  if (value.includes('\n')) {
    throw new LineProtocolError(`${what} contains a newline: ${JSON.stringify(value)}`);
  }
  if (AMBIGUOUS_BACKSLASH.test(value)) {
    throw new LineProtocolError(
      `${what} has a backslash before \\ , space, = or " or at its end, which InfluxDB 1.x cannot store faithfully: ${JSON.stringify(value)}`,
    );
  }
}

function checkNoLeadingBlank(value: string, what: string): void {
  const first = value.charCodeAt(0);
  if (first === 0x09 || first === 0x00) {
    throw new LineProtocolError(`${what} starts with a tab or NUL: ${JSON.stringify(value)}`);
  }
}

/** Escapes a measurement name. */
export function escapeMeasurement(name: string): string {
  // Line protocol treats a line starting with '#' as a comment: the point would vanish with a 204.
  if (name.startsWith('#')) {
    throw new LineProtocolError(`measurement starts with '#': ${JSON.stringify(name)}`);
  }
  checkNoLeadingBlank(name, 'measurement');
  return escapeKey(name, 'measurement');
}

/** Escapes a tag key or tag value. */
export function escapeKey(value: string, what = 'tag key or value'): string {
  if (value.length > 0 && !NAME_NEEDS_WORK.test(value)) return value;
  checkName(value, what);
  return value.replace(ESCAPED_NAME_CHARS, '\\$&');
}

/** Escapes a field key. */
export function escapeFieldKey(key: string, what = 'field key'): string {
  if (key === 'time') throw new LineProtocolError(`${what} "time" is reserved`);
  checkNoLeadingBlank(key, what);
  return escapeKey(key, what);
}

/** A string field value, quoted. */
export function formatString(value: string): string {
  return NEEDS_STRING_ESCAPE.test(value)
    ? `"${value.replace(STRING_ESCAPE_CHARS, '\\$&')}"`
    : `"${value}"`;
}

/** A float field value. JavaScript prints the shortest text that reads back as the same double. */
export function formatFloat(value: number): string {
  if (!Number.isFinite(value)) throw new LineProtocolError(`float field is not finite: ${value}`);
  return Object.is(value, -0) ? '-0' : String(value);
}

/** An integer field value (int64). */
export function formatInteger(value: bigint | number): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new LineProtocolError(`integer field is not a safe integer: ${value}`);
    }
    return `${value}i`;
  }
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new LineProtocolError(`integer field out of int64 range: ${value}`);
  }
  return `${value}i`;
}

export function formatField(value: FieldValue): string {
  switch (typeof value) {
    case 'number':
      return formatFloat(value);
    case 'bigint':
      return formatInteger(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return formatString(value);
  }
}

/** Encodes one point as one line (no trailing newline). Tags are written in the order given. */
export function encodeLine(point: LinePoint): string {
  let line = escapeMeasurement(point.measurement);
  if (point.tags) {
    for (const key in point.tags) {
      const value = point.tags[key];
      if (value === undefined || value === '') continue;
      if (key === 'time') throw new LineProtocolError('tag key "time" is reserved');
      line += `,${escapeKey(key, 'tag key')}=${escapeKey(value, 'tag value')}`;
    }
  }
  let separator = ' ';
  for (const key in point.fields) {
    const value = point.fields[key];
    if (value === undefined) continue;
    line += `${separator}${escapeFieldKey(key)}=${formatField(value)}`;
    separator = ',';
  }
  if (separator === ' ') {
    throw new LineProtocolError(`point of ${JSON.stringify(point.measurement)} has no fields`);
  }
  if (point.timestampNs !== undefined) line += ` ${point.timestampNs}`;
  return line;
}

const NS_PER_MS = 1_000_000;

/**
 * Epoch milliseconds (fractions kept to the nanosecond) as a nanosecond timestamp string, plus
 * `offsetNs` (0 ≤ offset < 1e6). Built as text because ms × 1e6 exceeds 2^53 for any date after
 * 1970-04-15; `precision=n` is used rather than `us`, which 1.6.7 misreads as nanoseconds.
 */
export function msToNs(ms: number, offsetNs = 0): string {
  if (offsetNs === 0 && ms > 0 && Number.isSafeInteger(ms)) return `${ms}000000`;
  if (!Number.isFinite(ms)) throw new LineProtocolError(`timestamp is not finite: ${ms}`);
  if (!Number.isInteger(offsetNs) || offsetNs < 0 || offsetNs >= NS_PER_MS) {
    throw new LineProtocolError(`timestamp offset must be an integer in [0, 1e6): ${offsetNs}`);
  }
  const wholeMs = Math.floor(ms);
  const subMsNs = Math.round((ms - wholeMs) * NS_PER_MS) + offsetNs;
  if (wholeMs > 0 && subMsNs < NS_PER_MS && Number.isSafeInteger(wholeMs)) {
    return subMsNs === 0 ? `${wholeMs}000000` : `${wholeMs}${String(subMsNs).padStart(6, '0')}`;
  }
  return (BigInt(wholeMs) * BigInt(NS_PER_MS) + BigInt(subMsNs)).toString();
}
