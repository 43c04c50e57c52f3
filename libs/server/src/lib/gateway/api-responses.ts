import { z } from 'zod';

import {
  ALARM_CATEGORIES,
  ALARM_STATES,
  AREA_KINDS,
  CANARY_HOPS,
  DEVICE_CLASSES,
  DEVICE_HEALTH_STATUSES,
  HIDDEN_CAUSES,
  ORG_KINDS,
  RISK_LEVELS,
  authModeSchema,
  deviceViewSchema,
  sessionViewSchema,
  sitesResponseSchema,
  userViewSchema,
  alarmSchema,
  mhsUnitViewSchema,
  type Alarm,
  type AlarmHistoryResponse,
  type AlarmPerformanceReport,
  type DeviceHealthResponse,
  type DeviceLive,
  type HiddenCause,
  type MusterList,
  type PipelineStatus,
  type PositionsResponse,
  type RiskNode,
  type RiskResponse,
  type TelemetrySeries,
} from '@vigil/contracts';
import type { OrgNode, RegisteredDevice, RegistrySite } from '@vigil/registry';
import type { FirePanelMapJson, MhsUnitEntry } from '@vigil/rules';

import type { DeviceMode } from '../alarms/alarm-journal';
import type { AuthenticatedUser, Session } from '../auth/auth.service';

/**
 * What every REST operation answers, as zod schemas: the OpenAPI document's response schemas are
 * generated from these (`openapi.ts`, `components.schemas`), and the compile-time checks at the
 * end of this file fail when a schema and the TypeScript type the handler returns drift apart
 * (a field added, removed or retyped on one side only). `openapi.system.spec.ts` validates real
 * answers of a running gateway against the document.
 *
 * A `T | undefined` field is optional here: JSON leaves out what is `undefined`.
 */

/** The named schemas of the document (`#/components/schemas/<id>`). */
export const API_SCHEMAS = z.registry<{ id: string; description?: string }>();

function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  API_SCHEMAS.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

const ms = z.number().describe('epoch milliseconds');
const metricValue = z.union([z.number(), z.boolean()]);
const priority = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Nest's error answer: `message` is a sentence; a validation failure (400) lists `issues`, a
 * refused registry reload (422) its `problems`, a refused login (429/503) `retryAfter` seconds, a
 * relay whose target failed (502) the target's answer in `detail`.
 */
export const apiError = named(
  'Error',
  z.object({
    statusCode: z.number().int(),
    message: z.union([z.string(), z.array(z.string())]),
    error: z.string().optional(),
    issues: z.array(z.string()).optional(),
    problems: z.array(z.string()).optional(),
    retryAfter: z.number().optional(),
    detail: z.string().optional(),
  }),
);

// ---------------------------------------------------------------------------------------------
// Alarms

export const alarm = named(
  'Alarm',
  alarmSchema,
  'An alarm as operators see it (docs/interfaces.md, "Alarm lifecycle")',
);
export const alarmList = named('AlarmList', z.array(alarm));

export const hiddenCounts = named(
  'HiddenAlarmCounts',
  z.object({
    at: ms,
    hidden: z.object(
      Object.fromEntries(HIDDEN_CAUSES.map(cause => [cause, z.number().int()])) as Record<
        HiddenCause,
        z.ZodNumber
      >,
    ),
  }),
);

export const alarmHistory = named(
  'AlarmHistory',
  z.object({
    from: ms,
    to: ms,
    limit: z.number().int(),
    truncated: z.boolean(),
    events: z.array(
      z.object({
        time: ms,
        alarmId: z.string(),
        siteId: z.string(),
        deviceId: z.string(),
        ruleId: z.string(),
        level: z.string(),
        priority: z.number(),
        category: z.string(),
        action: z.string(),
        state: z.string(),
        active: z.boolean(),
        value: metricValue.optional(),
        threshold: z.number().optional(),
        metric: z.string().optional(),
        message: z.string(),
        by: z.string().optional(),
        note: z.string().optional(),
      }),
    ),
  }),
);

