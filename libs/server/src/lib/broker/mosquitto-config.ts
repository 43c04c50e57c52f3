import type { Registry } from '@vigil/registry';

import { DEFAULT_INTERNAL_USERNAME } from './broker-access';
import { credentialKey, mosquittoHash, type DeviceCredential } from './device-credentials';

/**
 * The service part of Mosquitto's ACL: Vigil's own accounts. It is `deploy/mosquitto/acl` word for
 * word (mosquitto-config.spec.ts checks), and the head of every generated ACL. Mosquitto denies
 * whatever no rule allows, and drops a denied PUBLISH without telling the client (a QoS 1 publish
 * is still acknowledged), so a topic the code starts using must be added here in the same change.
 */
export const MOSQUITTO_SERVICE_ACL = `# Vigil ACL for Mosquitto (acl_file format), mounted read-only at /mosquitto/config/acl.
# Generated part: \`npm run credentials -- mosquitto --out <dir>\` writes this file with one section
# per device of the registry after the services; this shipped copy has the services only, so a
# device without a generated section can publish nothing. deploy/mosquitto.spec.ts and
# test/system/src/security-broker.system.spec.ts run Debian's mosquitto with it.
#
# There are no \`pattern\` rules: a pattern on %u alone let gc-ru-01 publish as plant-2/gc-ru-01 (a
# device of another site or enterprise). Every device is pinned to its own site below.

# --- Services -------------------------------------------------------------------------------
# Vigil in one process (npm start against Mosquitto): every service's rights below.
user ${DEFAULT_INTERNAL_USERNAME}
topic read vigil/v1/+/+/telemetry
topic read vigil/v1/+/+/event
topic read vigil/v1/+/+/status
topic write vigil/v1/_deadletter/#
topic readwrite vigil-internal/v1/#
topic write vigil/v1/+/_canary/telemetry

# ingest: reads device topics, dead-letters bad input, produces the internal reading stream.
user vigil-ingest
topic read vigil/v1/+/+/telemetry
topic read vigil/v1/+/+/event
topic read vigil/v1/+/+/status
topic write vigil/v1/_deadletter/#
topic write vigil-internal/v1/#

# rules: consumes readings, produces alarms.
user vigil-rules
topic readwrite vigil-internal/v1/#

# persister and gateway only consume, so that neither can inject readings or alarms (the gateway
# is the process exposed to operators' browsers). The gateway sends alarm actions (acknowledge,
# reset, list-open) to the rules service and reads their replies.
user vigil-persister
topic read vigil-internal/v1/#
# The pipeline canary: the persister reports the canaries InfluxDB has stored (to the gateway).
topic write vigil-internal/v1/canary

user vigil-gateway
topic read vigil-internal/v1/#
topic write vigil-internal/v1/commands
# The pipeline canary the gateway publishes through the broker, like a device, once per site.
topic write vigil/v1/+/_canary/telemetry

# Container healthcheck (docker-compose.yml, service mosquitto): reads the broker version only.
user vigil-healthcheck
topic read $SYS/broker/version

# --- People ---------------------------------------------------------------------------------
# Diagnostics with mosquitto_sub: device traffic, dead letters and broker statistics, read only.
user vigil-operator
topic read vigil/v1/#
topic read $SYS/#

# --- Devices --------------------------------------------------------------------------------
# One section per device: its own three topics on its own site (a gateway: its children's too).
`;

/** Service accounts and the environment variable holding each one's password (deploy/env/.env). */
export const MOSQUITTO_SERVICE_ACCOUNTS: ReadonlyArray<readonly [string, string]> = [
  ['vigil-ingest', 'MQTT_INGEST_PASSWORD'],
  ['vigil-rules', 'MQTT_RULES_PASSWORD'],
  ['vigil-persister', 'MQTT_PERSISTER_PASSWORD'],
  ['vigil-gateway', 'MQTT_GATEWAY_PASSWORD'],
  ['vigil-healthcheck', 'MQTT_HEALTHCHECK_PASSWORD'],
  ['vigil-operator', 'MQTT_OPERATOR_PASSWORD'],
];

/**
 * The MQTT username of a device: its id, or `site/device` where the same id is in several sites
 * (a bare id would then be ambiguous; the embedded broker accepts both forms).
 */
export function deviceUsername(registry: Registry, site: string, device: string): string {
  const sites = registry.devices.filter(d => d.deviceId === device).length;
  return sites > 1 ? credentialKey(site, device) : device;
}

/** The ACL: services, then one `user` section per credential, pinned to its site. */
export function mosquittoAcl(registry: Registry, credentials: readonly DeviceCredential[]): string {
  const lines = [MOSQUITTO_SERVICE_ACL.trimEnd()];
  const sorted = [...credentials].sort((a, b) =>
    credentialKey(a.site, a.device).localeCompare(credentialKey(b.site, b.device)),
  );
  for (const credential of sorted) {
    const children = registry.devices
      .filter(d => d.siteId === credential.site && d.gatewayId === credential.device)
      .map(d => d.deviceId)
      .sort();
    lines.push('', `user ${deviceUsername(registry, credential.site, credential.device)}`);
    for (const device of [credential.device, ...children])
      for (const kind of ['telemetry', 'event', 'status'])
        lines.push(`topic write vigil/v1/${credential.site}/${device}/${kind}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Mosquitto's password_file: the devices' stored `$7$` hashes (no secret is needed again) and the
 * internal accounts whose password is given (hashed here the way mosquitto_passwd does).
 */
export async function mosquittoPasswordFile(
  registry: Registry,
  credentials: readonly DeviceCredential[],
  internal: ReadonlyArray<readonly [username: string, password: string]>,
): Promise<string> {
  const lines: string[] = [];
  for (const [username, password] of internal)
    lines.push(`${username}:${await mosquittoHash(password)}`);
  for (const credential of credentials)
    lines.push(
      `${deviceUsername(registry, credential.site, credential.device)}:${credential.mosquittoHash}`,
    );
  return `${lines.join('\n')}\n`;
}
