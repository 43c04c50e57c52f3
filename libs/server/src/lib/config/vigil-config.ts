import { z } from 'zod';

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
  /** How often escalation, overdue and shelving expiry are checked; 0 turns the timer off. */
  VIGIL_ALARM_TICK_MS: z.coerce.number().int().min(0).default(1000),
  /** Users file (YAML): id, name, role, scope, passwordHash. Required outside demo mode. */
  VIGIL_USERS: z.string().optional(),
  /** Secret that signs tokens (at least 32 characters). Required outside demo mode. */
  VIGIL_AUTH_SECRET: z.string().min(32).optional(),
  VIGIL_TOKEN_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 7)
    .default(12),
  /** Passwords older than this (users file `passwordChangedAt`) are reported for rotation. */
  VIGIL_PASSWORD_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(180),
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
  };
  readonly influx: {
    readonly mode: 'managed' | 'external' | 'off';
    readonly url: string;
    readonly database: string;
    readonly rawRetention: string;
    readonly eventsRetention: string;
    readonly binary: string;
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
  readonly auth: {
    readonly usersFile: string | undefined;
    readonly secret: string | undefined;
    readonly tokenHours: number;
    readonly passwordMaxAgeDays: number;
  };
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
  const problems = authProblems(e);
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
    },
    influx: {
      mode: e.VIGIL_INFLUX_MODE,
      url: e.VIGIL_INFLUX_URL,
      database: e.VIGIL_INFLUX_DB,
      rawRetention: e.VIGIL_INFLUX_RAW_RETENTION,
      eventsRetention: e.VIGIL_INFLUX_EVENTS_RETENTION,
      binary: e.VIGIL_INFLUXD_BINARY,
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
    auth: {
      usersFile: e.VIGIL_USERS,
      secret: e.VIGIL_AUTH_SECRET,
      tokenHours: e.VIGIL_TOKEN_HOURS,
      passwordMaxAgeDays: e.VIGIL_PASSWORD_MAX_AGE_DAYS,
    },
  };
}

export const VIGIL_CONFIG = Symbol('VIGIL_CONFIG');
