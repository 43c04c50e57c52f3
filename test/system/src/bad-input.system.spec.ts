import type { MqttClient } from 'mqtt';

import type { DeadLetter } from '@vigil/contracts';
import type { RunningVigil } from '@vigil/server';
import { waitFor } from '@vigil/testing';

import { WsRecorder, mqttClient, startSystem, telemetry } from './support';

interface Case {
  readonly name: string;
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly reason: string;
}

const T = 'vigil/v1/plant-1/gc-lb-01/telemetry';

/** Every kind of bad input the public interface lists (spec §1), plus a few hostile variants. */
const CASES: readonly Case[] = [
  { name: 'not JSON', topic: T, payload: '{"values": {"lel": 1', reason: 'not-json' },
  {
    name: 'NaN literal (not JSON)',
    topic: T,
    payload: '{"values": {"lel": NaN}}',
    reason: 'not-json',
  },
  {
    name: 'not UTF-8',
    topic: T,
    payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    reason: 'not-utf8',
  },
  { name: 'wrong shape: no values', topic: T, payload: '{"ts": 1}', reason: 'wrong-shape' },
  { name: 'wrong shape: array', topic: T, payload: '[1,2,3]', reason: 'wrong-shape' },
  { name: 'wrong shape: JSON string', topic: T, payload: '"lel=12"', reason: 'wrong-shape' },
  {
    name: 'wrong shape: Nest envelope injection',
    topic: T,
    payload: '{"pattern":"x","data":{"values":{"lel":99}}}',
    reason: 'wrong-shape',
  },
  {
    name: 'wrong shape: negative ts',
    topic: T,
    payload: '{"ts": -5, "values": {"lel": 1}}',
    reason: 'wrong-shape',
  },
  {
    name: 'wrong type: string value',
    topic: T,
    payload: '{"values": {"lel": "high"}}',
    reason: 'bad-value',
  },
  {
    name: 'wrong type: boolean for a number',
    topic: T,
    payload: '{"values": {"lel": true}}',
    reason: 'bad-value',
  },
  {
    name: 'Infinity (1e999)',
    topic: T,
    payload: '{"values": {"lel": 1e999}}',
    reason: 'bad-value',
  },
  {
    name: 'unknown metric',
    topic: T,
    payload: '{"values": {"lell": 1}}',
    reason: 'unknown-metric',
  },
  {
    name: 'prototype key',
    topic: T,
    payload: '{"values": {"__proto__": 1}}',
    reason: 'wrong-shape',
  },
  {
    name: 'unknown device',
    topic: 'vigil/v1/plant-1/ghost-9/telemetry',
    payload: telemetry({ lel: 1 }),
    reason: 'unknown-device',
  },
  {
    name: 'unknown site',
    topic: 'vigil/v1/plant-9/gc-lb-01/telemetry',
    payload: telemetry({ lel: 1 }),
    reason: 'unknown-device',
  },
  {
    name: 'hostile id: shell characters',
    topic: 'vigil/v1/plant-1/gc;rm -rf/telemetry',
    payload: telemetry({ lel: 1 }),
    reason: 'bad-topic',
  },
  {
    name: 'hostile id: 65 characters',
    topic: `vigil/v1/plant-1/${'a'.repeat(65)}/telemetry`,
    payload: telemetry({ lel: 1 }),
    reason: 'bad-topic',
  },
  {
    name: 'hostile id: unicode',
    topic: 'vigil/v1/plant-1/设备/telemetry',
    payload: telemetry({ lel: 1 }),
    reason: 'bad-topic',
  },
  {
    name: 'oversized (65 KiB)',
    topic: T,
    payload: `{"values":{"lel":1},"pad":"${'x'.repeat(65 * 1024)}"}`,
    reason: 'oversized',
  },
  {
    name: 'event with unknown code',
    topic: 'vigil/v1/plant-1/fp-main/event',
    payload: '{"code":"explode"}',
    reason: 'bad-value',
  },
  {
    name: 'status without online',
    topic: 'vigil/v1/plant-1/fp-main/status',
    payload: '{"ts":1}',
    reason: 'wrong-shape',
  },
  {
    name: 'batch too large',
    topic: T,
    payload: JSON.stringify({
      batch: Array.from({ length: 1001 }, () => ({ values: { lel: 1 } })),
    }),
    reason: 'wrong-shape',
  },
];

