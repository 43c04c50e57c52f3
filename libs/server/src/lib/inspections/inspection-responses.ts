import { z } from 'zod';

import {
  GUARANTOR_TIERS,
  INSPECTION_ANSWERS,
  INSPECTION_CADENCES,
  INSPECTION_LEVELS,
  type InspectionMiss,
  type InspectionRecord,
  type InspectionScheduleView,
} from '@vigil/contracts';

import { API_SCHEMAS } from '../gateway/api-responses';

/**
 * What the inspection operations answer, as zod schemas named in the OpenAPI document
 * (`openapi.ts` RESPONSES), with the same compile-time agreement check as `permit-responses.ts`.
 */

const ms = z.number().describe('epoch milliseconds');

const window = z
  .object({
    id: z.string().describe('the local date the window starts on (2026-12-07)'),
    start: ms,
    end: ms.describe('exclusive: the window closes here'),
  })
  .describe('a calendar window of the plant’s local time');

export const inspectionMiss = z.object({
  scheduleId: z.string(),
  siteId: z.string(),
  window,
  at: ms.describe('when Vigil found it missed'),
  alarmKey: z
    .string()
    .optional()
    .describe('the inspection-missed alarm’s key (absent: an older window of a long gap)'),
  resolvedAt: ms.optional().describe('made up by a late inspection'),
  resolvedBy: z.string().optional().describe('the record that made it up'),
});
API_SCHEMAS.add(inspectionMiss, { id: 'InspectionMiss' });
export const inspectionMissList = z.array(inspectionMiss);
API_SCHEMAS.add(inspectionMissList, { id: 'InspectionMissList' });

export const inspectionRecord = z.object({
  id: z.string(),
  no: z.number().int(),
  scheduleId: z.string(),
  siteId: z.string(),
  enterprise: z.string(),
  level: z.enum(INSPECTION_LEVELS),
  cadence: z.enum(INSPECTION_CADENCES),
  windowId: z.string().describe('the window it counts for'),
  by: z.string().describe('the user who inspected and signed (谁检查、谁签字、谁负责)'),
  role: z.string(),
  at: ms,
  answers: z.array(
    z.object({
      itemId: z.string(),
      answer: z.enum(INSPECTION_ANSWERS),
      note: z.string().optional(),
      hazardId: z.string().optional().describe('failed items: the hazard opened in the ledger'),
      hazardNo: z.number().int().optional(),
    }),
  ),
  note: z.string().optional(),
  resolvedWindows: z.array(z.string()).optional().describe('missed windows this one made up'),
});
API_SCHEMAS.add(inspectionRecord, {
  id: 'InspectionRecord',
  description: 'One signed inspection with its answers',
});
export const inspectionRecordList = z.array(inspectionRecord);
API_SCHEMAS.add(inspectionRecordList, { id: 'InspectionRecordList' });

export const inspectionSchedule = z.object({
  id: z.string(),
  name: z.string(),
  level: z.enum(INSPECTION_LEVELS),
  cadence: z.enum(INSPECTION_CADENCES),
  area: z.string().optional(),
  devices: z.array(z.string()).optional(),
  equipment: z.string().optional(),
  responsible: z.string(),
  assignee: z.string().optional().describe('the user who does it; only they may record it'),
  guarantor: z
    .object({ unit: z.string(), tier: z.enum(GUARANTOR_TIERS) })
    .optional()
    .describe('a major-hazard-source guarantor’s duty (包保责任人): the unit and tier'),
  items: z.array(
    z.object({
      id: z.string(),
      text: z.string(),
      hazardLevel: z.enum(['general', 'major']).optional(),
    }),
  ),
  siteId: z.string(),
  enterprise: z.string(),
  timeZone: z.string(),
  current: window,
  doneInCurrent: z.boolean(),
  dueAt: ms.describe('the current window closes here: without a record it is missed'),
  watchedSince: ms,
  lastRecord: z.object({ id: z.string(), at: ms, by: z.string() }).optional(),
  missed: z.array(inspectionMiss).describe('missed windows not yet made up'),
  overdue: z.boolean().describe('missed and not made up (逾期未检)'),
});
API_SCHEMAS.add(inspectionSchedule, { id: 'InspectionSchedule' });
export const inspectionScheduleList = z.array(inspectionSchedule);
API_SCHEMAS.add(inspectionScheduleList, { id: 'InspectionScheduleList' });

type Json<T> = T extends readonly (infer E)[]
  ? Json<E>[]
  : T extends object
    ? { -readonly [K in keyof T]-?: Json<Exclude<T[K], undefined>> }
    : T;
type Agrees<Schema extends z.ZodType, Type> = [Json<z.output<Schema>>] extends [Json<Type>]
  ? [Json<Type>] extends [Json<z.output<Schema>>]
    ? true
    : false
  : false;

/** Fails to compile when the schemas above and the types disagree. */
export const INSPECTION_SCHEMAS_AGREE_WITH_TYPES: readonly true[] = [
  true satisfies Agrees<typeof inspectionMiss, InspectionMiss>,
  true satisfies Agrees<typeof inspectionRecord, InspectionRecord>,
  true satisfies Agrees<typeof inspectionSchedule, InspectionScheduleView>,
];