const alarmPerformance = z.object({
  from: ms,
  to: ms,
  alarms: z.number().int(),
  per10MinAverage: z.number(),
  per10MinPeak: z.number(),
  floods: z.array(
    z.object({ start: ms, end: ms, alarms: z.number().int(), peak: z.number().int() }),
  ),
  timeInFloodPercent: z.number(),
  standing: z.array(z.object({ alarmId: z.string(), key: z.string(), sinceMs: z.number() })),
  chattering: z.array(z.object({ key: z.string(), bursts: z.number().int() })),
  mostFrequent: z.array(
    z.object({ key: z.string(), count: z.number().int(), percent: z.number() }),
  ),
  byPriority: z.object({
    1: z.number().int(),
    2: z.number().int(),
    3: z.number().int(),
    4: z.number().int(),
  }),
});
export const alarmPerformanceReport = named(
  'AlarmPerformanceReport',
  alarmPerformance.extend({
    scope: z.string(),
    source: z.enum(['influxdb', 'memory']),
  }),
  'EEMUA 191 / ISA-18.2 alarm-system KPIs over [from, to) in the user’s scope',
);

// ---------------------------------------------------------------------------------------------
// Registry: devices and sites (the schemas are in @vigil/contracts, which the console reads)

export const device = named(
  'Device',
  deviceViewSchema,
  'A registry device with its profile merged (ruleOverrides: profile, area, device; null where a layer has none)',
);
export const deviceList = named('DeviceList', z.array(device));

export const deviceMode = named(
  'DeviceMode',
  z.object({
    siteId: z.string(),
    deviceId: z.string(),
    mode: z.enum(['maintenance', 'out-of-service']).nullable(),
    by: z.string(),
    reason: z.string(),
    at: ms,
    until: ms.optional().describe('maintenance ends by itself at this time'),
  }),
);

export const sites = named(
  'Sites',
  sitesResponseSchema,
  'Sites in the user’s scope (areas as polygons in metres) and the organisation tree',
);

export const registryReload = named(
  'RegistryReloaded',
  z.object({ sites: z.number().int(), devices: z.number().int() }),
);

// ---------------------------------------------------------------------------------------------
// Console read side: health, live values, telemetry, risk, positions

const deviceHealthFields = {
  siteId: z.string(),
  deviceId: z.string(),
  name: z.string(),
  deviceClass: z.enum(DEVICE_CLASSES),
  areaId: z.string().optional(),
  intervalSeconds: z.number(),
  status: z.enum(DEVICE_HEALTH_STATUSES),
  lastSeenAt: ms.optional(),
  silentMs: z.number().optional(),
  online: z.boolean().optional(),
  clockSkewMs: z.number().optional(),
  battery: z.number().optional(),
  lowBattery: z.boolean(),
  qualityAlarms: z.array(
    z.object({
      id: z.string(),
      ruleId: z.string(),
      level: z.string(),
      priority,
      state: z.enum(ALARM_STATES),
      raisedAt: ms,
      message: z.string(),
    }),
  ),
  openAlarms: z.number().int(),
};

export const deviceHealth = named(
  'DeviceHealth',
  z.object({
    at: ms,
    summary: z.object(
      Object.fromEntries(
        [...DEVICE_HEALTH_STATUSES, 'lowBattery'].map(status => [status, z.number().int()]),
      ) as Record<(typeof DEVICE_HEALTH_STATUSES)[number] | 'lowBattery', z.ZodNumber>,
    ),
    devices: z.array(z.object(deviceHealthFields)),
  }),
  'Every visible device, worst first',
);

export const deviceLive = named(
  'DeviceLive',
  z.object({
    ...deviceHealthFields,
    lastReadingTs: ms.optional(),
    values: z.record(z.string(), metricValue),
  }),
);

export const telemetry = named(
  'TelemetrySeries',
  z.object({
    siteId: z.string(),
    deviceId: z.string(),
    metric: z.string(),
    unit: z.string(),
    kind: z.enum(['number', 'boolean']),
    from: ms,
    to: ms,
    bucketMs: z.number(),
    truncated: z.boolean(),
    t: z.array(ms),
    value: z.array(z.number().nullable()),
    min: z.array(z.number().nullable()).optional(),
    max: z.array(z.number().nullable()).optional(),
    setpoints: z.array(
      z.object({
        ruleId: z.string(),
        level: z.string(),
        direction: z.enum(['high', 'low']),
        value: z.number(),
        deadband: z.number(),
        priority: z.number(),
        category: z.enum(ALARM_CATEGORIES),
      }),
    ),
  }),
);

