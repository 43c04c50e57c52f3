import { z } from 'zod';

import {
  DEVICE_CLASSES,
  type DeviceClass,
  IDENTIFIER_PATTERN,
  RISK_LEVELS,
} from '@vigil/contracts';

import { RULE_ID_PATTERN } from '../rule-config';
import { issueMessage } from '../suggest-key';
import { type PointM, type Polygon, compilePolygon } from '@vigil/contracts';

// ---------------------------------------------------------------------------------------------
// Defaults. Tags as in /work/shared/reference/domain-standards.md: V verified, S secondary,
// P proposal (no standard states it).
// ---------------------------------------------------------------------------------------------

/**
 * Positioning accuracy: static ≤ ±3 m in blue/yellow zones (AQ 3064.3-2025 via a vendor page,
 * domain-standards §5, S). Used as the geofence buffer of §9.7 (P) and as the hysteresis of area
 * membership, so a person standing on a boundary does not flap in and out.
 */
export const ACCURACY_BUFFER_M = 3;
/** Geofence debounce: ≥ 2 consecutive fixes or ≥ 5 s (domain-standards §9.7 geofence row, P). */
export const INTRUSION_CONFIRM_FIXES = 2;
export const INTRUSION_CONFIRM_MS = 5_000;
/** Red-zone intrusion is P2 (domain-standards §9 priorities and §9.7 geofence row, P). */
export const INTRUSION_PRIORITY = 2;
/** Overstay in a red (restricted) zone > 10 min → P2 (domain-standards §9.7 overstay row, P). */
export const RESTRICTED_MAX_DWELL_MINUTES = 10;
export const RESTRICTED_OVERSTAY_PRIORITY = 2;
/** Overstay elsewhere (only where an area sets `maxDwellMinutes`) → P3 (§9.7 overstay row, P). */
export const OTHER_OVERSTAY_PRIORITY = 3;
/**
 * Zone head-count: **more than** the area's limit present (count > maxPeople, i.e. the limit is
 * the number allowed: Tai'an 泰应急发〔2024〕4号 "≤ 3 people at the same time", domain-standards
 * §5, V local) for > 1 min → P2 (§9.7 zone head-count row; the 1 min hold mirrors the crowding
 * guide's duration, P).
 */
export const HEAD_COUNT_HOLD_MS = 60_000;
export const HEAD_COUNT_PRIORITY = 2;
/**
 * Crowding (人员聚集): **N or more people within one circle of radius 15 m for more than 1 min**
 * (MEM 《基于人员定位系统的人员聚集风险监测预警建设应用指南(试行)》 2023: gathering within a
 * radius ≤ 15 m lasting > 1 min, domain-standards §5, V). The guide sets no N (U).
 */
export const CROWDING_RADIUS_M = 15;
export const CROWDING_HOLD_MS = 60_000;
/**
 * N, when the area has no head-count limit: 4, the first number over Tai'an's "≤ 3 people at
 * the same time in one high-risk site" (泰应急发〔2024〕4号, domain-standards §5, V local).
 * domain-standards §9.7 proposes N = 3 from the same source; that would alarm on the 3 people the
 * rule allows, so it is not used. With a limit, N = limit + 1 (`crowdingMinPeopleFor`): crowding
 * is the same number of people as a head-count breach, gathered within 15 m.
 */
export const CROWDING_DEFAULT_MIN_PEOPLE = 4;

/** N of the crowding rule for a head-count limit (people allowed): limit + 1, else the default. */
export function crowdingMinPeopleFor(maxPeople: number | undefined): number {
  return maxPeople === undefined ? CROWDING_DEFAULT_MIN_PEOPLE : Math.max(2, maxPeople + 1);
}
/** Crowding is P2 (domain-standards §9 priorities, §9.7 crowding row). */
export const CROWDING_PRIORITY = 2;
/**
 * Crowding clears after 30 s without a crowd: without it one person stepping out for a second
 * clears and re-raises (chattering, §9.8, S); 30 s mirrors the gas clear delay (§9.1, P).
 */
