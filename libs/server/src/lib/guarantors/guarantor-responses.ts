import { z } from 'zod';

import { GUARANTOR_TIERS, INSPECTION_CADENCES, type MhsGuarantorsView } from '@vigil/contracts';

import { API_SCHEMAS } from '../gateway/api-responses';
import { inspectionMiss } from '../inspections/inspection-responses';

/**
 * What the guarantor operations answer, as zod schemas named in the OpenAPI document
 * (`openapi.ts` RESPONSES), with the same compile-time agreement check as `inspection-responses.ts`.
 */

const ms = z.number().describe('epoch milliseconds');

export const mhsGuarantors = z.object({
  siteId: z.string(),
  enterprise: z.string(),
  unitId: z.string().describe('the GB 18218-2018 unit (major hazard source)'),
  unitName: z.string(),
  areaId: z.string().optional(),
  guarantors: z
    .array(
      z.object({
        tier: z.enum(GUARANTOR_TIERS).describe('主要负责人 / 技术负责人 / 操作负责人'),
        userId: z.string(),
        name: z.string().optional(),
        duty: z
          .object({
            scheduleId: z.string().describe('the inspection schedule mhs-<unit>-<tier>'),
            cadence: z.enum(INSPECTION_CADENCES),
            current: z.object({ id: z.string(), start: ms, end: ms }),
            doneInCurrent: z.boolean(),
            dueAt: ms,
            lastRecord: z.object({ id: z.string(), at: ms, by: z.string() }).optional(),
            missed: z.array(inspectionMiss),
            overdue: z.boolean(),
          })
          .optional()
          .describe('the online duty (absent where inspections do not run: split deployment)'),
      }),
    )
    .describe('empty: the source names no guarantors (a gap)'),
  openAlarms: z.number().int(),
  overdueHazards: z.array(z.object({ id: z.string(), no: z.number().int(), title: z.string() })),
});
API_SCHEMAS.add(mhsGuarantors, {
  id: 'MhsGuarantors',
  description: 'A major hazard source with its guarantors (包保责任人) and their duty status',
});
export const mhsGuarantorsList = z.array(mhsGuarantors);
API_SCHEMAS.add(mhsGuarantorsList, { id: 'MhsGuarantorsList' });

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

/** Fails to compile when the schema above and the type disagree. */
export const GUARANTOR_SCHEMAS_AGREE_WITH_TYPES: readonly true[] = [
  true satisfies Agrees<typeof mhsGuarantors, MhsGuarantorsView>,
];
