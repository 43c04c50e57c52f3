import { deadLetterTopic, deviceTopic, parseDeviceTopic } from './topics';
import { metricDefinition } from './device-classes';
import { telemetryBatchSchema, telemetrySampleSchema } from './payloads';

describe(parseDeviceTopic.name, () => {
  it('parses the pinned device topics', () => {
    expect(parseDeviceTopic('vigil/v1/plant-1/gc_01/telemetry')).toEqual({
      siteId: 'plant-1',
      deviceId: 'gc_01',
      kind: 'telemetry',
    });
    expect(parseDeviceTopic(deviceTopic('s', 'd', 'status'))?.kind).toBe('status');
  });

  it.each([
    'vigil/v1/plant-1/gc-01/other',
    'vigil/v2/plant-1/gc-01/telemetry',
    'vigil/v1/plant-1/gc 01/telemetry',
    `vigil/v1/plant-1/${'x'.repeat(65)}/telemetry`,
    'vigil/v1//gc-01/telemetry',
    'vigil/v1/plant-1/gc-01/telemetry/extra',
    'vigil/v1/_deadletter/not-json',
  ])('refuses %s', topic => {
    expect(parseDeviceTopic(topic)).toBeNull();
  });

  it('names dead-letter topics by reason', () => {
    expect(deadLetterTopic('oversized')).toBe('vigil/v1/_deadletter/oversized');
  });
});

describe('payload schemas', () => {
  it('accepts the pinned examples', () => {
    expect(
      telemetrySampleSchema.safeParse({ ts: 1763900000000, seq: 42, values: { lel: 12.5 } })
        .success,
    ).toBe(true);
    expect(telemetryBatchSchema.safeParse({ batch: [{ values: { still: true } }] }).success).toBe(
      true,
    );
  });

  it('refuses non-finite numbers, empty values and bad metric names', () => {
    expect(telemetrySampleSchema.safeParse({ values: { lel: Infinity } }).success).toBe(false);
    expect(telemetrySampleSchema.safeParse({ values: {} }).success).toBe(false);
    expect(telemetrySampleSchema.safeParse({ values: { LEL: 1 } }).success).toBe(false);
  });
});

describe(metricDefinition.name, () => {
  it('resolves channel metrics to their prefix definition', () => {
    expect(metricDefinition('electrical-fire', 'temp_c_3')?.unit).toBe('°C');
    expect(metricDefinition('electrical-fire', 'volts')).toBeUndefined();
  });
});
