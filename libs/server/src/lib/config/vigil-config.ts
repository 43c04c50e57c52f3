import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import { z } from 'zod';

import { ENTERPRISE_CODE_PATTERN, UPLINK_MAX_BATCH } from '@vigil/contracts';

export const SERVICE_NAMES = ['broker', 'ingest', 'rules', 'persister', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const port = z.coerce.number().int().min(1).max(65_535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform(value => ['true', '1', 'yes', 'on'].includes(value));

/** Every variable Vigil reads, in one place (documented in docs/interfaces.md §Configuration). */
export const vigilEnvSchema = z.object({
  VIGIL_SERVICES: z
    .string()
    .default('all')
    .transform(value =>
      value.trim() === 'all' ? [...SERVICE_NAMES] : value.split(',').map(s => s.trim()),
    )
    .pipe(z.array(z.enum(SERVICE_NAMES)).min(1)),
  VIGIL_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  VIGIL_HTTP_PORT: port.default(8080),
  VIGIL_MQTT_HOST: z.string().min(1).default('127.0.0.1'),
  VIGIL_MQTT_PORT: port.default(1883),
  /** An external broker (Mosquitto, EMQX). When set, the embedded broker is not needed. */
  VIGIL_MQTT_URL: z.url({ protocol: /^mqtts?$/ }).optional(),
  /**
   * More nodes of the same clustered broker (NATS's MQTT listener, EMQX), comma-separated: every
   * MQTT client of Vigil tries the next one when its node is unreachable (docs/scaling.md).
   */
  VIGIL_MQTT_FAILOVER_URLS: z.string().min(1).optional(),
  /**
   * Ingest subscribes through the shared subscription `$share/<group>/vigil/v1/…`: several ingest
   * instances in one group split the device traffic between them (EMQX, Mosquitto 2, docs/scaling.md).
   */
  VIGIL_MQTT_SHARE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (no /, + or #)')
    .optional(),
  VIGIL_MQTT_USERNAME: z.string().optional(),
  VIGIL_MQTT_PASSWORD: z.string().optional(),
  VIGIL_MQTT_QOS: z.coerce
    .number()
    .pipe(z.union([z.literal(0), z.literal(1)]))
    .default(1),
  /** managed: start a local influxd when the binary exists; external: use VIGIL_INFLUX_URL; off. */
  VIGIL_INFLUX_MODE: z.enum(['managed', 'external', 'off']).default('managed'),
  VIGIL_INFLUX_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8086'),
  VIGIL_INFLUX_DB: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/)
    .default('vigil'),
  VIGIL_INFLUX_RAW_RETENTION: z
    .string()
    .regex(/^\d+[hdw]$/)
    .default('30d'),
  VIGIL_INFLUX_EVENTS_RETENTION: z
    .string()
    .regex(/^\d+[hdw]$/)
    .default('400d'),
  VIGIL_INFLUXD_BINARY: z.string().default('influxd'),
  VIGIL_DATA_DIR: z.string().default('data'),
  VIGIL_REGISTRY: z.string().default('registry/sample'),
  VIGIL_CONSOLE_DIR: z.string().default('dist/apps/console'),
  VIGIL_DEMO_MODE: bool.default(true),
  VIGIL_LOG_JSON: bool.default(false),
  VIGIL_LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  VIGIL_WRITE_BUFFER_LINES: z.coerce.number().int().min(1000).default(200_000),
  VIGIL_WRITE_BATCH_LINES: z.coerce.number().int().min(1).default(5000),
  VIGIL_WRITE_FLUSH_MS: z.coerce.number().int().min(10).default(200),
  VIGIL_WS_REPLAY: z.coerce.number().int().min(100).default(10_000),
  VIGIL_RULE_TICK_MS: z.coerce.number().int().min(50).default(1000),
  /**
   * Maintenance always ends: a device put in maintenance without `hours` comes back after this
   * long, and no request may ask for more than the maximum (a forgotten maintenance mode would hide
   * the device's alarms for good). Out of service has no end: it is for devices taken away.
   */
  VIGIL_MAINTENANCE_HOURS: z.coerce.number().positive().max(720).default(8),
  VIGIL_MAINTENANCE_MAX_HOURS: z.coerce.number().positive().max(720).default(72),
  /** How often escalation, overdue and shelving expiry are checked; 0 turns the timer off. */
  VIGIL_ALARM_TICK_MS: z.coerce.number().int().min(0).default(1000),
  /**
   * Hazard ledger: a hazard still overdue after its reminder goes one level up the organisation
   * tree this often (hours, fractions allowed). Checked at VIGIL_ALARM_TICK_MS.
   */
  VIGIL_HAZARD_ESCALATE_HOURS: z.coerce.number().positive().max(720).default(24),
  /**
   * Hazard photos (docs/security.md, "Uploads"): the largest photo accepted (MB, fractions allowed;
   * a larger one is refused 413), the most photos one hazard holds (one more is refused 409), and
   * the free space kept on the data directory's file system for the journals (a photo that would
   * eat into it is refused 507).
   */
  VIGIL_HAZARD_PHOTO_MAX_MB: z.coerce.number().positive().max(50).default(5),
  VIGIL_HAZARD_PHOTOS_MAX: z.coerce.number().int().min(1).max(200).default(20),
  VIGIL_HAZARD_PHOTO_RESERVE_MB: z.coerce.number().min(0).default(256),
  /**
   * Special-operation permits: an active permit's area without a reading of a limited gas metric
   * for longer than this stops the work ("no gas monitoring"; GB 30871 continuous monitoring, the
   * figure a proposal: PERMIT_GAS_SILENCE_MS). Keep it above the detectors' reporting interval.
   */
  VIGIL_PERMIT_GAS_SILENCE_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  /**
   * The monthly report's PDF: the Chromium that prints its HTML (Debian's `chromium`). Absent, a
   * PDF is answered 503 with the reason (counted); the JSON and HTML reports do not need it.
   */
  VIGIL_CHROMIUM: z.string().min(1).default('/usr/bin/chromium'),
  /**
   * Duty (值班): a control room whose on-duty shift is this long past its planned end without an
   * accepted hand-over is unmanned, a P2 alarm (the figure a proposal: DUTY_GRACE_MS, 15 min).
   * At most 4 h: a longer grace would leave a room unwatched for half a shift unnoticed.
   */
  VIGIL_DUTY_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(4 * 3_600_000)
    .default(15 * 60_000),
  /** Users file (YAML): id, name, role, scope, passwordHash. Required outside demo mode. */
  VIGIL_USERS: z.string().optional(),
  /** Secret that signs tokens (at least 32 characters). Required outside demo mode. */
  VIGIL_AUTH_SECRET: z.string().min(32).optional(),
  VIGIL_TOKEN_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 7)
    .default(12),
  /**
   * How often the gateway sends a canary per site through the whole path (broker → ingest → rules
   * → gateway → store); 0 switches the canary off, which is warned about loudly at start.
   */
  VIGIL_CANARY_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** A hop that has not seen a canary for this long is stalled: P1 alarm, /readyz fails. */
  VIGIL_CANARY_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(6000),
  /** Passwords older than this (users file `passwordChangedAt`) are reported for rotation. */
  VIGIL_PASSWORD_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(180),
  // --- Broker security and TLS (docs/security.md) ---
  /** Anonymous MQTT clients on the embedded broker: default true in demo mode only, refused outside it. */
  VIGIL_MQTT_ALLOW_ANONYMOUS: bool.optional(),
  /** Device secrets (hashes only, never in git); default `<VIGIL_DATA_DIR>/device-credentials.json`. */
  VIGIL_MQTT_CREDENTIALS: z.string().min(1).optional(),
  /** Secret of Vigil's own processes on the embedded broker; default `<VIGIL_DATA_DIR>/mqtt-internal.secret`. */
  VIGIL_MQTT_INTERNAL_SECRET_FILE: z.string().min(1).optional(),
  /** MQTTS listener of the embedded broker: on when certificate and key are set. */
  VIGIL_MQTT_TLS_HOST: z.string().min(1).optional(),
  VIGIL_MQTT_TLS_PORT: port.default(8883),
  VIGIL_MQTT_TLS_CERT: z.string().min(1).optional(),
  VIGIL_MQTT_TLS_KEY: z.string().min(1).optional(),
  /** When set, MQTTS clients must present a certificate signed by this CA. */
  VIGIL_MQTT_TLS_CLIENT_CA: z.string().min(1).optional(),
  /** Vigil's own clients to an external `mqtts://` broker: CA to trust, optional client certificate. */
  VIGIL_MQTT_CA: z.string().min(1).optional(),
  VIGIL_MQTT_CLIENT_CERT: z.string().min(1).optional(),
  VIGIL_MQTT_CLIENT_KEY: z.string().min(1).optional(),
  /** HTTPS for the gateway (and every process's health endpoints). */
  VIGIL_HTTPS_CERT: z.string().min(1).optional(),
  VIGIL_HTTPS_KEY: z.string().min(1).optional(),
  /**
   * Outside demo mode, plain MQTT/HTTP on a non-loopback address is refused. `true` only where TLS
   * ends in front of Vigil on a private network (the compose stack: a TLS proxy, Mosquitto's 8883).
   */
  VIGIL_ALLOW_PLAINTEXT: bool.default(false),
  /** Prometheus Alertmanager that pages people for P1/P2 alarms (docs/notifications.md); off when unset. */
  VIGIL_ALERTMANAGER_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** How often firing alerts are posted again (Alertmanager resolves those not re-posted). */
  VIGIL_ALERTMANAGER_RESEND_MS: z.coerce.number().int().min(1000).max(300_000).default(60_000),
  /** Alerts waiting for Alertmanager at most (the oldest is dropped, counted, beyond it). */
  VIGIL_ALERTMANAGER_QUEUE: z.coerce.number().int().min(100).default(10_000),
  /** The console URL people open from a notification (default: the gateway's own address). */
  VIGIL_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** notify.yaml: receivers per organisation node; enables the webhook relay (WeCom, DingTalk, SMS). */
  VIGIL_NOTIFY_CONFIG: z.string().min(1).optional(),
  /** InfluxDB 1.x user (`auth-enabled = true`); the password from VIGIL_INFLUX_PASSWORD(_FILE). */
  VIGIL_INFLUX_USERNAME: z.string().min(1).optional(),
  VIGIL_INFLUX_PASSWORD: z.string().min(1).optional(),
  /** A file holding the password (a compose/Kubernetes secret); its trailing newline is cut. */
  VIGIL_INFLUX_PASSWORD_FILE: z.string().min(1).optional(),
  /** InfluxDB 2.x/3.x API token, sent as `Authorization: Token …`. */
  VIGIL_INFLUX_TOKEN: z.string().min(1).optional(),
  VIGIL_INFLUX_TOKEN_FILE: z.string().min(1).optional(),
  /** false: Vigil sends no DDL; the database and policies raw, events (and trend) must exist. */
  VIGIL_INFLUX_MANAGE_SCHEMA: bool.default(true),
  /** How long the 1-minute downsampled history (policy `trend`) is kept. */
  /**
   * v1: line protocol to /write (1.x, or 2.x's v1 API); v2: the official 2.x client
   * (/api/v2/write); v3: the official 3.x client into `<VIGIL_INFLUX_DB>/raw` and `/events`.
   */
  VIGIL_INFLUX_API: z.enum(['v1', 'v2', 'v3']).default('v1'),
  /** v2: the organisation; the buckets are VIGIL_INFLUX_DB and VIGIL_INFLUX_EVENTS_BUCKET. */
  VIGIL_INFLUX_ORG: z.string().min(1).optional(),
  VIGIL_INFLUX_EVENTS_BUCKET: z.string().min(1).optional(),
  VIGIL_INFLUX_TREND_RETENTION: z
    .string()
    .regex(/^\d+[hdw]$/)
    .default('365d'),
  // --- The durable backbone (issue 12; docs/reliability.md, docs/scaling.md) ---
  /**
   * How Vigil's processes hand data to each other. memory: one process, RxJS subjects, a local
   * fsync'd spool (the default when ingest, rules, persister and gateway share the process);
   * jetstream: NATS JetStream streams (the default for split processes); mqtt: the old
   * `vigil-internal/…` bridge, nothing in flight survives a restart (warned at start).
   */
  VIGIL_BUS: z.enum(['memory', 'jetstream', 'mqtt']).optional(),
  /** NATS servers, comma-separated (any node of a cluster will do; the client learns the rest). */
  VIGIL_NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  VIGIL_NATS_USER: z.string().min(1).optional(),
  VIGIL_NATS_PASSWORD: z.string().min(1).optional(),
  VIGIL_NATS_PASSWORD_FILE: z.string().min(1).optional(),
  /** Replicas of every stream and bucket: 1 on one node, 3 in a 3-node cluster. */
  VIGIL_NATS_REPLICAS: z.coerce
    .number()
    .pipe(z.union([z.literal(1), z.literal(3), z.literal(5)]))
    .default(1),
  /** Partitions of the records stream (by site); fixed for the life of the stream. */
  VIGIL_PARTITIONS: z.coerce.number().int().min(1).max(256).default(16),
  /** Records stream limits: what an outage of a consumer can wait out (discard old beyond, counted). */
  VIGIL_STREAM_RECORDS_MAX_MB: z.coerce.number().int().min(64).default(8192),
  VIGIL_STREAM_RECORDS_MAX_AGE_H: z.coerce.number().int().min(1).default(72),
  /** Alarm updates (and device modes): the durable journal of the alarm lifecycle. */
  VIGIL_STREAM_ALARMS_MAX_MB: z.coerce.number().int().min(16).default(2048),
  VIGIL_STREAM_ALARMS_MAX_AGE_H: z.coerce
    .number()
    .int()
    .min(24)
    .default(24 * 90),
  /**
   * This process's name in the cluster: the stable MQTT client id (`vigil-ingest-<instance>`, a
   * persistent session) and the owner named on rule partition leases. Default: the host name.
   */
  VIGIL_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /**
   * How long a process waits at start for JetStream to answer (a cluster still electing its meta
   * leader, or without quorum) before it gives up with an error and exits.
   */
  VIGIL_NATS_START_WAIT_S: z.coerce.number().int().min(1).max(3600).default(300),
  /** A rules instance silent this long loses its partitions to another (failover within 10 s). */
  VIGIL_LEASE_TTL_MS: z.coerce.number().int().min(1000).max(60_000).default(5000),
  /** The local spool (memory bus, or jetstream while NATS is unreachable): bytes of records kept. */
  VIGIL_SPOOL_MAX_MB: z.coerce.number().int().min(16).default(2048),
  /** The alarm lane of the spool: alarm events never make room for readings, nor readings for them. */
  VIGIL_SPOOL_ALARMS_MAX_MB: z.coerce.number().int().min(4).default(256),
  /** Longest wait before appended records are fsync'd (group commit); PUBACKs wait for it. */
  VIGIL_SPOOL_FSYNC_MS: z.coerce.number().int().min(0).max(1000).default(5),
  /**
   * The uplink (issue 15, docs/interfaces.md §Uplink). Lower side: the upper Vigil's base URL
   * (https; http only to loopback or with VIGIL_UPLINK_ALLOW_HTTP), its link token
   * (VIGIL_UPLINK_TOKEN or _FILE) and this enterprise's 统一社会信用代码.
   */
  VIGIL_UPLINK_URL: z.url({ protocol: /^https?$/ }).optional(),
  VIGIL_UPLINK_TOKEN: z.string().optional(),
  VIGIL_UPLINK_TOKEN_FILE: z.string().optional(),
  VIGIL_UPLINK_ENTERPRISE_CODE: z
    .string()
    .regex(ENTERPRISE_CODE_PATTERN, 'not a 统一社会信用代码 (18 characters, GB 32100-2015)')
    .optional(),
  VIGIL_UPLINK_ENTERPRISE_NAME: z.string().min(1).max(200).optional(),
  /** Plain http:// to a non-loopback upper: refused unless this is set (a TLS proxy in between). */
  VIGIL_UPLINK_ALLOW_HTTP: bool.default(false),
  /** Items waiting for the upper at most; beyond it new items are refused, counted and shown. */
  VIGIL_UPLINK_OUTBOX_MAX: z.coerce.number().int().min(100).max(10_000_000).default(200_000),
  /** Items per POST. */
  VIGIL_UPLINK_BATCH: z.coerce.number().int().min(1).max(UPLINK_MAX_BATCH).default(500),
  /** How often the major-hazard units' latest values are sampled into the outbox (0: never). */
  VIGIL_UPLINK_SAMPLE_MS: z.coerce
    .number()
    .int()
    .refine(ms => ms === 0 || ms >= 1000, 'must be 0 (off) or at least 1000')
    .default(60_000),
  /** Longest wait between retries while the upper does not answer (backoff from 500 ms). */
  VIGIL_UPLINK_RETRY_MAX_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** How often the lower asks the upper for new supervision orders (挂牌督办). */
  VIGIL_UPLINK_ORDERS_POLL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /** Upper side: the links it accepts (a JSON file: enterprise code, name, node, token digest). */
  VIGIL_UPLINK_LINKS: z.string().min(1).optional(),
});

export type VigilEnv = z.infer<typeof vigilEnvSchema>;

/** Outside demo mode there are no default credentials: the gateway needs users and a signing secret. */
function authProblems(env: VigilEnv): string[] {
  if (env.VIGIL_DEMO_MODE || !env.VIGIL_SERVICES.includes('gateway')) return [];
  const problems: string[] = [];
  if (!env.VIGIL_USERS) problems.push('VIGIL_USERS: required outside demo mode (a users file)');
  if (!env.VIGIL_AUTH_SECRET)
    problems.push('VIGIL_AUTH_SECRET: required outside demo mode (at least 32 characters)');
  return problems;
}

/** One late canary must not look like a stall: the timeout spans at least two intervals. */
function canaryProblems(env: VigilEnv): string[] {
  const interval = env.VIGIL_CANARY_INTERVAL_MS;
  if (interval === 0 || env.VIGIL_CANARY_TIMEOUT_MS >= 2 * interval) return [];
  return [
    `VIGIL_CANARY_TIMEOUT_MS: ${env.VIGIL_CANARY_TIMEOUT_MS} must be at least twice VIGIL_CANARY_INTERVAL_MS (${interval})`,
  ];
}

/** A secret from its variable or from the file its `_FILE` variable names, never both. */
function secret(
  env: Record<string, string | undefined>,
  name: string,
  problems: string[],
): string | undefined {
  const value = env[name];
  const file = env[`${name}_FILE`];
  if (value !== undefined && value !== '' && file !== undefined && file !== '') {
    problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  if (file === undefined || file === '') return value === '' ? undefined : value;
  try {
    const text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (text === '') problems.push(`${name}_FILE: ${file} is empty`);
    return text === '' ? undefined : text;
  } catch (error) {
    problems.push(`${name}_FILE: cannot read ${file}: ${(error as Error).message}`);
    return undefined;
  }
}

function influxCredentialProblems(
  e: VigilEnv,
  password: string | undefined,
  token: string | undefined,
): string[] {
  const problems: string[] = [];
  if ((e.VIGIL_INFLUX_API === 'v2' || e.VIGIL_INFLUX_API === 'v3') && token === undefined)
    problems.push(
      `VIGIL_INFLUX_TOKEN: required with VIGIL_INFLUX_API=${e.VIGIL_INFLUX_API} (or VIGIL_INFLUX_TOKEN_FILE)`,
    );
  if (password !== undefined && e.VIGIL_INFLUX_USERNAME === undefined)
    problems.push('VIGIL_INFLUX_PASSWORD: set VIGIL_INFLUX_USERNAME too');
  if (e.VIGIL_INFLUX_API === 'v3' && e.VIGIL_INFLUX_MODE === 'managed')
    problems.push(
      'VIGIL_INFLUX_API: v3 needs VIGIL_INFLUX_MODE=external (Vigil can only start an influxd 1.x)',
    );
  if (e.VIGIL_INFLUX_API === 'v2' && e.VIGIL_INFLUX_ORG === undefined)
    problems.push('VIGIL_INFLUX_ORG: required with VIGIL_INFLUX_API=v2');
  if (e.VIGIL_INFLUX_USERNAME !== undefined && password === undefined)
    problems.push('VIGIL_INFLUX_USERNAME: set VIGIL_INFLUX_PASSWORD or VIGIL_INFLUX_PASSWORD_FILE');
  return problems;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const isLoopback = (host: string): boolean => LOOPBACK.has(host) || host.startsWith('127.');

/**
 * Outside demo mode nothing is open or plain on the network (docs/security.md): no anonymous MQTT
 * clients, device traffic over MQTTS, the gateway over HTTPS, Vigil's clients to an external broker
 * authenticated and over TLS. Certificate and key always come in pairs.
 */
function securityProblems(env: VigilEnv): string[] {
  const problems: string[] = [];
  const pair = (cert: string, key: string) => {
    if ((env[cert as keyof VigilEnv] === undefined) !== (env[key as keyof VigilEnv] === undefined))
      problems.push(`${cert}, ${key}: set both or neither`);
  };
  pair('VIGIL_MQTT_TLS_CERT', 'VIGIL_MQTT_TLS_KEY');
  pair('VIGIL_MQTT_CLIENT_CERT', 'VIGIL_MQTT_CLIENT_KEY');
  pair('VIGIL_HTTPS_CERT', 'VIGIL_HTTPS_KEY');
  if (env.VIGIL_DEMO_MODE) return problems;
  if (env.VIGIL_MQTT_ALLOW_ANONYMOUS === true)
    problems.push(
      'VIGIL_MQTT_ALLOW_ANONYMOUS: anonymous MQTT clients are refused outside demo mode',
    );
  const plainOk = env.VIGIL_ALLOW_PLAINTEXT;
  const embedded = env.VIGIL_SERVICES.includes('broker') && env.VIGIL_MQTT_URL === undefined;
  if (embedded && !plainOk && !isLoopback(env.VIGIL_MQTT_HOST))
    problems.push(
      `VIGIL_MQTT_HOST: the plain MQTT listener may only listen on loopback outside demo mode (is ${env.VIGIL_MQTT_HOST}); devices connect over MQTTS (VIGIL_MQTT_TLS_CERT, VIGIL_MQTT_TLS_KEY)`,
    );
  if (env.VIGIL_MQTT_URL !== undefined) {
    const url = new URL(env.VIGIL_MQTT_URL);
    if (url.protocol === 'mqtt:' && !plainOk && !isLoopback(url.hostname))
      problems.push(
        `VIGIL_MQTT_URL: plain mqtt:// to ${url.hostname} outside demo mode; use mqtts:// (VIGIL_MQTT_CA)`,
      );
    if (env.VIGIL_MQTT_USERNAME === undefined)
      problems.push('VIGIL_MQTT_USERNAME: required for an external broker outside demo mode');
  }
  if (
    env.VIGIL_SERVICES.includes('gateway') &&
    env.VIGIL_HTTPS_CERT === undefined &&
    !plainOk &&
    !isLoopback(env.VIGIL_HTTP_HOST)
  )
    problems.push(
      `VIGIL_HTTPS_CERT, VIGIL_HTTPS_KEY: the gateway listens on ${env.VIGIL_HTTP_HOST} outside demo mode: HTTPS is required`,
    );
  return problems;
}

export interface VigilConfig {
  readonly services: readonly ServiceName[];
  readonly http: { readonly host: string; readonly port: number };
  readonly mqtt: {
    /** The URL every service connects to (embedded broker or external). */
    readonly url: string;
    readonly embedded: { readonly host: string; readonly port: number } | undefined;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly qos: 0 | 1;
    /** VIGIL_MQTT_FAILOVER_URLS: tried in turn after `url` (empty: `url` only). */
    readonly failoverUrls?: readonly string[];
    /** VIGIL_MQTT_SHARE_GROUP: ingest's shared-subscription group (undefined: plain subscriptions). */
    readonly shareGroup?: string | undefined;
  };
  readonly influx: {
    readonly mode: 'managed' | 'external' | 'off';
    readonly url: string;
    readonly database: string;
    readonly rawRetention: string;
    readonly eventsRetention: string;
    readonly binary: string;
    readonly username?: string;
    readonly password?: string;
    readonly token?: string;
    /** false: no DDL at all (VIGIL_INFLUX_MANAGE_SCHEMA). */
    readonly manageSchema?: boolean;
    readonly trendRetention?: string;
    readonly api?: 'v1' | 'v2' | 'v3';
    readonly org?: string;
    readonly eventsBucket?: string;
  };
  readonly write: {
    readonly bufferLines: number;
    readonly batchLines: number;
    readonly flushMs: number;
  };
  readonly dataDir: string;
  readonly registryPath: string;
  readonly consoleDir: string;
  readonly demoMode: boolean;
  readonly logJson: boolean;
  readonly logLevel: 'debug' | 'log' | 'warn' | 'error';
  readonly wsReplay: number;
  readonly ruleTickMs: number;
  readonly alarmTickMs: number;
  /** Hazard ledger: escalation interval of an overdue hazard (ms). */
  readonly hazardEscalateMs: number;
  /** Hazard photos: size and count bounds, and the free space kept for the journals. */
  readonly hazardPhotos: {
    readonly maxBytes: number;
    readonly maxPerHazard: number;
    readonly reserveBytes: number;
  };
  /** Permits: the longest gap in an active permit's gas readings before the work stops (ms). */
  readonly permitGasSilenceMs: number;
  /** The monthly report's PDF: the Chromium executable that prints it. */
  readonly chromiumPath: string;
  /** Duty: grace after a shift's planned end before its control room counts as unmanned (ms). */
  readonly dutyGraceMs: number;
  /** Maintenance mode's default and longest duration (ms). */
  readonly maintenance: { readonly defaultMs: number; readonly maxMs: number };
  readonly auth: {
    readonly usersFile: string | undefined;
    readonly secret: string | undefined;
    readonly tokenHours: number;
    readonly passwordMaxAgeDays: number;
  };
  /** The pipeline canary (docs/interfaces.md §Canary); intervalMs 0 = off. */
  readonly canary: { readonly intervalMs: number; readonly timeoutMs: number };
  /** Broker access and TLS (docs/security.md). */
  readonly security: {
    /** Anonymous clients admitted by the embedded broker (demo mode only). */
    readonly allowAnonymous: boolean;
    readonly credentialsFile: string;
    readonly internalSecretFile: string;
    /** No VIGIL_MQTT_URL: Vigil's processes talk through the embedded broker, here or in a sibling. */
    readonly usesEmbeddedBroker: boolean;
    readonly mqttTls:
      | {
          readonly host: string;
          readonly port: number;
          readonly cert: string;
          readonly key: string;
          readonly clientCa: string | undefined;
        }
      | undefined;
    readonly mqttClientTls:
      | {
          readonly ca: string | undefined;
          readonly cert: string | undefined;
          readonly key: string | undefined;
        }
      | undefined;
    readonly https: { readonly cert: string; readonly key: string } | undefined;
  };
  /** The durable backbone between hops (issue 12). */
  readonly bus: {
    readonly kind: 'memory' | 'jetstream' | 'mqtt';
    readonly instance: string;
    readonly nats: {
      readonly servers: readonly string[];
      readonly user: string | undefined;
      readonly password: string | undefined;
      readonly replicas: 1 | 3 | 5;
      readonly partitions: number;
      readonly records: { readonly maxBytes: number; readonly maxAgeMs: number };
      readonly alarms: { readonly maxBytes: number; readonly maxAgeMs: number };
      readonly leaseTtlMs: number;
      /** Longest wait at start for JetStream to answer (VIGIL_NATS_START_WAIT_S). */
      readonly startWaitMs: number;
    };
    readonly spool: {
      readonly dir: string;
      readonly maxBytes: number;
      readonly alarmsMaxBytes: number;
      readonly fsyncMs: number;
    };
  };
  readonly notify: {
    readonly alertmanagerUrl: string | undefined;
    readonly resendMs: number;
    readonly maxPending: number;
    readonly consoleUrl: string | undefined;
    readonly configFile: string | undefined;
  };
  /** The uplink (issue 15): `lower` forwards to an upper Vigil; `links` are accepted from below. */
  readonly uplink: {
    readonly lower:
      | {
          readonly url: string;
          readonly token: string;
          readonly enterpriseCode: string;
          readonly enterpriseName: string | undefined;
          readonly outboxMax: number;
          readonly batch: number;
          readonly sampleMs: number;
          readonly retryMaxMs: number;
          readonly ordersPollMs: number;
        }
      | undefined;
    readonly links: readonly UplinkLink[];
  };
}

const MB = 1024 * 1024;
const HOUR_MS = 3_600_000;
/** The hops that must share one process for the memory bus to carry everything. */
const PIPELINE: readonly ServiceName[] = ['ingest', 'rules', 'persister', 'gateway'];

/**
 * memory when the whole pipeline is in this process, else jetstream. A memory bus for a split
 * process would connect it to nobody: refused. NATS URLs must be nats:// or tls://.
 */
function busProblems(env: VigilEnv, problems: string[]): 'memory' | 'jetstream' | 'mqtt' {
  const whole = PIPELINE.every(service => env.VIGIL_SERVICES.includes(service));
  const kind = env.VIGIL_BUS ?? (whole ? 'memory' : 'jetstream');
  if (kind === 'memory' && !whole)
    problems.push(
      `VIGIL_BUS: memory carries data only inside one process, but this process runs ${env.VIGIL_SERVICES.join(',')}; use jetstream (or run all services)`,
    );
  for (const server of env.VIGIL_NATS_URL.split(',').map(s => s.trim())) {
    if (!/^(nats|tls):\/\/[^/\s]+$/.test(server))
      problems.push(`VIGIL_NATS_URL: ${server} is not a nats:// or tls:// address (host:port)`);
  }
  if (env.VIGIL_NATS_PASSWORD !== undefined || env.VIGIL_NATS_PASSWORD_FILE !== undefined) {
    if (env.VIGIL_NATS_USER === undefined)
      problems.push('VIGIL_NATS_PASSWORD: set VIGIL_NATS_USER too');
  }
  return kind;
}

const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map(item => item.trim())
    .filter(item => item !== '');

/** Failover nodes are brokers of the same cluster as VIGIL_MQTT_URL: same scheme, host:port only. */
function failoverProblems(env: VigilEnv): string[] {
  const urls = splitList(env.VIGIL_MQTT_FAILOVER_URLS);
  if (urls.length === 0) return [];
  if (env.VIGIL_MQTT_URL === undefined)
    return ['VIGIL_MQTT_FAILOVER_URLS: needs VIGIL_MQTT_URL (the first node of the cluster)'];
  const scheme = new URL(env.VIGIL_MQTT_URL).protocol;
  return urls.flatMap(url => {
    if (!/^mqtts?:\/\/[^/\s]+\/?$/.test(url) || !URL.canParse(url))
      return [`VIGIL_MQTT_FAILOVER_URLS: ${url} is not an mqtt:// or mqtts:// address (host:port)`];
    const parsed = new URL(url);
    if (parsed.protocol !== scheme)
      return [`VIGIL_MQTT_FAILOVER_URLS: ${url} does not use ${scheme} like VIGIL_MQTT_URL`];
    if (
      !env.VIGIL_DEMO_MODE &&
      !env.VIGIL_ALLOW_PLAINTEXT &&
      scheme === 'mqtt:' &&
      !isLoopback(parsed.hostname)
    )
      return [
        `VIGIL_MQTT_FAILOVER_URLS: plain mqtt:// to ${parsed.hostname} outside demo mode; use mqtts://`,
      ];
    return [];
  });
}

/** The host name, cut to what a client id and a KV key accept. */
function instanceName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 64) || 'vigil'
  );
}

