import fc from 'fast-check';

import {
  LineProtocolError,
  encodeLine,
  escapeKey,
  escapeMeasurement,
  formatFloat,
  formatInteger,
  formatString,
  msToNs,
  type FieldValue,
  type LinePoint,
} from './line-protocol';

/**
 * A small parser with InfluxDB 1.6.7's rules (models/points.go, confirmed against the real influxd):
 * a separator preceded by a backslash is escaped; names unescape `\,` `\ ` `\=` and keep other
 * backslashes; string fields unescape `\\` and `\"` only.
 */
interface ParsedLine {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  timestamp: string | undefined;
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === separator && text[i - 1] !== '\\') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unescapeName(text: string): string {
  return text.replace(/\\([,= ])/g, '$1');
}

function parseFieldValue(text: string): FieldValue {
  if (text.startsWith('"')) {
    let out = '';
    for (let i = 1; i < text.length - 1; i += 1) {
      const char = text[i];
      const next = text[i + 1];
      if (char === '\\' && (next === '\\' || next === '"') && i + 1 < text.length - 1) {
        out += next;
        i += 1;
      } else {
        out += char;
      }
    }
    return out;
  }
  if (text === 'true' || text === 'false') return text === 'true';
  if (text.endsWith('i')) return BigInt(text.slice(0, -1));
  return Number(text);
}

function parseLine(line: string): ParsedLine {
  // Key section: up to the first unescaped space.
  let keyEnd = 0;
  while (keyEnd < line.length && !(line[keyEnd] === ' ' && line[keyEnd - 1] !== '\\')) keyEnd += 1;
  const [measurement = '', ...tagPairs] = splitUnescaped(line.slice(0, keyEnd), ',');
  // Entries, not assignments: a key such as `__proto__` must stay an ordinary key.
  const tags: [string, string][] = [];
  for (const pair of tagPairs) {
    const [key = '', value = ''] = splitUnescaped(pair, '=');
    tags.push([unescapeName(key), unescapeName(value)]);
  }
  // Field section: pairs split on commas outside quotes; the timestamp follows the last space outside quotes.
  const fields: [string, FieldValue][] = [];
  let i = keyEnd + 1;
  let timestamp: string | undefined;
  while (i < line.length) {
    let keyStop = i;
    while (!(line[keyStop] === '=' && line[keyStop - 1] !== '\\')) keyStop += 1;
    const key = unescapeName(line.slice(i, keyStop));
    let valueStop = keyStop + 1;
    if (line[valueStop] === '"') {
      valueStop += 1;
      while (line[valueStop] !== '"') valueStop += line[valueStop] === '\\' ? 2 : 1;
      valueStop += 1;
    } else {
      while (valueStop < line.length && line[valueStop] !== ',' && line[valueStop] !== ' ') {
        valueStop += 1;
      }
    }
    fields.push([key, parseFieldValue(line.slice(keyStop + 1, valueStop))]);
    if (line[valueStop] === ' ') {
      timestamp = line.slice(valueStop + 1);
      break;
    }
    i = valueStop + 1;
  }
  return {
    measurement: unescapeName(measurement),
    tags: Object.fromEntries(tags),
    fields: Object.fromEntries(fields),
    timestamp,
  };
}

