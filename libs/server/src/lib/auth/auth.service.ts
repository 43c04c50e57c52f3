import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { Inject, Injectable, Logger } from '@nestjs/common';
import { parse } from 'yaml';
import { z } from 'zod';

import { ROLES, type Actor, type Role } from '@vigil/alarms';
import { IDENTIFIER_PATTERN } from '@vigil/contracts';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AuthAudit } from './auth-audit';
import { LoginLimiter, type LoginRefusal } from './login-limiter';
import { hashPassword, verifyPasswordAsync } from './passwords';
import { RevokedTokens } from './revoked-tokens';
import { newTokenId, signToken, verifyToken } from './tokens';
import { DEMO_PASSWORD, DEMO_USERS } from './demo-users';

export interface User {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** The organisation node the user is scoped to. */
  readonly scope: string;
}

export interface AuthenticatedUser extends User, Actor {
  readonly role: Role;
  readonly scopePath: readonly string[];
}

/**
 * How a user is reached outside the console (users file, optional): put on the alerts that name
 * them (responsible person, guarantors) so an Alertmanager receiver can address them
 * (docs/notifications.md § People). Never answered by the API.
 */
export interface UserContact {
  readonly email?: string | undefined;
  /** E.164, e.g. `+8613800000000`. */
  readonly phone?: string | undefined;
}

/** E.164: `+`, country code, at most 15 digits (ITU-T E.164 §6). */
export const PHONE_PATTERN = /^\+[1-9]\d{6,14}$/;

interface StoredUser extends User, UserContact {
  readonly passwordHash: string;
  /** When the password was last set (users file), for rotation. */
  readonly passwordChangedAt?: number | undefined;
}

const usersFileSchema = z.object({
  users: z.array(
    z.strictObject({
      id: z.string().regex(IDENTIFIER_PATTERN),
      name: z.string().min(1),
      role: z.enum(ROLES),
      scope: z.string().regex(IDENTIFIER_PATTERN),
      passwordHash: z.string().startsWith('scrypt$'),
      passwordChangedAt: z.iso.date().optional(),
      email: z.email().optional(),
      phone: z.string().regex(PHONE_PATTERN, 'an E.164 number such as +8613800000000').optional(),
    }),
  ),
});

export interface Session {
  readonly token: string;
  readonly expiresAt: number;
  readonly user: AuthenticatedUser;
  /** The password is older than VIGIL_PASSWORD_MAX_AGE_DAYS: the console asks for a rotation. */
  readonly passwordExpired: boolean;
}

export type LoginResult =
  | { readonly ok: true; readonly session: Session }
  | { readonly ok: false; readonly refused?: LoginRefusal | undefined };

