import { connect, type NatsConnection } from 'nats';

import { startNats, waitFor, type NatsHandle } from '@vigil/testing';

import { loadConfig } from '../../config/vigil-config';
import { openBackbone, type Backbone } from './backbone';
import { PartitionLeases, leaseKey } from './partition-leases';
import { LEASES_BUCKET } from './subjects';

const PARTITIONS = 8;
const TTL_MS = 2000;

interface Event {
  readonly at: number;
  readonly instance: string;
  readonly partition: number;
  readonly change: 'acquired' | 'released' | 'lost';
}

describe('PartitionLeases (real nats-server)', () => {
  let nats: NatsHandle;
  let backbone: Backbone;
  const connections: NatsConnection[] = [];
  const running: PartitionLeases[] = [];

  beforeAll(async () => {
    nats = await startNats();
    backbone = await openBackbone(
      loadConfig({
        VIGIL_NATS_URL: nats.url,
        VIGIL_SERVICES: 'rules',
        VIGIL_PARTITIONS: String(PARTITIONS),
        VIGIL_LEASE_TTL_MS: String(TTL_MS),
      }).bus.nats,
      'lease-test',
    );
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map(leases => leases.stop().catch(() => undefined)));
    await Promise.all(connections.splice(0).map(nc => nc.close().catch(() => undefined)));
    const kv = await backbone.js.views.kv(LEASES_BUCKET);
    for await (const key of await kv.keys()) await kv.purge(key);
  });
  afterAll(async () => {
    await backbone?.close();
    await nats?.stop();
  });

  /** An instance with its own connection (so that it can lose it), logging what it does. */
  async function instance(name: string, events: Event[], owners: Map<number, Set<string>>) {
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: 0 });
    connections.push(nc);
    const kv = await nc.jetstream().views.kv(LEASES_BUCKET);
    const leases = new PartitionLeases(
      kv,
      { instance: name, partitions: PARTITIONS, ttlMs: TTL_MS },
      {
        acquired: partition => {
          const holders = owners.get(partition) ?? new Set<string>();
          holders.add(name);
          owners.set(partition, holders);
          events.push({ at: Date.now(), instance: name, partition, change: 'acquired' });
          return Promise.resolve();
        },
        released: (partition, clean) => {
          owners.get(partition)?.delete(name);
          events.push({
            at: Date.now(),
            instance: name,
            partition,
            change: clean ? 'released' : 'lost',
          });
          return Promise.resolve();
        },
      },
    );
    running.push(leases);
    return { leases, nc };
  }

  /** Fails the test if any partition ever had two holders at once. */
  function neverTwoOwners(events: Event[]): void {
    const holder = new Map<number, string>();
    for (const event of [...events].sort((a, b) => a.at - b.at)) {
      if (event.change === 'acquired') {
        expect(holder.get(event.partition)).toBeUndefined();
        holder.set(event.partition, event.instance);
      } else if (holder.get(event.partition) === event.instance) {
        holder.delete(event.partition);
      }
    }
  }

  it('shares the partitions fairly between two instances, each held by one', async () => {
    const events: Event[] = [];
    const owners = new Map<number, Set<string>>();
    const a = await instance('r1', events, owners);
    a.leases.start();
    await waitFor(() => a.leases.owned().length === PARTITIONS, {
      what: 'the lease shares',
      timeoutMs: 10_000,
    });
    const b = await instance('r2', events, owners);
    b.leases.start();
    await waitFor(
      () =>
        a.leases.owned().length === PARTITIONS / 2 && b.leases.owned().length === PARTITIONS / 2,
      { what: 'the lease shares', timeoutMs: 10_000 },
    );
    expect([...a.leases.owned(), ...b.leases.owned()].sort((x, y) => x - y)).toEqual(
      Array.from({ length: PARTITIONS }, (_, p) => p),
    );
    // The owner is named in the lease itself.
    const kv = await backbone.js.views.kv(LEASES_BUCKET);
    for (const partition of b.leases.owned()) {
      const entry = await kv.get(leaseKey(partition));
      expect((entry?.json() as { instance: string }).instance).toBe('r2');
    }
    for (const holders of owners.values()) expect(holders.size).toBeLessThanOrEqual(1);
    neverTwoOwners(events);
  });

  it('hands every partition to the other instance when one stops cleanly', async () => {
    const events: Event[] = [];
    const owners = new Map<number, Set<string>>();
    const a = await instance('r1', events, owners);
    const b = await instance('r2', events, owners);
    a.leases.start();
    b.leases.start();
    await waitFor(() => a.leases.owned().length + b.leases.owned().length === PARTITIONS, {
      what: 'every partition owned',
      timeoutMs: 10_000,
    });
    await a.leases.stop();
    expect(a.leases.owned()).toEqual([]);
    await waitFor(() => b.leases.owned().length === PARTITIONS, {
      what: 'the lease shares',
      timeoutMs: 10_000,
    });
    neverTwoOwners(events);
  });

  it('an instance cut from NATS stops evaluating before another can take its partitions', async () => {
    const events: Event[] = [];
    const owners = new Map<number, Set<string>>();
    const a = await instance('r1', events, owners);
    a.leases.start();
    await waitFor(() => a.leases.owned().length === PARTITIONS, {
      what: 'the lease shares',
      timeoutMs: 10_000,
    });
    const b = await instance('r2', events, owners);
    b.leases.start();
    await waitFor(() => b.leases.owned().length === PARTITIONS / 2, {
      what: 'the lease shares',
      timeoutMs: 10_000,
    });
    const cutOff = a.leases.owned();
    // The connection dies under r1 (its process frozen or partitioned away): nothing is released
    // cleanly, the leases are not renewed, its watchdog must give them up on its own.
    await a.nc.close();
    await waitFor(() => b.leases.owned().length === PARTITIONS, {
      what: 'the lease shares',
      timeoutMs: 15_000,
    });
    expect(a.leases.owned()).toEqual([]);
    for (const partition of cutOff) {
      const lost = events.find(
        e => e.instance === 'r1' && e.partition === partition && e.change === 'lost',
      );
      const taken = events.find(
        e => e.instance === 'r2' && e.partition === partition && e.change === 'acquired',
      );
      expect(lost).toBeDefined();
      expect(taken).toBeDefined();
      expect(lost?.at ?? Infinity).toBeLessThan(taken?.at ?? -Infinity);
    }
    neverTwoOwners(events);
  });
});
