import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { VigilConfig } from '../config/vigil-config';

export interface VigilMqttCredentials {
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** mqtt.js tries these in turn on every reconnect (VIGIL_MQTT_URL, then the failover nodes). */
  servers?: Array<{ host: string; port: number; protocol: 'mqtt' | 'mqtts' }>;
}

/**
 * What every MQTT client of Vigil's own processes presents to the broker: the internal identity
 * (see `withInternalCredentials`) and, against an external `mqtts://` broker, the CA to trust and
 * an optional client certificate. One place, so that no client connects without them.
 */
export function mqttClientOptions(config: VigilConfig): VigilMqttCredentials {
  const tls = config.security.mqttClientTls;
  return {
    ...(config.mqtt.username !== undefined ? { username: config.mqtt.username } : {}),
    ...(config.mqtt.password !== undefined ? { password: config.mqtt.password } : {}),
    ...(tls?.ca ? { ca: readFileSync(tls.ca) } : {}),
    ...(tls?.cert ? { cert: readFileSync(tls.cert) } : {}),
    ...(tls?.key ? { key: readFileSync(tls.key) } : {}),
    ...(config.mqtt.failoverUrls?.length
      ? { servers: [config.mqtt.url, ...config.mqtt.failoverUrls].map(brokerAddress) }
      : {}),
  };
}

function brokerAddress(url: string): { host: string; port: number; protocol: 'mqtt' | 'mqtts' } {
  const parsed = new URL(url);
  const protocol = parsed.protocol === 'mqtts:' ? 'mqtts' : 'mqtt';
  const port = parsed.port === '' ? (protocol === 'mqtts' ? 8883 : 1883) : Number(parsed.port);
  // URL keeps IPv6 literals in brackets; sockets want them bare.
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port, protocol };
}

/**
 * Ingest's MQTT client id: `vigil-ingest-<instance>`, stable across restarts so that its
 * persistent session (clean: false) keeps what the broker queued meanwhile (issue 12). With a
 * password (the internal secret), 64 bits derived from it follow: still stable, but unguessable
 * on brokers that do not tie client ids to identities (Mosquitto), so that nobody can take the
 * session over and swallow readings. The embedded broker reserves `vigil-` ids to the internal
 * identity anyway (broker-access.ts).
 */
export function ingestClientId(config: VigilConfig): string {
  const base = `vigil-ingest-${config.bus.instance}`;
  const secret = config.mqtt.password;
  if (secret === undefined) return base;
  return `${base}-${createHmac('sha256', secret).update(base).digest('hex').slice(0, 16)}`;
}