/**
 * Users, passwords and tokens. Passwords are scrypt hashes checked off the event loop, at a
 * bounded rate (LoginLimiter); every login, failure, refusal and logout is audited. Tokens are
 * HS256, signed with VIGIL_AUTH_SECRET, expire after VIGIL_TOKEN_HOURS and are revoked by logout.
 * A user's role and scope are read from the users file on every request, so a change takes effect
 * without waiting for tokens to expire.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly users = new Map<string, StoredUser>();
  private readonly secret: string;
  private readonly limiter = new LoginLimiter(Date.now);
  private readonly audit: AuthAudit;
  private readonly revoked: RevokedTokens;
  private readonly dummyHash = hashPassword(randomBytes(8).toString('hex'));

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {
    // Demo mode without a secret signs with a per-process random one: tokens die with the process.
    this.secret = config.auth.secret ?? randomBytes(32).toString('hex');
    this.audit = new AuthAudit(config.dataDir);
    this.revoked = new RevokedTokens(config.dataDir, Date.now());
    if (config.auth.usersFile) {
      const parsed = usersFileSchema.safeParse(parse(readFileSync(config.auth.usersFile, 'utf8')));
      if (!parsed.success) {
        throw new Error(
          `users file ${config.auth.usersFile} is invalid:\n  - ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('\n  - ')}`,
        );
      }
      for (const user of parsed.data.users)
        this.users.set(user.id, {
          ...user,
          passwordChangedAt: user.passwordChangedAt
            ? Date.parse(user.passwordChangedAt)
            : undefined,
        });
    }
    if (config.demoMode) {
      const demoHash = hashPassword(DEMO_PASSWORD);
      for (const user of DEMO_USERS)
        if (!this.users.has(user.id)) this.users.set(user.id, { ...user, passwordHash: demoHash });
      this.logger.warn(
        'DEMO MODE: no authentication required; demo users can log in with the demo password',
      );
    }
    // Users whose scope is not in the organisation tree are named by AuthorizationService.
    for (const user of this.users.values()) {
      if (!config.demoMode && this.passwordExpired(user, Date.now()))
        this.logger.warn(
          `user ${user.id}: password ${user.passwordChangedAt ? 'older than' : 'has no passwordChangedAt; rotate it every'} ${config.auth.passwordMaxAgeDays} days (npm run hash-password)`,
        );
    }
  }

  get demoMode(): boolean {
    return this.config.demoMode;
  }

  /**
   * Checks a password off the event loop, within the limiter's bounds; audits and counts the
   * outcome. Unknown users are checked against a dummy hash, so timing does not tell who exists.
   */
  async login(username: string, password: string, address: string): Promise<LoginResult> {
    const admitted = this.limiter.admit(address, username);
    if (!(admitted instanceof Promise)) {
      this.metrics.authLogins.inc({ result: 'refused', reason: admitted.reason });
      this.audit.record({
        at: Date.now(),
        event: 'login-refused',
        user: username,
        address,
        reason: admitted.reason,
      });
      return { ok: false, refused: admitted };
    }
    const permit = await admitted;
    // Locked while this attempt waited for a slot: refused without spending a check on it.
    const lockedWhileQueued = this.limiter.lockedUntil(username);
    if (lockedWhileQueued !== undefined) {
      permit.done(false);
      const refused = {
        reason: 'user-locked',
        retryAfterMs: lockedWhileQueued - Date.now(),
      } as const;
      this.metrics.authLogins.inc({ result: 'refused', reason: refused.reason });
      this.audit.record({
        at: Date.now(),
        event: 'login-refused',
        user: username,
        address,
        reason: refused.reason,
      });
      return { ok: false, refused };
    }
    const user = this.users.get(username);
    let valid = false;
    let locked = false;
    try {
      valid = await verifyPasswordAsync(password, user?.passwordHash ?? this.dummyHash);
      valid &&= user !== undefined;
    } finally {
      locked = permit.done(valid);
    }
    const now = Date.now();
    if (!valid || !user) {
      this.metrics.authLogins.inc({ result: 'failed', reason: user ? 'password' : 'user' });
      this.audit.record({
        at: now,
        event: 'login-failed',
        user: username,
        address,
        reason: user ? 'wrong password' : 'unknown user',
      });
      const lockedUntil = this.limiter.lockedUntil(username);
      if (locked && lockedUntil !== undefined) {
        this.audit.record({
          at: now,
          event: 'user-locked',
          user: username,
          address,
          reason: `until ${new Date(lockedUntil).toISOString()}`,
        });
        this.logger.warn(
          `login: "${username.slice(0, 64)}" locked until ${new Date(lockedUntil).toISOString()} after repeated failures (last from ${address})`,
        );
      }
      return { ok: false };
    }
    this.metrics.authLogins.inc({ result: 'ok', reason: '' });
    this.audit.record({ at: now, event: 'login', user: user.id, address });
    const expiresAt = now + this.config.auth.tokenHours * 3_600_000;
    const claims = {
      sub: user.id,
      iat: Math.floor(now / 1000),
      exp: Math.floor(expiresAt / 1000),
      jti: newTokenId(),
    };
    return {
      ok: true,
      session: {
        token: signToken(claims, this.secret),
        expiresAt,
        user: this.resolve(user),
        passwordExpired: !this.config.demoMode && this.passwordExpired(user, now),
      },
    };
  }

  /** Revokes the token (until it would have expired); later requests with it get 401. */
  logout(token: string | undefined, address: string): boolean {
    const claims = token ? verifyToken(token, this.secret, Date.now()) : undefined;
    if (!claims || this.revoked.has(claims.jti, Date.now())) return false;
    this.revoked.revoke(claims.jti, claims.exp);
    this.audit.record({ at: Date.now(), event: 'logout', user: claims.sub, address });
    return true;
  }

  /** The user of a token, or in demo mode without a token the demo administrator. */
  authenticate(token: string | undefined): AuthenticatedUser | undefined {
    if (!token)
      return this.config.demoMode
        ? this.resolve(this.users.get('admin') ?? (DEMO_USERS[4] as User))
        : undefined;
    const now = Date.now();
    const claims = verifyToken(token, this.secret, now);
    if (!claims || this.revoked.has(claims.jti, now)) return undefined;
    const user = this.users.get(claims.sub);
    return user ? this.resolve(user) : undefined;
  }

  /** A user of the users file (or a demo user), without the password hash. */
  knownUser(userId: string): User | undefined {
    const user = this.users.get(userId);
    return user ? publicUser(user) : undefined;
  }

  /** How to reach a user (users file `email`, `phone`); undefined for an unknown user. */
  contactOf(userId: string): (UserContact & { readonly name: string }) | undefined {
    const user = this.users.get(userId);
    if (!user) return undefined;
    return {
      name: user.name,
      ...(user.email !== undefined ? { email: user.email } : {}),
      ...(user.phone !== undefined ? { phone: user.phone } : {}),
    };
  }

  /** Every user of the users file (and the demo users in demo mode). */
  knownUsers(): User[] {
    return [...this.users.values()].map(publicUser);
  }

  private passwordExpired(user: StoredUser, now: number): boolean {
    if (user.passwordChangedAt === undefined) return true;
    return now - user.passwordChangedAt > this.config.auth.passwordMaxAgeDays * 86_400_000;
  }

  private resolve(user: User): AuthenticatedUser {
    return {
      id: user.id,
      name: user.name,
      role: user.role,
      scope: user.scope,
      scopePath: this.registry.current.orgPath(user.scope).map(node => node.id),
    };
  }
}

function publicUser({ id, name, role, scope }: User): User {
  return { id, name, role, scope };
}