const riskLevel = z.enum(RISK_LEVELS);
const mhsGrade = z.object({
  grade: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).nullable(),
  r: z.number(),
  s: z.number(),
});
const riskNodeFields = {
  key: z.string(),
  id: z.string(),
  kind: z.enum([...ORG_KINDS, 'site', 'area']),
  name: z.string(),
  inherent: riskLevel,
  level: riskLevel,
  score: z.object({ inherent: z.number(), multiplier: z.number(), dynamic: z.number() }).optional(),
  reasons: z.array(
    z.object({
      kind: z.enum(['alarm', 'crowding', 'data-missing', 'mhs-grade']),
      alarmId: z.string(),
      ruleId: z.string(),
      siteId: z.string(),
      deviceId: z.string(),
      priority: z.number(),
      level: z.string(),
      weight: z.number(),
      floor: riskLevel.optional(),
    }),
  ),
  driver: z.string().optional(),
  areas: z.object({
    red: z.number().int(),
    orange: z.number().int(),
    yellow: z.number().int(),
    blue: z.number().int(),
  }),
  areaKind: z.enum(AREA_KINDS).optional(),
  hazardUnits: z
    .array(
      mhsUnitViewSchema.extend({
        areaId: z.string().optional(),
        exposedPopulation: z.number().optional(),
        alpha: z.number(),
        tanks: z.number().int(),
        regulatory: mhsGrade,
        live: mhsGrade.extend({ withoutLevel: z.array(z.string()) }),
      }),
    )
    .optional(),
  forwarded: z
    .object({
      enterpriseCode: z.string(),
      lastReceivedAt: ms.optional(),
      realtimeAt: ms.optional(),
      openAlarms: z.object({
        p1: z.number().int(),
        p2: z.number().int(),
        p3: z.number().int(),
        p4: z.number().int(),
      }),
    })
    .optional()
    .describe(
      'an enterprise below this Vigil (uplink), read-only: coloured by its forwarded open alarms',
    ),
};
const riskNode = named(
  'RiskNode',
  z.object({
    ...riskNodeFields,
    get children(): z.ZodArray<z.ZodType<RiskNode>> {
      return z.array(riskNode);
    },
  }),
) as z.ZodType<RiskNode>;
export const risk = named(
  'RiskTree',
  z.object({ at: ms, roots: z.array(riskNode) }),
  'The four-colour risk tree from the user’s scope down',
);

const tagPositionFields = {
  siteId: z.string(),
  deviceId: z.string(),
  name: z.string(),
  x: z.number(),
  y: z.number(),
  floor: z.number().optional(),
  battery: z.number().optional(),
  still: z.boolean().optional(),
  ts: ms,
  lastSeenAt: ms,
  stale: z.boolean(),
  areaId: z.string().optional(),
};
export const positions = named(
  'Positions',
  z.object({
    at: ms,
    sites: z.array(z.object({ siteId: z.string(), tags: z.array(z.object(tagPositionFields)) })),
  }),
);
export const muster = named(
  'MusterList',
  z.object({
    siteId: z.string(),
    areaId: z.string(),
    name: z.string(),
    at: ms,
    radiusM: z.number(),
    maxPeople: z.number().optional(),
    inside: z.number().int(),
    people: z.array(z.object({ ...tagPositionFields, distanceM: z.number(), inside: z.boolean() })),
  }),
);

// ---------------------------------------------------------------------------------------------
// Authentication

export const user = named('User', userViewSchema);
export const session = named('Session', sessionViewSchema);
export const authMode = named('AuthMode', authModeSchema);

// ---------------------------------------------------------------------------------------------
// Probes and the notification relay

export const healthz = named('Liveness', z.object({ status: z.literal('ok') }));

