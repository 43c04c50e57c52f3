/**
 * Names on the JetStream backbone (docs/interfaces.md §Backbone). Subjects carry the partition
 * first, so a rules instance filters `vigil.records.<p>.>` for each partition it owns.
 */
export const RECORDS_STREAM = 'VIGIL_RECORDS';
export const ALARMS_STREAM = 'VIGIL_ALARMS';
/** Rule partition leases: key `p<NN>`, value the owner; entries expire after the lease TTL. */
export const LEASES_BUCKET = 'vigil_leases';
/** Per-partition checkpoints of the rules (records stream sequence evaluated up to). */
export const CHECKPOINTS_BUCKET = 'vigil_checkpoints';
/**
 * Each process's readiness (key `<services>.<instance>`, value a ServiceReadiness), renewed every
 * HEALTH_PUBLISH_MS; entries expire after HEALTH_TTL_MS (a process gone). The gateway watches it.
 */
export const HEALTH_BUCKET = 'vigil_health';
export const HEALTH_PUBLISH_MS = 2000;
/** Three publish periods: one lost or late publication does not make a process look gone. */
export const HEALTH_TTL_MS = 3 * HEALTH_PUBLISH_MS;
/** A process's key in `vigil_health` (services and instance are KV-key safe: config checks them). */
export function healthKey(services: readonly string[], instance: string): string {
  return `${services.join('-')}.${instance}`;
}

/** Ingest records of one site: `vigil.records.<partition>.<site>` (IngestRecord[] as JSON). */
export function recordsSubject(partition: number, siteId: string): string {
  return `vigil.records.${partition}.${subjectToken(siteId)}`;
}
export const RECORDS_SUBJECTS = 'vigil.records.*.*';
export function partitionRecordsFilter(partition: number): string {
  return `vigil.records.${partition}.*`;
}

/** One alarm's updates: `vigil.alarms.<partition>.<site>.<alarm id>` (the last is its state). */
export function alarmSubject(partition: number, siteId: string, alarmId: string): string {
  return `vigil.alarms.${partition}.${subjectToken(siteId)}.${subjectToken(alarmId)}`;
}
/** A device's maintenance / out-of-service mode: `vigil.modes.<partition>.<site>.<device>`. */
export function deviceModeSubject(partition: number, siteId: string, deviceId: string): string {
  return `vigil.modes.${partition}.${subjectToken(siteId)}.${subjectToken(deviceId)}`;
}
export const ALARMS_SUBJECTS = ['vigil.alarms.*.*.*', 'vigil.modes.*.*.*'] as const;
/**
 * Consumer filters must be a subset of one of the stream's subjects (nats-server 2.9 refuses
 * `vigil.alarms.<p>.>`, which would also match deeper subjects: "consumer filter subject is not a
 * valid subset of the interest subjects"), so they spell out every token.
 */
export function partitionAlarmsFilter(partition: number): string {
  return `vigil.alarms.${partition}.*.*`;
}
export function partitionModesFilter(partition: number): string {
  return `vigil.modes.${partition}.*.*`;
}

/** Canary reports to the gateway's monitor: core NATS, nothing to keep. */
export const CANARY_SUBJECT = 'vigil.canary';
/** Operator commands for the rules instance that owns a partition (request/reply). */
export function commandSubject(partition: number): string {
  return `vigil.cmd.${partition}`;
}

/**
 * A site's partition: FNV-1a over the UTF-16 code units, modulo the partition count. Stable
 * across processes, versions and machines: it decides which subject a site's records are on.
 */
export function partitionOf(siteId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < siteId.length; i += 1) {
    hash ^= siteId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/**
 * An id as one subject token. Registry ids are `[A-Za-z0-9_-]`, left as they are; anything else
 * (`.`, `*`, `>`, spaces, non-ASCII) becomes `~` and its UTF-8 bytes in hex, so no id can add
 * a level or a wildcard and the mapping is one-to-one.
 */
export function subjectToken(id: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(id)) return id;
  let token = '';
  for (const char of id) {
    if (/[A-Za-z0-9_-]/.test(char)) token += char;
    else
      for (const byte of Buffer.from(char, 'utf8'))
        token += `~${byte.toString(16).padStart(2, '0')}`;
  }
  return token === '' ? '~' : token;
}
