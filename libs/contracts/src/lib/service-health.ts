import { z } from 'zod';

/** Bounds of one entry: a failing check's reason is a short text, the list is short too. */
const MAX_REASON_CHARS = 300;
const MAX_FAILING_CHECKS = 32;
const time = z.number().int().min(0).max(8_640_000_000_000_000);

/** One failing readiness check of a process (its `/readyz` `checks.<check>` is false). */
export const failingCheckSchema = z.object({
  check: z.string().min(1).max(64),
  reason: z.string().max(MAX_REASON_CHARS),
  /** Server time of the publishing process since when the check has failed without a break. */
  since: time,
});
export type FailingCheck = z.infer<typeof failingCheckSchema>;

/**
 * A process's readiness as it publishes it every ~2 s to the JetStream KV bucket `vigil_health`
 * (split deployment, VIGIL_BUS=jetstream; docs/interfaces.md §Service health), so that the
 * gateway's `/readyz` (`checks.services`) and the console show a failing check of any process.
 */
export const serviceReadinessSchema = z.object({
  /** VIGIL_INSTANCE of the process. */
  instance: z.string().min(1).max(64),
  /** The services it runs (`ingest`, `rules`, `persister`, `gateway`). */
  services: z.array(z.string().min(1).max(32)).max(8),
  ok: z.boolean(),
  /** Its checks that fail (empty when ok). */
  failing: z.array(failingCheckSchema).max(MAX_FAILING_CHECKS),
  /** Server time of the publishing process when it judged its readiness. */
  at: time,
});
export type ServiceReadiness = z.infer<typeof serviceReadinessSchema>;

/** A process that says it is not ready, as the gateway pushes it in the WebSocket heartbeat. */
export interface ServiceNotReady {
  readonly instance: string;
  readonly services: readonly string[];
  readonly failing: readonly FailingCheck[];
  /** Since when the process has been not ready (its oldest failing check). */
  readonly since: number;
}
