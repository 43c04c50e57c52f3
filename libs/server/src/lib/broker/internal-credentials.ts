import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { VigilConfig } from '../config/vigil-config';

import { DEFAULT_INTERNAL_USERNAME } from './broker-access';

/**
 * The secret of Vigil's own processes on the embedded broker: read from the file, or created
 * there (256 random bits, owner-only) by whichever process comes first. Processes of one site
 * share it through the data directory (or VIGIL_MQTT_INTERNAL_SECRET_FILE); a process that reads
 * another secret is refused by the broker, loudly (`Not authorized`), never let in.
 */
export function loadOrCreateInternalSecret(path: string): string {
  try {
    return readSecret(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  try {
    // link() fails when the file exists: two processes starting together agree on one secret.
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  return readSecret(path);
}

function readSecret(path: string): string {
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < 16) throw new Error(`${path}: the internal MQTT secret is too short`);
  return secret;
}

/**
 * The identity Vigil's own MQTT clients use: VIGIL_MQTT_USERNAME/PASSWORD when set; on the
 * embedded broker (no VIGIL_MQTT_URL) `vigil` with the generated internal secret; against an
 * external broker without a username, none (the configuration refuses that outside demo mode).
 */
export function withInternalCredentials(config: VigilConfig): VigilConfig {
  if (config.mqtt.username !== undefined) return config;
  if (!config.security.usesEmbeddedBroker) return config;
  return {
    ...config,
    mqtt: {
      ...config.mqtt,
      username: DEFAULT_INTERNAL_USERNAME,
      password: loadOrCreateInternalSecret(config.security.internalSecretFile),
    },
  };
}