export const CROWDING_OFF_DELAY_MS = 30_000;
/**
 * Crowding warning zones: production units, MHI storage, special-work and maintenance areas
 * (MEM guide 2023, domain-standards §5, V, list truncated in the source), as registry area kinds.
 */
export const CROWDING_AREA_KINDS: readonly string[] = [
  'warning',
  'storage',
  'production',
  'loading',
];
/** Man-down: motionless ≥ 60 s → P2 pre-alarm; 60 s more → P1 (domain-standards §9.7, P). */
export const MAN_DOWN_PRE_ALARM_MS = 60_000;
export const MAN_DOWN_ALARM_MS = 120_000;
export const MAN_DOWN_PRE_ALARM_PRIORITY = 2;
export const MAN_DOWN_ALARM_PRIORITY = 1;
/** Man-down applies in red/orange zones (§9.7, P) and in restricted and warning areas (proposal). */
export const MAN_DOWN_AREA_KINDS: readonly string[] = ['restricted', 'warning'];
export const MAN_DOWN_RISKS: readonly AreaRisk[] = ['red', 'orange'];
/**
 * 2-out-of-N voting: GB 16808-2025 §5.5.1.8 gives controllers a function to alarm only after ≥ 2
 * combustible alarm signals (domain-standards §1.5, V); whether it is mandatory is unverified (U),
 * so it is off unless an area asks for it (§9.1 voting row: gating policy P).
 */
export const VOTING_K = 2;
export const VOTING_RULES: readonly string[] = ['gas-l2'];
/** The voted alarm is P1 and latched like the gas level 2 it is made of (§9 priorities, §9.1, P). */
export const VOTING_PRIORITY = 1;
/** People in or within 50 m of an area in gas or fire alarm (domain-standards §9.7 correlation, P). */
export const PEOPLE_PRESENT_RADIUS_M = 50;
/** Escalated: people exposed to a process alarm (§9.7 correlation "escalate", P). */
export const PEOPLE_PRESENT_PRIORITY = 1;
/** Cleared 30 s after the last person left (anti-chatter at the 50 m edge, as crowding, P). */
export const PEOPLE_PRESENT_OFF_DELAY_MS = 30_000;
export const PEOPLE_PRESENT_DEVICE_CLASSES: readonly DeviceClass[] = [
  'gas-combustible',
  'gas-toxic',
  'gas-oxygen',
  'fire-panel',
  'call-point',
];
/**
 * A position older than 90 s no longer counts for head-count, crowding and muster lists:
 * 3 × the ≤ 30 s update interval of a static tag (§9.7 update interval row, P; 3 × interval as
 * the offline rule, §9.8, P).
 */
export const POSITION_TTL_MS = 90_000;

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

/** The four risk colours (红橙黄蓝), as the registry and the console know them. */
export const AREA_RISKS = RISK_LEVELS;
export type AreaRisk = (typeof AREA_RISKS)[number];

/** Keys of an area's `rules` map that belong to the site rules; every other key is a device rule. */
export const SITE_RULE_IDS = [
  'intrusion',
  'overstay',
  'head-count',
  'crowding',
  'man-down',
  'voting',
  'people-present',
] as const;
export type SiteRuleId = (typeof SITE_RULE_IDS)[number];

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const ruleId = z.string().regex(RULE_ID_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,63}');
const point = z.tuple([z.number().finite(), z.number().finite()]);
const priority = z.literal([1, 2, 3, 4]);
const durationMs = z.int().min(0).max(86_400_000);

export const intrusionConfigSchema = z.strictObject({
  enabled: z.boolean(),
  /** Raise only this deep inside (the polygon shrunk by it); clear only this far outside. */
  bufferM: z.number().min(0).max(50),
  /** Consecutive fixes that confirm an entry or an exit … */
  confirmFixes: z.int().min(1).max(100),
  /** … or this much server time since the first of them, whichever comes first. */
  confirmMs: durationMs,
  priority,
});

export const overstayConfigSchema = z.strictObject({
  enabled: z.boolean(),
  /** Required when enabled; raises when the stay is strictly longer. */
  maxDwellMinutes: z.number().positive().max(10_080).optional(),
  priority,
});

