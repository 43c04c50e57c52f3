/**
 * What the console reads from the REST API (docs/interfaces.md). Declared here rather than
 * imported from @vigil/registry: the console is a browser app and may only depend on
 * platform-independent libraries; the alarm and message types come from @vigil/contracts.
 */
import type { DeviceClass } from '@vigil/contracts';

export type RiskColour = 'red' | 'orange' | 'yellow' | 'blue';
export type OrgKind = 'city' | 'county' | 'park' | 'enterprise';
export type Role = 'operator' | 'supervisor' | 'admin';
export type Point = readonly [number, number];

export interface OrgNode {
  readonly id: string;
  readonly name: string;
  readonly kind: OrgKind;
  readonly parent?: string;
}

export type AreaKind =
  | 'production'
  | 'storage'
  | 'loading'
  | 'utility'
  | 'office'
  | 'control-room'
  | 'restricted'
  | 'warning';

export interface Area {
  readonly id: string;
  readonly name: string;
  readonly kind: AreaKind;
  readonly risk: RiskColour;
  readonly polygon: readonly Point[];
  readonly maxPeople?: number;
}

export interface Site {
  readonly id: string;
  readonly name: string;
  readonly enterprise: string;
  readonly frame: { readonly width: number; readonly height: number };
  readonly areas: readonly Area[];
}

export interface Device {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly name: string;
  readonly areaId?: string;
  readonly position?: Point;
  readonly intervalSeconds: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
}

export interface User {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly scope: string;
  readonly scopePath: readonly string[];
}

export interface Session {
  readonly token: string;
  readonly expiresAt: number;
  readonly user: User;
}

export interface RiskReason {
  readonly kind: 'alarm' | 'crowding' | 'data-missing' | 'mhs-grade';
  readonly alarmId: string;
  readonly ruleId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly priority: number;
  readonly level: string;
  readonly weight: number;
  readonly floor?: RiskColour;
}

export interface RiskNode {
  readonly key: string;
  readonly id: string;
  readonly kind: OrgKind | 'site' | 'area';
  readonly name: string;
  readonly inherent: RiskColour;
  readonly level: RiskColour;
  readonly score?: {
    readonly inherent: number;
    readonly multiplier: number;
    readonly dynamic: number;
  };
  readonly reasons: readonly RiskReason[];
  readonly driver?: string;
  readonly areas: Readonly<Record<RiskColour, number>>;
  readonly areaKind?: AreaKind;
  readonly children: readonly RiskNode[];
}

export interface TagPosition {
  readonly siteId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly floor?: number;
  readonly battery?: number;
  readonly still?: boolean;
  readonly ts: number;
  readonly lastSeenAt: number;
  readonly stale: boolean;
  readonly areaId?: string;
}

export interface MusterList {
  readonly siteId: string;
  readonly areaId: string;
  readonly name: string;
  readonly at: number;
  readonly radiusM: number;
  readonly maxPeople?: number;
  readonly inside: number;
  readonly people: ReadonlyArray<
    TagPosition & { readonly distanceM: number; readonly inside: boolean }
  >;
}

export interface SetPoint {
  readonly ruleId: string;
  readonly level: string;
  readonly direction: 'high' | 'low';
  readonly value: number;
  readonly deadband: number;
  readonly priority: number;
}

export interface TelemetrySeries {
  readonly siteId: string;
  readonly deviceId: string;
  readonly metric: string;
  readonly unit: string;
  readonly kind: 'number' | 'boolean';
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
  readonly truncated: boolean;
  readonly t: number[];
  readonly value: Array<number | null>;
  readonly min?: Array<number | null>;
  readonly max?: Array<number | null>;
  readonly setpoints: readonly SetPoint[];
}

export type DeviceHealthStatus = 'offline' | 'fault' | 'stale' | 'unknown' | 'ok';

export interface DeviceHealth {
  readonly siteId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly deviceClass: DeviceClass;
  readonly areaId?: string;
  readonly intervalSeconds: number;
  readonly status: DeviceHealthStatus;
  readonly lastSeenAt?: number;
  readonly silentMs?: number;
  readonly online?: boolean;
  readonly clockSkewMs?: number;
  readonly battery?: number;
  readonly lowBattery: boolean;
  readonly qualityAlarms: ReadonlyArray<{
    readonly id: string;
    readonly ruleId: string;
    readonly level: string;
    readonly priority: number;
    readonly state: string;
    readonly raisedAt: number;
  }>;
  readonly openAlarms: number;
}

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
  readonly value?: number | boolean;
  readonly threshold?: number;
  readonly metric?: string;
  readonly message: string;
  readonly by?: string;
  readonly note?: string;
}
