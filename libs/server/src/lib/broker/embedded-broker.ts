import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

import { Logger } from '@nestjs/common';
import { Aedes, type AuthenticateError, type Client } from 'aedes';

import { loadCheckedRegistry } from '@vigil/registry-node';

import type { VigilConfig } from '../config/vigil-config';
import { RateLimitedLogger } from '../common/rate-limited-logger';

import {
  BrokerAccessPolicy,
  DEFAULT_INTERNAL_USERNAME,
  type BrokerIdentity,
  type DenialReason,
} from './broker-access';
import { readCredentialsFile } from './device-credentials';

/** aedes' CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
const CREDENTIALS_POLL_MS = 1000;

export interface DenialCounter {
  inc(labels: { reason: DenialReason }): void;
}

/**
 * The embedded aedes broker: the default for the demo and small sites (MQTT 3.1.1 only; aedes
 * does not speak MQTT 5). Larger sites point Vigil at Mosquitto or EMQX with VIGIL_MQTT_URL.
 *
 * Closed by default (docs/security.md): every CONNECT, PUBLISH and SUBSCRIBE goes through
 * `BrokerAccessPolicy`; every refusal is counted (`vigil_broker_denied_total{reason}`) and logged
 * at a bounded rate. A client id belongs to the identity holding it: another identity presenting
 * it is refused instead of taking the session over. The device secrets file is watched: a revoked
 * or rotated device is disconnected within about a second.
 */
export class EmbeddedBroker {
  private readonly logger = new Logger(EmbeddedBroker.name);
  private readonly denialLog = new RateLimitedLogger(this.logger, 5, 60_000);
  private broker: Aedes | undefined;
  private servers: Server[] = [];
  private policy: BrokerAccessPolicy | undefined;
  private readonly identities = new WeakMap<Client, BrokerIdentity>();
  /** client id → the identity key and client holding it. */
  private readonly owners = new Map<string, { key: string; client: Client }>();
  private readonly pendingDenials = new Map<DenialReason, number>();
  private counter: DenialCounter | undefined;
  private watching = false;

  constructor(private readonly config: VigilConfig) {}

  /** Denials so far, by reason (also exported as `vigil_broker_denied_total`). */
  readonly denials = new Map<DenialReason, number>();

  /** Counts into the process's metrics from now on, including what was refused before. */
  attachMetrics(counter: DenialCounter): void {
    for (const [reason, count] of this.pendingDenials)
      for (let i = 0; i < count; i += 1) counter.inc({ reason });
    this.pendingDenials.clear();
    this.counter = counter;
  }

