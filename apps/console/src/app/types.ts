/**
 * The registry and session as the console reads them from the REST API (docs/interfaces.md).
 * Declared here rather than imported from @vigil/registry: the console is a browser app and may
 * only depend on platform-independent libraries. The read-side answers (history, trends, risk,
 * positions, device health, reports), alarms and WebSocket messages come from @vigil/contracts.
 */
import type { AreaKind, DeviceClass, OrgKind, RiskLevel } from '@vigil/contracts';

export type Role = 'operator' | 'supervisor' | 'admin';
export type Point = readonly [number, number];

export interface OrgNode {
  readonly id: string;
  readonly name: string;
  readonly kind: OrgKind;
  readonly parent?: string;
}

export interface Area {
  readonly id: string;
  readonly name: string;
  readonly kind: AreaKind;
  readonly risk: RiskLevel;
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
