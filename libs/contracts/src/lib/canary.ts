import type { RuleSignal } from './alarms';
import { INTERNAL_TOPIC_ROOT, deviceTopic } from './topics';

/**
 * The canary: a synthetic device per site whose readings Vigil itself publishes through the
 * broker every few seconds, so that a stalled hop (broker → ingest → rules → gateway → store) is
 * noticed within seconds instead of never (issue 10, "Watch the watcher"; docs/interfaces.md
 * §Canary). `_canary` is reserved: a registry may not use it, and it is never a device anywhere
 * (device lists, KPIs, risk maps, stored telemetry).
 */
export const CANARY_DEVICE_ID = '_canary';

/** The hops a canary must reach, in path order (the rules, gateway and store hang off ingest). */
export const CANARY_HOPS = ['ingest', 'rules', 'gateway', 'persister'] as const;
export type CanaryHop = (typeof CANARY_HOPS)[number];

/** Rule id of the heartbeat the rule engine emits when it evaluates a canary (never an alarm). */
export const CANARY_RULE_ID = 'pipeline-canary';
/** Rule id of the system alarm the gateway raises for a stalled hop (level = the hop). */
export const CANARY_STALL_RULE_ID = 'pipeline-stalled';

/** Hop reports of processes without the gateway reach it here (split mode). */
export const INTERNAL_CANARY_TOPIC = `${INTERNAL_TOPIC_ROOT}/canary`;

export function canaryTopic(siteId: string): string {
  return deviceTopic(siteId, CANARY_DEVICE_ID, 'telemetry');
}

/** A canary as ingest accepted it: the record that crosses the pipeline. */
export interface CanaryStamp {
  readonly siteId: string;
  readonly origin: string;
  readonly seq: number;
  readonly sentAt: number;
  readonly receivedAt: number;
}

/** A hop saw a canary (rules: the engine evaluated it; persister: InfluxDB accepted its batch). */
export interface CanaryReport {
  readonly hop: CanaryHop;
  readonly siteId: string;
  readonly origin: string;
  readonly seq: number;
  readonly sentAt: number;
  /** Server time of the reporting process when the hop saw it. */
  readonly seenAt: number;
}

export function canaryReport(
  hop: CanaryHop,
  stamp: Pick<CanaryStamp, 'siteId' | 'origin' | 'seq' | 'sentAt'>,
  seenAt: number,
): CanaryReport {
  return {
    hop,
    siteId: stamp.siteId,
    origin: stamp.origin,
    seq: stamp.seq,
    sentAt: stamp.sentAt,
    seenAt,
  };
}

/** One hop's state as the gateway judges it (WebSocket heartbeat, /readyz). */
export interface CanaryHopStatus {
  /** `off`: not watched in this deployment (e.g. the store is switched off). */
  readonly state: 'ok' | 'stalled' | 'off';
  /** Age of the newest canary this hop saw (its send time), worst site; undefined when off. */
  readonly ageMs: number | undefined;
  /** Sites whose canary is overdue at this hop. */
  readonly stalledSites: readonly string[];
}

/** The pipeline as the canary sees it, pushed in every WebSocket heartbeat. */
export interface PipelineStatus {
  /** `off`: the canary is disabled (VIGIL_CANARY_INTERVAL_MS=0): nothing watches the path. */
  readonly canary: 'ok' | 'stalled' | 'off';
  /** Hops in path order that are stalled (root causes first). */
  readonly stalled: readonly CanaryHop[];
  readonly hops: Readonly<Record<CanaryHop, CanaryHopStatus>>;
  /** Server time the newest canary completed the whole path (every watched hop saw it). */
  readonly lastCanaryAt: number | undefined;
  /** A hop whose canary is older than this is stalled; consoles use it for their stale banner. */
  readonly timeoutMs: number;
}

/**
 * The heartbeat the rule engine emits when it has evaluated a canary record: a RuleSignal so
 * that it leaves through the same operators as every real signal. It never becomes an alarm
 * (RulesService takes it out, `canaryOfSignal`).
 */
export function canarySignal(stamp: CanaryStamp, detectedAt: number): RuleSignal {
  return {
    key: `${stamp.siteId}/${CANARY_DEVICE_ID}/${CANARY_RULE_ID}`,
    ruleId: CANARY_RULE_ID,
    siteId: stamp.siteId,
    deviceId: CANARY_DEVICE_ID,
    deviceClass: undefined,
    areaId: undefined,
    category: 'quality',
    priority: 4,
    level: stamp.origin,
    active: false,
    latched: false,
    metric: 'canary',
    value: stamp.seq,
    threshold: undefined,
    message: 'canary evaluated',
    at: stamp.sentAt,
    detectedAt,
  };
}

/** The canary a heartbeat signal carries, or undefined for every real signal. */
export function canaryOfSignal(
  signal: RuleSignal,
): { siteId: string; origin: string; seq: number; sentAt: number } | undefined {
  if (signal.ruleId !== CANARY_RULE_ID || signal.deviceId !== CANARY_DEVICE_ID) return undefined;
  return {
    siteId: signal.siteId,
    origin: signal.level,
    seq: typeof signal.value === 'number' ? signal.value : -1,
    sentAt: signal.at,
  };
}
