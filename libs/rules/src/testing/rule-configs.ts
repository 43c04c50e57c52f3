import type {
  EventRuleConfig,
  RangeRuleConfig,
  RateRuleConfig,
  SkewRuleConfig,
  StuckRuleConfig,
  TrendRuleConfig,
} from '../lib/rule-config';

const common = { latched: false, enabled: true } as const;

/** `range-lel`: below −5 or above 100 %LEL, no delays unless a test asks for them. */
export function rangeConfig(overrides: Partial<RangeRuleConfig> = {}): RangeRuleConfig {
  return {
    ...common,
    ruleId: 'range-lel',
    kind: 'range',
    metric: 'lel',
    low: -5,
    high: 100,
    onDelayMs: 0,
    offDelayMs: 0,
    priority: 3,
    category: 'quality',
    level: 'range',
    label: 'Combustible gas',
    unit: '%LEL',
    ...overrides,
  };
}

/** `stuck`: Δ < 0.1 %LEL for 60 s (the tests' short duration), zero skipped. */
export function stuckConfig(overrides: Partial<StuckRuleConfig> = {}): StuckRuleConfig {
  return {
    ...common,
    ruleId: 'stuck',
    kind: 'stuck',
    metric: 'lel',
    minDelta: 0.1,
    durationMs: 60_000,
    skipZero: true,
    priority: 4,
    category: 'quality',
    level: 'stuck',
    label: 'Combustible gas',
    unit: '%LEL',
    ...overrides,
  };
}

/** `gas-rate`: rise ≥ 10 %LEL within 60 s while below 25, clears under 5. */
export function rateConfig(overrides: Partial<RateRuleConfig> = {}): RateRuleConfig {
  return {
    ...common,
    ruleId: 'gas-rate',
    kind: 'rate',
    metric: 'lel',
    direction: 'rise',
    delta: 10,
    deadband: 5,
    windowMs: 60_000,
    below: 25,
    priority: 3,
    category: 'warning',
    level: 'rate-of-rise',
    label: 'Combustible gas',
    unit: '%LEL',
    ...overrides,
  } as RateRuleConfig;
}

/** `gas-trend`: reaches 25 %LEL within 5 min on a 60 s window of ≥ 3 samples, ≥ 2 %LEL rise. */
export function trendConfig(overrides: Partial<TrendRuleConfig> = {}): TrendRuleConfig {
  return {
    ...common,
    ruleId: 'gas-trend',
    kind: 'trend',
    metric: 'lel',
    direction: 'high',
    target: 25,
    minDelta: 2,
    windowMs: 60_000,
    horizonMs: 300_000,
    clearHorizonMs: 600_000,
    minSamples: 3,
    priority: 3,
    category: 'warning',
    level: 'trend',
    label: 'Combustible gas',
    unit: '%LEL',
    ...overrides,
  };
}

/** `clock-skew`: > 60 s for 60 s of receive time, clears within 30 s. */
export function skewConfig(overrides: Partial<SkewRuleConfig> = {}): SkewRuleConfig {
  return {
    ...common,
    ruleId: 'clock-skew',
    kind: 'skew',
    maxSkewMs: 60_000,
    clearSkewMs: 30_000,
    onDelayMs: 60_000,
    priority: 4,
    category: 'quality',
    level: 'clock',
    ...overrides,
  };
}

/** `fire`: hold, cleared by `reset`. */
export function eventConfig(overrides: Partial<EventRuleConfig> = {}): EventRuleConfig {
  return {
    ruleId: 'fire',
    kind: 'event',
    code: 'fire',
    mode: 'hold',
    clearCodes: ['reset'],
    priority: 1,
    category: 'process',
    level: 'fire',
    latched: true,
    enabled: true,
    label: 'Unconfirmed fire',
    ...overrides,
  };
}
