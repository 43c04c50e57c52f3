import { UnauthorizedException } from '@nestjs/common';

import { inScope } from '@vigil/alarms';
import type { Registry } from '@vigil/registry';

/**
 * The organisation node the request's user is scoped to: the auth guard puts the user on the
 * request (in demo mode without a token, the demo administrator). Fail-closed: a request that
 * reached here without a user is refused, never answered with everything.
 */
export function requestScope(request: unknown): string {
  const user = (request as { user?: { scope?: unknown } } | undefined)?.user;
  if (typeof user?.scope !== 'string') throw new UnauthorizedException();
  return user.scope;
}

/** Site ids the scope may see: a site is visible when the scope node is on its organisation path. */
export function visibleSiteIds(registry: Registry, scope: string): Set<string> {
  const visible = new Set<string>();
  for (const site of registry.sites) {
    const path = registry.orgPath(site.enterprise).map(node => node.id);
    if (inScope({ nodeId: scope }, path)) visible.add(site.id);
  }
  return visible;
}
