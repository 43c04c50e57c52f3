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
