import { readFileSync } from 'node:fs';

import { z } from 'zod';

/** One device's MQTT login, as `npm run credentials -- issue … --secrets-out <file>` writes it. */
export interface DeviceSecret {
  readonly username: string;
  readonly secret: string;
}

const secretsFileSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64}$/, 'keys are <site>/<device>'),
  z.object({ username: z.string().min(1), secret: z.string().min(1) }),
);

/**
 * Reads a device secrets file (`{"<site>/<device>": {"username", "secret"}}`) for simulators that
 * must log in to a closed broker. Throws listing every problem.
 */
export function readDeviceSecrets(path: string): Map<string, DeviceSecret> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  const parsed = secretsFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${path}: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return new Map(Object.entries(parsed.data));
}
