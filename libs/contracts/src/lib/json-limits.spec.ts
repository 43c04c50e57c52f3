import { DEVICE_JSON_LIMITS, checkJsonLimits, type JsonLimits } from './json-limits';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const small: JsonLimits = { maxDepth: 3, maxItems: 3, maxStringBytes: 5 };

describe('checkJsonLimits', () => {
  it('accepts payloads within every limit', () => {
    expect(checkJsonLimits(bytes('{"a":[1,2,3],"b":{"c":"12345"}}'), small)).toBe('ok');
    expect(checkJsonLimits(bytes('[[[]]]'), small)).toBe('ok');
    expect(checkJsonLimits(bytes(''), small)).toBe('ok');
  });

  it('refuses nesting deeper than the limit', () => {
    expect(checkJsonLimits(bytes('[[[[]]]]'), small)).toBe('too-deep');
    expect(checkJsonLimits(bytes('{"a":{"b":{"c":{}}}}'), small)).toBe('too-deep');
  });

  it('counts depth again after a container closes', () => {
    expect(checkJsonLimits(bytes('[[[]],[[]],[[]]]'), small)).toBe('ok');
  });

  it('refuses more items than the limit in one container, not across containers', () => {
    expect(checkJsonLimits(bytes('[1,2,3,4]'), small)).toBe('too-many-items');
    expect(checkJsonLimits(bytes('{"a":1,"b":2,"c":3,"d":4}'), small)).toBe('too-many-items');
    expect(checkJsonLimits(bytes('[[1,2,3],[1,2,3],[1,2,3]]'), small)).toBe('ok');
  });

  it('refuses a string longer than the limit, keys included', () => {
    expect(checkJsonLimits(bytes('{"a":"123456"}'), small)).toBe('string-too-long');
    expect(checkJsonLimits(bytes('{"123456":1}'), small)).toBe('string-too-long');
  });

  it('ignores brackets, commas and escaped quotes inside strings', () => {
    expect(checkJsonLimits(bytes('["[[[[","\\"]]]"]'), small)).toBe('ok');
    expect(checkJsonLimits(bytes('[",,,,"]'), small)).toBe('ok');
  });

  it('refuses the 6,000-deep event of issue 10 on the device limits', () => {
    const deep = `{"code":"fire","detail":${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}}`;
    expect(checkJsonLimits(bytes(deep), DEVICE_JSON_LIMITS)).toBe('too-deep');
  });

  it('accepts a full gateway batch on the device limits', () => {
    const sample = '{"ts":1767225600000,"seq":1,"values":{"lel":12.5,"fault":false}}';
    const batch = `{"batch":[${Array.from({ length: 1000 }, () => sample).join(',')}]}`;
    expect(checkJsonLimits(bytes(batch), DEVICE_JSON_LIMITS)).toBe('ok');
  });

  it('never throws on arbitrary bytes, unbalanced brackets included', () => {
    for (const text of ['}}}]]]', '"unterminated', '\\', '[[[', '{"a":"\\']) {
      expect(() => checkJsonLimits(bytes(text), small)).not.toThrow();
    }
  });
});
