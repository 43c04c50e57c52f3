import { connect, JSONCodec, type NatsConnection } from 'nats';

import { startNats, type NatsHandle } from '@vigil/testing';

import { commandPartitions, requestAlarmCommand } from './commands';
import { commandSubject, partitionOf } from './subjects';

const codec = JSONCodec<unknown>();

describe('requestAlarmCommand (real nats-server)', () => {
  let nats: NatsHandle;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('routes by the site of the alarm or device; list-open goes everywhere', () => {
    expect(commandPartitions({ action: 'list-open' }, 3)).toEqual([0, 1, 2]);
    const deviceMode = {
      action: 'device-mode',
      siteId: 'plant-1',
      deviceId: 'gc-1',
      mode: null,
      reason: '',
      actor: { id: 'wang', role: 'operator' },
    } as const;
    expect(commandPartitions(deviceMode, 16)).toEqual([partitionOf('plant-1', 16)]);
  });

  it('answers 503 when no instance owns the partition, 400 without a site to route by', async () => {
    const command = {
      action: 'operate',
      alarmId: 'a-1',
      command: { action: 'acknowledge' },
      actor: { id: 'wang', role: 'operator' },
    } as const;
    expect(await requestAlarmCommand(nc, 4, command, { siteId: 'plant-1' })).toMatchObject({
      ok: false,
      status: 503,
    });
    expect(await requestAlarmCommand(nc, 4, command)).toMatchObject({ ok: false, status: 400 });
  });

  it('merges list-open over the partitions, or says which did not answer', async () => {
    const subscriptions = [0, 1].map(partition =>
      nc.subscribe(commandSubject(partition), {
        callback: (_error, message) =>
          message.respond(codec.encode({ ok: true, alarms: [{ id: `a-${partition}` }] })),
      }),
    );
    const both = await requestAlarmCommand(nc, 2, { action: 'list-open' });
    expect(both.ok && 'alarms' in both && both.alarms.map(alarm => alarm.id).sort()).toEqual([
      'a-0',
      'a-1',
    ]);
    const partial = await requestAlarmCommand(nc, 3, { action: 'list-open' }, { timeoutMs: 500 });
    expect(partial).toMatchObject({ ok: false, status: 503 });
    expect(!partial.ok && partial.message).toMatch(/partition\(s\) 2/);
    for (const subscription of subscriptions) subscription.unsubscribe();
  });
});