const hopStatus = z.object({
  state: z.enum(['ok', 'stalled', 'off']),
  ageMs: z.number().optional(),
  stalledSites: z.array(z.string()),
});
const pipelineStatus = z.object({
  canary: z.enum(['ok', 'stalled', 'off']),
  stalled: z.array(z.enum(CANARY_HOPS)),
  hops: z.object({
    ingest: hopStatus,
    rules: hopStatus,
    gateway: hopStatus,
    persister: hopStatus,
  }),
  lastCanaryAt: ms.optional(),
  timeoutMs: z.number(),
});
const outboxHealth = {
  status: z.enum(['ok', 'degraded']),
  pending: z.number().int(),
  consecutiveFailures: z.number().int(),
  lastSuccessAt: ms.optional(),
  lastError: z.string().optional(),
  lastErrorAt: ms.optional(),
  dropped: z.number().int(),
  rejected: z.number().int(),
};
export const readiness = named(
  'Readiness',
  z.object({
    status: z.enum(['ready', 'degraded', 'not-ready']),
    checks: z.object({
      broker: z.boolean(),
      storage: z.boolean(),
      rules: z.boolean().optional(),
      partitions: z
        .boolean()
        .optional()
        .describe('a rules instance on the JetStream backbone: no partition left unevaluated'),
      pipeline: z.boolean().optional(),
      backbone: z.boolean().optional(),
      spool: z
        .boolean()
        .optional()
        .describe(
          'VIGIL_BUS=memory: the local spool dropped nothing recently and is not nearly full',
        ),
      ingest: z
        .boolean()
        .optional()
        .describe(
          'a process that runs ingest: no PUBACK held beyond its bound, no broker session lost in the last 5 minutes',
        ),
      journals: z
        .boolean()
        .optional()
        .describe(
          'present (false) only while a local alarm, hazard, permit or duty journal append failed',
        ),
      permits: z
        .boolean()
        .optional()
        .describe(
          'present (false) only while an active special-operation permit is not evaluated by any rule engine (details.permits)',
        ),
      services: z
        .boolean()
        .optional()
        .describe(
          'VIGIL_BUS=jetstream: false while this process cannot publish its readiness to the KV bucket vigil_health, or (a gateway) while another process says it is not ready or the bucket is not seen (details.services)',
        ),
      alarmListeners: z
        .boolean()
        .optional()
        .describe(
          "a gateway: false for 10 minutes after a listener of the alarm updates (the consoles' WebSocket, the Alertmanager notifier) threw; details.alarmListeners",
        ),
      uplink: z
        .boolean()
        .optional()
        .describe(
          'a lower Vigil with VIGIL_UPLINK_URL: false while posts to the upper fail, the outbox is 90 % full or refused items (details.uplink)',
        ),
      started: z
        .boolean()
        .optional()
        .describe(
          'present (false) only while the process starts or stops (`phase`): ingest takes device messages only after the rule state is restored and the spool replayed',
        ),
    }),
    phase: z
      .enum(['starting', 'stopping'])
      .optional()
      .describe(
        'present while the process is not running yet or any more: the status is then not-ready',
      ),
    pipeline: pipelineStatus.optional(),
    details: z
      .object({
        notify: z
          .object({
            status: z.enum(['ok', 'degraded']),
            alertmanager: z.object({ url: z.string(), ...outboxHealth }).optional(),
            relay: z
              .object({
                status: z.enum(['ok', 'degraded']),
                failing: z.record(z.string(), z.object({ at: ms, error: z.string() })),
                lastSuccessAt: ms.optional(),
              })
              .optional(),
          })
          .optional(),
        alarmListeners: z
          .object({
            failed: z.array(
              z.object({
                listener: z.string(),
                errors: z.number().int(),
                lastError: z.string(),
                lastAt: ms,
              }),
            ),
          })
          .optional()
          .describe(
            'listeners of the alarm updates that threw in the last 10 minutes: the updates they threw on did not reach them (the other listeners had them)',
          ),
        ingest: z
          .object({
            ok: z.boolean(),
            reason: z.string().optional(),
            pubackPending: z.number().int(),
            oldestPendingMs: z.number(),
            sessionsLost: z.number().int(),
            lastSessionLostAt: ms.optional(),
          })
          .optional()
          .describe(
            "ingest's link to the device broker: PUBACKs held until durable, broker sessions lost (docs/reliability.md)",
          ),
        partitions: z
          .object({
            instance: z.string(),
            owned: z.array(z.number().int()),
            live: z.number().int(),
            target: z.number().int(),
            unowned: z
              .array(z.object({ partition: z.number().int(), since: ms }))
              .describe(
                'partitions nobody evaluates as seen from here (none here, no other lease): /readyz is 503 while any is listed',
              ),
            lapses: z
              .number()
              .int()
              .describe('leases this instance lost by not renewing them in time, since start'),
            stateNotSaved: z
              .array(z.object({ partition: z.number().int(), since: ms, bytes: z.number().int() }))
              .optional()
              .describe(
                'owned partitions whose latest rule state was not saved (compressed larger than the bucket bound, or an error): a takeover would restore an older one or none, and start their delays again',
              ),
          })
          .optional()
          .describe('a rules instance on the JetStream backbone: the partitions it owns'),
        registry: z
          .object({
            reloadRefused: z.literal(true),
            at: ms,
            problems: z.array(z.string()),
          })
          .optional()
          .describe('the last registry reload was refused: the files on disk are not what runs'),
        spool: z
          .object({
            ok: z.boolean(),
            reason: z.string().optional(),
            lanes: z.record(
              z.enum(['records', 'alarms']),
              z.object({
                bytes: z.number(),
                maxBytes: z.number(),
                backlog: z.record(z.string(), z.number()),
                dropped: z.number(),
              }),
            ),
          })
          .optional()
          .describe('VIGIL_BUS=memory: the local spool, when it is not ok (docs/reliability.md)'),
        uplink: z
          .object({
            ok: z.boolean(),
            url: z.string(),
            enterpriseCode: z.string(),
            backlog: z.number().int().describe('items waiting for the upper to acknowledge them'),
            capacity: z.number().int().describe('VIGIL_UPLINK_OUTBOX_MAX'),
            oldestPendingAt: ms.optional(),
            lastSeq: z.number().int(),
            ackedSeq: z.number().int(),
            lastSuccessAt: ms.optional(),
            consecutiveFailures: z.number().int(),
            lastError: z.string().optional(),
            dropped: z
              .record(z.string(), z.number().int())
              .describe(
                'items refused since start by kind (the outbox was full or its disk failed)',
              ),
          })
          .optional()
          .describe(
            'the store-and-forward link to the upper Vigil (docs/interfaces.md §Uplink); listed while it has a backlog or is not ok',
          ),
        journals: z
          .record(
            z.string(),
            z.object({ errors: z.number().int(), lastError: z.string(), lastErrorAt: ms }),
          )
          .optional()
          .describe(
            'local JSON-lines journals (alarms, hazards, permits, duty) whose last append was not made durable (write or fdatasync failed)',
          ),
        inspections: z
          .object({ unwatched: z.number().int(), reason: z.string() })
          .optional()
          .describe(
            'inspection schedules of the registry that this process does not watch (split deployment): a missed inspection would raise no alarm (docs/interfaces.md §Inspections)',
          ),
        permits: z
          .object({
            unevaluated: z.array(
              z.object({
                id: z.string(),
                no: z.number().int(),
                siteId: z.string(),
                areaId: z.string(),
                since: ms,
                lastEvaluatedAt: ms.optional(),
                reason: z.string(),
              }),
            ),
            unevaluatedCount: z.number().int(),
          })
          .optional()
          .describe(
            'active special-operation permits whose stop-work rule no rule engine evaluates now (docs/interfaces.md §Permits)',
          ),
        duty: z
          .object({
            unmanned: z.array(
              z.object({
                siteId: z.string(),
                roomId: z.string(),
                since: ms,
                plannedEnd: ms,
                reason: z.string(),
              }),
            ),
            unmannedCount: z.number().int(),
          })
          .optional()
          .describe(
            'control rooms unmanned now (the on-duty shift past its planned end + VIGIL_DUTY_GRACE_MS, no hand-over accepted): reported, each a P2 duty-unmanned alarm; not a readiness check (docs/interfaces.md §Duty)',
          ),
        storage: z
          .object({
            kept: z.boolean(),
            kind: z.string().optional(),
            reason: z.string().optional(),
          })
          .optional(),
        services: z
          .object({
            instance: z.string().describe("this process's key in vigil_health"),
            reason: z
              .string()
              .optional()
              .describe(
                "this process's own part: its readiness not published, or (gateway) the bucket not seen",
              ),
            notReady: z
              .array(
                z.object({
                  instance: z.string(),
                  services: z.array(z.string()),
                  failing: z.array(z.object({ check: z.string(), reason: z.string(), since: ms })),
                  since: ms,
                  at: ms.describe('when that process last judged its readiness (its clock)'),
                }),
              )
              .describe(
                'other processes whose latest entry says not ready: checks.services is false',
              ),
            gone: z
              .array(
                z.object({
                  instance: z.string(),
                  services: z.array(z.string()),
                  lastSeenAt: ms,
                  left: z
                    .boolean()
                    .describe('true: it deleted its entry as it stopped; false: the entry expired'),
                }),
              )
              .describe(
                'processes whose entry expired or was deleted in the last 5 minutes (listed, not a failing check: the pipeline canary reports a dead hop)',
              ),
          })
          .optional()
          .describe(
            'VIGIL_BUS=jetstream: the readiness the processes publish to vigil_health (docs/interfaces.md §Service health)',
          ),
        backbone: z
          .record(
            z.string(),
            z.object({
              ok: z.boolean(),
              reason: z.string().optional(),
              detail: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
            }),
          )
          .optional()
          .describe(
            'jetstream: ingest-spool, persister-records, persister-alarms, gateway-alarms (docs/interfaces.md §Backbone)',
          ),
      })
      .optional(),
    monitoringLost: z
      .array(
        z.object({
          scope: z.string(),
          siteId: z.string().optional(),
          deviceId: z.string().optional(),
          since: ms,
          message: z.string(),
        }),
      )
      .optional(),
    monitoringLostCount: z.number().int().optional(),
  }),
  '200 ready; 503 degraded (broker and storage reachable, something unmonitored) or not-ready',
);

