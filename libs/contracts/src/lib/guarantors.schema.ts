import { z } from 'zod';

import { IDENTIFIER_PATTERN } from './identifiers';
import { INSPECTION_CADENCES, MAX_INSPECTION_ITEMS } from './inspections';
import { inspectionItemSchema } from './inspections.schema';

// Schemas apart from guarantors.ts's constants and types: the console uses those, and a module it
// uses is bundled whole (zod and all, ~450 KB) however little of it the console needs.

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');

/** One tier: the user, and optionally the cadence and task list of their duty. */
export const guarantorSchema = z.union([
  identifier,
  z.strictObject({
    user: identifier,
    cadence: z.enum(INSPECTION_CADENCES).optional(),
    items: z.array(inspectionItemSchema).min(1).max(MAX_INSPECTION_ITEMS).optional(),
  }),
]);

/** A unit's guarantors: all three tiers (a source with one missing has a gap nobody answers for). */
export const guarantorsSchema = z.strictObject({
  principal: guarantorSchema,
  technical: guarantorSchema,
  operational: guarantorSchema,
});
export type GuarantorsDefinition = z.infer<typeof guarantorsSchema>;
