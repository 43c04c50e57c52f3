import type { AlarmActionName } from '@vigil/contracts';

import type { Actor, Role } from './actor';

/** A user's place in the organisation tree: the node they are scoped to and its ancestors. */
export interface Scope {
  readonly nodeId: string;
}

/**
 * A user scoped to a node sees everything beneath it: a site is visible when the user's node is
 * on the site's organisation path (city → … → enterprise).
 */
export function inScope(scope: Scope, siteOrgPath: readonly string[]): boolean {
  return siteOrgPath.includes(scope.nodeId);
}

const OPERATOR_ACTIONS: ReadonlySet<AlarmActionName> = new Set([
  'acknowledge',
  'shelve',
  'unshelve',
  'comment',
  'assign',
  'dispose',
  'reset',
]);

/** Role rules; per-alarm rules (ownership, P2 shelving) are in applyCommand. */
export function mayAct(role: Role | Actor['role'], action: AlarmActionName): boolean {
  if (role === 'system') return true;
  return OPERATOR_ACTIONS.has(action);
}

/** Administrative actions: maintenance mode, registry reload. */
export function mayAdminister(
  role: Role | Actor['role'],
  what: 'maintenance' | 'registry',
): boolean {
  if (what === 'maintenance') return role === 'supervisor' || role === 'admin';
  return role === 'admin';
}
