import { z } from 'zod';

import {
  AREA_KINDS,
  CANARY_DEVICE_ID,
  DEFAULT_SITE_TIME_ZONE,
  DEVICE_CLASSES,
  IDENTIFIER_PATTERN,
  inspectionScheduleSchema,
  ORG_KINDS,
  RISK_LEVELS,
} from '@vigil/contracts';
import { mhsUnitSchema } from '@vigil/rules';

import { firePanelPointsSchema, firePanelZonesSchema } from './fire-panel';

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const point = z.tuple([z.number().finite(), z.number().finite()]);

/** Per-rule overrides, keyed by rule id; the rule engine validates their contents. */
const ruleOverrides = z.record(z.string(), z.record(z.string(), z.unknown()));
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const orgNodeSchema = z.strictObject({
  id: identifier,
  name: z.string().min(1),
  kind: z.enum(ORG_KINDS),
  parent: identifier.optional(),
});

export const areaSchema = z.strictObject({
  id: identifier,
  name: z.string().min(1),
  kind: z.enum(AREA_KINDS),
  /** The inherent risk colour (红橙黄蓝). */
  risk: z.enum(RISK_LEVELS).default('blue'),
  /** Polygon in the site's frame, metres. */
  polygon: z.array(point).min(3),
  /** People allowed at once (per-zone head-count limit), when the zone has one. */
  maxPeople: z.number().int().positive().optional(),
  rules: ruleOverrides.optional(),
});

export const profileSchema = z.strictObject({
  id: identifier,
  class: z.enum(DEVICE_CLASSES),
  description: z.string().optional(),
  intervalSeconds: z.number().positive().optional(),
  attributes: attributes.optional(),
  rules: ruleOverrides.optional(),
});

export const deviceSchema = z.strictObject({
  // `_canary` is Vigil's own synthetic device in every site (contracts canary.ts).
  id: identifier.refine(id => id !== CANARY_DEVICE_ID, {
    message: `"${CANARY_DEVICE_ID}" is reserved for Vigil's pipeline canary`,
  }),
  class: z.enum(DEVICE_CLASSES),
  name: z.string().optional(),
  area: identifier.optional(),
  profile: identifier.optional(),
  /** Position in the site's frame, metres; personnel tags have none (they report x/y). */
  position: point.optional(),
  /** Devices behind a gateway go silent with it: one root-cause alarm instead of many. */
  gateway: identifier.optional(),
  intervalSeconds: z.number().positive().optional(),
  attributes: attributes.optional(),
  rules: ruleOverrides.optional(),
  /** Fire panels only: loop/point → area and position (GB 26875 addresses, `fire-panel.ts`). */
  points: firePanelPointsSchema.optional(),
  /** Fire panels only: zones → area, optional two-detector confirmation (`fire-panel.ts`). */
  zones: firePanelZonesSchema.optional(),
});

export const siteSchema = z.strictObject({
  id: identifier,
  name: z.string().min(1),
  /** The enterprise (organisation node) that runs the site. */
  enterprise: identifier,
  /** Site frame in metres: x to the east, y to the north, origin at the south-west corner. */
  frame: z.strictObject({ width: z.number().positive(), height: z.number().positive() }),
  areas: z.array(areaSchema).default([]),
  profiles: z.array(profileSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  /** GB 18218-2018 production and storage units (tanks name theirs with attribute `unit`). */
  hazardUnits: z.array(mhsUnitSchema).optional(),
  /**
   * The plant's local time (IANA zone): the days, weeks, months and quarters of its inspection
   * schedules. DEFAULT_SITE_TIME_ZONE (Asia/Shanghai) unless set: `siteTimeZone(site)`.
   */
  timeZone: z.string().refine(isTimeZone, 'not an IANA time zone (e.g. Asia/Shanghai)').optional(),
  /** Inspection schedules (排查计划, issue 15): checklists per area or equipment with a cadence. */
  inspections: z.array(inspectionScheduleSchema).optional(),
});

/** The plant's local time: its own zone, or Asia/Shanghai. */
export function siteTimeZone(site: { readonly timeZone?: string | undefined }): string {
  return site.timeZone ?? DEFAULT_SITE_TIME_ZONE;
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

// Every object is strict: an unknown key (a typo such as `maxpeople`) is refused at load with its
// path and a "did you mean" hint, never ignored (issue 10 finding 2).

/** One registry file. A registry is the union of its files; ids must be unique across them. */
export const registryFileSchema = z
  .object({
    organisation: z.array(orgNodeSchema).default([]),
    sites: z.array(siteSchema).default([]),
  })
  .strict();

export type OrgNode = z.infer<typeof orgNodeSchema>;
export type Area = z.infer<typeof areaSchema>;
export type Profile = z.infer<typeof profileSchema>;
export type DeviceEntry = z.infer<typeof deviceSchema>;
export type Site = z.infer<typeof siteSchema>;
export type InspectionScheduleEntry = NonNullable<Site['inspections']>[number];
export type RegistryFile = z.infer<typeof registryFileSchema>;
