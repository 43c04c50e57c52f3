import { connect, type KV, type NatsConnection } from 'nats';

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
  async function instance(
    name: string,
    events: Event[],
    owners: Map<number, Set<string>>,
    options: { bucket?: string; clock?: () => number; kv?: (kv: KV) => KV } = {},
  ) {
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: 0 });
    connections.push(nc);
    const real = await nc.jetstream().views.kv(options.bucket ?? LEASES_BUCKET);
    const kv = options.kv ? options.kv(real) : real;
    const leases = new PartitionLeases(
      kv,
      {
        instance: name,
        partitions: PARTITIONS,
        ttlMs: TTL_MS,
        ...(options.clock ? { clock: options.clock } : {}),
      },
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

  it('a listing of the bucket that never ends stops neither the renewals nor the next passes', async () => {
    const events: Event[] = [];
    const owners = new Map<number, Set<string>>();
    let hang = false;
    let hung = 0;
    // Everything on the real nats-server but `keys()`, which (once `hang` is set) answers with a
    // listing that never ends, as nats.js's may when entries expire or change under it: before
    // the fix the pass waited on it for ever, renewals with it; the leases lapsed and were never
    // taken back (the lone instance of the 2026-12-07 load run).
    const a = await instance('r1', events, owners, {
      kv: real =>
        new Proxy(real, {
          get(target, property, receiver) {
            if (property === 'keys' && hang)
              return async () => {
                hung += 1;
                let stop: (error?: Error) => void = () => undefined;
                const ended = new Promise<IteratorResult<string>>((resolve, reject) => {
                  stop = error =>
                    error ? reject(error) : resolve({ done: true, value: undefined });
                });
                return {
                  stop,
                  [Symbol.asyncIterator]: () => ({ next: () => ended }),
                };
              };
            const value = Reflect.get(target, property, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
    a.leases.start();
    await waitFor(() => a.leases.owned().length === PARTITIONS, {
      what: 'r1 to own every partition',
      timeoutMs: 10_000,
    });
    hang = true;
    await waitFor(() => hung >= 2, { what: 'two listings that never end', timeoutMs: 10_000 });
    // Three TTLs with listings that never end: the renewals went on, nothing lapsed.
    await new Promise(resolve => setTimeout(resolve, 3 * TTL_MS));
    expect(events.filter(e => e.change === 'lost')).toEqual([]);
    expect(a.leases.owned()).toHaveLength(PARTITIONS);
    expect(a.leases.passFailures).toBeGreaterThanOrEqual(2);
    hang = false;
    neverTwoOwners(events);
  }, 30_000);

  it('takes a lapsed lease whose entry still names it back by revision, as a new takeover', async () => {
    const events: Event[] = [];
    const owners = new Map<number, Set<string>>();
    // A bucket whose entries outlive the lease TTL by far: a lapsed lease taken back only once its
    // entry expired (the old behaviour) would not be taken back within this test.
    const bucket = 'lease_lapse_test';
    await backbone.js.views.kv(bucket, { history: 1, ttl: 60_000 });
    let skew = 0;
    const a = await instance('r1', events, owners, { bucket, clock: () => Date.now() + skew });
    const b = await instance('r2', events, owners, { bucket });
    a.leases.start();
    await waitFor(() => a.leases.owned().length === PARTITIONS, {
      what: 'r1 to own every partition',
      timeoutMs: 10_000,
    });
    // r1's clock jumps past the safe deadline, as after a frozen event loop: its watchdog gives
    // every lease up (evaluation stops), while the entries are still on the server.
    skew = TTL_MS;
    await waitFor(() => a.leases.lapses >= PARTITIONS, {
      what: 'r1 to lose its leases',
      timeoutMs: 10_000,
    });
    // r2 (started now) cannot create them before they expire; r1 takes every one back by
    // revision, then gives r2 its fair share cleanly.
    b.leases.start();
    await waitFor(
      () =>
        events.filter(e => e.instance === 'r1' && e.change === 'acquired').length ===
        2 * PARTITIONS,
      { what: 'r1 to take its leases back', timeoutMs: 10_000 },
    );
    await waitFor(
      () =>
        a.leases.owned().length === PARTITIONS / 2 && b.leases.owned().length === PARTITIONS / 2,
      { what: 'r1 and r2 to share the partitions', timeoutMs: 10_000 },
    );
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      const mine = events.filter(e => e.instance === 'r1' && e.partition === partition);
      // Acquired, lost, acquired again: the second time is a full takeover (the handler ran).
      expect(mine.slice(0, 3).map(e => e.change)).toEqual(['acquired', 'lost', 'acquired']);
    }
    neverTwoOwners(events);
    await b.leases.stop();
    await a.leases.stop();
    await backbone.jsm.streams.delete(`KV_${bucket}`);
  }, 30_000);
});
