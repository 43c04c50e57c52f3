import { durationSchema, formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['2min', 120_000],
    ['1h', 3_600_000],
    ['-27h', -97_200_000],
    ['1d', 86_400_000],
    ['45', 45_000],
    [' 10s ', 10_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads a bare number as seconds', () => {
    expect(parseDuration(2.5)).toBe(2500);
  });

  it.each(['', 'soon', '10 s', '5x', '1e3s', 'ms'])('refuses %p', text => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('durationSchema', () => {
  it('parses to milliseconds and names the bad value', () => {
    expect(durationSchema().parse('30s')).toBe(30_000);
    const bad = durationSchema().safeParse('later');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('"later" is not a duration');
  });

  it('refuses negative durations unless allowed', () => {
    expect(durationSchema().safeParse('-5s').success).toBe(false);
    expect(durationSchema({ allowNegative: true }).parse('-5s')).toBe(-5000);
  });

  it('enforces a minimum', () => {
    expect(durationSchema({ min: 1 }).safeParse('0s').success).toBe(false);
  });
});

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [1500, '1.5s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [-2000, '-2s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
