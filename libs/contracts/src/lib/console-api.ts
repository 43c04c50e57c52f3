import type { Alarm, AlarmCategory, AlarmPriority } from './alarms';
import type { DeviceClass } from './device-classes';
import type { AreaKind, OrgKind, RiskLevel } from './organisation';
import type { MetricValue } from './readings';

/**
 * What the gateway's read-side REST endpoints answer (docs/interfaces.md, "Console read-side API"
 * and the alarm-performance report): the server's controllers return these and the console reads
 * them. A field that may be unknown is optional, because JSON leaves out what is `undefined`.
 */

/** One stored alarm transition (measurement `alarm_event`, libs/storage/README.md). */
export interface AlarmHistoryEvent {
  readonly time: number;
  readonly alarmId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly level: string;
  readonly priority: number;
  readonly category: string;
  readonly action: string;
  readonly state: string;
  readonly active: boolean;
  readonly value?: number | boolean | undefined;
  readonly threshold?: number | undefined;
  readonly metric?: string | undefined;
  readonly message: string;
  readonly by?: string | undefined;
  readonly note?: string | undefined;
}

/** `GET /api/v1/history/alarms`: newest first. */
export interface AlarmHistoryResponse {
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  /** As many events as `limit`: there may be older ones in the range. */
  readonly truncated: boolean;
  readonly events: readonly AlarmHistoryEvent[];
}

/** An alarm level of the metric, to draw on its trend (from the device's resolved rules). */
export interface SetPoint {
  readonly ruleId: string;
  readonly level: string;
  readonly direction: 'high' | 'low';
  readonly value: number;
  readonly deadband: number;
  readonly priority: number;
  readonly category: AlarmCategory;
}

/** `GET /api/v1/telemetry/{siteId}/{deviceId}`: one metric's history with its set-points. */
export interface TelemetrySeries {
  readonly siteId: string;
  readonly deviceId: string;
  readonly metric: string;
  readonly unit: string;
  readonly kind: 'number' | 'boolean';
  readonly from: number;
  readonly to: number;
  /** 0: raw readings; otherwise the width of the mean/min/max buckets. */
  readonly bucketMs: number;
  /** Raw readings only: the row limit was reached, so older readings of the range are left out. */
  readonly truncated: boolean;
  readonly t: number[];
  readonly value: Array<number | null>;
  /** Buckets only. */
  readonly min?: Array<number | null>;
  readonly max?: Array<number | null>;
  readonly setpoints: readonly SetPoint[];
}

/** Worst first: the order the health list is sorted in. */
export const DEVICE_HEALTH_STATUSES = ['offline', 'fault', 'stale', 'unknown', 'ok'] as const;
export type DeviceHealthStatus = (typeof DEVICE_HEALTH_STATUSES)[number];

export interface DeviceHealth {
  readonly siteId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly deviceClass: DeviceClass;
  readonly areaId?: string | undefined;
  readonly intervalSeconds: number;
  /**
   * offline: an open offline alarm or the MQTT last will; fault: an open data-quality alarm;
   * stale: silent for more than 2 intervals; unknown: not heard since the gateway started.
   */
  readonly status: DeviceHealthStatus;
  readonly lastSeenAt?: number | undefined;
  readonly silentMs?: number | undefined;
  readonly online?: boolean | undefined;
  readonly clockSkewMs?: number | undefined;
  readonly battery?: number | undefined;
  readonly lowBattery: boolean;
  readonly qualityAlarms: ReadonlyArray<
    Pick<Alarm, 'id' | 'ruleId' | 'level' | 'priority' | 'state' | 'raisedAt' | 'message'>
  >;
  /** Open process alarms and early warnings of the device. */
  readonly openAlarms: number;
}

/** `GET /api/v1/devices/health`: every visible device, worst first. */
export interface DeviceHealthResponse {
  readonly at: number;
  readonly summary: Readonly<Record<DeviceHealthStatus | 'lowBattery', number>>;
  readonly devices: readonly DeviceHealth[];
}