/** What `/readyz` answers, typed from its schema (the handler builds it as this type). */
export type Readiness = DeepReadonly<z.output<typeof readiness>>;
type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export const relayAccepted = named('RelayAccepted', z.object({ ok: z.literal(true) }));

// ---------------------------------------------------------------------------------------------
// Compile-time agreement with the types the handlers return

/** `T | undefined` and `?:` alike, readonly ignored: what arrives over JSON. */
type Json<T> = T extends readonly (infer E)[]
  ? Json<E>[]
  : T extends object
    ? { -readonly [K in keyof T]-?: Json<Exclude<T[K], undefined>> }
    : T;
/**
 * `true` when a response schema and the type its handler returns agree over JSON: one line per
 * schema, `true satisfies Agrees<typeof schema, Type>`, fails to compile when they drift (used by
 * the hazard and permit responses too).
 */
export type Agrees<Schema extends z.ZodType, Type> = [Json<z.output<Schema>>] extends [Json<Type>]
  ? [Json<Type>] extends [Json<z.output<Schema>>]
    ? true
    : false
  : false;

/** Each line fails to compile when a schema above and its type disagree. */
export const SCHEMAS_AGREE_WITH_TYPES: readonly true[] = [
  true satisfies Agrees<typeof alarm, Alarm>,
  true satisfies Agrees<typeof alarmHistory, AlarmHistoryResponse>,
  true satisfies Agrees<typeof alarmPerformanceReport, AlarmPerformanceReport>,
  true satisfies Agrees<typeof hiddenCounts, { at: number; hidden: Record<HiddenCause, number> }>,
  true satisfies Agrees<typeof deviceHealth, DeviceHealthResponse>,
  true satisfies Agrees<typeof deviceLive, DeviceLive>,
  true satisfies Agrees<typeof telemetry, TelemetrySeries>,
  true satisfies Agrees<typeof risk, RiskResponse>,
  true satisfies Agrees<z.ZodObject<typeof riskNodeFields>, Omit<RiskNode, 'children'>>,
  true satisfies Agrees<typeof positions, PositionsResponse>,
  true satisfies Agrees<typeof muster, MusterList>,
  true satisfies Agrees<typeof deviceMode, DeviceMode>,
  true satisfies Agrees<typeof user, AuthenticatedUser>,
  true satisfies Agrees<typeof session, Session>,
  true satisfies Agrees<typeof pipelineStatus, PipelineStatus>,
  true satisfies Agrees<
    typeof device,
    Omit<RegisteredDevice, 'firePanel' | 'ruleOverrides'> & {
      firePanel?: FirePanelMapJson;
      ruleOverrides: (Record<string, Record<string, unknown>> | null)[];
    }
  >,
  true satisfies Agrees<
    typeof sites,
    {
      organisation: OrgNode[];
      // Units without their guarantors (served by GET /api/v1/guarantors).
      sites: (Omit<RegistrySite, 'profiles' | 'inspections' | 'hazardUnits'> & {
        hazardUnits?: Omit<MhsUnitEntry, 'guarantors'>[];
      })[];
    }
  >,
];
