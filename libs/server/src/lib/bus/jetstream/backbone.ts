import { Logger } from '@nestjs/common';
import {
  connect,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type StreamConfig,
} from 'nats';

import type { VigilConfig } from '../../config/vigil-config';
import {
  ALARMS_STREAM,
  ALARMS_SUBJECTS,
  CHECKPOINTS_BUCKET,
  HEALTH_BUCKET,
  HEALTH_TTL_MS,
  LEASES_BUCKET,
  RECORDS_STREAM,
  RECORDS_SUBJECTS,
} from './subjects';

/** JetStream drops a message id seen within this window (re-sent device messages, retries). */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** One device message's records; larger is refused by the server (ingest's limits keep far below). */
const MAX_MESSAGE_BYTES = 1024 * 1024;

export type NatsSettings = VigilConfig['bus']['nats'];

/** A connection to the backbone: NATS core, JetStream publishing and management. */
export interface Backbone {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly settings: NatsSettings;
  close(): Promise<void>;
}

/** The backbone's streams do not match this configuration: refused, with every difference. */
export class BackboneConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `The JetStream backbone does not match the configuration:\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'BackboneConfigError';
  }
}

/**
 * JetStream did not answer within VIGIL_NATS_START_WAIT_S at start (no meta leader: a cluster
 * without quorum, or JetStream off): the process exits rather than wait unseen for ever.
 */
export class BackboneUnavailableError extends Error {
  constructor(
    readonly attempts: number,
    readonly waitedMs: number,
    readonly lastError: unknown,
  ) {
    super(
      `JetStream did not answer within ${Math.round(waitedMs / 1000)} s at start (${attempts} attempts, ` +
        `last: ${(lastError as Error)?.message ?? String(lastError)}): is a majority of the NATS cluster up ` +
        `with JetStream? Giving up (VIGIL_NATS_START_WAIT_S)`,
    );
    this.name = 'BackboneUnavailableError';
  }
}

export interface OpenBackboneHooks {
  /** A JetStream API request at start timed out (or was unavailable) and is tried again. */
  readonly onStartRetry?: (attempt: number, error: Error) => void;
}

/**
 * Connects to NATS (any server of the list; the client learns the cluster), reconnecting for
 * ever, and makes sure the streams and buckets exist with the configured limits. `name` shows in
 * the server's connection list (`vigil-<service>-<instance>`).
 */
export async function openBackbone(
  settings: NatsSettings,
  name: string,
  hooks: OpenBackboneHooks = {},
): Promise<Backbone> {
  const logger = new Logger('Backbone');
  const nc = await connect({
    servers: [...settings.servers],
    name,
    ...(settings.user ? { user: settings.user, pass: settings.password } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 5_000,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') logger.warn(`NATS: disconnected from ${status.data}`);
      else if (status.type === 'reconnect') logger.log(`NATS: reconnected to ${status.data}`);
      else if (status.type === 'error') logger.error(`NATS: ${String(status.data)}`);
    }
  })();
  let jsm: JetStreamManager;
  const js = nc.jetstream();
  // A cluster that is starting (or has just lost its meta leader) answers JetStream API requests
  // with a timeout or "JetStream not available" for a while: wait for it, saying so at every
  // retry, rather than die at start; after VIGIL_NATS_START_WAIT_S, give up with a clear error.
  // A stream that does not match the configuration is refused at once.
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      jsm = await nc.jetstreamManager();
      await ensureStreams(jsm, settings);
      await ensureBuckets(js, settings);
      break;
    } catch (error) {
      if (!(error instanceof BackboneConfigError) && isTransient(error) && !nc.isClosed()) {
        const waited = Date.now() - started;
        if (waited < settings.startWaitMs) {
          hooks.onStartRetry?.(attempt, error as Error);
          logger.warn(
            `JetStream is not answering yet (${(error as Error).message}); retry ${attempt}, ` +
              `waited ${Math.round(waited / 1000)} s of at most ${Math.round(settings.startWaitMs / 1000)} s (VIGIL_NATS_START_WAIT_S)`,
          );
          await new Promise(resolve =>
            setTimeout(resolve, Math.min(1000, settings.startWaitMs - waited)),
          );
          continue;
        }
        await nc.close();
        throw new BackboneUnavailableError(attempt, waited, error);
      }
      await nc.close();
      throw error;
    }
  }
  return {
    nc,
    js,
    jsm,
    settings,
    close: async () => {
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}

/** The configured streams: created when missing, limits updated, partitions never changed. */
export async function ensureStreams(jsm: JetStreamManager, settings: NatsSettings): Promise<void> {
  const wanted: Array<Partial<StreamConfig> & { name: string }> = [
    {
      name: RECORDS_STREAM,
      description: `Vigil ingest records; partitions=${settings.partitions}`,
      subjects: [RECORDS_SUBJECTS],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      // Beyond the limits the oldest records go (counted by the persister as a gap): the rules
      // must never stop because a slow consumer filled the stream.
      discard: DiscardPolicy.Old,
      max_bytes: settings.records.maxBytes,
      max_age: nanos(settings.records.maxAgeMs),
      max_msg_size: MAX_MESSAGE_BYTES,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      num_replicas: settings.replicas,
    },
    {
      name: ALARMS_STREAM,
      description: `Vigil alarm updates and device modes; partitions=${settings.partitions}`,
      subjects: [...ALARMS_SUBJECTS],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_bytes: settings.alarms.maxBytes,
      max_age: nanos(settings.alarms.maxAgeMs),
      max_msg_size: MAX_MESSAGE_BYTES,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      num_replicas: settings.replicas,
    },
  ];
  const problems: string[] = [];
  for (const config of wanted) {
    let existing: StreamConfig | undefined;
    try {
      existing = (await jsm.streams.info(config.name)).config;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!existing) {
      await jsm.streams.add(config);
      continue;
    }
    const existingPartitions = /partitions=(\d+)/.exec(existing.description ?? '')?.[1];
    if (existingPartitions !== undefined && Number(existingPartitions) !== settings.partitions)
      problems.push(
        `${config.name} was made with ${existingPartitions} partitions, VIGIL_PARTITIONS is ${settings.partitions}: every process must use the stream's count`,
      );
    if (existing.num_replicas !== settings.replicas)
      problems.push(
        `${config.name} has ${existing.num_replicas} replica(s), VIGIL_NATS_REPLICAS is ${settings.replicas}`,
      );
    if (problems.length === 0 && limitsDiffer(existing, config))
      await jsm.streams.update(config.name, { ...existing, ...config });
  }
  if (problems.length > 0) throw new BackboneConfigError(problems);
}