/** `GET /api/v1/devices/{siteId}/{deviceId}/live`: what a device panel shows first. */
export interface DeviceLive extends DeviceHealth {
  /** Event time of the last reading. */
  readonly lastReadingTs?: number | undefined;
  /** Latest value of each metric. */
  readonly values: Readonly<Record<string, MetricValue>>;
}

export type RiskReasonKind = 'alarm' | 'crowding' | 'data-missing' | 'mhs-grade';

export interface RiskReason {
  readonly kind: RiskReasonKind;
  readonly alarmId: string;
  readonly ruleId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly priority: number;
  readonly level: string;
  /** What the reason adds to Σ mᵢ (after caps). */
  readonly weight: number;
  /** The lowest colour the reason forces, when it forces one. */
  readonly floor?: RiskLevel | undefined;
}

export type RiskNodeKind = OrgKind | 'site' | 'area';

/** A node of the four-colour risk tree: organisation nodes, sites and areas. */
export interface RiskNode {
  /** Unique across kinds: `city:city-demo`, `site:plant-1`, `area:plant-1/tank-farm`. */
  readonly key: string;
  readonly id: string;
  readonly kind: RiskNodeKind;
  readonly name: string;
  readonly inherent: RiskLevel;
  readonly level: RiskLevel;
  /** Areas only: R_inherent, the multiplier min(3, 1 + Σ mᵢ) and R_dyn. */
  readonly score?: {
    readonly inherent: number;
    readonly multiplier: number;
    readonly dynamic: number;
  };
  /** The node's own reasons (areas, and site-wide alarms on sites). */
  readonly reasons: readonly RiskReason[];
  /** The child whose colour the node took, when a child set it. */
  readonly driver?: string | undefined;
  /** How many areas beneath (or this area) are at each colour now. */
  readonly areas: Readonly<Record<RiskLevel, number>>;
  /** Areas only: the area kind (storage, production, restricted …). */
  readonly areaKind?: AreaKind;
  /** Sites only: the GB 18218-2018 production and storage units, each graded on its own. */
  readonly hazardUnits?: readonly MhsUnitRisk[];
  /**
   * An enterprise below this Vigil (issue 15, the uplink's read model), read-only: its colour
   * is the floor of its forwarded open alarms' priorities (P1 red, P2 orange, P3 yellow), nothing
   * else (docs/interfaces.md §Uplink says what is missing), with the freshness of what came up.
   */
  readonly forwarded?: ForwardedRisk | undefined;
  readonly children: readonly RiskNode[];
}

/** What a forwarded enterprise's node of the risk tree was made of, and how fresh it is. */
export interface ForwardedRisk {
  readonly enterpriseCode: string;
  /** When this Vigil last stored an item from it (any kind), epoch ms. */
  readonly lastReceivedAt?: number | undefined;
  /** The newest major-hazard sample's time (the lower's sampling time), epoch ms. */
  readonly realtimeAt?: number | undefined;
  /** Its open alarms (forwarded, not yet normal) by priority. */
  readonly openAlarms: {
    readonly p1: number;
    readonly p2: number;
    readonly p3: number;
    readonly p4: number;
  };
}

/** R = α Σ β q/Q, S = Σ q/Q and the grade they give (GB 18218-2018). */
export interface MhsGradeFigure {
  /** 1 (grade I, most severe) … 4 (grade IV); null while S < 1 (not a major hazard installation). */
  readonly grade: 1 | 2 | 3 | 4 | null;
  readonly r: number;
  readonly s: number;
}

