import type { CanaryStamp } from './canary';
import type { DeviceEvent, DeviceStatus, Reading } from './readings';
import { internalRecordsBatchSchema } from './internal-messages';

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
