import { ruleStateSaveDelayMs } from './rules.service';

describe('ruleStateSaveDelayMs: the periodic rule state saves take at most 5 % of the main thread', () => {
  it('saves every 5 s while a save is short (a small fleet)', () => {
    expect(ruleStateSaveDelayMs(0)).toBe(5000);
    expect(ruleStateSaveDelayMs(100)).toBe(5000);
    expect(ruleStateSaveDelayMs(263)).toBe(5000);
  });

  it('waits 19 times as long as a save kept the event loop busy once that is longer', () => {
    expect(ruleStateSaveDelayMs(1000)).toBe(19_000);
    const busyMs = 1300;
    const delayMs = ruleStateSaveDelayMs(busyMs);
    expect(busyMs / (busyMs + delayMs)).toBeCloseTo(0.05, 5);
  });
});
