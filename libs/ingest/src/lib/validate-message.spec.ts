import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { parse } from 'yaml';

import { FUTURE_TOLERANCE_MS, MAX_FUTURE_SKEW_MS } from '@vigil/contracts';
import { buildRegistry } from '@vigil/registry';

import { validateMessage } from './validate-message';

// The sample registry, read here: the Node loader (@vigil/registry-node) is platform:node.
const SAMPLE_DIR = join(__dirname, '../../../../registry/sample');
const registry = buildRegistry(
  readdirSync(SAMPLE_DIR)
    .sort()
    .map(file => ({ source: file, content: parse(readFileSync(join(SAMPLE_DIR, file), 'utf8')) })),
);
const NOW = 1_763_900_000_000;
const T = 'vigil/v1/plant-1/gc-tf-01/telemetry';
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe(validateMessage.name, () => {
  describe('the pipeline canary', () => {
    const canary = { canary: { origin: 'gw-1', seq: 4, sentAt: NOW - 3 } };
    const topic = 'vigil/v1/plant-1/_canary/telemetry';

    it('accepts the canary of a registered site as a canary record, never a reading', () => {
      expect(validateMessage(topic, json(canary), registry, NOW)).toEqual({
        ok: true,
        records: [
          {
            kind: 'canary',
            canary: { siteId: 'plant-1', origin: 'gw-1', seq: 4, sentAt: NOW - 3, receivedAt: NOW },
          },
        ],
      });
    });

    it('dead-letters a canary of an unknown site, of the wrong kind or shape', () => {
      const unknown = validateMessage(
        'vigil/v1/nowhere/_canary/telemetry',
        json(canary),
        registry,
        NOW,
      );
      expect(unknown).toMatchObject({ ok: false, reason: 'unknown-device' });
      const event = validateMessage('vigil/v1/plant-1/_canary/event', json(canary), registry, NOW);
      expect(event).toMatchObject({ ok: false, reason: 'bad-topic' });
      const reading = validateMessage(topic, json({ values: { lel: 1 } }), registry, NOW);
      expect(reading).toMatchObject({ ok: false, reason: 'wrong-shape' });
    });
  });

  it('normalises a sample into a reading with the device context', () => {
    const result = validateMessage(
      T,
      json({ ts: NOW - 500, seq: 3, values: { lel: 12.5 } }),
      registry,
      NOW,
    );
    expect(result).toMatchObject({
      ok: true,
      records: [
        {
          kind: 'reading',
          reading: {
            siteId: 'plant-1',
            deviceId: 'gc-tf-01',
            deviceClass: 'gas-combustible',
            areaId: 'tank-farm',
            ts: NOW - 500,
            receivedAt: NOW,
            seq: 3,
            deviceTime: true,
            clockSkewMs: -500,
            values: { lel: 12.5 },
          },
        },
      ],
    });
  });

  it('stamps server time when the device sends none, or when its clock runs ahead', () => {
    const none = validateMessage(T, json({ values: { lel: 1 } }), registry, NOW);
    const ahead = validateMessage(
      T,
      json({ ts: NOW + 3_600_000, values: { lel: 1 } }),
      registry,
      NOW,
    );
    for (const result of [none, ahead]) {
      expect(
        result.ok && result.records[0]?.kind === 'reading' && result.records[0].reading.ts,
      ).toBe(NOW);
    }
    expect(
      ahead.ok && ahead.records[0]?.kind === 'reading' && ahead.records[0].reading.clockSkewMs,
    ).toBe(3_600_000);
  });

  it('evaluates any device time ahead of the server by more than 2 s on server time, flagged, never dropped', () => {
    fc.assert(
      fc.property(fc.integer({ min: -NOW, max: 10 * 86_400_000 }), skewMs => {
        const result = validateMessage(
          T,
          json({ ts: NOW + skewMs, values: { lel: 80 } }),
          registry,
          NOW,
        );
        const reading =
          result.ok && result.records[0]?.kind === 'reading' && result.records[0].reading;
        if (!reading) throw new Error(`not accepted: ${JSON.stringify(result)}`);
        expect(reading.ts).toBeLessThanOrEqual(NOW + FUTURE_TOLERANCE_MS);
        expect(reading.clockSkewMs).toBe(skewMs);
        expect(reading.clockCorrected).toBe(
          skewMs <= FUTURE_TOLERANCE_MS
            ? undefined
            : skewMs <= MAX_FUTURE_SKEW_MS
              ? 'future'
              : 'far-future',
        );
        expect(reading.deviceTime).toBe(skewMs <= FUTURE_TOLERANCE_MS);
      }),
    );
  });

  it('marks a status delivered from the retained store', () => {
    const status = (retained: boolean) =>
      validateMessage(
        'vigil/v1/plant-1/gc-tf-01/status',
        json({ online: true }),
        registry,
        NOW,
        retained,
      );
    expect(status(true)).toMatchObject({ ok: true, records: [{ status: { retained: true } }] });
    expect(status(false)).toMatchObject({ ok: true, records: [{ status: { retained: false } }] });
  });

  it('keeps a gateway batch in order', () => {
    const result = validateMessage(
      T,
      json({
        batch: [
          { seq: 1, values: { lel: 1 } },
          { seq: 2, values: { lel: 2 } },
        ],
      }),
      registry,
      NOW,
    );
    expect(
      result.ok && result.records.map(r => (r.kind === 'reading' ? r.reading.seq : undefined)),
    ).toEqual([1, 2]);
  });

  it('converts units declared in the device attributes', () => {
    const device = registry.device('plant-1', 'gc-tf-01');
    const converted = validateMessage(
      T,
      json({ values: { lel: 1 } }),
      {
        device: () =>
          device && { ...device, attributes: { ...device.attributes, unit_lel: '%VOL' } },
      },
      NOW,
    );
    // CH4: LEL 5 %VOL, so 1 %VOL is 20 %LEL.
    expect(
      converted.ok &&
        converted.records[0]?.kind === 'reading' &&
        converted.records[0].reading.values['lel'],
    ).toBe(20);
  });

  it('accepts the metrics a device lists in extraMetrics, numbers or booleans, and no others', () => {
    const device = registry.device('plant-1', 'gc-tf-01');
    const extraMetrics = 'flow_lpm, door_open';
    const lookup = {
      device: () => device && { ...device, attributes: { ...device.attributes, extraMetrics } },
    };
    const sample = { values: { lel: 1, flow_lpm: 3, door_open: true } };
    expect(validateMessage(T, json(sample), lookup, NOW)).toMatchObject({ ok: true });
    expect(validateMessage(T, json({ values: { valve: 1 } }), lookup, NOW)).toMatchObject({
      ok: false,
      reason: 'unknown-metric',
    });
  });

  it.each([
    ['{', 'not-json'],
    ['{"values":{"lel":"x"}}', 'bad-value'],
    ['{"values":{"temp":1}}', 'unknown-metric'],
    ['{"vals":{}}', 'wrong-shape'],
  ])('rejects %s as %s', (payload, reason) => {
    expect(validateMessage(T, Buffer.from(payload), registry, NOW)).toMatchObject({
      ok: false,
      reason,
    });
  });
});

