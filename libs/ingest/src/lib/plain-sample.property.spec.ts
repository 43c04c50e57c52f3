import fc from 'fast-check';

import { telemetrySampleSchema, type DeviceClass } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { checkValues, plainSample } from './validate-message';

const device = (deviceClass: DeviceClass): RegisteredDevice =>
  ({ siteId: 's', deviceId: 'd', deviceClass, attributes: {} }) as unknown as RegisteredDevice;

const metricName = fc.constantFrom(
  'lel',
  'temp_c',
  'temp_c_1',
  'battery_pct',
  'residual_ma',
  'level_pct',
  'x',
  'online',
  'LEL',
  '__proto__',
  'constructor',
  'toString',
  '',
  'a'.repeat(70),
);
const value = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.string(),
  fc.constant(null),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.constant(Number.MAX_VALUE * 10),
  fc.array(fc.integer(), { maxLength: 2 }),
);
const values = fc.oneof(
  fc.dictionary(metricName, value, { minKeys: 0, maxKeys: 4 }),
  value,
  fc.constant(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, 1]))),
);
const epoch = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 53 }),
  fc.double(),
  fc.constant(-1),
  fc.constant(2 ** 60),
  fc.string(),
);
const sample = fc.record(
  { values, ts: epoch, seq: epoch, extra: value, batch: value },
  { requiredKeys: [] },
);
const deviceClass = fc.constantFrom<DeviceClass>(
  'gas-combustible',
  'electrical-fire',
  'mhs-tank',
  'tag',
  'gas-toxic',
);

describe(plainSample.name, () => {
  it('accepts only what the schema and the class check accept, unchanged', () => {
    fc.assert(
      fc.property(sample, deviceClass, (raw, cls) => {
        // Through JSON, as ingest sees it (Infinity and -0 do not survive; 1e309 would).
        const json: unknown = JSON.parse(JSON.stringify(raw));
        const fast = plainSample(json, cls);
        if (fast === undefined) return;
        const parsed = telemetrySampleSchema.safeParse(json);
        expect(parsed.success).toBe(true);
        if (!parsed.success) return;
        expect(checkValues(device(cls), parsed.data.values)).toBeUndefined();
        expect(fast).toEqual(parsed.data);
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the common sample', () => {
    expect(plainSample({ ts: 1, seq: 2, values: { lel: 3.5 } }, 'gas-combustible')).toEqual({
      ts: 1,
      seq: 2,
      values: { lel: 3.5 },
    });
    expect(plainSample(JSON.parse('{"values":{"lel":1e309}}'), 'gas-combustible')).toBeUndefined();
    expect(plainSample({ values: {} }, 'gas-combustible')).toBeUndefined();
    expect(plainSample({ values: { lel: 1 }, x: 1 }, 'gas-combustible')).toBeUndefined();
  });
});