/** One enterprise whose Vigil may forward here (the upper's VIGIL_UPLINK_LINKS file). */
export const uplinkLinksFileSchema = z.strictObject({
  links: z
    .array(
      z.strictObject({
        enterpriseCode: z
          .string()
          .regex(ENTERPRISE_CODE_PATTERN, 'not a 统一社会信用代码 (18 characters, GB 32100-2015)'),
        name: z.string().min(1).max(200),
        /** The organisation node of this Vigil under which the enterprise sits (its scope). */
        node: z.string().min(1).max(64),
        /** sha256 of the link token, hex (`printf %s "$TOKEN" | sha256sum`): no secret in the file. */
        tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of the token, 64 hex digits'),
      }),
    )
    .min(1),
});
export type UplinkLink = z.infer<typeof uplinkLinksFileSchema>['links'][number];

/**
 * The uplink's settings, refused loudly when they would make Vigil wrong: a URL without a token or
 * an enterprise code, plain http:// to another machine, a lower side outside the gateway (the
 * alarms and hazards it forwards live there), a links file that does not parse.
 */
function uplinkProblems(
  e: VigilEnv,
  token: string | undefined,
  problems: string[],
): { lower: VigilConfig['uplink']['lower']; links: readonly UplinkLink[] } {
  let lower: VigilConfig['uplink']['lower'];
  const gateway = e.VIGIL_SERVICES.includes('gateway');
  if (e.VIGIL_UPLINK_URL !== undefined) {
    const url = new URL(e.VIGIL_UPLINK_URL);
    const before = problems.length;
    if (token === undefined)
      problems.push(
        'VIGIL_UPLINK_TOKEN: required with VIGIL_UPLINK_URL (or VIGIL_UPLINK_TOKEN_FILE): the upper refuses unauthenticated batches',
      );
    else if (token.length < 32)
      problems.push('VIGIL_UPLINK_TOKEN: at least 32 characters (a random link token)');
    if (e.VIGIL_UPLINK_ENTERPRISE_CODE === undefined)
      problems.push(
        "VIGIL_UPLINK_ENTERPRISE_CODE: required with VIGIL_UPLINK_URL (the enterprise's 统一社会信用代码)",
      );
    if (url.protocol === 'http:' && !isLoopback(url.hostname) && !e.VIGIL_UPLINK_ALLOW_HTTP)
      problems.push(
        `VIGIL_UPLINK_URL: plain http:// to ${url.hostname} would send the link token and the plant's data in clear; use https:// (or VIGIL_UPLINK_ALLOW_HTTP=true behind a TLS proxy)`,
      );
    if (!gateway)
      problems.push(
        'VIGIL_UPLINK_URL: the uplink runs with the gateway (its alarms and hazards); set it on the gateway process',
      );
    if (problems.length === before && token !== undefined && e.VIGIL_UPLINK_ENTERPRISE_CODE)
      lower = {
        url: e.VIGIL_UPLINK_URL.replace(/\/+$/, ''),
        token,
        enterpriseCode: e.VIGIL_UPLINK_ENTERPRISE_CODE,
        enterpriseName: e.VIGIL_UPLINK_ENTERPRISE_NAME,
        outboxMax: e.VIGIL_UPLINK_OUTBOX_MAX,
        batch: e.VIGIL_UPLINK_BATCH,
        sampleMs: e.VIGIL_UPLINK_SAMPLE_MS,
        retryMaxMs: e.VIGIL_UPLINK_RETRY_MAX_MS,
        ordersPollMs: e.VIGIL_UPLINK_ORDERS_POLL_MS,
      };
  } else if (token !== undefined || e.VIGIL_UPLINK_ENTERPRISE_CODE !== undefined)
    problems.push(
      'VIGIL_UPLINK_URL: VIGIL_UPLINK_TOKEN or VIGIL_UPLINK_ENTERPRISE_CODE is set but no uplink URL: nothing would be forwarded',
    );
  let links: readonly UplinkLink[] = [];
  if (e.VIGIL_UPLINK_LINKS !== undefined) {
    if (!gateway) problems.push('VIGIL_UPLINK_LINKS: the uplink endpoint is served by the gateway');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(e.VIGIL_UPLINK_LINKS, 'utf8'));
    } catch (error) {
      problems.push(`VIGIL_UPLINK_LINKS: ${e.VIGIL_UPLINK_LINKS}: ${(error as Error).message}`);
    }
    if (raw !== undefined) {
      const parsed = uplinkLinksFileSchema.safeParse(raw);
      if (!parsed.success)
        for (const issue of parsed.error.issues)
          problems.push(`VIGIL_UPLINK_LINKS: ${issue.path.join('.')}: ${issue.message}`);
      else {
        links = parsed.data.links;
        const seen = new Set<string>();
        for (const link of links) {
          if (seen.has(link.enterpriseCode))
            problems.push(`VIGIL_UPLINK_LINKS: enterprise ${link.enterpriseCode} is listed twice`);
          seen.add(link.enterpriseCode);
        }
        const digests = new Set(links.map(link => link.tokenSha256));
        if (digests.size !== links.length)
          problems.push('VIGIL_UPLINK_LINKS: two links share a token; each link has its own');
      }
    }
  }
  return { lower, links };
}

