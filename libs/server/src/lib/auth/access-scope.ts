import { ROLES, mayAct, mayAdminister, type Role } from '@vigil/alarms';
import { ALARM_ACTIONS, type AlarmActionName } from '@vigil/contracts';
import type { Registry } from '@vigil/registry';

/**
 * The one place that decides what a user may see and do (docs/security.md §Authorisation).
 * Pure: the Nest provider (`AuthorizationService`) caches it per registry and logs and counts
 * the fail-closed cases; controllers and the WebSocket hub only ask the provider.
 */

/** Who asks: the authenticated user. `role` is a string so that a bad one can be refused here. */
export interface Principal {
  readonly id: string;
  readonly role: string;
  /** The organisation node the user is scoped to. */
  readonly scope: string;
}

/**
 * Why a principal sees nothing and may do nothing, whatever the target:
 * - `no-user`: a route reached without an authenticated user (a defect: the guard puts one there);
 * - `unknown-role`: a role that is not operator, supervisor or admin;
 * - `unknown-scope`: the user's node is not in the organisation tree (a typo, a site id, a node a
 *   registry reload removed).
 */
export const FAIL_CLOSED_REASONS = ['no-user', 'unknown-role', 'unknown-scope'] as const;
export type FailClosedReason = (typeof FAIL_CLOSED_REASONS)[number];

export interface AccessScope {
  /** Set when the principal is refused everything (fail-closed), with the reason. */
  readonly refused: FailClosedReason | undefined;
  readonly role: Role | undefined;
  /** Sites the principal sees and acts on: those whose enterprise is at or beneath their node. */
  readonly sites: ReadonlySet<string>;
  /** The principal's node and every node beneath it. */
  readonly beneath: ReadonlySet<string>;
  /** The nodes from the root down to the principal's node, inclusive: where they sit. */
  readonly above: ReadonlySet<string>;
}

/**
 * What is asked for. Alarm actions and administration have role rules here (from
 * `@vigil/alarms`); hazard and permit steps are open to every role in scope, and their lifecycles
 * apply the per-step rules that depend on the record (who may approve, separation of duties).
 */
export type AccessAction =
  | AlarmActionName
  | 'maintenance'
  | 'registry'
  | 'hazard'
  | 'permit'
  | 'duty'
  | 'inspection'
  | 'uplink'
  | 'supervise';

export type AccessDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 403 | 404; readonly message: string };

const EMPTY: ReadonlySet<string> = new Set();
const ROLE_SET: ReadonlySet<string> = new Set(ROLES);
const ALARM_ACTION_SET: ReadonlySet<string> = new Set(ALARM_ACTIONS);

function nothing(refused: FailClosedReason, role?: Role): AccessScope {
  return { refused, role, sites: EMPTY, beneath: EMPTY, above: EMPTY };
}

/** What `principal` may see in `registry`; nothing at all unless user, role and node are known. */
export function accessScope(registry: Registry, principal: Principal | undefined): AccessScope {
  if (!principal) return nothing('no-user');
  if (!ROLE_SET.has(principal.role)) return nothing('unknown-role');
  const role = principal.role as Role;
  const path = registry.orgPath(principal.scope);
  if (path.length === 0) return nothing('unknown-scope', role);
  const beneath = new Set<string>();
  for (const node of registry.organisation)
    if (registry.orgPath(node.id).some(ancestor => ancestor.id === principal.scope))
      beneath.add(node.id);
  const sites = new Set<string>();
  for (const site of registry.sites) if (beneath.has(site.enterprise)) sites.add(site.id);
  return { refused: undefined, role, sites, beneath, above: new Set(path.map(node => node.id)) };
}

const REFUSED_MESSAGES: Record<FailClosedReason, string> = {
  'no-user': 'no authenticated user',
  'unknown-role': 'the user has no known role (operator, supervisor, admin)',
  'unknown-scope': "the user's scope is not a node of the organisation tree",
};

/**
 * Whether the principal may take `action` (on `siteId`, when the action is about a site).
 * A refused principal gets 403 whatever the target (decided before looking it up, so it tells
 * nothing about what exists); a site out of scope 404, as if it did not exist; a role that may
 * not, 403.
 */
export function decide(scope: AccessScope, action: AccessAction, siteId?: string): AccessDecision {
  if (scope.refused || !scope.role)
    return {
      ok: false,
      status: 403,
      message: `refused: ${REFUSED_MESSAGES[scope.refused ?? 'unknown-role']}`,
    };
  if (siteId !== undefined && !scope.sites.has(siteId))
    return { ok: false, status: 404, message: `site ${siteId} is not in the user's scope` };
  if (ALARM_ACTION_SET.has(action) && !mayAct(scope.role, action as AlarmActionName))
    return { ok: false, status: 403, message: `${scope.role} may not ${action}` };
  if (action === 'maintenance' && !mayAdminister(scope.role, 'maintenance'))
    return { ok: false, status: 403, message: 'only a supervisor or an admin may do this' };
  // 挂牌督办 is the regulator's supervisory act: a supervisor or an admin (issue 15).
  if (action === 'supervise' && scope.role === 'operator')
    return {
      ok: false,
      status: 403,
      message: 'only a supervisor or an admin may issue a supervision order',
    };
  if (action === 'registry' && !mayAdminister(scope.role, 'registry'))
    return { ok: false, status: 403, message: 'only an admin may reload the registry' };
  return { ok: true };
}

/**
 * Inspection schedules assigned to a user (guarantors' duties, 包保责任人, issue 15) whose user is
 * not a known user or does not see the schedule's site: nobody could record the duty, and its
 * missed alarms would name someone who cannot act. One problem per schedule, in the registry's
 * words (`sites.<site>.inspections.<id>.assignee: …`), so that the registry is refused with them.
 */
export function assigneeProblems(
  registry: Registry,
  knownUser: (userId: string) => Principal | undefined,
): string[] {
  const problems: string[] = [];
  for (const site of registry.sites)
    for (const schedule of site.inspections ?? []) {
      if (schedule.assignee === undefined) continue;
      const at = `sites.${site.id}.inspections.${schedule.id}.assignee`;
      const what = schedule.guarantor
        ? ` (the ${schedule.guarantor.tier} guarantor of unit ${schedule.guarantor.unit})`
        : '';
      const user = knownUser(schedule.assignee);
      if (!user)
        problems.push(`${at}: "${schedule.assignee}"${what} is not a user of the users file`);
      else if (!accessScope(registry, user).sites.has(site.id))
        problems.push(
          `${at}: "${schedule.assignee}"${what} does not see site ${site.id} (scope "${user.scope}", role "${user.role}")`,
        );
    }
  return problems;
}
