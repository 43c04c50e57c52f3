import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { Inject, Injectable, Logger } from '@nestjs/common';
import { parse } from 'yaml';
import { z } from 'zod';

import { ROLES, inScope, type Actor, type Role } from '@vigil/alarms';
import { IDENTIFIER_PATTERN } from '@vigil/contracts';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { RegistryHolder } from '../registry/registry-holder';
import { hashPassword, verifyPassword } from './passwords';
import { signToken, verifyToken } from './tokens';

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

const usersFileSchema = z.object({
  users: z.array(
    z.object({
      id: z.string().regex(IDENTIFIER_PATTERN),
      name: z.string().min(1),
      role: z.enum(ROLES),
      scope: z.string().regex(IDENTIFIER_PATTERN),
      passwordHash: z.string().startsWith('scrypt$'),
    }),
  ),
});

/** Demo mode only: documented in docs/interfaces.md, never available outside demo mode. */
const DEMO_PASSWORD = 'vigil-demo';
const DEMO_USERS: readonly User[] = [
  { id: 'zhang', name: '张伟 Zhang Wei', role: 'operator', scope: 'ent-huaxin' },
  { id: 'li', name: '李娜 Li Na', role: 'operator', scope: 'ent-huaxin' },
  { id: 'wang', name: '王强 Wang Qiang', role: 'supervisor', scope: 'park-chem' },
  { id: 'chen', name: '陈静 Chen Jing', role: 'supervisor', scope: 'city-demo' },
  { id: 'admin', name: 'Administrator', role: 'admin', scope: 'city-demo' },
];

/**
 * Users, passwords and tokens. Passwords are scrypt hashes; tokens are HS256, signed with
 * VIGIL_AUTH_SECRET and expiring after VIGIL_TOKEN_HOURS. A user's role and scope are read from
 * the users file on every request, so a change takes effect without waiting for tokens to expire.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly users = new Map<string, User & { readonly passwordHash: string }>();
  private readonly secret: string;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
  ) {
    // Demo mode without a secret signs with a per-process random one: tokens die with the process.
    this.secret = config.auth.secret ?? randomBytes(32).toString('hex');
    if (config.auth.usersFile) {
      const parsed = usersFileSchema.safeParse(parse(readFileSync(config.auth.usersFile, 'utf8')));
      if (!parsed.success) {
        throw new Error(
          `users file ${config.auth.usersFile} is invalid:\n  - ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('\n  - ')}`,
        );
      }
      for (const user of parsed.data.users) this.users.set(user.id, user);
    }
    if (config.demoMode) {
      const demoHash = hashPassword(DEMO_PASSWORD);
      for (const user of DEMO_USERS)
        if (!this.users.has(user.id)) this.users.set(user.id, { ...user, passwordHash: demoHash });
      this.logger.warn(
        'DEMO MODE: no authentication required; demo users can log in with the demo password',
      );
    }
    for (const user of this.users.values()) {
      if (this.registry.current.orgPath(user.scope).length === 0) {
        this.logger.warn(
          `user ${user.id}: scope "${user.scope}" is not in the organisation tree; they will see nothing`,
        );
      }
    }
  }

  get demoMode(): boolean {
    return this.config.demoMode;
  }

  login(
    username: string,
    password: string,
  ): { token: string; expiresAt: number; user: AuthenticatedUser } | undefined {
    const user = this.users.get(username);
    // Verify against a dummy hash for unknown users too, so timing does not reveal who exists.
    const valid = verifyPassword(password, user?.passwordHash ?? DUMMY_HASH) && user !== undefined;
    if (!valid || !user) return undefined;
    const expiresAt = Date.now() + this.config.auth.tokenHours * 3_600_000;
    return {
      token: signToken({ sub: user.id, exp: Math.floor(expiresAt / 1000) }, this.secret),
      expiresAt,
      user: this.resolve(user),
    };
  }

  /** The user of a token, or in demo mode without a token the demo administrator. */
  authenticate(token: string | undefined): AuthenticatedUser | undefined {
    if (!token)
      return this.config.demoMode
        ? this.resolve(this.users.get('admin') ?? (DEMO_USERS[4] as User))
        : undefined;
    const claims = verifyToken(token, this.secret, Date.now());
    const user = claims ? this.users.get(claims.sub) : undefined;
    return user ? this.resolve(user) : undefined;
  }

  /** Organisation path (root first) of a site, for scope checks. */
  siteOrgPath(siteId: string): readonly string[] {
    const site = this.registry.current.site(siteId);
    return site ? this.registry.current.orgPath(site.enterprise).map(node => node.id) : [];
  }

  canSeeSite(user: AuthenticatedUser, siteId: string): boolean {
    return inScope({ nodeId: user.scope }, this.siteOrgPath(siteId));
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

const DUMMY_HASH = hashPassword(randomBytes(8).toString('hex'));