export class ConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Configuration is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment once, listing every problem; the only place that reads `process.env`. */
export function loadConfig(env: Record<string, string | undefined> = process.env): VigilConfig {
  const parsed = vigilEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(issue => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems = [...authProblems(e), ...securityProblems(e), ...canaryProblems(e)];
  if (e.VIGIL_MAINTENANCE_HOURS > e.VIGIL_MAINTENANCE_MAX_HOURS)
    problems.push(
      `VIGIL_MAINTENANCE_HOURS: ${e.VIGIL_MAINTENANCE_HOURS} is more than VIGIL_MAINTENANCE_MAX_HOURS (${e.VIGIL_MAINTENANCE_MAX_HOURS})`,
    );
  const influxPassword = secret(env, 'VIGIL_INFLUX_PASSWORD', problems);
  const influxToken = secret(env, 'VIGIL_INFLUX_TOKEN', problems);
  problems.push(...influxCredentialProblems(e, influxPassword, influxToken));
  const natsPassword = secret(env, 'VIGIL_NATS_PASSWORD', problems);
  const busKind = busProblems(e, problems);
  problems.push(...failoverProblems(e));
  const uplink = uplinkProblems(e, secret(env, 'VIGIL_UPLINK_TOKEN', problems), problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const runsBroker = e.VIGIL_SERVICES.includes('broker') && e.VIGIL_MQTT_URL === undefined;
  return {
    services: e.VIGIL_SERVICES,
    http: { host: e.VIGIL_HTTP_HOST, port: e.VIGIL_HTTP_PORT },
    mqtt: {
      url: e.VIGIL_MQTT_URL ?? `mqtt://${e.VIGIL_MQTT_HOST}:${e.VIGIL_MQTT_PORT}`,
      embedded: runsBroker ? { host: e.VIGIL_MQTT_HOST, port: e.VIGIL_MQTT_PORT } : undefined,
      username: e.VIGIL_MQTT_USERNAME,
      password: e.VIGIL_MQTT_PASSWORD,
      qos: e.VIGIL_MQTT_QOS,
      failoverUrls: splitList(e.VIGIL_MQTT_FAILOVER_URLS),
      shareGroup: e.VIGIL_MQTT_SHARE_GROUP,
    },
    influx: {
      mode: e.VIGIL_INFLUX_MODE,
      url: e.VIGIL_INFLUX_URL,
      database: e.VIGIL_INFLUX_DB,
      rawRetention: e.VIGIL_INFLUX_RAW_RETENTION,
      eventsRetention: e.VIGIL_INFLUX_EVENTS_RETENTION,
      binary: e.VIGIL_INFLUXD_BINARY,
      username: e.VIGIL_INFLUX_USERNAME,
      password: influxPassword,
      token: influxToken,
      manageSchema: e.VIGIL_INFLUX_MANAGE_SCHEMA,
      trendRetention: e.VIGIL_INFLUX_TREND_RETENTION,
      api: e.VIGIL_INFLUX_API,
      org: e.VIGIL_INFLUX_ORG,
      eventsBucket: e.VIGIL_INFLUX_EVENTS_BUCKET,
    },
    write: {
      bufferLines: e.VIGIL_WRITE_BUFFER_LINES,
      batchLines: e.VIGIL_WRITE_BATCH_LINES,
      flushMs: e.VIGIL_WRITE_FLUSH_MS,
    },
    dataDir: e.VIGIL_DATA_DIR,
    registryPath: e.VIGIL_REGISTRY,
    consoleDir: e.VIGIL_CONSOLE_DIR,
    demoMode: e.VIGIL_DEMO_MODE,
    logJson: e.VIGIL_LOG_JSON,
    logLevel: e.VIGIL_LOG_LEVEL,
    wsReplay: e.VIGIL_WS_REPLAY,
    ruleTickMs: e.VIGIL_RULE_TICK_MS,
    alarmTickMs: e.VIGIL_ALARM_TICK_MS,
    hazardEscalateMs: e.VIGIL_HAZARD_ESCALATE_HOURS * HOUR_MS,
    hazardPhotos: {
      maxBytes: Math.floor(e.VIGIL_HAZARD_PHOTO_MAX_MB * MB),
      maxPerHazard: e.VIGIL_HAZARD_PHOTOS_MAX,
      reserveBytes: Math.floor(e.VIGIL_HAZARD_PHOTO_RESERVE_MB * MB),
    },
    permitGasSilenceMs: e.VIGIL_PERMIT_GAS_SILENCE_MS,
    chromiumPath: e.VIGIL_CHROMIUM,
    dutyGraceMs: e.VIGIL_DUTY_GRACE_MS,
    maintenance: {
      defaultMs: e.VIGIL_MAINTENANCE_HOURS * HOUR_MS,
      maxMs: e.VIGIL_MAINTENANCE_MAX_HOURS * HOUR_MS,
    },
    auth: {
      usersFile: e.VIGIL_USERS,
      secret: e.VIGIL_AUTH_SECRET,
      tokenHours: e.VIGIL_TOKEN_HOURS,
      passwordMaxAgeDays: e.VIGIL_PASSWORD_MAX_AGE_DAYS,
    },
    canary: { intervalMs: e.VIGIL_CANARY_INTERVAL_MS, timeoutMs: e.VIGIL_CANARY_TIMEOUT_MS },
    security: {
      allowAnonymous: e.VIGIL_MQTT_ALLOW_ANONYMOUS ?? e.VIGIL_DEMO_MODE,
      credentialsFile: e.VIGIL_MQTT_CREDENTIALS ?? `${e.VIGIL_DATA_DIR}/device-credentials.json`,
      internalSecretFile:
        e.VIGIL_MQTT_INTERNAL_SECRET_FILE ?? `${e.VIGIL_DATA_DIR}/mqtt-internal.secret`,
      usesEmbeddedBroker: e.VIGIL_MQTT_URL === undefined,
      mqttTls:
        e.VIGIL_MQTT_TLS_CERT !== undefined && e.VIGIL_MQTT_TLS_KEY !== undefined
          ? {
              host: e.VIGIL_MQTT_TLS_HOST ?? e.VIGIL_MQTT_HOST,
              port: e.VIGIL_MQTT_TLS_PORT,
              cert: e.VIGIL_MQTT_TLS_CERT,
              key: e.VIGIL_MQTT_TLS_KEY,
              clientCa: e.VIGIL_MQTT_TLS_CLIENT_CA,
            }
          : undefined,
      mqttClientTls:
        e.VIGIL_MQTT_CA !== undefined || e.VIGIL_MQTT_CLIENT_CERT !== undefined
          ? { ca: e.VIGIL_MQTT_CA, cert: e.VIGIL_MQTT_CLIENT_CERT, key: e.VIGIL_MQTT_CLIENT_KEY }
          : undefined,
      https:
        e.VIGIL_HTTPS_CERT !== undefined && e.VIGIL_HTTPS_KEY !== undefined
          ? { cert: e.VIGIL_HTTPS_CERT, key: e.VIGIL_HTTPS_KEY }
          : undefined,
    },
    bus: {
      kind: busKind,
      instance: e.VIGIL_INSTANCE ?? instanceName(),
      nats: {
        servers: e.VIGIL_NATS_URL.split(',').map(server => server.trim()),
        user: e.VIGIL_NATS_USER,
        password: natsPassword,
        replicas: e.VIGIL_NATS_REPLICAS,
        partitions: e.VIGIL_PARTITIONS,
        records: {
          maxBytes: e.VIGIL_STREAM_RECORDS_MAX_MB * MB,
          maxAgeMs: e.VIGIL_STREAM_RECORDS_MAX_AGE_H * HOUR_MS,
        },
        alarms: {
          maxBytes: e.VIGIL_STREAM_ALARMS_MAX_MB * MB,
          maxAgeMs: e.VIGIL_STREAM_ALARMS_MAX_AGE_H * HOUR_MS,
        },
        leaseTtlMs: e.VIGIL_LEASE_TTL_MS,
        startWaitMs: e.VIGIL_NATS_START_WAIT_S * 1000,
      },
      spool: {
        dir: `${e.VIGIL_DATA_DIR}/spool`,
        maxBytes: e.VIGIL_SPOOL_MAX_MB * MB,
        alarmsMaxBytes: e.VIGIL_SPOOL_ALARMS_MAX_MB * MB,
        fsyncMs: e.VIGIL_SPOOL_FSYNC_MS,
      },
    },
    notify: {
      alertmanagerUrl: e.VIGIL_ALERTMANAGER_URL,
      resendMs: e.VIGIL_ALERTMANAGER_RESEND_MS,
      maxPending: e.VIGIL_ALERTMANAGER_QUEUE,
      consoleUrl: e.VIGIL_PUBLIC_URL,
      configFile: e.VIGIL_NOTIFY_CONFIG,
    },
    uplink,
  };
}

export const VIGIL_CONFIG = Symbol('VIGIL_CONFIG');
