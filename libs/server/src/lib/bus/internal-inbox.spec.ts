import { applySignal } from '@vigil/alarms';
import {
  INTERNAL_ALARMS_TOPIC,
  INTERNAL_COMMANDS_TOPIC,
  INTERNAL_READINGS_TOPIC,
  internalAlarmsBatchSchema,
  internalRecordsBatchSchema,
  type IngestRecord,
  type RuleSignal,
} from '@vigil/contracts';

import { commandReplySchema, commandRequestSchema } from '../alarms/alarm-commands';
import { VigilMetrics } from '../metrics/metrics';
import type { MqttPublisher } from '../mqtt/mqtt-publisher';
import { InternalInbox } from './internal-inbox';

function setup() {
  const metrics = new VigilMetrics();
  const published: string[] = [];
  const publisher = { publish: (topic: string) => void published.push(topic) };
  const inbox = new InternalInbox(metrics, publisher as unknown as MqttPublisher);
  const rejected = async (topic: string) =>
    (await metrics.registry.getSingleMetric('vigil_internal_rejected_total')?.get())?.values.find(
      value => value.labels['topic'] === topic,
    )?.value ?? 0;
  return { inbox, published, rejected };
}

const reading: IngestRecord = {
  kind: 'reading',
  reading: {
    siteId: 'plant-1',
    deviceId: 'gc-tf-01',
    deviceClass: 'gas-combustible',
    areaId: undefined,
    ts: 1_767_225_600_000,
    receivedAt: 1_767_225_600_010,
    seq: 3,
    deviceTime: true,
    clockSkewMs: -10,
    values: { lel: 90, fault: false },
  },
};
const event: IngestRecord = {
  kind: 'event',
  event: {
    siteId: 'plant-1',
    deviceId: 'fp-main',
    deviceClass: 'fire-panel',
    areaId: 'control-room',
    ts: 1,
    receivedAt: 2,
    code: 'fire',
    detail: { loop: 1, address: 23, nested: { a: [1, 2] } },
  },
};
const signal: RuleSignal = {
  key: 'plant-1/gc-tf-01/gas-l2',
  ruleId: 'gas-l2',
  siteId: 'plant-1',
  deviceId: 'gc-tf-01',
  deviceClass: 'gas-combustible',
  areaId: 'tank-farm',
  category: 'process',
  priority: 1,
  level: 'L2',
  active: true,
  latched: true,
  metric: 'lel',
  value: 90,
  threshold: 50,
  message: 'Combustible gas 90 %LEL',
  at: 1,
  detectedAt: 2,
};
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe(InternalInbox.name, () => {
  it('passes what Vigil itself sends: records and alarm updates, after a JSON round trip', () => {
    const { inbox } = setup();
    const records = inbox.read(
      'records',
      INTERNAL_READINGS_TOPIC,
      bytes([reading, event, { kind: 'status', status: { ...reading.reading, online: true } }]),
      internalRecordsBatchSchema,
    );
    expect(records).toHaveLength(3);
    const transition = applySignal(undefined, signal, {
      newId: () => 'a-1',
      groupHead: () => undefined,
      suppressedBy: [{ kind: 'maintenance', since: 1, by: 'wang', reason: 'calibration' }],
    });
    expect(transition).toBeDefined();
    const alarms = inbox.read(
      'alarms',
      INTERNAL_ALARMS_TOPIC,
      bytes([transition]),
      internalAlarmsBatchSchema,
    );
    expect(alarms).toEqual([JSON.parse(JSON.stringify(transition))]);
  });

  it.each([
    ['records', INTERNAL_READINGS_TOPIC, '[null]', internalRecordsBatchSchema],
    ['records', INTERNAL_READINGS_TOPIC, '[]', internalRecordsBatchSchema],
    ['records', INTERNAL_READINGS_TOPIC, '{"kind":"reading"}', internalRecordsBatchSchema],
    [
      'records',
      INTERNAL_READINGS_TOPIC,
      '[{"kind":"reading","reading":{}}]',
      internalRecordsBatchSchema,
    ],
    ['alarms', INTERNAL_ALARMS_TOPIC, '[null]', internalAlarmsBatchSchema],
    [
      'alarms',
      INTERNAL_ALARMS_TOPIC,
      '[{"alarm":{"id":"x"},"action":{}}]',
      internalAlarmsBatchSchema,
    ],
    ['commands', INTERNAL_COMMANDS_TOPIC, '{"command": null}', commandRequestSchema],
    [
      'commands',
      INTERNAL_COMMANDS_TOPIC,
      '{"id":"1","replyTo":"elsewhere/x","command":{"action":"list-open"}}',
      commandRequestSchema,
    ],
    [
      'commands',
      INTERNAL_COMMANDS_TOPIC,
      '{"id":"1","replyTo":"vigil-internal/v1/replies/x","command":{"action":"operate","alarmId":"a","command":null,"actor":{"id":"li","role":"operator"}}}',
      commandRequestSchema,
    ],
    ['replies', 'vigil-internal/v1/replies/x', '{"id":"1","reply":null}', commandReplySchema],
    ['records', INTERNAL_READINGS_TOPIC, 'not json', internalRecordsBatchSchema],
    [
      'records',
      INTERNAL_READINGS_TOPIC,
      `${'['.repeat(6000)}${']'.repeat(6000)}`,
      internalRecordsBatchSchema,
    ],
  ] as const)(
    'rejects, counts and dead-letters malformed %s message (case %#)',
    async (kind, topic, payload, schema) => {
      const { inbox, published, rejected } = setup();
      expect(() =>
        expect(inbox.read(kind, topic, Buffer.from(payload), schema as never)).toBeUndefined(),
      ).not.toThrow();
      expect(await rejected(kind)).toBe(1);
      expect(published).toEqual(['vigil/v1/_deadletter/bad-internal']);
    },
  );

  it('passes a valid command request and reply', () => {
    const { inbox } = setup();
    const request = inbox.read(
      'commands',
      INTERNAL_COMMANDS_TOPIC,
      bytes({
        id: '1',
        replyTo: 'vigil-internal/v1/replies/abc',
        command: {
          action: 'operate',
          alarmId: 'a-1',
          command: { action: 'acknowledge' },
          actor: { id: 'li', role: 'operator' },
        },
      }),
      commandRequestSchema,
    );
    expect(request?.command.action).toBe('operate');
    const reply = inbox.read(
      'replies',
      'vigil-internal/v1/replies/abc',
      bytes({ id: '1', reply: { ok: false, status: 404, message: 'no such alarm' } }),
      commandReplySchema,
    );
    expect(reply?.reply.ok).toBe(false);
  });
});
