import { HttpException, Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';

import { RegistryError, type OrgNode, type Registry } from '@vigil/registry';

import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import {
  FAIL_CLOSED_REASONS,
  accessScope,
  assigneeProblems,
  decide,
  type AccessAction,
  type AccessDecision,
  type AccessScope,
  type FailClosedReason,
  type Principal,
} from './access-scope';
import { AuthService } from './auth.service';

/** Distinct (role, scope) pairs cached per registry; users come from one file, so this is ample. */
const MAX_CACHED_SCOPES = 4096;

interface PerRegistry {
  readonly scopes: Map<string, AccessScope>;
  /** Principals already logged and counted as refused under this registry. */
  readonly noted: Set<string>;
}

/**
 * Authorisation for every controller and the WebSocket hub: which sites and organisation nodes a
 * user sees, and which actions they may take (rules in `access-scope.ts`). Fail-closed: no user,
 * an unknown role or a scope outside the organisation tree see nothing and may do nothing; each
 * such user is logged and counted (`vigil_auth_fail_closed_total`), and users of the users file
 * that the current registry leaves without access are named at start and after every reload
 * (`vigil_auth_users_without_access`).
 */
@Injectable()
export class AuthorizationService implements OnModuleDestroy {
  private readonly logger = new Logger('Authorization');
  private readonly cache = new WeakMap<Registry, PerRegistry>();
  private readonly reloads: Subscription;

  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {
    // Assignees (guarantors' duties) must be users who see their site: refused at start like any
    // registry error, and a reload that breaks it is refused before it is applied.
    const assignees = (next: Registry) =>
      assigneeProblems(next, userId => this.auth.knownUser(userId));
    const problems = assignees(registry.current);
    if (problems.length > 0) throw new RegistryError(problems);
    registry.addCheck(assignees);
    this.checkUsers(registry.current);
    this.reloads = registry.changes$.subscribe(next => this.checkUsers(next));
  }

  onModuleDestroy(): void {
    this.reloads.unsubscribe();
  }

  /** What the user sees under the current registry (cached until the registry is reloaded). */
  scopeOf(user: Principal | undefined): AccessScope {
    const registry = this.registry.current;
    let entry = this.cache.get(registry);
    if (!entry) {
      entry = { scopes: new Map(), noted: new Set() };
      this.cache.set(registry, entry);
    }
    if (!user) {
      const scope = accessScope(registry, undefined);
      this.note(entry, scope, undefined);
      return scope;
    }
    const key = `${user.role}\u0000${user.scope}`;
    let scope = entry.scopes.get(key);
    if (!scope) {
      scope = accessScope(registry, user);
      if (entry.scopes.size >= MAX_CACHED_SCOPES) entry.scopes.clear();
      entry.scopes.set(key, scope);
    }
    if (scope.refused) this.note(entry, scope, user);
    return scope;
  }

  canSeeSite(user: Principal | undefined, siteId: string): boolean {
    return this.scopeOf(user).sites.has(siteId);
  }

  /** Whether the user sees the organisation node `nodeId` (it is theirs or beneath it). */
  canSeeOrgNode(user: Principal | undefined, nodeId: string): boolean {
    return this.scopeOf(user).beneath.has(nodeId);
  }

  /** Ids of the sites the user sees. */
  visibleSites(user: Principal | undefined): ReadonlySet<string> {
    return this.scopeOf(user).sites;
  }

  /**
   * The organisation nodes a user may see: the chain above their scope (where they sit) and
   * everything below it, never a sibling enterprise's name; in the registry's order.
   */
  visibleOrganisation(user: Principal | undefined): OrgNode[] {
    const { above, beneath } = this.scopeOf(user);
    return this.registry.current.organisation.filter(
      node => above.has(node.id) || beneath.has(node.id),
    );
  }

  /** Whether the user may take `action` (on `siteId`): 403/404 with a message when not. */
  authorize(user: Principal | undefined, action: AccessAction, siteId?: string): AccessDecision {
    return decide(this.scopeOf(user), action, siteId);
  }

  /** `authorize`, throwing the refusal as an HTTP error (403 or 404). */
  assert(user: Principal | undefined, action: AccessAction, siteId?: string): void {
    const decision = this.authorize(user, action, siteId);
    if (!decision.ok) throw new HttpException(decision.message, decision.status);
  }

  /** Whether a user of the users file (or a demo user) exists and may see the site. */
  userSeesSite(userId: string, siteId: string): boolean {
    const user = this.auth.knownUser(userId);
    return user !== undefined && this.canSeeSite(user, siteId);
  }

  /** Names, and counts per reason, the known users this registry leaves without any access. */
  private checkUsers(registry: Registry): void {
    const counts = Object.fromEntries(FAIL_CLOSED_REASONS.map(reason => [reason, 0])) as Record<
      FailClosedReason,
      number
    >;
    for (const user of this.auth.knownUsers()) {
      const { refused } = accessScope(registry, user);
      if (!refused) continue;
      counts[refused] += 1;
      this.logger.warn(
        `user ${user.id} (role "${user.role}", scope "${user.scope}") sees nothing and may do nothing: ${refused}`,
      );
    }
    for (const reason of FAIL_CLOSED_REASONS)
      this.metrics.authUsersWithoutAccess.set({ reason }, counts[reason]);
  }

  /** Logs and counts a refused principal: `no-user` every time, a user once per registry. */
  private note(entry: PerRegistry, scope: AccessScope, user: Principal | undefined): void {
    const reason = scope.refused;
    if (!reason) return;
    const key = user ? `${user.id}\u0000${user.role}\u0000${user.scope}` : '';
    if (user && entry.noted.has(key)) return;
    this.metrics.authFailClosed.inc({ reason });
    if (entry.noted.has(key)) return;
    if (entry.noted.size >= MAX_CACHED_SCOPES) entry.noted.clear();
    entry.noted.add(key);
    if (user)
      this.logger.warn(
        `refused user ${user.id} everything (role "${user.role}", scope "${user.scope}"): ${reason}`,
      );
    else
      this.logger.error('a request reached an authorised route without a user: refused (a defect)');
  }
}
