import { timingSafeEqual } from 'node:crypto';

import { DEAD_LETTER_ROOT, INTERNAL_TOPIC_ROOT, TOPIC_ROOT, deviceTopic } from '@vigil/contracts';
import type { Registry } from '@vigil/registry';

import {
  credentialKey,
  secretDigest,
  verifySecret,
  type CredentialsFile,
  type DeviceCredential,
} from './device-credentials';

/** Client ids of Vigil's own processes start with this; no other identity may use one. */
export const INTERNAL_CLIENT_ID_PREFIX = 'vigil-';
/** Username of Vigil's own processes on the embedded broker unless VIGIL_MQTT_USERNAME says otherwise. */
export const DEFAULT_INTERNAL_USERNAME = 'vigil';

export type BrokerIdentity =
  | { readonly kind: 'internal'; readonly key: 'internal' }
  /** Demo mode only (VIGIL_MQTT_ALLOW_ANONYMOUS): may publish device topics, ingest checks the registry. */
  | { readonly kind: 'anonymous'; readonly key: 'anonymous' }
  | {
      readonly kind: 'device';
      /** `site/device` */
      readonly key: string;
      readonly site: string;
      readonly device: string;
      /** Its own three topics, and its children's when it is a gateway. */
      readonly topics: ReadonlySet<string>;
      /** The stored hash it was admitted with: a rotation or revocation changes it. */
      readonly hash: string;
    };

/** Why the broker refused something: the label of `vigil_broker_denied_total{reason}`. */
export const DENIAL_REASONS = [
  'anonymous',
  'bad-credentials',
  'unknown-device',
  'client-id-reserved',
  'client-id-taken',
  'publish-topic',
  'subscribe-topic',
  'internal-topic',
  'sys-topic',
  'wildcard',
  'revoked',
] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

export type AuthResult =
  | { readonly ok: true; readonly identity: BrokerIdentity }
  | { readonly ok: false; readonly reason: DenialReason };

export interface BrokerAccessInput {
  readonly registry: Registry;
  readonly credentials: CredentialsFile;
  readonly internal: { readonly username: string; readonly password: string };
  readonly allowAnonymous: boolean;
}

const KINDS = ['telemetry', 'event', 'status'] as const;
/** scrypt checks run at once (each holds a libuv thread: file I/O must not queue behind them). */
const MAX_CONCURRENT_VERIFICATIONS = 2;

/**
 * Who may connect, publish and subscribe on the embedded broker: pure policy over the registry,
 * the device secrets and the internal identity (tested without a socket). The broker wires it
 * into aedes and enforces what needs live state (a client id held by a connected client).
 *
 * - A device logs in with its id (or `site/device` where the id is in several sites) and its
 *   secret; it may publish only `vigil/v1/{its site}/{itself or its gateway children}/…`.
 * - Vigil's own processes log in with the internal identity and client ids `vigil-…`; nobody else
 *   may use such a client id, so ingest's session cannot be taken over.
 * - Internal topics, dead letters, `$SYS` and `#` are never open to devices or anonymous clients.
 */
