import { z } from 'zod';

import {
  HAZARD_ACTIONS,
  HAZARD_LEVELS,
  HAZARD_PHOTO_STEPS,
  HAZARD_PHOTO_TYPES,
  HAZARD_SOURCES,
  HAZARD_STATES,
  HAZARD_STATS_BY,
  type Hazard,
  type HazardPhotoUpload,
  type HazardStats,
} from '@vigil/contracts';

import { API_SCHEMAS, type Agrees } from '../gateway/api-responses';

/**
 * What the hazard ledger's operations answer, as zod schemas named in the OpenAPI document
 * (`openapi.ts` RESPONSES), with the same compile-time agreement check as `api-responses.ts`.
 */

const ms = z.number().describe('epoch milliseconds');
const counts = z.object({
  open: z.number().int(),
  overdue: z.number().int(),
  closed: z.number().int(),
});

const sha256 = z.string().describe('lower-case hex SHA-256 of the file: its address');
const photoFile = {
  sha256,
  type: z.enum(HAZARD_PHOTO_TYPES).describe('told by the magic bytes'),
  bytes: z.number().int(),
  step: z.enum(HAZARD_PHOTO_STEPS).describe('the step it documents'),
};
export const hazardPhoto = z.object({
  ...photoFile,
  at: ms,
  by: z.string().describe('the uploader'),
});

export const hazard = z.object({
  id: z.string(),
  no: z.number().int().describe('ledger number (一患一档)'),
  title: z.string(),
  description: z.string(),
  level: z.enum(HAZARD_LEVELS),
  state: z.enum(HAZARD_STATES),
  source: z.enum(HAZARD_SOURCES),
  alarmId: z.string().optional(),
  inspection: z
    .object({
      recordId: z.string(),
      recordNo: z.number().int(),
      scheduleId: z.string(),
      itemId: z.string(),
    })
    .optional()
    .describe('the inspection record and checklist item that found it (source inspection)'),
  siteId: z.string(),
  enterprise: z.string(),
  areaId: z.string().optional(),
  deviceIds: z.array(z.string()),
  photos: z.array(z.string()).describe('references given with the report (URLs or file ids)'),
  photoFiles: z
    .array(hazardPhoto)
    .optional()
    .describe('photos stored by Vigil: GET /api/v1/hazards/{id}/photos/{sha256}'),
  plan: z
    .object({
      responsible: z.string().optional(),
      measures: z.string().optional(),
      funds: z.number().optional().describe('yuan (元)'),
      deadline: ms.optional(),
      contingencyPlan: z.string().optional(),
    })
    .describe('五落实: partial until assignment, complete from then on'),
  interimMeasures: z.string().optional(),
  reportedBy: z.string(),
  reportedAt: ms,
  updatedAt: ms,
  assignee: z.string().optional(),
  rectifiedBy: z.string().optional(),
  acceptedBy: z.string().optional(),
  approvedBy: z.string().optional(),
  closedBy: z.string().optional(),
  closedAt: ms.optional(),
  overdue: z.boolean().optional(),
  remindedAt: ms.optional(),
  escalation: z.object({ level: z.number().int(), nodeId: z.string(), at: ms }).optional(),
  history: z.array(
    z.object({
      action: z.enum(HAZARD_ACTIONS),
      at: ms,
      by: z.string(),
      role: z.string(),
      note: z.string().optional(),
      state: z.enum(HAZARD_STATES),
      nodeId: z.string().optional(),
      upperOrder: z
        .string()
        .optional()
        .describe('approve steps from an upper Vigil: the order that carried the approval down'),
      photo: z.object(photoFile).optional(),
    }),
  ),
});
API_SCHEMAS.add(hazard, {
  id: 'Hazard',
  description: 'One hazard of the ledger with its signed history',
});

export const hazardPhotoUpload = z.object({
  photo: hazardPhoto,
  duplicate: z.boolean().describe('the same bytes were already on this hazard: nothing added'),
  hazard,
});
API_SCHEMAS.add(hazardPhotoUpload, {
  id: 'HazardPhotoUpload',
  description: 'A photo stored with a hazard, and the hazard after its signed photo step',
});

export const hazardList = z.array(hazard);
API_SCHEMAS.add(hazardList, { id: 'HazardList' });

export const hazardStats = z.object({
  at: ms,
  by: z.enum(HAZARD_STATS_BY),
  rows: z.array(
    z.object({
      enterprise: z.string().optional(),
      siteId: z.string().optional(),
      nodeId: z.string().optional(),
      levels: z.object({ general: counts, major: counts }),
      total: counts,
    }),
  ),
});
API_SCHEMAS.add(hazardStats, { id: 'HazardStats' });

/** Each line fails to compile when a schema above and its type disagree. */
export const HAZARD_SCHEMAS_AGREE_WITH_TYPES: readonly true[] = [
  true satisfies Agrees<typeof hazard, Hazard>,
  true satisfies Agrees<typeof hazardStats, HazardStats>,
  true satisfies Agrees<typeof hazardPhotoUpload, HazardPhotoUpload>,
];
