import { DEVICE_CLASS_DEFINITIONS, type DeviceClass } from '@vigil/contracts';

import { type RuleDevice, defaultRules } from './default-rules';
import { processRules } from './process-setpoints';
import { resolveDeviceRules } from './resolve-device-rules';
import { type RuleConfig, ruleConfigSchema, ruleOverrideSchema } from './rule-config';

function deviceOf(deviceClass: DeviceClass, attributes: RuleDevice['attributes'] = {}): RuleDevice {
  return {
    deviceClass,
    attributes,
    intervalSeconds: DEVICE_CLASS_DEFINITIONS[deviceClass].intervalSeconds,
  };
}

function ruleById(rules: readonly RuleConfig[], ruleId: string) {
  return rules.find(rule => rule.ruleId === ruleId);
}

const ids = (rules: readonly RuleConfig[]) => rules.map(rule => rule.ruleId);

describe('electrical-fire defaults (domain-standards §9.3)', () => {
  it('alarms at 300 mA (GB 50116-2013 §9.2.3) with a 210 mA P3 pre-alarm, both latched or not as the standards say', () => {
    const { rules, errors } = defaultRules(deviceOf('electrical-fire'));
    expect(errors).toEqual([]);
    expect(ruleById(rules, 'leak-alarm')).toMatchObject({
      metric: 'leak_ma',
      setpoint: 300,
      deadband: 30,
      latched: true,
      priority: 2,
      category: 'process',
    });
    expect(ruleById(rules, 'leak-pre')).toMatchObject({
      setpoint: 210,
      latched: false,
      priority: 3,
      category: 'warning',
    });
  });

  it('derives the cable temperature alarm from ratedTempC × 0.8, else 70 °C', () => {
    const pvc = defaultRules(deviceOf('electrical-fire', { ratedTempC: 70 }));
    expect(ruleById(pvc.rules, 'temp-alarm')).toMatchObject({ setpoint: 56, latched: true });
    expect(ruleById(pvc.rules, 'temp-pre')).toMatchObject({ setpoint: 49, priority: 3 });
    const xlpe = defaultRules(deviceOf('electrical-fire', { ratedTempC: 90 }));
    expect(ruleById(xlpe.rules, 'temp-alarm')).toMatchObject({ setpoint: 72 });
    const unknown = defaultRules(deviceOf('electrical-fire'));
    expect(ruleById(unknown.rules, 'temp-alarm')).toMatchObject({ setpoint: 70 });
    expect(ruleById(unknown.rules, 'temp-trend')).toMatchObject({ target: 70 });
  });

  it('refuses a temperature alarm outside 55–140 °C unless an override sets a valid one', () => {
    const hot = {
      deviceClass: 'electrical-fire' as const,
      attributes: { ratedTempC: 200 },
      intervalSeconds: 30,
    };
    expect(resolveDeviceRules(hot, []).errors).toEqual([
      'rules.temp-alarm.setpoint: 160 °C is outside the 55–140 °C alarm-setting range of GB 14287.3 detectors',
    ]);
    expect(resolveDeviceRules(hot, [{ 'temp-alarm': { setpoint: 120 } }]).errors).toEqual([]);
    const cool = { ...hot, attributes: { ratedTempC: 60 } };
    expect(resolveDeviceRules(cool, []).errors).toEqual([
      expect.stringContaining('48 °C is outside'),
    ]);
    const text = { ...hot, attributes: { ratedTempC: 'PVC' } };
    expect(resolveDeviceRules(text, []).errors).toEqual([
      'attributes.ratedTempC: must be a positive number of °C (got "PVC")',
    ]);
  });

  it('raises arcs at 14 half-cycles/s and clears below 9, latched (GB 31252 §4.3)', () => {
    const { rules } = defaultRules(deviceOf('electrical-fire'));
    expect(ruleById(rules, 'arc')).toMatchObject({
      kind: 'threshold',
      metric: 'arc',
      setpoint: 14,
      deadband: 5,
      latched: true,
      priority: 2,
    });
  });

  it('warns on a 100 mA step (P3) and an 8 °C/min rise (P2) within 60 s', () => {
    const { rules } = defaultRules(deviceOf('electrical-fire'));
    expect(ruleById(rules, 'leak-step')).toMatchObject({
      delta: 100,
      windowMs: 60_000,
      priority: 3,
    });
    expect(ruleById(rules, 'temp-rate')).toMatchObject({ delta: 8, windowMs: 60_000, priority: 2 });
  });

  it('treats a sensor fault as a P3 quality alarm, never as an alarm (GB 14287.5 §5.3.5)', () => {
    const { rules } = defaultRules(deviceOf('electrical-fire'));
    expect(ruleById(rules, 'fault')).toMatchObject({ priority: 3, category: 'quality' });
  });
});

