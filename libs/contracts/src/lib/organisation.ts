/**
 * The words of the organisation tree and the site register: the registry validates them
 * (libs/registry) and the console draws them (the risk map, the site plan).
 */

/** 红橙黄蓝: major / significant / general / low risk (four-colour risk map), worst first. */
export const RISK_LEVELS = ['red', 'orange', 'yellow', 'blue'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Users' roles; what each may do is decided in @vigil/alarms (`access.ts`). */
export const ROLES = ['operator', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ORG_KINDS = ['city', 'county', 'park', 'enterprise'] as const;
export type OrgKind = (typeof ORG_KINDS)[number];

/** production, storage, office, … and the personnel-positioning zone kinds. */
export const AREA_KINDS = [
  'production',
  'storage',
  'loading',
  'utility',
  'office',
  'control-room',
  'restricted',
  'warning',
] as const;
export type AreaKind = (typeof AREA_KINDS)[number];