// A backslash before another backslash, a separator or a quote, or at the end (see line-protocol.ts).
const AMBIGUOUS = /\\(?:[\\,= "]|$)/;
// Everything line protocol treats specially, plus characters that have bitten other encoders.
const TRICKY = [
  '\u0000',
  '\u00a0',
  ',',
  '=',
  ' ',
  '\\',
  '"',
  "'",
  '#',
  '\t',
  '\r',
  'i',
  'e',
  '-',
  '.',
  '0',
  'é',
  '中',
  '🔥',
];
const nameChar = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
const validName = fc
  .string({ unit: nameChar, minLength: 1, maxLength: 12 })
  .filter(name => !name.includes('\n') && !AMBIGUOUS.test(name) && name !== 'time');
const stringValue = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...TRICKY, '\n', '\\"', '\\\\'),
    fc.string({ unit: 'binary', maxLength: 1 }),
  ),
  maxLength: 20,
});
const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.boolean(),
  stringValue,
);
export const linePoint: fc.Arbitrary<LinePoint & { timestampNs: string }> = fc.record({
  measurement: validName.filter(name => !/^[#\t\0]/.test(name)),
  tags: fc.dictionary(validName, validName, { maxKeys: 4 }),
  fields: fc.dictionary(
    validName.filter(name => !/^[\t\0]/.test(name)),
    fieldValue,
    { minKeys: 1, maxKeys: 5 },
  ),
  timestampNs: fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String),
});

describe(encodeLine.name, () => {
  it('escapes commas, spaces and equals signs in names and leaves other backslashes alone', () => {
    expect(
      encodeLine({
        measurement: 'my meas,ure=ment',
        tags: { 'tag key': 'a,b=c d', path: 'C:\\temp' },
        fields: { 'field=key': 1 },
        timestampNs: '1700000000000000000',
      }),
    ).toBe(
      'my\\ meas\\,ure\\=ment,tag\\ key=a\\,b\\=c\\ d,path=C:\\temp field\\=key=1 1700000000000000000',
    );
  });

  it('writes floats, integers, booleans and strings distinctly', () => {
    expect(
      encodeLine({
        measurement: 'm',
        fields: {
          float: 1,
          negative: -0,
          tiny: 5e-324,
          big: 1e21,
          int: 42n,
          on: true,
          off: false,
          text: 'hi',
        },
      }),
    ).toBe('m float=1,negative=-0,tiny=5e-324,big=1e+21,int=42i,on=true,off=false,text="hi"');
  });

  it('escapes quotes and backslashes in string fields and keeps newlines', () => {
    expect(encodeLine({ measurement: 'm', fields: { text: 'say "hi"\\\nbye\\' } })).toBe(
      'm text="say \\"hi\\"\\\\\nbye\\\\"',
    );
  });

  it('skips undefined tags, empty tags and undefined fields', () => {
    expect(
      encodeLine({
        measurement: 'm',
        tags: { a: undefined, b: '', c: 'x' },
        fields: { u: undefined, v: 1 },
      }),
    ).toBe('m,c=x v=1');
  });

  it.each<[string, LinePoint]>([
    ['no fields', { measurement: 'm', fields: { v: undefined } }],
    ['an empty measurement', { measurement: '', fields: { v: 1 } }],
    ['a comment-like measurement', { measurement: '#m', fields: { v: 1 } }],
    ['a newline in a tag', { measurement: 'm', tags: { t: 'a\nb' }, fields: { v: 1 } }],
    ['a trailing backslash in a tag', { measurement: 'm', tags: { t: 'a\\' }, fields: { v: 1 } }],
    ['a trailing backslash in a measurement', { measurement: 'm\\', fields: { v: 1 } }],
    ['a backslash before a comma in a field key', { measurement: 'm', fields: { 'a\\,b': 1 } }],
    ['a backslash before a quote in a field key', { measurement: 'm', fields: { 'a\\"b': 1 } }],
    ['a measurement starting with a tab', { measurement: '\tm', fields: { v: 1 } }],
    ['a field key starting with NUL', { measurement: 'm', fields: { '\u0000v': 1 } }],
    ['two backslashes in a measurement', { measurement: 'a\\\\b', fields: { v: 1 } }],
    ['a field named time', { measurement: 'm', fields: { time: 1 } }],
    ['a tag named time', { measurement: 'm', tags: { time: 'x' }, fields: { v: 1 } }],
    ['NaN', { measurement: 'm', fields: { v: Number.NaN } }],
    ['Infinity', { measurement: 'm', fields: { v: Number.POSITIVE_INFINITY } }],
    ['an integer beyond int64', { measurement: 'm', fields: { v: 2n ** 63n } }],
  ])('refuses %s', (_case, point) => {
    expect(() => encodeLine(point)).toThrow(LineProtocolError);
  });

  it('round-trips any representable point through a 1.6.7-style parser', () => {
    fc.assert(
      fc.property(linePoint, point => {
        const parsed = parseLine(encodeLine(point));
        expect(parsed.measurement).toBe(point.measurement);
        expect(parsed.tags).toEqual(point.tags);
        expect(parsed.fields).toEqual(point.fields);
        expect(parsed.timestamp).toBe(point.timestampNs);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never lets a name break the line: it escapes it or refuses it', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...TRICKY, '\n', 'a') }), name => {
        let escaped: string;
        try {
          escaped = escapeKey(name);
        } catch (error) {
          expect(error).toBeInstanceOf(LineProtocolError);
          expect(name === '' || name.includes('\n') || AMBIGUOUS.test(name)).toBe(true);
          return;
        }
        expect(splitUnescaped(escaped, ',')).toHaveLength(1);
        expect(splitUnescaped(escaped, ' ')).toHaveLength(1);
        expect(splitUnescaped(escaped, '=')).toHaveLength(1);
        expect(unescapeName(escaped)).toBe(name);
      }),
    );
  });
});

describe('value formatting', () => {
  it('prints the shortest text that reads back as the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), value => {
        expect(Object.is(Number(formatFloat(value)), value)).toBe(true);
      }),
    );
  });

  it('accepts safe integers as numbers and int64 as bigint', () => {
    expect(formatInteger(7)).toBe('7i');
    expect(formatInteger(-(2n ** 63n))).toBe('-9223372036854775808i');
    expect(() => formatInteger(1.5)).toThrow(LineProtocolError);
    expect(() => formatInteger(2 ** 53)).toThrow(LineProtocolError);
  });

  it('quotes strings', () => {
    expect(formatString('')).toBe('""');
    expect(formatString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('escapes measurement names like keys', () => {
    expect(escapeMeasurement('a b,c=d\\e')).toBe('a\\ b\\,c\\=d\\e');
  });
});

describe(msToNs.name, () => {
  it('turns epoch ms into exact nanosecond text, beyond 2^53', () => {
    expect(msToNs(1_700_000_000_123)).toBe('1700000000123000000');
    expect(msToNs(0)).toBe('0');
    expect(msToNs(1_700_000_000_123, 7)).toBe('1700000000123000007');
    expect(msToNs(1_700_000_000_123, 999_999)).toBe('1700000000123999999');
    expect(msToNs(1.5)).toBe('1500000');
    expect(msToNs(-1)).toBe('-1000000');
    expect(msToNs(-1.25, 1)).toBe('-1249999');
  });

  it('agrees with BigInt arithmetic for integer ms and any offset', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -9e12, max: 9e12 }), fc.integer({ min: -2, max: 2 })),
        fc.oneof(fc.integer({ min: 0, max: 999_999 }), fc.constant(0)),
        (ms, offset) => {
          expect(msToNs(ms, offset)).toBe((BigInt(ms) * 1_000_000n + BigInt(offset)).toString());
        },
      ),
    );
  });

  it('refuses non-finite times and offsets outside [0, 1e6)', () => {
    expect(() => msToNs(Number.NaN)).toThrow(LineProtocolError);
    expect(() => msToNs(0, 1_000_000)).toThrow(LineProtocolError);
    expect(() => msToNs(0, -1)).toThrow(LineProtocolError);
  });
});
