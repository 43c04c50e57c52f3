import { z } from 'zod';

import { DEVICE_CLASSES } from './device-classes';
import { AREA_KINDS, ORG_KINDS, RISK_LEVELS, ROLES } from './organisation';

/**
 * The registry and the session as the REST API answers them (`GET /api/v1/devices`,
 * `GET /api/v1/sites`, `POST /api/v1/auth/login`), defined once: the gateway names these schemas
 * in its OpenAPI document and checks them against what its handlers return (api-responses.ts),
 * and the console reads the inferred types. The console imports types only, so zod stays out of
 * its bundle. A `T | undefined` field is optional here: JSON leaves out what is `undefined`.
 */

const ms = z.number().describe('epoch milliseconds');
const point = z.tuple([z.number(), z.number()]);
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const ruleOverrides = z.record(z.string(), z.record(z.string(), z.unknown()));

export const deviceViewSchema = z.object({
  siteId: z.string(),
  deviceId: z.string(),
  deviceClass: z.enum(DEVICE_CLASSES),
  name: z.string(),
  areaId: z.string().optional(),
  profileId: z.string().optional(),
  gatewayId: z.string().optional(),
  position: point.optional(),
  intervalSeconds: z.number(),
  attributes,
  ruleOverrides: z.array(z.union([ruleOverrides, z.null()])),
  firePanel: z
    .object({
      points: z.array(
        z.object({
          loop: z.string().optional(),
          point: z.string(),
          zone: z.string().optional(),
          areaId: z.string().optional(),
          position: point.optional(),
          name: z.string().optional(),
        }),
      ),
      zones: z.array(
        z.object({
          zone: z.string(),
          areaId: z.string().optional(),
          position: point.optional(),
          name: z.string().optional(),
          confirmWindowMs: z.number().optional(),
        }),
      ),
    })
    .optional(),
});
/** A registry device with its profile merged, as `GET /api/v1/devices` lists it. */
export type DeviceView = z.infer<typeof deviceViewSchema>;

export const orgNodeViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(ORG_KINDS),
  parent: z.string().optional(),
});
export type OrgNodeView = z.infer<typeof orgNodeViewSchema>;

export const areaViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(AREA_KINDS),
  risk: z.enum(RISK_LEVELS),
  polygon: z.array(point),
  maxPeople: z.number().int().optional(),
  rules: ruleOverrides.optional(),
});
export type AreaView = z.infer<typeof areaViewSchema>;

/**
 * What names a major-hazard unit (GB 18218-2018) in every answer that lists units: the site in
 * `GET /api/v1/sites` and the risk tree's nodes (`GET /api/v1/risk`, api-responses.ts).
 */
export const mhsUnitViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['production', 'storage']),
});

export const siteViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  enterprise: z.string(),
  frame: z.object({ width: z.number(), height: z.number() }),
  areas: z.array(areaViewSchema),
  hazardUnits: z
    .array(
      mhsUnitViewSchema.extend({
        area: z.string().optional(),
        exposedPopulation: z.number().int().optional(),
        alpha: z.number().optional(),
      }),
    )
    .optional(),
  timeZone: z
    .string()
    .optional()
    .describe(
      'the plant’s local time (IANA zone) when set: its inspection windows (Asia/Shanghai otherwise)',
    ),
});
export type SiteView = z.infer<typeof siteViewSchema>;

/** `GET /api/v1/sites`: the sites in the user's scope and the organisation tree. */
export const sitesResponseSchema = z.object({
  organisation: z.array(orgNodeViewSchema),
  sites: z.array(siteViewSchema),
});
export type SitesResponse = z.infer<typeof sitesResponseSchema>;

export const userViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  scope: z.string().describe('the organisation node the user is scoped to'),
  scopePath: z.array(z.string()).describe('organisation path from the root down to the scope'),
});
export type UserView = z.infer<typeof userViewSchema>;

/** `GET /api/v1/auth/mode`: in demo mode the console offers the demo users. */
export const authModeSchema = z.object({ demo: z.boolean() });
export type AuthMode = z.infer<typeof authModeSchema>;

/** `POST /api/v1/auth/login`: the session the console keeps. */
export const sessionViewSchema = z.object({
  token: z.string().describe('send as `Authorization: Bearer <token>`'),
  expiresAt: ms,
  user: userViewSchema,
  passwordExpired: z.boolean(),
});
export type SessionView = z.infer<typeof sessionViewSchema>;