describe('payload limits, checked before parsing (issue 10, finding 1)', () => {
  const EVENT = 'vigil/v1/plant-1/fp-main/event';
  const deepEvent = (levels: number) =>
    Buffer.from(`{"code":"fire","detail":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`);

  it('dead-letters the 6,000-deep fire-panel event as too-deep', () => {
    const payload = deepEvent(6000);
    expect(payload.length).toBeGreaterThan(30_000);
    expect(validateMessage(EVENT, payload, registry, NOW)).toMatchObject({
      ok: false,
      reason: 'too-deep',
    });
  });

  it('accepts an event detail nested within the limit', () => {
    expect(validateMessage(EVENT, deepEvent(6), registry, NOW)).toMatchObject({ ok: true });
  });

  it('dead-letters an object with too many keys and a string too long', () => {
    const keys = `{"code":"fire","detail":{${Array.from({ length: 2000 }, (_, i) => `"k${i}":1`).join(',')}}}`;
    expect(validateMessage(EVENT, Buffer.from(keys), registry, NOW)).toMatchObject({
      ok: false,
      reason: 'too-many-items',
    });
    const long = json({ code: 'fire', detail: { text: 'x'.repeat(2000) } });
    expect(validateMessage(EVENT, long, registry, NOW)).toMatchObject({
      ok: false,
      reason: 'string-too-long',
    });
  });

  describe('bytes in any runtime (a Uint8Array, not only a Node Buffer)', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);

    it('reads a plain Uint8Array as a Buffer', () => {
      const payload = JSON.stringify({ ts: NOW, values: { lel: 12 } });
      const fromBytes = validateMessage(T, bytes(payload), registry, NOW);
      expect(fromBytes).toMatchObject({ ok: true, records: [{ kind: 'reading' }] });
      expect(fromBytes).toEqual(validateMessage(T, Buffer.from(payload), registry, NOW));
    });

    it.each([
      ['a byte that is never UTF-8', [0xff, 0x7b, 0x7d]],
      ['a truncated sequence', [0x7b, 0xe2, 0x82]],
      ['an encoded lone surrogate', [0x7b, 0xed, 0xa0, 0x80, 0x7d]],
    ])('refuses %s as not-utf8', (_name, payload) => {
      expect(validateMessage(T, Uint8Array.from(payload), registry, NOW)).toMatchObject({
        ok: false,
        reason: 'not-utf8',
      });
    });

    it('keeps a byte-order mark, which JSON refuses (as it did on Buffer#toString)', () => {
      const payload = `\uFEFF${JSON.stringify({ values: { lel: 12 } })}`;
      expect(validateMessage(T, bytes(payload), registry, NOW)).toMatchObject({
        ok: false,
        reason: 'not-json',
      });
    });
  });
});