describe('bad input is counted and dead-lettered, never fatal', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let device: MqttClient;
  let watcher: MqttClient;
  const letters: DeadLetter[] = [];
  let ws: WsRecorder;

  beforeAll(async () => {
    vigil = await startSystem();
    watcher = await mqttClient(vigil.mqttUrl);
    watcher.on('message', (_topic, payload) =>
      letters.push(JSON.parse(payload.toString()) as DeadLetter),
    );
    await watcher.subscribeAsync('vigil/v1/_deadletter/#', { qos: 1 });
    device = await mqttClient(vigil.mqttUrl);
    ws = await WsRecorder.open(vigil.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    await watcher?.endAsync();
    await vigil?.stop();
  });

  it('dead-letters each kind with its reason and the original topic, and keeps good traffic flowing', async () => {
    for (const [index, badCase] of CASES.entries()) {
      await device.publishAsync(badCase.topic, badCase.payload, { qos: 1 });
      // Good traffic interleaved with the bad: it must keep flowing.
      await device.publishAsync(
        'vigil/v1/plant-1/gc-ru-02/telemetry',
        telemetry({ lel: 1 + (index % 3) }, index + 1),
        { qos: 1 },
      );
    }
    await waitFor(() => letters.length >= CASES.length, {
      what: `${CASES.length} dead letters`,
      timeoutMs: 10_000,
    });

    for (const badCase of CASES) {
      const letter = letters.find(
        l => l.topic === badCase.topic && l.reason === badCase.reason && sameBody(l, badCase),
      );
      expect({ case: badCase.name, found: letter !== undefined }).toEqual({
        case: badCase.name,
        found: true,
      });
    }
    const oversized = letters.find(l => l.reason === 'oversized');
    expect(oversized).toMatchObject({ encoding: 'base64', bytes: expect.any(Number) });
    expect(Buffer.from(oversized?.payload ?? '', 'base64').length).toBe(1024);

    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    const counted = [
      ...metrics.matchAll(/vigil_ingest_dead_letters_total\{reason="([a-z0-9-]+)"\} (\d+)/g),
    ].reduce((sum, match) => sum + Number(match[2]), 0);
    expect(counted).toBe(CASES.length);
    expect(metrics).toMatch(new RegExp(`vigil_ingest_readings_total ${CASES.length}\\b`));

    // Still alive and still alarming after all of it.
    await device.publishAsync('vigil/v1/plant-1/gc-ru-02/telemetry', telemetry({ lel: 55 }, 1000), {
      qos: 1,
    });
    await waitFor(
      () => ws.alarms().some(m => m.alarm.deviceId === 'gc-ru-02' && m.alarm.level === 'L2'),
      {
        what: 'an alarm after the bad input',
      },
    );
    expect(ws.alarms().filter(m => m.alarm.deviceId === 'gc-lb-01')).toHaveLength(0);
  });

  it('drops duplicate samples (same seq) and counts them', async () => {
    const payload = telemetry({ lel: 2 }, 5000);
    await device.publishAsync('vigil/v1/plant-1/gc-tf-03/telemetry', payload, { qos: 1 });
    await device.publishAsync('vigil/v1/plant-1/gc-tf-03/telemetry', payload, { qos: 1 });
    await waitFor(
      async () =>
        /vigil_ingest_duplicate_samples_total 1\b/.test(
          await (await fetch(`${vigil.httpUrl}/metrics`)).text(),
        ),
      {
        what: 'the duplicate counted',
      },
    );
  });
});

function sameBody(letter: DeadLetter, badCase: Case): boolean {
  if (letter.encoding === 'base64') return true;
  return typeof badCase.payload === 'string' && letter.payload === badCase.payload;
}