/** One production or storage unit (生产单元 / 储存单元) of a site, GB 18218-2018 §4.2. */
export interface MhsUnitRisk {
  readonly id: string;
  readonly name: string;
  readonly kind: 'production' | 'storage';
  readonly areaId?: string | undefined;
  /** People within 500 m, when the registry gives it (else α was given directly). */
  readonly exposedPopulation?: number | undefined;
  readonly alpha: number;
  /** Tanks of the unit. */
  readonly tanks: number;
  /** The regulatory grade: every tank at its design maximum. */
  readonly regulatory: MhsGradeFigure;
  /** The live index from current levels (operational, not a regulatory figure). */
  readonly live: MhsGradeFigure & {
    /** Tanks without a level yet: counted at their design maximum. */
    readonly withoutLevel: readonly string[];
  };
}

/** `GET /api/v1/risk`: the tree from the user's scope down. */
export interface RiskResponse {
  readonly at: number;
  readonly roots: readonly RiskNode[];
}

/** The latest position of one personnel tag. */
export interface TagPosition {
  readonly siteId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly floor?: number | undefined;
  readonly battery?: number | undefined;
  readonly still?: boolean | undefined;
  /** Event time of the fix. */
  readonly ts: number;
  /** Server time the tag was last heard from. */
  readonly lastSeenAt: number;
  /** No fix for 3 reporting intervals: the position is where the person was, not where they are. */
  readonly stale: boolean;
  /** The area the fix lies in (the first matching polygon), if any. */
  readonly areaId?: string | undefined;
}

/** `GET /api/v1/positions`: the tags that have reported, per visible site. */
export interface PositionsResponse {
  readonly at: number;
  readonly sites: ReadonlyArray<{ readonly siteId: string; readonly tags: readonly TagPosition[] }>;
}

export type MusterPerson = TagPosition & { readonly distanceM: number; readonly inside: boolean };

/** `GET /api/v1/areas/{siteId}/{areaId}/muster`: people in or near the area, nearest first. */
export interface MusterList {
  readonly siteId: string;
  readonly areaId: string;
  readonly name: string;
  readonly at: number;
  readonly radiusM: number;
  readonly maxPeople?: number | undefined;
  readonly inside: number;
  readonly people: readonly MusterPerson[];
}

/** EEMUA 191 / ISA-18.2 alarm-system performance over [from, to). */
export interface AlarmPerformance {
  readonly from: number;
  readonly to: number;
  readonly alarms: number;
  /** EEMUA 191: target below 1 per 10 minutes per operator, above 2 needs investigating. */
  readonly per10MinAverage: number;
  readonly per10MinPeak: number;
  /**
   * Floods on a sliding 10-minute window (more than 10 alarms within any 10 minutes, ISA-18.2 /
   * EEMUA 191): from the activation that crossed the line to when the count fell back to 10, with
   * the activations in it and the peak per 10 minutes; and the share of time in flood.
   */
  readonly floods: ReadonlyArray<{
    readonly start: number;
    readonly end: number;
    readonly alarms: number;
    readonly peak: number;
  }>;
  readonly timeInFloodPercent: number;
  /** Alarms active for more than 24 hours. */
  readonly standing: ReadonlyArray<{
    readonly alarmId: string;
    readonly key: string;
    readonly sinceMs: number;
  }>;
  /** Keys that activated three or more times within one minute (ISA-18.2 chattering). */
  readonly chattering: ReadonlyArray<{ readonly key: string; readonly bursts: number }>;
  /** The ten keys with the most activations, and their share of the load. */
  readonly mostFrequent: ReadonlyArray<{
    readonly key: string;
    readonly count: number;
    readonly percent: number;
  }>;
  readonly byPriority: Readonly<Record<AlarmPriority, number>>;
}

/** `GET /api/v1/reports/alarm-performance`: the report in the user's scope. */
export interface AlarmPerformanceReport extends AlarmPerformance {
  /** The organisation node of the user the report was made for. */
  readonly scope: string;
  /** Where the activations came from: InfluxDB (they survive restarts) or the gateway's memory. */
  readonly source: 'influxdb' | 'memory';
}
