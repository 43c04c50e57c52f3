import type { CanaryStamp } from './canary';
import type { DeviceEvent, DeviceStatus, Reading } from './readings';
import { alarmSchema } from './alarm.schema';
import type { Alarm } from './alarms';
import { internalRecordsBatchSchema, parseInternalAlarms } from './internal-messages';

/**
 * Split mode: a record crosses the broker as JSON and is validated on arrival. zod objects strip
 * keys they do not name, so a field added to a record type but not to its schema would vanish
 * between processes without a word (a `retained` status would become liveness in the rules
 * process). `Required<…>` makes this test stop compiling when a field is added to a record type,
 * until it is added here; the round trip then fails until the schema carries it.
 */
describe('internal record schemas carry every field of the record types', () => {
  const reading: { [K in keyof Required<Reading>]: NonNullable<Reading[K]> } = {
    siteId: 'plant-1',
    deviceId: 'gc-1',
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    ts: 1,
    receivedAt: 2,
    seq: 3,
    deviceTime: false,
    clockSkewMs: 60_000,
    clockCorrected: 'future',
    retained: true,
    values: { lel: 12.5 },
  };
  const event: { [K in keyof Required<DeviceEvent>]: NonNullable<DeviceEvent[K]> } = {
    siteId: 'plant-1',
    deviceId: 'fp-1',
    deviceClass: 'fire-panel',
    areaId: 'control-room',
    ts: 1,
    receivedAt: 2,
    code: 'fire',
    detail: { loop: 1, point: 23 },
    retained: true,
  };
  const status: { [K in keyof Required<DeviceStatus>]: NonNullable<DeviceStatus[K]> } = {
    siteId: 'plant-1',
    deviceId: 'gc-1',
    deviceClass: 'gas-combustible',
    online: true,
    ts: 1,
    receivedAt: 2,
    retained: true,
  };

  const canary: Required<CanaryStamp> = {
    siteId: 'plant-1',
    origin: 'gw-1',
    seq: 7,
    sentAt: 1,
    receivedAt: 2,
  };

  it('round-trips a fully populated reading, event, status and canary unchanged', () => {
    const batch = [
      { kind: 'reading', reading },
      { kind: 'event', event },
      { kind: 'status', status },
      { kind: 'canary', canary },
    ];
    const parsed = internalRecordsBatchSchema.parse(JSON.parse(JSON.stringify(batch)));
    expect(parsed).toEqual(batch);
  });
});

/**
 * One zod shape of `Alarm` serves the REST answers (OpenAPI `Alarm`) and the internal alarm
 * updates. `Required<…>` stops this compiling when `Alarm` gains a field, until it is added here;
 * the parse then strips it (zod objects drop keys they do not name) until the schema carries it.
 */
describe('alarmSchema carries every field of Alarm', () => {
  const alarm: { [K in keyof Required<Alarm>]: NonNullable<Alarm[K]> } = {
    id: 'a-1',
    key: 'plant-1/fp-1/fire/L1.P23',
    ruleId: 'fire',
    siteId: 'plant-1',
    deviceId: 'fp-1',
    deviceClass: 'fire-panel',
    areaId: 'tank-farm',
    category: 'process',
    priority: 1,
    level: 'fire',
    state: 'active-unacknowledged',
    conditionActive: true,
    latched: true,
    metric: 'lel',
    value: 12.5,
    threshold: 10,
    message: 'fire at loop 1 point 23',
    raisedAt: 1,
    clearedAt: 2,
    acknowledgedAt: 3,
    acknowledgedBy: 'zhang',
    updatedAt: 4,
    detectedAt: 1,
    history: [{ action: 'raise', at: 1, by: 'vigil', note: 'raised' }],
    openedAt: 1,
    owner: 'zhang',
    assignee: 'li',
    shelved: { by: 'wang', reason: 'maintenance', until: 9 },
    suppressed: 'maintenance',
    suppressedBy: [{ kind: 'parent-offline', since: 5, by: 'x', reason: 'y', gatewayId: 'gw-1' }],
    shownAt: 6,
    disposition: { kind: 'real-event', note: 'found', by: 'zhang', at: 7 },
    escalation: { level: 1, nodeId: 'park-chem', at: 8 },
    overdue: true,
    groupId: 'a-0',
    chattering: false,
    members: ['tag-001'],
    location: {
      loop: '1',
      point: '23',
      zone: '1',
      channel: 'c1',
      name: '罐区感烟 1-23',
      position: [60, 205],
    },
  };

  it('round-trips a fully populated alarm unchanged, alone and in an internal update', () => {
    expect(alarmSchema.parse(alarm)).toEqual(alarm);
    const action = { action: 'raise' as const, at: 1, by: undefined, note: undefined };
    expect(parseInternalAlarms([{ alarm, action }])).toEqual([
      { alarm, action: { action: 'raise', at: 1 } },
    ]);
  });
});