export const headCountConfigSchema = z.strictObject({
  enabled: z.boolean(),
  /** Required when enabled; the area's `maxPeople` by default. Raises above it. */
  maxPeople: z.int().positive().optional(),
  holdMs: durationMs,
  priority,
});

export const crowdingConfigSchema = z.strictObject({
  enabled: z.boolean(),
  /** N: raises at N or more people inside one circle (≥ N); default the area's limit + 1. */
  minPeople: z.int().min(2).max(10_000),
  /** The circle's radius (15 m, MEM guide). */
  radiusM: z.number().positive().max(100),
  holdMs: durationMs,
  offDelayMs: durationMs,
  priority,
});

export const manDownConfigSchema = z.strictObject({
  enabled: z.boolean(),
  preAlarmMs: durationMs,
  alarmMs: durationMs,
  preAlarmPriority: priority,
  alarmPriority: priority,
});

export const votingConfigSchema = z.strictObject({
  enabled: z.boolean(),
  k: z.int().min(2).max(64),
  /** Device rule ids that vote, e.g. `gas-l2`; a detector counts once whichever of them it has. */
  rules: z.array(ruleId).min(1).max(16),
  /** Rule id of the voted signal; `vote-` + the rule ids joined with `-` when absent. */
  ruleId: ruleId.optional(),
  priority,
  latched: z.boolean(),
});

export const peoplePresentConfigSchema = z.strictObject({
  enabled: z.boolean(),
  radiusM: z.number().min(0).max(1_000),
  deviceClasses: z.array(z.enum(DEVICE_CLASSES)).min(1),
  /** Only these device rule ids count (e.g. `gas-l2`); every `process` rule when absent. */
  ruleIds: z.array(ruleId).min(1).optional(),
  priority,
  offDelayMs: durationMs,
});

/** The site rules of one area after defaults and overrides: what the reducers read. */
export const areaSiteRulesSchema = z.strictObject({
  intrusion: intrusionConfigSchema,
  overstay: overstayConfigSchema,
  'head-count': headCountConfigSchema,
  crowding: crowdingConfigSchema,
  'man-down': manDownConfigSchema,
  voting: votingConfigSchema,
  'people-present': peoplePresentConfigSchema,
});
export type AreaSiteRules = z.infer<typeof areaSiteRulesSchema>;

/** Per rule: any subset of its fields, unknown fields rejected (a typo such as `minpeople` fails). */
const overrideSchemas = {
  intrusion: intrusionConfigSchema.partial(),
  overstay: overstayConfigSchema.partial(),
  'head-count': headCountConfigSchema.partial(),
  crowding: crowdingConfigSchema.partial(),
  'man-down': manDownConfigSchema.partial(),
  voting: votingConfigSchema.partial(),
  'people-present': peoplePresentConfigSchema.partial(),
} as const;

/**
 * The site-rule entries of an area's registry `rules` map. Giving a rule's entry turns it on in
 * that area unless the entry says `enabled: false`.
 */
export const areaSiteRuleOverridesSchema = z.strictObject(overrideSchemas).partial();
export type AreaSiteRuleOverrides = z.infer<typeof areaSiteRuleOverridesSchema>;

/** Settings for every site (not per area). */
export const siteRulesSettingsSchema = z.strictObject({
  positionTtlMs: z.int().min(1_000).max(3_600_000),
  /** Membership hysteresis: a tag joins an area on the boundary, leaves it this far outside. */
  membershipBufferM: z.number().min(0).max(50),
  crowdingKinds: z.array(z.string().min(1)),
  manDownKinds: z.array(z.string().min(1)),
  manDownRisks: z.array(z.enum(AREA_RISKS)),
});
export type SiteRulesSettings = z.infer<typeof siteRulesSettingsSchema>;

