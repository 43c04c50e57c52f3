import { applySignal } from '@vigil/alarms';
import type { Alarm, RuleSignal } from '@vigil/contracts';
import { headers as natsHeaders } from 'nats';

import { startNats, type NatsHandle } from '@vigil/testing';

import type { JournalEntry } from '../../alarms/alarm-journal';
import { loadConfig } from '../../config/vigil-config';
import { rebuildPartition } from '../../rules/partitioned-rules';
import { openBackbone, type Backbone } from './backbone';
import {
  BATCH_HEADER,
  RECORDS_SEQ_HEADER,
  StreamAlarmJournal,
  alarmMsgId,
} from './stream-alarm-journal';
import { alarmSubject, partitionOf } from './subjects';

const PARTITIONS = 4;

function signal(siteId: string, deviceId: string, active: boolean, at: number): RuleSignal {
  return {
    key: `${siteId}/${deviceId}/gas-l1`,
    ruleId: 'gas-l1',
    siteId,
    deviceId,
    deviceClass: 'gas-combustible',
    areaId: undefined,
    category: 'process',
    priority: 2,
    level: 'L1',
    active,
    latched: false,
    metric: 'lel',
    value: active ? 30 : 5,
    threshold: 25,
    message: `Combustible gas ${active ? 30 : 5} %LEL`,
    at,
    detectedAt: at,
  };
}

let ids = 0;
function raise(siteId: string, deviceId: string, at: number): JournalEntry & { t: 'alarm' } {
  const transition = applySignal(undefined, signal(siteId, deviceId, true, at), {
    newId: () => `alarm-${(ids += 1)}`,
    groupHead: () => undefined,
    suppressedBy: [],
  });
  if (!transition) throw new Error('no transition');
  return { t: 'alarm', alarm: transition.alarm, action: transition.action };
}
function clear(alarm: Alarm, at: number): JournalEntry & { t: 'alarm' } {
  const transition = applySignal(alarm, signal(alarm.siteId, alarm.deviceId, false, at), {
    newId: () => 'unused',
    groupHead: () => undefined,
    suppressedBy: [],
  });
  if (!transition) throw new Error('no transition');
  return { t: 'alarm', alarm: transition.alarm, action: transition.action };
}

/** Two sites of one partition (the journal routes by site). */
function sitesOf(partition: number): [string, string] {
  const sites: string[] = [];
  for (let i = 0; sites.length < 2; i += 1)
    if (partitionOf(`site-${i}`, PARTITIONS) === partition) sites.push(`site-${i}`);
  return [sites[0] ?? '', sites[1] ?? ''];
}

describe('StreamAlarmJournal and rebuildPartition (real nats-server)', () => {
  let nats: NatsHandle;
  let backbone: Backbone;

  beforeAll(async () => {
    nats = await startNats();
    backbone = await openBackbone(
      loadConfig({
        VIGIL_NATS_URL: nats.url,
        VIGIL_SERVICES: 'rules',
        VIGIL_PARTITIONS: String(PARTITIONS),
      }).bus.nats,
      'journal-test',
    );
  });
  afterAll(async () => {
    await backbone?.close();
    await nats?.stop();
  });

  it('journals transitions stamped with the records seq; the next owner rebuilds the open ones', async () => {
    const partition = 0;
    const [a, b] = sitesOf(partition);
    const journal = new StreamAlarmJournal(backbone.js, PARTITIONS);
    journal.own(partition, 0);
    journal.evaluating(partition, 41);
    const first = raise(a, 'gc-1', 1000);
    const second = raise(b, 'gc-2', 1000);
    await journal.append([first, second]);
    journal.evaluating(partition, 42);
    await journal.append([
      clear(second.alarm, 2000),
      {
        t: 'device',
        device: {
          siteId: a,
          deviceId: 'gc-9',
          mode: 'out-of-service',
          by: 'wang',
          reason: 'broken',
          at: 2000,
        },
      },
    ]);
    // The same append again (a retry after a lost ack): JetStream drops the duplicates.
    await journal.append([first]);

    const snapshot = await rebuildPartition(backbone, partition);
    expect(snapshot.evaluatedUpTo).toBe(42);
    // The cleared alarm is still open (returned, unacknowledged): both are rebuilt, as they were.
    expect(snapshot.alarms.map(alarm => [alarm.id, alarm.conditionActive]).sort()).toEqual(
      [
        [first.alarm.id, true],
        [second.alarm.id, false],
      ].sort(),
    );
    expect(snapshot.devices.map(device => device.deviceId)).toEqual(['gc-9']);
    const info = await backbone.jsm.streams.info('VIGIL_ALARMS', {
      subjects_filter: alarmSubject(partition, a, first.alarm.id),
    });
    expect(Object.values(info.state.subjects ?? {})).toEqual([1]);
  });

  it('an append cut short by a crash: its records are evaluated again (resume at its stamp)', async () => {
    const partition = 1;
    const [a] = sitesOf(partition);
    const journal = new StreamAlarmJournal(backbone.js, PARTITIONS);
    journal.own(partition, 0);
    journal.evaluating(partition, 70);
    await journal.append([raise(a, 'gc-1', 1000)]);
    // What a process killed mid-append leaves: message 0 of 2 of an append stamped 80.
    const cut = raise(a, 'gc-2', 3000);
    const h = natsHeaders();
    h.set(RECORDS_SEQ_HEADER, '80');
    h.set(BATCH_HEADER, '0/2');
    await backbone.js.publish(
      alarmSubject(partition, a, cut.alarm.id),
      JSON.stringify({ alarm: cut.alarm, action: cut.action }),
      { msgID: alarmMsgId(cut.alarm), headers: h },
    );
    const snapshot = await rebuildPartition(backbone, partition);
    expect(snapshot.evaluatedUpTo).toBe(79);
    expect(snapshot.alarms).toHaveLength(2);
  });

  it('journals nothing for a partition it does not own', async () => {
    const partition = 2;
    const [a] = sitesOf(partition);
    const journal = new StreamAlarmJournal(backbone.js, PARTITIONS);
    await expect(journal.append([raise(a, 'gc-1', 1000)])).rejects.toThrow(/not owned/);
    expect(journal.dropped).toBe(1);
    expect((await rebuildPartition(backbone, partition)).messages).toBe(0);
  });

  it('publishes nothing once the lease is past its safe deadline (a process that was frozen)', async () => {
    const partition = 3;
    const [a] = sitesOf(partition);
    const journal = new StreamAlarmJournal(backbone.js, PARTITIONS);
    let leaseValid = true;
    journal.own(partition, 5, () => leaseValid);
    await journal.append([raise(a, 'gc-1', 1000)]);
    leaseValid = false;
    await expect(journal.append([raise(a, 'gc-2', 2000)])).rejects.toThrow(/lost/);
    expect(
      (await rebuildPartition(backbone, partition)).alarms.map(alarm => alarm.deviceId),
    ).toEqual(['gc-1']);
  });
});