  async start(): Promise<void> {
    this.policy = this.buildPolicy();
    const broker = await Aedes.createBroker();
    broker.authenticate = (client, username, password, done) => {
      this.authenticate(client, username, password).then(
        error => done(error, error === null),
        (error: unknown) => {
          this.logger.error(`authenticate: ${(error as Error).message}`);
          done(authError(NOT_AUTHORIZED, 'server error'), false);
        },
      );
    };
    broker.authorizePublish = (client, packet, callback) => {
      // client is null for the broker's own messages ($SYS heartbeats).
      if (!client) return callback(null);
      const identity = this.identities.get(client);
      const reason = identity ? this.access.mayPublish(identity, packet.topic) : 'revoked';
      if (reason === null) return callback(null);
      this.deny(reason, `${describe(client, identity)} may not publish on ${packet.topic}`);
      callback(new Error(`not authorized: ${reason}`));
    };
    broker.authorizeSubscribe = (client, subscription, callback) => {
      const identity = this.identities.get(client);
      const reason = identity ? this.access.maySubscribe(identity, subscription.topic) : 'revoked';
      if (reason === null) return callback(null, subscription);
      this.deny(reason, `${describe(client, identity)} may not subscribe to ${subscription.topic}`);
      // A SUBACK with 0x80 for this filter (MQTT 3.1.1 §3.9.3), the connection stays.
      callback(null, null);
    };
    broker.on('clientDisconnect', client => {
      if (this.owners.get(client.id)?.client === client) this.owners.delete(client.id);
    });
    this.broker = broker;

    const embedded = this.config.mqtt.embedded;
    if (embedded) {
      // No Nagle: a small PUBLISH carrying an alarm must not wait for the previous segment's ACK.
      const server = createServer({ noDelay: true }, broker.handle);
      await listen(server, embedded.port, embedded.host);
      this.servers.push(server);
      this.logger.log(`embedded MQTT broker listening on mqtt://${embedded.host}:${embedded.port}`);
    }
    const tls = this.config.security.mqttTls;
    if (tls) {
      const server = createTlsServer(
        {
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
          minVersion: 'TLSv1.2',
          ...(tls.clientCa
            ? { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        socket => {
          socket.setNoDelay(true);
          broker.handle(socket);
        },
      );
      await listen(server, tls.port, tls.host);
      this.servers.push(server);
      this.logger.log(`embedded MQTT broker listening on mqtts://${tls.host}:${tls.port}`);
    }
    if (this.policy.allowAnonymous)
      this.logger.warn(
        'anonymous MQTT clients are admitted (demo mode): they may publish device topics only',
      );

    watchFile(this.config.security.credentialsFile, { interval: CREDENTIALS_POLL_MS }, () =>
      this.reload(),
    );
    this.watching = true;
  }

  /**
   * Reads the registry and the device secrets again (the secrets file changed, or SIGHUP): keeps
   * the old policy when either is invalid, and disconnects clients whose credential was revoked
   * or rotated.
   */
  reload(): void {
    let policy: BrokerAccessPolicy;
    try {
      policy = this.buildPolicy();
    } catch (error) {
      this.logger.error(`broker access not reloaded: ${(error as Error).message}`);
      return;
    }
    this.policy = policy;
    for (const { client } of [...this.owners.values()]) {
      const identity = this.identities.get(client);
      const refreshed = identity ? policy.refresh(identity) : undefined;
      if (refreshed) {
        this.identities.set(client, refreshed);
        continue;
      }
      this.identities.delete(client);
      this.deny('revoked', `${describe(client, identity)}: credential revoked, disconnected`);
      client.close();
    }
  }

  async stop(): Promise<void> {
    if (this.watching) unwatchFile(this.config.security.credentialsFile);
    this.watching = false;
    // The broker first, so that it drops its clients: server.close() waits for every connection.
    await new Promise<void>(resolve =>
      this.broker ? this.broker.close(() => resolve()) : resolve(),
    );
    await Promise.all(
      this.servers.map(server => new Promise<void>(resolve => server.close(() => resolve()))),
    );
  }

  private get access(): BrokerAccessPolicy {
    if (!this.policy) throw new Error('embedded broker: not started');
    return this.policy;
  }

  private buildPolicy(): BrokerAccessPolicy {
    return new BrokerAccessPolicy(
      {
        // The whole check, as the RegistryHolder makes it: the broker never admits devices of a
        // registry the rest of Vigil refuses, and a bad registry at start lists every problem.
        registry: loadCheckedRegistry(this.config.registryPath).registry,
        credentials: readCredentialsFile(this.config.security.credentialsFile),
        internal: {
          username: this.config.mqtt.username ?? DEFAULT_INTERNAL_USERNAME,
          password: this.config.mqtt.password ?? '',
        },
        allowAnonymous: this.config.security.allowAnonymous,
      },
      this.policy?.verifiedSecrets,
    );
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<AuthenticateError | null> {
    const policy = this.access;
    const result = await policy.authenticate(username, password, client.id);
    if (!result.ok) {
      this.deny(result.reason, `connect refused for ${who(client.id, username)}: ${result.reason}`);
      return authError(
        result.reason === 'client-id-reserved' ? IDENTIFIER_REJECTED : BAD_USERNAME_OR_PASSWORD,
        result.reason,
      );
    }
    const holder = this.owners.get(client.id);
    if (holder && holder.key !== result.identity.key && !holder.client.closed) {
      this.deny(
        'client-id-taken',
        `connect refused for ${who(client.id, username)}: the client id belongs to another identity`,
      );
      return authError(IDENTIFIER_REJECTED, 'client-id-taken');
    }
    this.identities.set(client, result.identity);
    this.owners.set(client.id, { key: result.identity.key, client });
    return null;
  }

  private deny(reason: DenialReason, message: string): void {
    this.denials.set(reason, (this.denials.get(reason) ?? 0) + 1);
    if (this.counter) this.counter.inc({ reason });
    else this.pendingDenials.set(reason, (this.pendingDenials.get(reason) ?? 0) + 1);
    this.denialLog.warn(`broker-denied-${reason}`, `MQTT ${message}`);
  }
}

function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function who(clientId: string, username: string | undefined): string {
  return `client "${clientId.slice(0, 80)}" (user ${username ? `"${username.slice(0, 80)}"` : 'none'})`;
}

function describe(client: Client, identity: BrokerIdentity | undefined): string {
  const name = identity?.kind === 'device' ? identity.key : (identity?.kind ?? 'revoked');
  return `client "${client.id.slice(0, 80)}" (${name})`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