export const DEFAULT_SITE_RULES_SETTINGS: SiteRulesSettings = {
  positionTtlMs: POSITION_TTL_MS,
  membershipBufferM: ACCURACY_BUFFER_M,
  crowdingKinds: [...CROWDING_AREA_KINDS],
  manDownKinds: [...MAN_DOWN_AREA_KINDS],
  manDownRisks: [...MAN_DOWN_RISKS],
};

/**
 * An area as the site rules need it. A registry `Area` fits as is: its `rules` map may mix
 * device-rule overrides (ignored here) and site-rule entries (keys in `SITE_RULE_IDS`).
 */
export interface SiteArea {
  readonly id: string;
  readonly name: string;
  /** Registry kind: production, storage, loading, utility, office, control-room, restricted, warning. */
  readonly kind: string;
  readonly risk?: AreaRisk | undefined;
  /** Metres in the site frame, at least 3 points. */
  readonly polygon: readonly PointM[];
  readonly maxPeople?: number | undefined;
  readonly rules?: Readonly<Record<string, unknown>> | undefined;
}

/** A registered device; a registry `RegisteredDevice` fits as is. */
export interface SiteDevice {
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly areaId?: string | undefined;
  readonly position?: PointM | undefined;
}

/** One site's layout, mapped from the registry by the caller. */
export interface SiteLayout {
  readonly siteId: string;
  readonly areas: readonly SiteArea[];
  readonly devices: readonly SiteDevice[];
}

export const siteAreaSchema = z.object({
  id: identifier,
  name: z.string().min(1),
  kind: z.string().min(1),
  risk: z.enum(AREA_RISKS).optional(),
  polygon: z.array(point).min(3),
  maxPeople: z.int().positive().optional(),
  rules: z.record(z.string(), z.unknown()).optional(),
});

export const siteDeviceSchema = z.object({
  deviceId: identifier,
  deviceClass: z.enum(DEVICE_CLASSES),
  areaId: identifier.optional(),
  position: point.optional(),
});

export const siteLayoutSchema = z.object({
  siteId: identifier,
  areas: z.array(siteAreaSchema),
  devices: z.array(siteDeviceSchema),
});

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/** An area ready for the reducers: polygon with bounding box, validated rules, layout index. */
export interface CompiledArea {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly risk: AreaRisk | undefined;
  /** Position in the layout: the order areas are evaluated and reported in. */
  readonly index: number;
  readonly polygon: Polygon;
  readonly rules: AreaSiteRules;
  /** `voting.ruleId`, or `vote-<rules joined by ->`. */
  readonly votingRuleId: string;
}

export interface CompiledSite {
  readonly siteId: string;
  readonly settings: SiteRulesSettings;
  readonly areas: readonly CompiledArea[];
  readonly areaById: ReadonlyMap<string, CompiledArea>;
  /** deviceId → areaId for registered devices that have an area. */
  readonly deviceAreas: ReadonlyMap<string, string>;
}

export interface ResolvedSiteLayouts {
  readonly sites: readonly CompiledSite[];
  /** One line per problem, e.g. `plant-1: areas.tank-farm.rules.crowding.minPeople: …`. */
  readonly errors: readonly string[];
}

/**
 * The defaults of an area, from its kind, risk and `maxPeople` (README "Defaults"). Pure data: the
 * caller may print it to show operators what a site runs.
 */
