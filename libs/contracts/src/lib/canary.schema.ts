import { z } from 'zod';

import { IDENTIFIER_PATTERN } from './identifiers';

// Schemas apart from canary.ts's constants and types: the console uses those, and a module it
// uses is bundled whole (zod and all, ~450 KB) however little of it the console needs.

/** What the canary publisher sends on `vigil/v1/{siteId}/_canary/telemetry`. */
export const canaryPayloadSchema = z.strictObject({
  canary: z.strictObject({
    /** The publishing gateway instance: a monitor judges only its own canaries. */
    origin: z.string().regex(IDENTIFIER_PATTERN),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** Server time of the publisher when it sent the canary. */
    sentAt: z.number().int().min(0).max(8_640_000_000_000_000),
  }),
});
export type CanaryPayload = z.infer<typeof canaryPayloadSchema>;