export class BrokerAccessPolicy {
  private readonly byDevice = new Map<string, DeviceCredential[]>();
  private readonly byKey = new Map<string, DeviceCredential>();
  private readonly children = new Map<string, string[]>();
  private readonly internalUser: Buffer;
  private readonly internalPassword: Buffer;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly input: BrokerAccessInput,
    /** `site/device` → [stored hash, SHA-256 of the secret that matched it]; kept across reloads. */
    private readonly verified = new Map<string, readonly [string, Buffer]>(),
  ) {
    for (const credential of input.credentials.credentials) {
      const list = this.byDevice.get(credential.device) ?? [];
      list.push(credential);
      this.byDevice.set(credential.device, list);
      this.byKey.set(credentialKey(credential.site, credential.device), credential);
    }
    for (const device of input.registry.devices) {
      if (!device.gatewayId) continue;
      const key = credentialKey(device.siteId, device.gatewayId);
      const list = this.children.get(key) ?? [];
      list.push(device.deviceId);
      this.children.set(key, list);
    }
    this.internalUser = secretDigest(input.internal.username);
    this.internalPassword = secretDigest(input.internal.password);
  }

  get allowAnonymous(): boolean {
    return this.input.allowAnonymous;
  }

  /** The same cache for the next policy (after a reload of the registry or the secrets). */
  get verifiedSecrets(): Map<string, readonly [string, Buffer]> {
    return this.verified;
  }

  async authenticate(
    username: string | undefined,
    password: Buffer | undefined,
    clientId: string,
  ): Promise<AuthResult> {
    const internalClientId = clientId.startsWith(INTERNAL_CLIENT_ID_PREFIX);
    if (username === undefined || username === '') {
      if (!this.input.allowAnonymous) return { ok: false, reason: 'anonymous' };
      if (internalClientId) return { ok: false, reason: 'client-id-reserved' };
      return { ok: true, identity: { kind: 'anonymous', key: 'anonymous' } };
    }
    const secret = password ?? Buffer.alloc(0);
    if (timingSafeEqual(secretDigest(username), this.internalUser)) {
      if (!timingSafeEqual(secretDigest(secret), this.internalPassword))
        return { ok: false, reason: 'bad-credentials' };
      if (!internalClientId) return { ok: false, reason: 'client-id-reserved' };
      return { ok: true, identity: { kind: 'internal', key: 'internal' } };
    }
    if (internalClientId) return { ok: false, reason: 'client-id-reserved' };
    const candidates = username.includes('/')
      ? [this.byKey.get(username)].filter(c => c !== undefined)
      : (this.byDevice.get(username) ?? []);
    if (candidates.length === 0) return { ok: false, reason: 'bad-credentials' };
    const digest = secretDigest(secret);
    for (const credential of candidates) {
      if (!(await this.matches(credential, secret, digest))) continue;
      const identity = this.deviceIdentity(credential);
      return identity ? { ok: true, identity } : { ok: false, reason: 'unknown-device' };
    }
    return { ok: false, reason: 'bad-credentials' };
  }

  /** The identity as this (newer) policy sees it; undefined when revoked, rotated or removed. */
  refresh(identity: BrokerIdentity): BrokerIdentity | undefined {
    if (identity.kind === 'anonymous') return this.input.allowAnonymous ? identity : undefined;
    if (identity.kind === 'internal') return identity;
    const credential = this.byKey.get(identity.key);
    if (!credential || credential.hash !== identity.hash) return undefined;
    return this.deviceIdentity(credential);
  }

  /** `null` when allowed. Called for every PUBLISH: a set lookup for devices, nothing for Vigil. */
  mayPublish(identity: BrokerIdentity, topic: string): DenialReason | null {
    if (identity.kind === 'internal') return null;
    if (identity.kind === 'device') {
      if (identity.topics.has(topic)) return null;
      return this.otherTopicReason(topic);
    }
    // Anonymous (demo): anything shaped like a device topic; ingest checks the ids against the
    // registry and dead-letters the rest (bad-topic, unknown-device), as without a closed broker.
    return isDeviceTopicShape(topic) ? null : this.otherTopicReason(topic);
  }

  maySubscribe(identity: BrokerIdentity, filter: string): DenialReason | null {
    if (identity.kind === 'internal') return null;
    if (filter.startsWith('$')) return 'sys-topic';
    if (filter.startsWith(INTERNAL_TOPIC_ROOT.split('/')[0] as string)) return 'internal-topic';
    if (filter === '#' || filter.startsWith('+') || filter.startsWith('#')) return 'wildcard';
    if (identity.kind === 'device') {
      // Nothing for devices to read today but their own topics (e.g. a retained status).
      const own = `${TOPIC_ROOT}/${identity.site}/${identity.device}/`;
      return filter.startsWith(own) ? null : 'subscribe-topic';
    }
    // Anonymous (demo): device topics and dead letters, for diagnostics with mosquitto_sub.
    return filter.startsWith(`${TOPIC_ROOT}/`) || filter === TOPIC_ROOT ? null : 'subscribe-topic';
  }

  private otherTopicReason(topic: string): DenialReason {
    if (topic.startsWith('$')) return 'sys-topic';
    if (topic.startsWith(`${INTERNAL_TOPIC_ROOT}/`) || topic === INTERNAL_TOPIC_ROOT)
      return 'internal-topic';
    if (topic.startsWith(`${DEAD_LETTER_ROOT}/`)) return 'internal-topic';
    return 'publish-topic';
  }

  private deviceIdentity(credential: DeviceCredential): BrokerIdentity | undefined {
    if (!this.input.registry.device(credential.site, credential.device)) return undefined;
    const key = credentialKey(credential.site, credential.device);
    const topics = new Set<string>();
    for (const device of [credential.device, ...(this.children.get(key) ?? [])])
      for (const kind of KINDS) topics.add(deviceTopic(credential.site, device, kind));
    return {
      kind: 'device',
      key,
      site: credential.site,
      device: credential.device,
      topics,
      hash: credential.hash,
    };
  }

  private async matches(
    credential: DeviceCredential,
    secret: Buffer,
    digest: Buffer,
  ): Promise<boolean> {
    const key = credentialKey(credential.site, credential.device);
    const cached = this.verified.get(key);
    if (cached && cached[0] === credential.hash) return timingSafeEqual(cached[1], digest);
    const ok = await this.bounded(() => verifySecret(secret.toString('utf8'), credential.hash));
    if (ok) this.verified.set(key, [credential.hash, digest]);
    return ok;
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    while (this.running >= MAX_CONCURRENT_VERIFICATIONS)
      await new Promise<void>(resolve => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}

const DEVICE_PREFIX = `${TOPIC_ROOT}/`;
const DEAD_LETTER_PREFIX = `${DEAD_LETTER_ROOT}/`;

/**
 * `vigil/v1/{a}/{b}/{telemetry|event|status}` with any non-empty a, b but the dead-letter root.
 * Runs for every anonymous PUBLISH (the demo, the bench at 50,000/s): index arithmetic, no split.
 */
function isDeviceTopicShape(topic: string): boolean {
  if (!topic.startsWith(DEVICE_PREFIX) || topic.startsWith(DEAD_LETTER_PREFIX)) return false;
  const site = topic.indexOf('/', DEVICE_PREFIX.length);
  if (site <= DEVICE_PREFIX.length) return false;
  const device = topic.indexOf('/', site + 1);
  if (device <= site + 1 || topic.indexOf('/', device + 1) !== -1) return false;
  const kind = topic.slice(device + 1);
  return kind === 'telemetry' || kind === 'event' || kind === 'status';
}