export function defaultAreaRules(
  area: Pick<SiteArea, 'kind' | 'risk' | 'maxPeople'>,
  settings: SiteRulesSettings = DEFAULT_SITE_RULES_SETTINGS,
): AreaSiteRules {
  const restricted = area.kind === 'restricted';
  return {
    intrusion: {
      enabled: restricted,
      bufferM: ACCURACY_BUFFER_M,
      confirmFixes: INTRUSION_CONFIRM_FIXES,
      confirmMs: INTRUSION_CONFIRM_MS,
      priority: INTRUSION_PRIORITY,
    },
    overstay: restricted
      ? {
          enabled: true,
          maxDwellMinutes: RESTRICTED_MAX_DWELL_MINUTES,
          priority: RESTRICTED_OVERSTAY_PRIORITY,
        }
      : { enabled: false, priority: OTHER_OVERSTAY_PRIORITY },
    'head-count': {
      enabled: area.maxPeople !== undefined,
      ...(area.maxPeople !== undefined ? { maxPeople: area.maxPeople } : {}),
      holdMs: HEAD_COUNT_HOLD_MS,
      priority: HEAD_COUNT_PRIORITY,
    },
    crowding: {
      enabled: settings.crowdingKinds.includes(area.kind),
      minPeople: crowdingMinPeopleFor(area.maxPeople),
      radiusM: CROWDING_RADIUS_M,
      holdMs: CROWDING_HOLD_MS,
      offDelayMs: CROWDING_OFF_DELAY_MS,
      priority: CROWDING_PRIORITY,
    },
    'man-down': {
      enabled:
        settings.manDownKinds.includes(area.kind) ||
        (area.risk !== undefined && settings.manDownRisks.includes(area.risk)),
      preAlarmMs: MAN_DOWN_PRE_ALARM_MS,
      alarmMs: MAN_DOWN_ALARM_MS,
      preAlarmPriority: MAN_DOWN_PRE_ALARM_PRIORITY,
      alarmPriority: MAN_DOWN_ALARM_PRIORITY,
    },
    voting: {
      enabled: false,
      k: VOTING_K,
      rules: [...VOTING_RULES],
      priority: VOTING_PRIORITY,
      latched: true,
    },
    'people-present': {
      enabled: true,
      radiusM: PEOPLE_PRESENT_RADIUS_M,
      deviceClasses: [...PEOPLE_PRESENT_DEVICE_CLASSES],
      priority: PEOPLE_PRESENT_PRIORITY,
      offDelayMs: PEOPLE_PRESENT_OFF_DELAY_MS,
    },
  };
}

/**
 * The device-rule part of an area's `rules` map: what the registry must pass to
 * `resolveDeviceRules` as the area layer (site-rule keys would be rejected there as unknown rules).
 */