async function ensureBuckets(js: JetStreamClient, settings: NatsSettings): Promise<void> {
  await js.views.kv(LEASES_BUCKET, {
    history: 1,
    ttl: settings.leaseTtlMs,
    replicas: settings.replicas,
  });
  await js.views.kv(CHECKPOINTS_BUCKET, { history: 1, replicas: settings.replicas });
  // Every process's readiness for the gateway's /readyz (health-exchange.ts).
  await js.views.kv(HEALTH_BUCKET, {
    history: 1,
    ttl: HEALTH_TTL_MS,
    replicas: settings.replicas,
  });
}

function limitsDiffer(existing: StreamConfig, wanted: Partial<StreamConfig>): boolean {
  return (
    existing.max_bytes !== wanted.max_bytes ||
    existing.max_age !== wanted.max_age ||
    existing.duplicate_window !== wanted.duplicate_window ||
    existing.description !== wanted.description
  );
}

/** A JetStream API request that may succeed later: timeouts, no responders, not available yet. */
function isTransient(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = String((error as Error)?.message ?? error);
  return (
    code === 'TIMEOUT' ||
    code === '503' ||
    /timeout|no responders|temporarily unavailable/i.test(message)
  );
}

function isNotFound(error: unknown): boolean {
  const message = String((error as Error)?.message ?? error);
  return /not found/i.test(message) || (error as { code?: string })?.code === '404';
}
