import { applySignal } from '@vigil/alarms';
import type { RuleSignal } from '@vigil/contracts';
import { startNats, waitFor, type NatsHandle } from '@vigil/testing';

import { InternalInbox } from '../bus/internal-inbox';
import { openBackbone, type Backbone } from '../bus/jetstream/backbone';
import { deviceModeSubject } from '../bus/jetstream/subjects';
import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import type { MqttPublisher } from '../mqtt/mqtt-publisher';
import { AlarmStream, type SequencedUpdate } from './alarm-stream';

function update(id: string, active: boolean, previous?: ReturnType<typeof applySignal>) {
  const signal: RuleSignal = {
    key: `plant-1/gt-1/${id}`,
    ruleId: 'gas-l2',
    siteId: 'plant-1',
    deviceId: 'gt-1',
    deviceClass: 'gas-toxic',
    areaId: undefined,
    category: 'process',
    priority: 1,
    level: 'L2',
    active,
    latched: false,
    metric: 'ppm',
    value: 16,
    threshold: 10,
    message: id,
    at: Date.now(),
    detectedAt: Date.now(),
  };
  const transition = applySignal(previous?.alarm, signal, { newId: () => id });
  if (!transition) throw new Error('no transition');
  return transition;
}

describe('AlarmStream (real nats-server)', () => {
  let nats: NatsHandle;
  let writer: Backbone;
  let reader: Backbone;
  const inbox = new InternalInbox(new VigilMetrics(), {
    publish: () => undefined,
  } as unknown as MqttPublisher);

  beforeAll(async () => {
    nats = await startNats();
    const settings = loadConfig({ VIGIL_NATS_URL: nats.url, VIGIL_SERVICES: 'gateway' }).bus.nats;
    writer = await openBackbone(settings, 'writer');
    reader = await openBackbone(settings, 'reader');
  });
  afterAll(async () => {
    await writer?.close();
    await reader?.close();
    await nats?.stop();
  });

  const publish = async (id: string, value: unknown) =>
    (await writer.js.publish(`vigil.alarms.0.plant-1.${id}`, JSON.stringify(value))).seq;

  it('snapshots every alarm’s last state, follows across a NATS restart, and reads a range back', async () => {
    const raised = update('a1', true);
    await publish('a1', raised);
    const cleared = update('a1', false, raised);
    await publish('a1', cleared);
    const b1 = update('b1', true);
    const b1Seq = await publish('b1', b1);
    // A device mode shares the stream: not an alarm, never read as one.
    await writer.js.publish(deviceModeSubject(0, 'plant-1', 'gt-1'), '{"mode":null}');

    const stream = new AlarmStream(reader, inbox);
    const snapshot = await stream.snapshot();
    expect(snapshot.map(s => [s.update.alarm.id, s.update.alarm.conditionActive])).toEqual([
      ['a1', false],
      ['b1', true],
    ]);
    expect(stream.position).toBe(b1Seq + 1);
    expect(stream.epoch).toMatch(/^VIGIL_ALARMS@/);

    const followed: SequencedUpdate[] = [];
    stream.follow(u => followed.push(u));
    const sent = [await publish('c1', update('c1', true))];
    await waitFor(() => followed.length === 1 || undefined, { what: 'the live update' });

    // The server goes away and comes back on the same store: following resumes after the last.
    const [server] = nats.nodes;
    if (!server) throw new Error('no node');
    server.kill('SIGKILL');
    await server.exited();
    await server.restart();
    for (const id of ['d1', 'e1']) {
      for (;;) {
        try {
          sent.push(await publish(id, update(id, true)));
          break;
        } catch {
          await new Promise(resolve => setTimeout(resolve, 200)); // the writer reconnecting
        }
      }
    }
    await waitFor(() => followed.length === 3 || undefined, {
      what: 'the updates after the restart',
      timeoutMs: 30_000,
    });
    expect(followed.map(u => u.seq)).toEqual(sent);

    const range = await stream.read(b1Seq - 2, sent[1] ?? 0);
    expect(range?.map(u => u.update.alarm.id)).toEqual(['a1', 'b1', 'c1', 'd1']);
    stream.stop();
  }, 60_000);
});