export function deviceRuleOverrides(
  rules: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> | undefined {
  if (rules === undefined) return undefined;
  const siteKeys: ReadonlySet<string> = new Set(SITE_RULE_IDS);
  return Object.fromEntries(Object.entries(rules).filter(([key]) => !siteKeys.has(key)));
}

/**
 * Validates and compiles site layouts and settings. Never throws: every problem is one line in
 * `errors` (refuse to start on any); a site with errors is left out of `sites`.
 */
export function resolveSiteLayouts(
  layouts: readonly unknown[],
  settings: unknown = {},
): ResolvedSiteLayouts {
  const errors: string[] = [];
  const parsedSettings = siteRulesSettingsSchema.partial().safeParse(settings ?? {});
  let resolvedSettings = DEFAULT_SITE_RULES_SETTINGS;
  if (parsedSettings.success) {
    resolvedSettings = { ...DEFAULT_SITE_RULES_SETTINGS, ...stripUndefined(parsedSettings.data) };
  } else {
    errors.push(...describe('settings', parsedSettings.error.issues));
  }

  const sites: CompiledSite[] = [];
  const seenSites = new Set<string>();
  layouts.forEach((raw, index) => {
    const parsed = siteLayoutSchema.safeParse(raw);
    if (!parsed.success) {
      errors.push(...describe(`sites.${index}`, parsed.error.issues));
      return;
    }
    const layout = parsed.data;
    const where = layout.siteId;
    const before = errors.length;
    if (seenSites.has(layout.siteId)) errors.push(`${where}: site listed twice`);
    seenSites.add(layout.siteId);

    const areas: CompiledArea[] = [];
    const areaById = new Map<string, CompiledArea>();
    layout.areas.forEach((area, areaIndex) => {
      if (areaById.has(area.id)) errors.push(`${where}: areas.${area.id}: area id listed twice`);
      const compiled = compileArea(area, areaIndex, resolvedSettings, `${where}: areas.${area.id}`);
      errors.push(...compiled.errors);
      areas.push(compiled.area);
      areaById.set(area.id, compiled.area);
    });

    const deviceAreas = new Map<string, string>();
    const seenDevices = new Set<string>();
    for (const device of layout.devices) {
      const at = `${where}: devices.${device.deviceId}`;
      if (seenDevices.has(device.deviceId)) errors.push(`${at}: device id listed twice`);
      seenDevices.add(device.deviceId);
      if (device.areaId === undefined) continue;
      if (!areaById.has(device.areaId)) {
        errors.push(`${at}.areaId: "${device.areaId}" is not an area of the site`);
        continue;
      }
      deviceAreas.set(device.deviceId, device.areaId);
    }

    if (errors.length === before) {
      sites.push({
        siteId: layout.siteId,
        settings: resolvedSettings,
        areas,
        areaById,
        deviceAreas,
      });
    }
  });
  return { sites, errors };
}

function compileArea(
  area: z.infer<typeof siteAreaSchema>,
  index: number,
  settings: SiteRulesSettings,
  where: string,
): { area: CompiledArea; errors: string[] } {
  const errors: string[] = [];
  const defaults = defaultAreaRules(area, settings);
  const rawRules = area.rules ?? {};
  const merged: Record<string, unknown> = {};
  for (const id of SITE_RULE_IDS) {
    const base = defaults[id];
    if (!(id in rawRules)) {
      merged[id] = base;
      continue;
    }
    // Each entry on its own: a bad entry is listed and ignored, the others still apply and are
    // still checked, so one start lists every problem.
    const parsed = overrideSchemas[id].safeParse(rawRules[id]);
    if (!parsed.success) {
      const known = Object.keys(overrideSchemas[id].shape);
      errors.push(...describe(`${where}.rules.${id}`, parsed.error.issues, known));
      merged[id] = base;
      continue;
    }
    const override = stripUndefined(parsed.data as Record<string, unknown>);
    merged[id] = { ...base, ...override, enabled: override['enabled'] ?? true };
  }
  // N of crowding follows the head-count limit wherever the limit comes from (area `maxPeople` or
  // a `head-count` override), unless the area sets `crowding.minPeople` itself.
  const crowdingOverride = rawRules['crowding'] as Readonly<Record<string, unknown>> | undefined;
  const limit = (merged['head-count'] as { maxPeople?: number } | undefined)?.maxPeople;
  if (typeof crowdingOverride?.['minPeople'] !== 'number' && limit !== undefined) {
    merged['crowding'] = {
      ...(merged['crowding'] as object),
      minPeople: crowdingMinPeopleFor(limit),
    };
  }
  const checked = areaSiteRulesSchema.safeParse(merged);
  let rules = defaults;
  if (checked.success) {
    rules = checked.data;
  } else {
    errors.push(...describe(`${where}.rules`, checked.error.issues));
  }

  if (rules['head-count'].enabled && rules['head-count'].maxPeople === undefined) {
    errors.push(`${where}.rules.head-count.maxPeople: required (the area has no maxPeople)`);
  }
  if (rules.overstay.enabled && rules.overstay.maxDwellMinutes === undefined) {
    errors.push(`${where}.rules.overstay.maxDwellMinutes: required to enable overstay here`);
  }
  if (rules['man-down'].alarmMs <= rules['man-down'].preAlarmMs) {
    errors.push(`${where}.rules.man-down.alarmMs: must be greater than preAlarmMs`);
  }

  return {
    area: {
      id: area.id,
      name: area.name,
      kind: area.kind,
      risk: area.risk,
      index,
      polygon: compilePolygon(area.polygon),
      rules,
      votingRuleId: rules.voting.ruleId ?? `vote-${rules.voting.rules.join('-')}`,
    },
    errors,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}

function describe(
  where: string,
  issues: readonly z.core.$ZodIssue[],
  known?: readonly string[],
): string[] {
  return issues.map(issue => {
    const path = issue.path.map(String).join('.');
    // Only the entry's own keys are known here (`minpeople` → did you mean `minPeople`?).
    const hintable = issue.path.length === 0 ? known : undefined;
    return `${where}${path ? `.${path}` : ''}: ${issueMessage(issue, hintable)}`;
  });
}
