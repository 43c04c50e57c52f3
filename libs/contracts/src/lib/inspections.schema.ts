import { z } from 'zod';

import { IDENTIFIER_PATTERN } from './identifiers';
import {
  GUARANTOR_TIERS,
  INSPECTION_CADENCES,
  INSPECTION_LEVELS,
  MAX_INSPECTION_ITEMS,
} from './inspections';

// Schemas apart from inspections.ts's constants and types: the console uses those, and a module
// it uses is bundled whole (zod and all, ~450 KB) however little of it the console needs.

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');

/** One line of a checklist. */
export const inspectionItemSchema = z.strictObject({
  id: identifier,
  text: z.string().trim().min(1).max(500),
  /** The hazard level a failure of this item is reported at (general unless said). */
  hazardLevel: z.enum(['general', 'major']).optional(),
});
export type InspectionItem = z.infer<typeof inspectionItemSchema>;

/**
 * A schedule as the site registry defines it (`sites[].inspections[]`), validated at load like
 * every registry object: strict (a typo is refused with a "did you mean"), the area and devices
 * checked against the site.
 */
export const inspectionScheduleSchema = z
  .strictObject({
    /** At most 48 characters: the alarm's subject is `inspection-${id}` (64 at most). */
    id: identifier.refine(id => id.length <= 48, 'at most 48 characters'),
    name: z.string().trim().min(1).max(200),
    level: z.enum(INSPECTION_LEVELS),
    /** The level's cadence unless set (HAZ-10: a high-risk firm's principal checks monthly). */
    cadence: z.enum(INSPECTION_CADENCES).optional(),
    /** What is inspected: an area of the site, its devices, or named equipment (at least one). */
    area: identifier.optional(),
    devices: z.array(identifier).max(100).optional(),
    equipment: z.string().trim().min(1).max(200).optional(),
    /** The role or person answerable for it (e.g. `班组长 Team leader, tank farm`). */
    responsible: z.string().trim().min(1).max(200),
    /**
     * The user who does it (a user of the users file who sees the site, checked at load): only
     * they may record it, and its missed alarm names them. Guarantors' duties always have one.
     */
    assignee: identifier.optional(),
    /**
     * Set by the registry on the duty it derives from `hazardUnits[].guarantors` (never by hand):
     * the unit and tier the schedule is the duty of.
     */
    guarantor: z.strictObject({ unit: identifier, tier: z.enum(GUARANTOR_TIERS) }).optional(),
    items: z.array(inspectionItemSchema).min(1).max(MAX_INSPECTION_ITEMS),
  })
  .refine(
    schedule =>
      schedule.area !== undefined ||
      (schedule.devices?.length ?? 0) > 0 ||
      schedule.equipment !== undefined,
    'a schedule inspects an area, devices or named equipment: set at least one',
  );
export type InspectionScheduleDefinition = z.infer<typeof inspectionScheduleSchema>;