describe('mhs-tank defaults (domain-standards §9.4)', () => {
  it('has level H 85 / HH 95 / L 10 / LL 5 % with a 5 % deadband and 60 s delays except HH/LL', () => {
    const { rules, errors } = defaultRules(deviceOf('mhs-tank'));
    expect(errors).toEqual([]);
    expect(ids(rules)).toEqual([
      'offline',
      'fault',
      'clock-skew',
      'range-level',
      'range-temp_c',
      'range-pressure_kpa',
      'range-flow_m3h',
      'stuck-level',
      'level-h',
      'level-hh',
      'level-l',
      'level-ll',
      'level-trend',
    ]);
    expect(ruleById(rules, 'level-h')).toMatchObject({
      direction: 'high',
      setpoint: 85,
      deadband: 5,
      onDelayMs: 60_000,
      offDelayMs: 60_000,
      priority: 3,
      level: 'H',
    });
    expect(ruleById(rules, 'level-hh')).toMatchObject({ setpoint: 95, onDelayMs: 0, priority: 2 });
    expect(ruleById(rules, 'level-l')).toMatchObject({ direction: 'low', setpoint: 10 });
    expect(ruleById(rules, 'level-ll')).toMatchObject({ setpoint: 5, onDelayMs: 0, priority: 2 });
    expect(ruleById(rules, 'range-level')).toMatchObject({ low: -2, high: 102 });
    expect(ruleById(rules, 'level-trend')).toMatchObject({ target: 95 });
  });

  it('enables pressure, temperature and flow alarms only from registry set-points', () => {
    const { rules, errors } = defaultRules(
      deviceOf('mhs-tank', {
        pressure_kpa_h: 1500,
        pressure_kpa_hh: 1600,
        pressure_kpa_span: 2500,
        temp_c_hh: 45,
        level_pct_hh: 92,
      }),
    );
    expect(errors).toEqual([]);
    expect(ruleById(rules, 'pressure-h')).toMatchObject({
      metric: 'pressure_kpa',
      setpoint: 1500,
      deadband: 50, // 2 % of the 2500 kPa span
      onDelayMs: 15_000,
      priority: 3,
    });
    expect(ruleById(rules, 'pressure-hh')).toMatchObject({
      setpoint: 1600,
      onDelayMs: 0,
      priority: 2,
    });
    expect(ruleById(rules, 'pressure-l')).toBeUndefined();
    // Without a span the deadband is 1 % of the set-point's size.
    expect(ruleById(rules, 'temp-hh')).toMatchObject({ setpoint: 45, deadband: 0.45 });
    expect(ruleById(rules, 'flow-h')).toBeUndefined();
    expect(ruleById(rules, 'level-hh')).toMatchObject({ setpoint: 92 });
    expect(ruleById(rules, 'level-trend')).toMatchObject({ target: 92 });
  });

  it('lists set-points that are not numbers or not in LL < L < H < HH order', () => {
    expect(
      processRules({ pressure_kpa_hh: '1600', temp_c_h: 50, temp_c_hh: 40, level_pct_l: 90 })
        .errors,
    ).toEqual([
      'attributes.level_pct_l (90) must be below level_pct_h (85): LL < L < H < HH',
      'attributes.temp_c_h (50) must be below temp_c_hh (40): LL < L < H < HH',
      'attributes.pressure_kpa_hh: must be a number (got "1600")',
    ]);
    expect(processRules({ flow_m3h_h: 10, flow_m3h_span: 0 }).errors).toEqual([
      'attributes.flow_m3h_span: must be a positive number (got 0)',
    ]);
  });
});

