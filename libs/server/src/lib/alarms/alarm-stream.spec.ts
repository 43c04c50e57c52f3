import { DeliverPolicy } from 'nats';

import { applySignal } from '@vigil/alarms';
import type { RuleSignal } from '@vigil/contracts';
import { startNats, waitFor, type NatsHandle, type NatsNode } from '@vigil/testing';

import { InternalInbox } from '../bus/internal-inbox';
import { openBackbone, type Backbone } from '../bus/jetstream/backbone';
import { BackboneHealth, type BackboneCondition } from '../bus/jetstream/backbone-health';
import { BackboneMetrics } from '../bus/jetstream/backbone-metrics';
import { ALARMS_STREAM, deviceModeSubject } from '../bus/jetstream/subjects';
import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import type { MqttPublisher } from '../mqtt/mqtt-publisher';
import { ALARM_FEED_PART, AlarmStream, FeedLag, type SequencedUpdate } from './alarm-stream';

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

describe('FeedLag (the alarm feed watchdog)', () => {
  const BOUND = 5000;

  it('is content while the feed reaches every end it was seen behind within the bound', () => {
    const lag = new FeedLag(BOUND, 0, 10);
    // A steady flow: always a little behind, never behind the same message for long.
    for (let t = 1000, applied = 10; t <= 60_000; t += 1000, applied += 5) {
      lag.observe(applied + 3, applied, t);
      expect(lag.problem(applied, t)).toBeUndefined();
      expect(lag.countStall(applied, t)).toBe(false);
    }
  });

  it('reports, counts once and re-follows (without progress, once per bound) a feed stuck behind', () => {
    const lag = new FeedLag(BOUND, 0, 10);
    lag.observe(12, 10, 1000);
    lag.observe(20, 10, 4000);
    expect(lag.problem(10, 6000)).toBeUndefined(); // behind message 12 for 5.0 s: not longer
    lag.observe(30, 10, 6500);
    expect(lag.problem(10, 6500)).toMatch(/behind VIGIL_ALARMS for 5\.5 s \(applied up to 10/);
    expect(lag.countStall(10, 6500)).toBe(true);
    expect(lag.countStall(10, 7500)).toBe(false); // the same stall
    expect(lag.shouldRefollow(10, 6500)).toBe(true);
    expect(lag.shouldRefollow(10, 7500)).toBe(false); // tried a second ago
    // Progress (a catch-up under way) is not a reason to start over; it still shows.
    lag.observe(30, 20, 12_000);
    expect(lag.problem(20, 12_000)).toBeDefined();
    expect(lag.shouldRefollow(20, 12_000)).toBe(false);
    expect(lag.behind(20)).toBe(10);
    // Caught up: current again, a later stall counts again.
    lag.observe(30, 30, 13_000);
    expect(lag.problem(30, 13_000)).toBeUndefined();
    expect(lag.behind(30)).toBe(0);
    lag.observe(31, 30, 14_000);
    expect(lag.countStall(30, 19_500)).toBe(true);
  });

  it('reports a stream that does not answer for longer than the bound as unknown', () => {
    const lag = new FeedLag(BOUND, 0, 10);
    lag.observe(10, 10, 1000);
    lag.unanswered(10, 5000);
    expect(lag.problem(10, 5000)).toBeUndefined();
    lag.unanswered(10, 6500);
    expect(lag.problem(10, 6500)).toMatch(/has not answered for 5\.5 s/);
    lag.observe(10, 10, 7000);
    expect(lag.problem(10, 7000)).toBeUndefined();
  });
});

/**
 * The loss of the NATS node under the gateway's feed (issue 12, split/kill-nats-node): the
 * ordered consumer is R1 on one node; nats.js left it waiting for that node as long as it was
 * away. Each test kills that node and keeps it down: every update published after the kill must
 * be followed, in stream order, none missing, none twice.
 */
describe('AlarmStream when the NATS node of its consumer dies (3-node cluster)', () => {
  const inbox = new InternalInbox(new VigilMetrics(), {
    publish: () => undefined,
  } as unknown as MqttPublisher);
  let nats: NatsHandle;
  const open: Backbone[] = [];
  const streams: AlarmStream[] = [];

  beforeEach(async () => {
    nats = await startNats({ nodes: 3 });
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.stop();
    for (const backbone of open.splice(0)) await backbone.close().catch(() => undefined);
    await nats?.stop();
  });

  const node = (index: number): NatsNode => {
    const found = nats.nodes[index];
    if (!found) throw new Error(`no node ${index}`);
    return found;
  };
  /** A connection that starts on `on` (it learns the other nodes from the cluster). */
  const connectTo = async (on: NatsNode, name: string) => {
    const settings = loadConfig({
      VIGIL_NATS_URL: on.url,
      VIGIL_NATS_REPLICAS: '3',
      VIGIL_SERVICES: 'gateway',
    }).bus.nats;
    const backbone = await openBackbone(settings, name);
    open.push(backbone);
    return backbone;
  };
  const followers = async (backbone: Backbone) => {
    const leaders = new Map<string, string | undefined>();
    const consumers = await (await backbone.jsm.consumers.list(ALARMS_STREAM)).next();
    // The follower starts at a sequence; a snapshot's consumer delivers the last per subject.
    for (const info of consumers)
      if (info.config.deliver_policy === DeliverPolicy.StartSequence)
        leaders.set(info.name, info.cluster?.leader);
    return leaders;
  };

  /**
   * Follows with `reader` until its consumer is on `where` (the server places an ordered
   * consumer on a random node of the stream's three).
   */
  async function followOn(
    reader: Backbone,
    admin: Backbone,
    where: NatsNode,
    metrics: BackboneMetrics,
    health: BackboneHealth,
  ) {
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const stream = new AlarmStream(reader, inbox, metrics, health);
      streams.push(stream);
      await stream.snapshot();
      const before = await followers(admin);
      const followed: SequencedUpdate[] = [];
      stream.follow(u => followed.push(u));
      const placed = await waitFor(
        async () => [...(await followers(admin))].find(([name]) => !before.has(name)),
        { what: 'the follower’s consumer' },
      );
      if (placed[1] === where.name) return { stream, followed };
      stream.stop();
    }
    throw new Error(`the follower's consumer was never placed on ${where.name}`);
  }

  let counter = 0;
  /** Publishes one alarm update (retried while the cluster elects; the msg id makes it once). */
  async function publish(writer: Backbone): Promise<number> {
    counter += 1;
    const id = `k${counter}`;
    const body = JSON.stringify(update(id, true));
    for (let attempt = 0; ; attempt += 1) {
      try {
        const ack = await writer.js.publish(`vigil.alarms.0.plant-1.${id}`, body, { msgID: id });
        return ack.seq;
      } catch (error) {
        if (attempt > 150) throw error;
        await new Promise(resolve => setTimeout(resolve, 200));
      }
    }
  }

  async function publishAfterKill(
    writer: Backbone,
    followed: SequencedUpdate[],
    victim: NatsNode,
  ): Promise<number[]> {
    const before = [await publish(writer)];
    await waitFor(() => followed.length === 1 || undefined, { what: 'the live update' });
    expect(followed.map(u => u.seq)).toEqual(before);
    victim.kill('SIGKILL');
    await victim.exited();
    const sent: number[] = [];
    // A device mode in between: skipped, never an alarm, no gap.
    for (let i = 0; i < 20; i += 1) {
      sent.push(await publish(writer));
      if (i === 10) await writer.js.publish(deviceModeSubject(0, 'plant-1', 'gt-1'), '{}');
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    return [...before, ...sent];
  }

  it('follows on after the node under its connection and its consumer dies', async () => {
    const [n1, n2] = [node(0), node(1)];
    const writer = await connectTo(n2, 'writer');
    const reader = await connectTo(n1, 'reader');
    const metrics = BackboneMetrics.of(new VigilMetrics().registry);
    const { stream, followed } = await followOn(reader, writer, n1, metrics, new BackboneHealth());
    const sent = await publishAfterKill(writer, followed, n1);
    await waitFor(() => followed.length >= sent.length || undefined, {
      what: `the ${sent.length} updates (followed ${followed.length})`,
      timeoutMs: 30_000,
    });
    expect(followed.map(u => u.seq)).toEqual(sent);
    stream.stop();
  }, 120_000);

  it('follows on after the node of its consumer dies under a connection that stays; the stall is counted and shown', async () => {
    const [n1, n2] = [node(0), node(1)];
    const writer = await connectTo(n2, 'writer');
    const reader = await connectTo(n2, 'reader');
    const metrics = BackboneMetrics.of(new VigilMetrics().registry);
    const health = new BackboneHealth();
    const conditions: BackboneCondition[] = [];
    const set = health.set.bind(health);
    health.set = (part, condition) => {
      if (part === ALARM_FEED_PART) conditions.push(condition);
      set(part, condition);
    };
    const { stream, followed } = await followOn(reader, writer, n1, metrics, health);
    const sent = await publishAfterKill(writer, followed, n1);
    await waitFor(() => followed.length >= sent.length || undefined, {
      what: `the ${sent.length} updates (followed ${followed.length})`,
      timeoutMs: 30_000,
    });
    expect(followed.map(u => u.seq)).toEqual(sent);
    // The stall showed on /readyz (the backbone part) and was counted; then it was current again.
    // Behind the stream, or (while the cluster elected the stream's new leader) unable to read it.
    const reasons = conditions.filter(condition => !condition.ok).map(c => c.reason);
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons)
      expect(reason).toMatch(
        /alarm feed has been behind VIGIL_ALARMS|VIGIL_ALARMS has not answered/,
      );
    expect((await metrics.alarmFeedStalls.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
    await waitFor(() => health.report()?.[ALARM_FEED_PART]?.ok || undefined, {
      what: 'the feed current again on /readyz',
      timeoutMs: 10_000,
    });
    stream.stop();
  }, 120_000);
});
