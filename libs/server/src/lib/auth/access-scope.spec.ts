import { ROLES } from '@vigil/alarms';
import { buildRegistry, type Registry } from '@vigil/registry';

import { accessScope, decide, type AccessAction, type Principal } from './access-scope';

/**
 * city ─┬─ county ── park ─┬─ ent-a (sites a1, a2)
 *       │                  └─ ent-b (site b)
 *       └─ ent-c (site c)
 */
function registry({ withPark = true } = {}): Registry {
  const site = (id: string, enterprise: string) => ({
    id,
    name: id,
    enterprise,
    frame: { width: 100, height: 100 },
    devices: [{ id: `gc-${id}`, class: 'gas-combustible', attributes: { gas: 'CH4' } }],
  });
  return buildRegistry([
    {
      source: 'org.yaml',
      content: {
        organisation: [
          { id: 'city', name: 'City', kind: 'city' },
          ...(withPark
            ? [
                { id: 'county', name: 'County', kind: 'county', parent: 'city' },
                { id: 'park', name: 'Park', kind: 'park', parent: 'county' },
                { id: 'ent-a', name: 'A', kind: 'enterprise', parent: 'park' },
                { id: 'ent-b', name: 'B', kind: 'enterprise', parent: 'park' },
              ]
            : []),
          { id: 'ent-c', name: 'C', kind: 'enterprise', parent: 'city' },
        ],
      },
    },
    {
      source: 'sites.yaml',
      content: {
        sites: [
          ...(withPark ? [site('a1', 'ent-a'), site('a2', 'ent-a'), site('b', 'ent-b')] : []),
          site('c', 'ent-c'),
        ],
      },
    },
  ]);
}

const ALL_SITES = ['a1', 'a2', 'b', 'c'];
const principal = (role: string, scope: string): Principal => ({ id: 'u', role, scope });

describe(accessScope.name, () => {
  const reg = registry();

  // Every role sees the same sites at the same node: roles decide actions, the node decides sites.
  const levels: Array<[string, string[], string[], string[]]> = [
    // node, sites seen, nodes above (inclusive), nodes beneath (inclusive)
    ['city', ALL_SITES, ['city'], ['city', 'county', 'park', 'ent-a', 'ent-b', 'ent-c']],
    ['county', ['a1', 'a2', 'b'], ['city', 'county'], ['county', 'park', 'ent-a', 'ent-b']],
    ['park', ['a1', 'a2', 'b'], ['city', 'county', 'park'], ['park', 'ent-a', 'ent-b']],
    ['ent-a', ['a1', 'a2'], ['city', 'county', 'park', 'ent-a'], ['ent-a']],
    ['ent-b', ['b'], ['city', 'county', 'park', 'ent-b'], ['ent-b']],
    ['ent-c', ['c'], ['city', 'ent-c'], ['ent-c']],
  ];
  describe.each(ROLES)('role %s', role => {
    it.each(levels)('scoped to %s sees %j', (node, sites, above, beneath) => {
      const scope = accessScope(reg, principal(role, node));
      expect(scope.refused).toBeUndefined();
      expect(scope.role).toBe(role);
      expect([...scope.sites].sort()).toEqual([...sites].sort());
      expect([...scope.above].sort()).toEqual([...above].sort());
      expect([...scope.beneath].sort()).toEqual([...beneath].sort());
      for (const siteId of ALL_SITES)
        expect(decide(scope, 'acknowledge', siteId).ok).toBe(sites.includes(siteId));
    });
  });

  it.each([
    ['no user', undefined, 'no-user'],
    ['an unknown role', principal('superuser', 'city'), 'unknown-role'],
    ['an empty role', principal('', 'city'), 'unknown-role'],
    ['a scope not in the tree', principal('admin', 'nowhere'), 'unknown-scope'],
    ['a scope that names a site, not a node', principal('admin', 'a1'), 'unknown-scope'],
    ['an empty scope', principal('admin', ''), 'unknown-scope'],
  ] as const)('fails closed for %s: nothing visible, every action 403', (_what, who, reason) => {
    const scope = accessScope(reg, who);
    expect(scope.refused).toBe(reason);
    expect(scope.sites.size).toBe(0);
    expect(scope.above.size).toBe(0);
    expect(scope.beneath.size).toBe(0);
    const actions: AccessAction[] = ['acknowledge', 'maintenance', 'registry', 'hazard', 'permit'];
    for (const action of actions) {
      expect(decide(scope, action)).toMatchObject({ ok: false, status: 403 });
      for (const siteId of [...ALL_SITES, 'unknown-site'])
        expect(decide(scope, action, siteId)).toMatchObject({ ok: false, status: 403 });
    }
  });

  it('refuses a scope whose node a reload removed', () => {
    const before = registry();
    const after = registry({ withPark: false });
    expect(accessScope(before, principal('operator', 'ent-a')).sites.size).toBe(2);
    expect(accessScope(after, principal('operator', 'ent-a')).refused).toBe('unknown-scope');
  });
});

describe(decide.name, () => {
  const reg = registry();
  const at = (role: string, node = 'park') => accessScope(reg, principal(role, node));

  it('answers a site out of scope 404, as if it did not exist, and an unknown site too', () => {
    expect(decide(at('admin', 'ent-a'), 'acknowledge', 'b')).toMatchObject({ status: 404 });
    expect(decide(at('admin', 'ent-a'), 'maintenance', 'c')).toMatchObject({ status: 404 });
    expect(decide(at('admin'), 'acknowledge', 'no-such-site')).toMatchObject({ status: 404 });
  });

  // Roles × actions: the table of @vigil/alarms (mayAct, mayAdminister).
  const table: Array<[AccessAction, boolean, boolean, boolean]> = [
    // action, operator, supervisor, admin
    ['acknowledge', true, true, true],
    ['shelve', true, true, true],
    ['unshelve', true, true, true],
    ['comment', true, true, true],
    ['assign', true, true, true],
    ['dispose', true, true, true],
    ['reset', true, true, true],
    ['raise', false, false, false],
    ['clear', false, false, false],
    ['suppress', false, false, false],
    ['maintenance', false, true, true],
    ['registry', false, false, true],
    ['hazard', true, true, true],
    ['permit', true, true, true],
  ];
  it.each(table)('%s: operator %s, supervisor %s, admin %s', (action, ...allowed) => {
    for (const [index, role] of ROLES.entries()) {
      const decision = decide(at(role), action, 'a1');
      expect(decision.ok).toBe(allowed[index]);
      if (!decision.ok) expect(decision.status).toBe(403);
    }
  });
});