describe('event defaults (domain-standards §9.6, §9.7)', () => {
  it('maps fire-panel events to priorities, fire first; reset clears only what a panel reset clears', () => {
    const { rules } = defaultRules(deviceOf('fire-panel'));
    expect(ids(rules)).toEqual([
      'offline',
      'fire',
      'fault',
      'supervisory',
      'isolation',
      'start',
      'feedback',
      'mains-fault',
      'backup-fault',
      'manual-mode',
    ]);
    expect(ruleById(rules, 'fire')).toMatchObject({
      code: 'fire',
      mode: 'hold',
      clearCodes: ['reset'],
      priority: 1,
      category: 'process',
      latched: true,
      confirmZones: true,
    });
    expect(ruleById(rules, 'fault')).toMatchObject({ priority: 3, category: 'quality' });
    expect(ruleById(rules, 'supervisory')).toMatchObject({ priority: 3, category: 'process' });
    // Hidden loss of protection: isolation and mains failure are P2, not cleared by a reset.
    expect(ruleById(rules, 'isolation')).toMatchObject({ priority: 2, clearCodes: [] });
    expect(ruleById(rules, 'mains-fault')).toMatchObject({ priority: 2, clearCodes: [] });
    expect(ruleById(rules, 'backup-fault')).toMatchObject({ priority: 3, clearCodes: [] });
    expect(ruleById(rules, 'manual-mode')).toMatchObject({
      priority: 3,
      category: 'warning',
      clearCodes: ['auto_mode'],
    });
    expect(ruleById(rules, 'start')).toMatchObject({ priority: 4, clearCodes: ['reset'] });
    expect(ruleById(rules, 'feedback')).toMatchObject({ priority: 4, enabled: true });
  });

  it('takes device-side alarms with the device own level (GB 16808, GB 14287)', () => {
    for (const deviceClass of ['gas-combustible', 'gas-oxygen'] as const) {
      expect(ruleById(defaultRules(deviceOf(deviceClass)).rules, 'device-alarm')).toMatchObject({
        code: 'alarm',
        levels: { L1: 2, L2: 1 },
        level: 'L2',
        priority: 1,
        clearCodes: ['reset'],
      });
    }
    const electrical = defaultRules(deviceOf('electrical-fire')).rules;
    expect(ruleById(electrical, 'device-alarm')).toMatchObject({
      levels: { 'pre-alarm': 3, alarm: 2 },
      priority: 2,
      latched: true,
    });
    expect(ruleById(electrical, 'arc-fault')).toMatchObject({
      code: 'arc_fault',
      priority: 2,
      latched: true,
    });
  });

  it('raises a call point and an SOS as latched P1 pulses', () => {
    expect(ruleById(defaultRules(deviceOf('call-point')).rules, 'call-point')).toMatchObject({
      code: 'alarm',
      mode: 'pulse',
      priority: 1,
      latched: true,
    });
    expect(ruleById(defaultRules(deviceOf('tag')).rules, 'sos')).toMatchObject({
      code: 'sos',
      mode: 'pulse',
      priority: 1,
      latched: true,
    });
  });
});

describe('rule kinds as data', () => {
  const base = { latched: false, priority: 3, category: 'quality', level: 'x', enabled: true };

  it('needs a bound on a range rule and low below high', () => {
    const range = {
      ...base,
      ruleId: 'range-x',
      kind: 'range',
      metric: 'lel',
      onDelayMs: 0,
      offDelayMs: 0,
    };
    expect(ruleConfigSchema.safeParse(range).error?.issues[0]?.message).toBe(
      'a range rule needs low, high or both',
    );
    expect(
      ruleConfigSchema.safeParse({ ...range, low: 5, high: 1 }).error?.issues[0]?.path,
    ).toEqual(['high']);
    expect(ruleConfigSchema.safeParse({ ...range, high: 1 }).success).toBe(true);
  });

  it('keeps a rate deadband below its delta and its guard on the matching direction', () => {
    const rate = {
      ...base,
      ruleId: 'r',
      kind: 'rate',
      metric: 'lel',
      direction: 'rise',
      delta: 10,
      deadband: 10,
      windowMs: 60_000,
    };
    expect(ruleConfigSchema.safeParse(rate).error?.issues.map(issue => issue.path)).toEqual([
      ['deadband'],
    ]);
    expect(
      ruleConfigSchema.safeParse({ ...rate, deadband: 5, above: 3 }).error?.issues[0]?.path,
    ).toEqual(['above']);
  });

  it('checks trend horizons and skew limits', () => {
    const trend = {
      ...base,
      ruleId: 't',
      kind: 'trend',
      metric: 'lel',
      direction: 'high',
      target: 25,
      minDelta: 1,
      windowMs: 60_000,
      horizonMs: 300_000,
      clearHorizonMs: 100_000,
      minSamples: 3,
    };
    expect(ruleConfigSchema.safeParse(trend).error?.issues[0]?.path).toEqual(['clearHorizonMs']);
    const skew = {
      ...base,
      ruleId: 's',
      kind: 'skew',
      maxSkewMs: 60_000,
      clearSkewMs: 60_000,
      onDelayMs: 0,
    };
    expect(ruleConfigSchema.safeParse(skew).error?.issues[0]?.path).toEqual(['clearSkewMs']);
  });

  it('overrides any field of the new kinds from a registry layer, with the same validation', () => {
    expect(ruleOverrideSchema.safeParse({ delta: 5, windowMs: 30_000, below: 20 }).success).toBe(
      true,
    );
    expect(ruleOverrideSchema.safeParse({ mode: 'sometimes' }).success).toBe(false);
    const { rules, errors } = resolveDeviceRules(deviceOf('gas-combustible'), [
      { 'gas-rate': { delta: 5 }, stuck: { durationMs: 3_600_000 } },
      undefined,
      { 'gas-rate': { deadband: 6 } },
    ]);
    expect(errors).toEqual(['rules.gas-rate.deadband: deadband must be below delta']);
    expect(ruleById(rules, 'gas-rate')).toMatchObject({ delta: 10, deadband: 5 }); // default kept
    expect(ruleById(rules, 'stuck')).toMatchObject({ durationMs: 3_600_000 });
  });
});
