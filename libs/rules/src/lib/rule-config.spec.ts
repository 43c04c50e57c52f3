import { DEVICE_CLASSES, DEVICE_CLASS_DEFINITIONS, type DeviceClass } from '@vigil/contracts';

import { type RuleDevice, defaultRules, offlineTimeoutMs } from './default-rules';
import { resolveDeviceRules } from './resolve-device-rules';
import { ruleConfigSchema, ruleOverrideLayerSchema } from './rule-config';

function deviceOf(
  deviceClass: DeviceClass,
  attributes: RuleDevice['attributes'] = {},
  intervalSeconds = DEVICE_CLASS_DEFINITIONS[deviceClass].intervalSeconds,
): RuleDevice {
  return { deviceClass, attributes, intervalSeconds };
}

const combustible = deviceOf('gas-combustible');

function ruleById(rules: ReturnType<typeof resolveDeviceRules>['rules'], ruleId: string) {
  return rules.find(rule => rule.ruleId === ruleId);
}

describe(defaultRules.name, () => {
  it.each(DEVICE_CLASSES.map(deviceClass => [deviceClass]))(
    'gives %s valid rules with unique ids and an offline rule',
    deviceClass => {
      const { rules, errors } = defaultRules(deviceOf(deviceClass, { gas: 'H2S' }));
      expect(errors).toEqual([]);
      for (const rule of rules) expect(ruleConfigSchema.parse(rule)).toEqual(rule);
      expect(new Set(rules.map(rule => rule.ruleId)).size).toBe(rules.length);
      expect(rules.map(rule => rule.ruleId)).toContain('offline');
    },
  );

  it('gives a combustible detector L1 at 25 and L2 at 50 %LEL (GB/T 50493-2019 §5.5.2)', () => {
    const { rules } = defaultRules(combustible);
    expect(rules.map(rule => rule.ruleId)).toEqual([
      'offline',
      'fault',
      'device-alarm',
      'clock-skew',
      'range-lel',
      'stuck',
      'gas-l1',
      'gas-l2',
      'gas-over-range',
      'gas-rate',
      'gas-trend',
    ]);
    expect(ruleById(rules, 'offline')).toMatchObject({ priority: 2 });
    expect(ruleById(rules, 'gas-l1')).toEqual(
      expect.objectContaining({
        metric: 'lel',
        direction: 'high',
        setpoint: 25,
        deadband: 5,
        onDelayMs: 0,
        offDelayMs: 30_000,
        latched: false,
        priority: 2,
        category: 'process',
        level: 'L1',
      }),
    );
    expect(ruleById(rules, 'gas-l2')).toEqual(
      expect.objectContaining({
        setpoint: 50,
        deadband: 5,
        onDelayMs: 0,
        offDelayMs: 0,
        latched: true,
        priority: 1,
        level: 'L2',
      }),
    );
  });

  it('adds the combustible data-quality, over-range, rate and trend rules of §9.1', () => {
    const { rules } = defaultRules(combustible);
    expect(ruleById(rules, 'gas-over-range')).toMatchObject({
      setpoint: 100,
      latched: true,
      priority: 1,
      category: 'process',
    });
    expect(ruleById(rules, 'range-lel')).toMatchObject({
      low: -5,
      onDelayMs: 60_000,
      category: 'quality',
      priority: 3,
    });
    expect(ruleById(rules, 'range-lel')).not.toHaveProperty('high');
    expect(ruleById(rules, 'stuck')).toMatchObject({
      minDelta: 0.1,
      durationMs: 86_400_000,
      skipZero: true,
      priority: 4,
      category: 'quality',
    });
    expect(ruleById(rules, 'gas-rate')).toMatchObject({
      direction: 'rise',
      delta: 10,
      windowMs: 60_000,
      below: 25,
      priority: 3,
      category: 'warning',
    });
    expect(ruleById(rules, 'gas-trend')).toMatchObject({
      target: 25,
      horizonMs: 300_000,
      category: 'warning',
      priority: 3,
    });
    expect(ruleById(rules, 'fault')).toMatchObject({
      code: 'fault',
      mode: 'hold',
      clearCodes: ['reset'],
      priority: 2,
      category: 'quality',
    });
    expect(ruleById(rules, 'clock-skew')).toMatchObject({
      maxSkewMs: 60_000,
      clearSkewMs: 30_000,
      priority: 4,
    });
  });

  it('takes the measuring range of a gas detector from its profile', () => {
    const h2s = defaultRules(deviceOf('gas-toxic', { gas: 'H2S', rangeLow: 0, rangeHigh: 100 }));
    expect(ruleById(h2s.rules, 'range-ppm')).toMatchObject({ low: -5, high: 102 });
    expect(ruleById(h2s.rules, 'stuck')).toMatchObject({ minDelta: 1 }); // 1 % of 100 ppm
    const bad = defaultRules(deviceOf('gas-combustible', { rangeLow: 'zero', rangeHigh: 100 }));
    expect(bad.errors).toEqual([expect.stringMatching(/^attributes\.rangeLow\/rangeHigh: /)]);
  });

  it('gives an oxygen detector low 19.5 and high 23.5 %VOL with a 0.5 deadband', () => {
    const { rules } = defaultRules(deviceOf('gas-oxygen'));
    expect(ruleById(rules, 'o2-low')).toMatchObject({
      direction: 'low',
      setpoint: 19.5,
      deadband: 0.5,
    });
    expect(ruleById(rules, 'o2-high')).toMatchObject({
      direction: 'high',
      setpoint: 23.5,
      deadband: 0.5,
      priority: 2,
    });
  });

  it('reports a toxic detector without a known gas instead of throwing', () => {
    expect(defaultRules(deviceOf('gas-toxic', { gas: 'XYZ' })).errors).toEqual([
      expect.stringMatching(
        /^attributes\.gas: no exposure limit is known for gas "XYZ" \(known: H2S, CO/,
      ),
    ]);
    expect(defaultRules(deviceOf('gas-toxic')).errors).toEqual([
      expect.stringMatching(/^attributes\.gas: a gas-toxic detector must name its gas/),
    ]);
    expect(defaultRules(deviceOf('gas-toxic', { gas: 'XYZ' })).rules.map(r => r.ruleId)).toEqual([
      'offline',
      'fault',
      'device-alarm',
      'clock-skew',
    ]);
  });
});

describe(offlineTimeoutMs.name, () => {
  it.each([
    ['gas-combustible', 5, 30_000], // 3 × 5 s < 30 s floor
    ['gas-toxic', 20, 60_000], // 3 × 20 s
    ['gas-oxygen', 60, 100_000], // 180 s capped at 100 s for gas (GB 16808)
    ['electrical-fire', 30, 90_000],
    ['fire-panel', 300, 900_000], // no cap outside gas classes
    ['tag', 0.5, 30_000],
  ] as const)('%s reporting every %s s goes offline after %s ms', (deviceClass, interval, ms) => {
    expect(offlineTimeoutMs({ deviceClass, intervalSeconds: interval })).toBe(ms);
  });

  it('gives gas detectors priority 2 and other classes priority 3', () => {
    const offline = (deviceClass: DeviceClass) =>
      ruleById(defaultRules(deviceOf(deviceClass)).rules, 'offline');
    expect(offline('gas-oxygen')).toMatchObject({ priority: 2, category: 'quality' });
    expect(offline('mhs-tank')).toMatchObject({ priority: 3, category: 'quality' });
  });
});

describe(resolveDeviceRules.name, () => {
  it('returns the defaults when there are no overrides', () => {
    const resolved = resolveDeviceRules(combustible, [undefined, undefined, undefined]);
    expect(resolved).toEqual({ rules: defaultRules(combustible).rules, errors: [] });
  });

  it('merges profile, then area, then device: the most specific layer wins field by field', () => {
    const { rules, errors } = resolveDeviceRules(combustible, [
      { 'gas-l1': { setpoint: 20, deadband: 4 } },
      { 'gas-l1': { setpoint: 22 }, offline: { timeoutMs: 60_000 } },
      { 'gas-l1': { onDelayMs: 2000 } },
    ]);
    expect(errors).toEqual([]);
    expect(ruleById(rules, 'gas-l1')).toMatchObject({
      setpoint: 22,
      deadband: 4,
      onDelayMs: 2000,
      offDelayMs: 30_000,
    });
    expect(ruleById(rules, 'offline')).toMatchObject({ timeoutMs: 60_000 });
    expect(ruleById(rules, 'gas-l2')).toMatchObject({ setpoint: 50 });
  });

  it('keeps a disabled rule in the list, marked disabled', () => {
    const { rules } = resolveDeviceRules(combustible, [{ 'gas-l1': { enabled: false } }]);
    expect(ruleById(rules, 'gas-l1')).toMatchObject({ enabled: false });
  });

  it('names the rule, field and layer of a value of the wrong type', () => {
    const { rules, errors } = resolveDeviceRules(combustible, [
      undefined,
      undefined,
      { 'gas-l1': { setpoint: 'twenty' } },
    ]);
    expect(errors).toEqual([
      'rules.gas-l1.setpoint: Invalid input: expected number, received string (device overrides)',
    ]);
    expect(ruleById(rules, 'gas-l1')).toMatchObject({ setpoint: 25 });
  });

  it('lets a profile map the device’s own levels and refuses a level that is not one', () => {
    const { rules, errors } = resolveDeviceRules(combustible, [
      { 'device-alarm': { levels: { L1: 3, L2: 1, 'pre-alarm': 4 } } },
    ]);
    expect(errors).toEqual([]);
    expect(ruleById(rules, 'device-alarm')).toMatchObject({
      levels: { L1: 3, L2: 1, 'pre-alarm': 4 },
    });
    const bad = resolveDeviceRules(combustible, [
      { 'device-alarm': { levels: { 'level one': 2, L2: 9 } } },
    ]);
    expect(bad.errors).toEqual([
      expect.stringMatching(/^rules\.device-alarm\.levels\.level one: Invalid key in record/),
      expect.stringMatching(/^rules\.device-alarm\.levels\.L2: /),
    ]);
  });

  it('rejects unknown fields, so that a typo does not silently keep the default', () => {
    const { errors } = resolveDeviceRules(combustible, [
      { 'gas-l1': { setPoint: 20 } },
      undefined,
      undefined,
    ]);
    expect(errors).toEqual(['rules.gas-l1: Unrecognized key: "setPoint" (profile overrides)']);
  });

  it('lists every problem at once', () => {
    const { errors } = resolveDeviceRules(combustible, [
      { 'gas-l1': { deadband: -1, priority: 7 } },
      { 'Bad Id': { enabled: false } },
      { offline: { setpoint: 3 } },
    ]);
    expect(errors).toEqual([
      expect.stringMatching(
        /^rules\.gas-l1\.deadband: Too small: expected number to be >=0 \(profile/,
      ),
      expect.stringMatching(/^rules\.gas-l1\.priority: .*\(profile overrides\)$/),
      expect.stringMatching(/^rules\.Bad Id: rule id must match .*\(area overrides\)$/),
      'rules.offline: Unrecognized key: "setpoint"',
    ]);
  });

  it('keeps the default when the merged rule is invalid', () => {
    const { rules, errors } = resolveDeviceRules(combustible, [{ 'gas-l1': { kind: 'offline' } }]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every(error => error.startsWith('rules.gas-l1'))).toBe(true);
    expect(ruleById(rules, 'gas-l1')).toEqual(ruleById(defaultRules(combustible).rules, 'gas-l1'));
  });

  it('adds a rule that the layers define in full', () => {
    const tankLevel = {
      kind: 'threshold',
      metric: 'level_pct',
      direction: 'high',
      setpoint: 90,
      deadband: 2,
      onDelayMs: 0,
      offDelayMs: 60_000,
      latched: false,
      priority: 3,
      category: 'process',
      level: 'H',
      enabled: true,
    };
    const { rules, errors } = resolveDeviceRules(deviceOf('mhs-tank'), [
      { 'level-high': tankLevel },
      { 'level-high': { setpoint: 85 } },
    ]);
    expect(errors).toEqual([]);
    expect(rules.at(-1)).toMatchObject({ ruleId: 'level-high', setpoint: 85 });
  });

  it('explains that a partial override of a rule the class does not have needs a full rule', () => {
    const { rules, errors } = resolveDeviceRules(deviceOf('call-point'), [
      { 'gas-l1': { setpoint: 20 } },
    ]);
    expect(errors).toEqual([
      'rules.gas-l1: not a default rule of call-point (defaults: offline, call-point); ' +
        'a new rule needs kind and every field of that kind',
    ]);
    expect(rules.map(rule => rule.ruleId)).toEqual(['offline', 'call-point']);
  });

  it('lists the missing fields of an incomplete new rule', () => {
    const { errors } = resolveDeviceRules(deviceOf('mhs-tank'), [
      { 'level-high': { kind: 'threshold', metric: 'level_pct', setpoint: 90 } },
    ]);
    expect(errors).toContain(
      'rules.level-high.direction: Invalid option: expected one of "high"|"low"',
    );
    expect(errors.length).toBeGreaterThan(5);
  });

  it('lets an unknown toxic gas be configured in full, still reporting the gas', () => {
    const full = (setpoint: number, level: string) => ({
      kind: 'threshold',
      metric: 'ppm',
      direction: 'high',
      setpoint,
      deadband: 1,
      onDelayMs: 0,
      offDelayMs: 0,
      latched: false,
      priority: 2,
      category: 'process',
      level,
      enabled: true,
    });
    const { rules, errors } = resolveDeviceRules(deviceOf('gas-toxic', { gas: 'C2H4O' }), [
      { 'gas-l1': full(1, 'L1'), 'gas-l2': full(2, 'L2') },
    ]);
    expect(errors).toEqual([expect.stringContaining('attributes.gas: no exposure limit')]);
    expect(rules.map(rule => rule.ruleId)).toEqual([
      'offline',
      'fault',
      'device-alarm',
      'clock-skew',
      'gas-l1',
      'gas-l2',
    ]);
  });

  it('reports a layer that is not a map', () => {
    const layer = ['gas-l1'] as unknown as Record<string, unknown>;
    expect(resolveDeviceRules(combustible, [layer]).errors).toEqual([
      'rules: expected a map of rule id to override (layer 1 overrides)',
    ]);
  });

  it('rejects an offline timeout below 1 s and a setpoint that is not finite', () => {
    const { errors } = resolveDeviceRules(combustible, [
      { offline: { timeoutMs: 10 }, 'gas-l2': { setpoint: Infinity } },
    ]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^rules\.offline\.timeoutMs: Too small/);
    expect(errors[1]).toMatch(/^rules\.gas-l2\.setpoint: /);
  });
});

describe('ruleOverrideLayerSchema', () => {
  it('validates the rules map of one registry layer at start', () => {
    expect(ruleOverrideLayerSchema.safeParse({ 'gas-l1': { setpoint: 20 } }).success).toBe(true);
    const bad = ruleOverrideLayerSchema.safeParse({ 'gas-l1': { setpoint: '20' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['gas-l1', 'setpoint']);
  });
});
