#!/usr/bin/env node
// `node bench/jetstream-hop.mjs [--rates 2000,10000,20000] [--duration 15] [--replicas 1|3]`:
// what the JetStream hop between ingest and its consumers costs (issue 12), against the in-memory
// hop of the all-in-one process (an RxJS Subject: PipelineBus).
//
// Per rate, one record message per reading (what ingest publishes for a device's MQTT message:
// its IngestRecord[] as JSON, one reading), on `vigil.records.<p>.<site>` of a fresh
// VIGIL_RECORDS stream with the backbone's settings (file storage, discard old, 10 min duplicate
// window), published with a message id (`<site>/<device>/<seq>`) and awaited pub ack, consumed by
// a durable pull consumer that parses and acks every message (the persister's way). Measured:
// - CPU of this Node process (publisher and consumer: ingest's and a consumer's client work) and
//   of nats-server, per 1,000 readings/s, beside the Node CPU of the in-memory hop at the same rate;
// - latency publish → pub ack (what holds a device's PUBACK) and publish → consumer, p50/p99;
// - stream bytes per message (stream info), hence storage per hour at the rate.
// Real nats-server(s) on free loopback ports (never 4222), stopped by PID. Writes
// bench/out/jetstream-hop[-r3].json and prints a Markdown table. No build needed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { AckPolicy, connect, DiscardPolicy, nanos, RetentionPolicy, StorageType } from 'nats';
import { Subject } from 'rxjs';

import { argValue, cpuTicks, freePort, root, sleep } from './script-common.mjs';

const arg = argValue;
const rates = String(arg('rates', '2000,10000,20000')).split(',').map(Number);
const durationS = Number(arg('duration', 15));
const warmupS = Number(arg('warmup', 3));
const replicas = Number(arg('replicas', 1));
/** Device messages per JetStream message (1: one per device message, as the design pins). */
const batch = Number(arg('batch', 1));
/**
 * Durable consumers reading every message (rules, persister, gateway read the records stream:
 * up to 3); 0 measures publishing alone. Latency is measured on the first.
 */
const consumerCount = Number(arg('consumers', 1));
const PARTITIONS = 16;
const SITES = 20;
const DEVICES_PER_SITE = 250;
const TICK_MS = 5;
const CLK_TCK = 100;

/** utime + stime of a process, in ms of CPU. */
function procCpuMs(pid) {
  return (cpuTicks(pid) * 1000) / CLK_TCK;
}
const selfCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

// FNV-1a, as subjects.ts partitionOf.
function partitionOf(siteId) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < siteId.length; i += 1) {
    hash ^= siteId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % PARTITIONS;
}

const devices = [];
for (let s = 0; s < SITES; s += 1) {
  const siteId = `site-${String(s).padStart(3, '0')}`;
  for (let d = 0; d < DEVICES_PER_SITE; d += 1)
    devices.push({
      siteId,
      deviceId: `gd-${String(d).padStart(5, '0')}`,
      subject: `vigil.records.${partitionOf(siteId)}.${siteId}`,
      seq: 0,
    });
}

/** One device MQTT message's records, as ingest makes them (one gas reading). */
function recordsOf(device, now) {
  device.seq += 1;
  return [
    {
      kind: 'reading',
      reading: {
        siteId: device.siteId,
        deviceId: device.deviceId,
        deviceClass: 'gas-combustible',
        areaId: 'tank-farm',
        ts: now - 40,
        receivedAt: now,
        seq: device.seq,
        deviceTime: true,
        clockSkewMs: -40,
        values: { lel: Math.round(Math.random() * 200) / 10 },
      },
    },
  ];
}

async function startCluster(count) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-nats-'));
  const ports = [];
  for (let i = 0; i < count; i += 1)
    ports.push({ client: await freePort(), monitor: await freePort(), cluster: await freePort() });
  const nodes = ports.map((own, i) => {
    const conf = join(dir, `n${i + 1}.conf`);
    const lines = [
      `server_name: n${i + 1}`,
      `listen: 127.0.0.1:${own.client}`,
      `http: 127.0.0.1:${own.monitor}`,
      `jetstream { store_dir: "${join(dir, `n${i + 1}`)}" }`,
    ];
    if (count > 1)
      lines.push(
        `cluster { name: bench, listen: 127.0.0.1:${own.cluster}, routes: [${ports.map(p => `nats://127.0.0.1:${p.cluster}`).join(', ')}] }`,
      );
    writeFileSync(conf, `${lines.join('\n')}\n`);
    const child = spawn('nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.resume();
    return { child, ...own };
  });
  for (const node of nodes) {
    for (let attempt = 0; ; attempt += 1) {
      const ok = await fetch(`http://127.0.0.1:${node.monitor}/healthz`)
        .then(r => r.ok)
        .catch(() => false);
      if (ok) break;
      if (attempt > 100) throw new Error('nats-server did not become healthy');
      await sleep(200);
    }
  }
  return {
    nodes,
    servers: nodes.map(n => `nats://127.0.0.1:${n.client}`),
    stop: async () => {
      for (const node of nodes) node.child.kill('SIGTERM');
      await sleep(500);
      for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls `send(now)` `rate` times a second for `seconds`, in bursts every TICK_MS. */
async function paced(rate, seconds, send, flush = () => undefined) {
  const start = performance.now();
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= seconds * 1000) break;
    const due = Math.floor((elapsed / 1000) * rate);
    while (sent < due) {
      send(sent);
      sent += 1;
    }
    flush();
    await sleep(TICK_MS);
  }
  return sent;
}

async function memoryHop(rate) {
  const bus = new Subject();
  const latencies = [];
  let measuring = false;
  let received = 0;
  bus.subscribe(message => {
    received += 1;
    if (measuring) latencies.push(performance.now() - message.sentAt);
  });
  let index = 0;
  const send = () => {
    const device = devices[index++ % devices.length];
    bus.next({ sentAt: performance.now(), records: recordsOf(device, Date.now()) });
  };
  await paced(rate, warmupS, send);
  measuring = true;
  const cpu0 = selfCpuMs();
  const t0 = performance.now();
  const sent = await paced(rate, durationS, send);
  const wallMs = performance.now() - t0;
  const nodeCpuMs = selfCpuMs() - cpu0;
  latencies.sort((a, b) => a - b);
  return {
    hop: 'memory',
    rate,
    sent,
    achieved: Math.round((sent / wallMs) * 1000),
    lost: 0,
    nodeCpuPercent: (nodeCpuMs / wallMs) * 100,
    natsCpuPercent: 0,
    consumeP50Ms: percentile(latencies, 0.5),
    consumeP99Ms: percentile(latencies, 0.99),
    received,
  };
}

async function jetstreamHop(cluster, rate) {
  const pubConn = await connect({ servers: cluster.servers, name: 'bench-ingest' });
  const subConn = await connect({ servers: cluster.servers, name: 'bench-consumer' });
  const jsm = await pubConn.jetstreamManager();
  await jsm.streams.delete('VIGIL_RECORDS').catch(() => undefined);
  for (let attempt = 0; ; attempt += 1) {
    try {
      await jsm.streams.add({
        name: 'VIGIL_RECORDS',
        subjects: ['vigil.records.*.*'],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_bytes: 8192 * 1024 * 1024,
        max_age: nanos(72 * 3600_000),
        max_msg_size: 1024 * 1024,
        duplicate_window: nanos(10 * 60_000),
        num_replicas: replicas,
      });
      break;
    } catch (error) {
      if (attempt > 50) throw error;
      await sleep(200);
    }
  }
  const sentAt = new Map();
  const ackLatencies = [];
  const consumeLatencies = [];
  let measuring = false;
  let received = 0;
  let ackErrors = 0;
  let inFlight = 0;
  const consumers = [];
  for (let c = 0; c < consumerCount; c += 1) {
    await jsm.consumers.add('VIGIL_RECORDS', {
      durable_name: `bench-consumer-${c}`,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 20_000,
    });
    const consumer = await subConn
      .jetstream()
      .consumers.get('VIGIL_RECORDS', `bench-consumer-${c}`);
    const messages = await consumer.consume({ max_messages: 2000 });
    const first = c === 0;
    const consuming = (async () => {
      for await (const message of messages) {
        const records = JSON.parse(message.string());
        if (first) {
          const now = performance.now();
          for (const { reading } of records) {
            const key = `${reading.siteId}/${reading.deviceId}/${reading.seq}`;
            const at = sentAt.get(key);
            if (at !== undefined) {
              sentAt.delete(key);
              if (measuring) consumeLatencies.push(now - at);
            }
            received += 1;
          }
        }
        message.ack();
      }
    })();
    consumers.push({ messages, consuming });
  }
  const js = pubConn.jetstream();
  let index = 0;
  const pending = new Map();
  let publishedMessages = 0;
  const publish = (subject, records, msgID, at) => {
    publishedMessages += 1;
    inFlight += 1;
    const measured = measuring;
    js.publish(subject, JSON.stringify(records), { msgID }).then(
      () => {
        inFlight -= 1;
        if (measured) ackLatencies.push(performance.now() - at);
      },
      () => {
        inFlight -= 1;
        ackErrors += 1;
      },
    );
    // Without a consumer, the pub ack is the end of the hop.
    if (consumerCount === 0) sentAt.delete(msgID);
  };
  const send = () => {
    const device = devices[index++ % devices.length];
    const records = recordsOf(device, Date.now());
    const msgID = `${device.siteId}/${device.deviceId}/${device.seq}`;
    const at = performance.now();
    sentAt.set(msgID, at);
    if (batch === 1) return publish(device.subject, records, msgID, at);
    let group = pending.get(device.subject);
    if (!group) pending.set(device.subject, (group = { records: [], first: msgID, at }));
    group.records.push(...records);
    if (group.records.length >= batch) {
      pending.delete(device.subject);
      publish(device.subject, group.records, `b:${group.first}`, group.at);
    }
  };
  // The tick's partial batches go at its end (a batching ingest would wait at most a few ms).
  const flush = () => {
    for (const [subject, group] of pending)
      publish(subject, group.records, `b:${group.first}`, group.at);
    pending.clear();
  };
  await paced(rate, warmupS, send, flush);
  measuring = true;
  const server = cluster.nodes.map(n => n.child.pid);
  const natsCpu0 = server.map(procCpuMs);
  const cpu0 = selfCpuMs();
  const received0 = received;
  const t0 = performance.now();
  const sent = await paced(rate, durationS, send, flush);
  const wallMs = performance.now() - t0;
  const nodeCpuMs = selfCpuMs() - cpu0;
  const natsCpuMs = server.map(procCpuMs).reduce((sum, v, i) => sum + v - natsCpu0[i], 0);
  const receivedInWindow = received - received0;
  // Drain: everything published must arrive.
  const totalSent = index;
  const expected = consumerCount === 0 ? 0 : totalSent;
  for (let waited = 0; (received < expected || inFlight > 0) && waited < 20_000; waited += 100)
    await sleep(100);
  const info = await jsm.streams.info('VIGIL_RECORDS');
  for (const { messages, consuming } of consumers) {
    messages.stop();
    await consuming.catch(() => undefined);
  }
  await pubConn.close();
  await subConn.close();
  ackLatencies.sort((a, b) => a - b);
  consumeLatencies.sort((a, b) => a - b);
  // Per reading: a batched message holds several.
  const bytesPerMessage = info.state.bytes / info.state.messages;
  const bytesPerReading = info.state.bytes / totalSent;
  return {
    hop: `jetstream R${replicas}`,
    batch,
    consumers: consumerCount,
    rate,
    sent,
    achieved: Math.round((sent / wallMs) * 1000),
    receivedInWindow,
    lost:
      consumerCount === 0
        ? Math.round(totalSent - info.state.messages * (totalSent / Math.max(1, publishedMessages)))
        : totalSent - received,
    ackErrors,
    nodeCpuPercent: (nodeCpuMs / wallMs) * 100,
    natsCpuPercent: (natsCpuMs / wallMs) * 100,
    pubAckP50Ms: percentile(ackLatencies, 0.5),
    pubAckP99Ms: percentile(ackLatencies, 0.99),
    consumeP50Ms: percentile(consumeLatencies, 0.5),
    consumeP99Ms: percentile(consumeLatencies, 0.99),
    streamMessages: info.state.messages,
    streamBytes: info.state.bytes,
    bytesPerMessage,
    bytesPerReading,
    publishedMessages,
    payloadBytes: Buffer.byteLength(JSON.stringify(recordsOf({ ...devices[0] }, Date.now()))),
    storagePerHourGB: (bytesPerReading * rate * 3600) / 1e9,
  };
}

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

async function main() {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const cluster = await startCluster(replicas === 3 ? 3 : 1);
  const runs = [];
  try {
    for (const rate of rates) {
      const memory = await memoryHop(rate);
      const jetstream = await jetstreamHop(cluster, rate);
      const perK = percent => percent / (rate / 1000);
      const row = {
        rate,
        memory,
        jetstream,
        cpuPer1kNodeMemory: perK(memory.nodeCpuPercent),
        cpuPer1kNodeJetstream: perK(jetstream.nodeCpuPercent),
        cpuPer1kNats: perK(jetstream.natsCpuPercent),
        cpuPer1kAdded: perK(
          jetstream.nodeCpuPercent + jetstream.natsCpuPercent - memory.nodeCpuPercent,
        ),
      };
      runs.push(row);
      console.error(JSON.stringify(row));
    }
  } finally {
    await cluster.stop();
  }
  const result = {
    startedAt,
    endedAt: new Date().toISOString(),
    machine: `${cpus()[0]?.model ?? '?'}, ${cpus().length} cores`,
    node: process.version,
    natsServer: 'nats-server (Debian) on loopback',
    loadBefore,
    loadAfter: loadavg(),
    durationS,
    warmupS,
    replicas,
    batch,
    consumers: consumerCount,
    runs,
  };
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  const file = join(
    root,
    `bench/out/jetstream-hop${replicas === 3 ? '-r3' : ''}${batch > 1 ? `-batch${batch}` : ''}${consumerCount === 1 ? '' : `-c${consumerCount}`}.json`,
  );
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const lines = [
    `JetStream hop (R${replicas}${replicas === 3 ? ', 3-node cluster on this machine' : ', one node'}; ${batch === 1 ? 'one JetStream message per device message' : `up to ${batch} device messages of one site per JetStream message`}; ${consumerCount} durable consumer(s)), ${durationS} s per rate after ${warmupS} s warm-up; load ${loadBefore.map(l => l.toFixed(2)).join(' / ')} before, ${result.loadAfter.map(l => l.toFixed(2)).join(' / ')} after. Raw: ${file.slice(root.length + 1)}`,
    '',
    '| readings/s | achieved | lost | in-memory hop: Node CPU per 1k/s | JetStream: Node CPU per 1k/s | nats-server CPU per 1k/s | added CPU per 1k/s | pub ack p50 / p99 | publish → consumer p50 / p99 (in-memory p50 / p99) | stream bytes per reading | stream GB per hour |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      r =>
        `| ${r.rate.toLocaleString('en')} | ${r.jetstream.achieved.toLocaleString('en')} | ${r.jetstream.lost} | ${fmt(r.cpuPer1kNodeMemory)} % | ${fmt(r.cpuPer1kNodeJetstream)} % | ${fmt(r.cpuPer1kNats)} % | ${fmt(r.cpuPer1kAdded)} % | ${fmt(r.jetstream.pubAckP50Ms)} / ${fmt(r.jetstream.pubAckP99Ms)} ms | ${fmt(r.jetstream.consumeP50Ms)} / ${fmt(r.jetstream.consumeP99Ms)} ms (${fmt(r.memory.consumeP50Ms, 3)} / ${fmt(r.memory.consumeP99Ms, 3)} ms) | ${fmt(r.jetstream.bytesPerReading, 0)} (one reading's JSON: ${r.jetstream.payloadBytes}) | ${fmt(r.jetstream.storagePerHourGB)} |`,
    ),
  ];
  console.log(lines.join('\n'));
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
