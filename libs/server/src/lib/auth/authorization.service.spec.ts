import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HttpException, Logger } from '@nestjs/common';

import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AuthService } from './auth.service';
import { AuthorizationService } from './authorization.service';
import { hashPassword } from './passwords';

/** city → park → ent-a (site a1), ent-b (site b1); `withEntA: false` is a reload without ent-a. */
function writeRegistry(dir: string, { withEntA = true } = {}): void {
  const site = (id: string, enterprise: string) => ({
    id,
    name: id,
    enterprise,
    frame: { width: 100, height: 100 },
    devices: [{ id: `gc-${id}`, class: 'gas-combustible', attributes: { gas: 'CH4' } }],
  });
  writeFileSync(
    join(dir, 'registry', 'site.json'),
    JSON.stringify({
      organisation: [
        { id: 'city', name: 'City', kind: 'city' },
        { id: 'park', name: 'Park', kind: 'park', parent: 'city' },
        ...(withEntA ? [{ id: 'ent-a', name: 'A', kind: 'enterprise', parent: 'park' }] : []),
        { id: 'ent-b', name: 'B', kind: 'enterprise', parent: 'park' },
      ],
      sites: [...(withEntA ? [site('a1', 'ent-a')] : []), site('b1', 'ent-b')],
    }),
  );
}

describe(AuthorizationService.name, () => {
  let dir: string;
  let metrics: VigilMetrics;
  let registry: RegistryHolder;
  let authorization: AuthorizationService;
  let warnings: string[];

  const metric = async (name: string, reason: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values.find(
      value => value.labels['reason'] === reason,
    )?.value;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-authz-'));
    mkdirSync(join(dir, 'registry'));
    writeRegistry(dir);
    const hash = hashPassword('correct horse battery');
    writeFileSync(
      join(dir, 'users.yaml'),
      [
        'users:',
        `  - { id: op-a, name: A, role: operator, scope: ent-a, passwordHash: "${hash}" }`,
        `  - { id: sup, name: S, role: supervisor, scope: park, passwordHash: "${hash}" }`,
        `  - { id: lost, name: L, role: admin, scope: nowhere, passwordHash: "${hash}" }`,
      ].join('\n'),
    );
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    const config = loadConfig({
      VIGIL_REGISTRY: join(dir, 'registry'),
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_DEMO_MODE: 'false',
      VIGIL_USERS: join(dir, 'users.yaml'),
      VIGIL_AUTH_SECRET: 'a-test-secret-of-at-least-32-characters!',
    });
    metrics = new VigilMetrics();
    registry = new RegistryHolder(config, metrics);
    authorization = new AuthorizationService(
      registry,
      metrics,
      new AuthService(config, registry, metrics),
    );
  });

  afterEach(() => {
    authorization.onModuleDestroy();
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const opA = { id: 'op-a', role: 'operator', scope: 'ent-a' };
  const sup = { id: 'sup', role: 'supervisor', scope: 'park' };
  const lost = { id: 'lost', role: 'admin', scope: 'nowhere' };

  it('names and counts at start the users of the users file who would see nothing', async () => {
    const nothing = warnings.filter(line => line.includes('sees nothing'));
    expect(nothing).toHaveLength(1);
    expect(nothing[0]).toContain('user lost (role "admin", scope "nowhere")');
    expect(await metric('vigil_auth_users_without_access', 'unknown-scope')).toBe(1);
    expect(await metric('vigil_auth_users_without_access', 'unknown-role')).toBe(0);
  });

  it('shows each user the sites and nodes of their scope, and nothing to a refused one', () => {
    expect([...authorization.visibleSites(opA)]).toEqual(['a1']);
    expect([...authorization.visibleSites(sup)].sort()).toEqual(['a1', 'b1']);
    expect(authorization.visibleOrganisation(opA).map(node => node.id)).toEqual([
      'city',
      'park',
      'ent-a',
    ]);
    expect(authorization.canSeeSite(sup, 'b1')).toBe(true);
    expect(authorization.canSeeSite(opA, 'b1')).toBe(false);
    for (const who of [lost, undefined, { id: 'x', role: 'root', scope: 'city' }]) {
      expect(authorization.visibleSites(who).size).toBe(0);
      expect(authorization.visibleOrganisation(who)).toEqual([]);
      expect(authorization.canSeeSite(who, 'a1')).toBe(false);
      expect(authorization.authorize(who, 'acknowledge', 'a1')).toMatchObject({ status: 403 });
    }
  });

  it('throws refusals as HTTP errors: 403 for the role or a refused user, 404 out of scope', () => {
    const status = (run: () => void) => {
      try {
        run();
        return 200;
      } catch (error) {
        if (error instanceof HttpException) return error.getStatus();
        throw error;
      }
    };
    expect(status(() => authorization.assert(opA, 'maintenance', 'a1'))).toBe(403);
    expect(status(() => authorization.assert(sup, 'maintenance', 'a1'))).toBe(200);
    expect(status(() => authorization.assert(sup, 'registry'))).toBe(403);
    expect(status(() => authorization.assert(opA, 'acknowledge', 'b1'))).toBe(404);
    expect(status(() => authorization.assert(lost, 'registry'))).toBe(403);
    expect(status(() => authorization.assert(undefined, 'acknowledge'))).toBe(403);
  });

  it('logs and counts a refused user once, and a request without a user every time', async () => {
    warnings = [];
    for (let i = 0; i < 3; i += 1) authorization.canSeeSite(lost, 'a1');
    expect(warnings.filter(line => line.includes('refused user lost'))).toHaveLength(1);
    expect(await metric('vigil_auth_fail_closed_total', 'unknown-scope')).toBe(1);
    for (let i = 0; i < 3; i += 1) authorization.canSeeSite(undefined, 'a1');
    expect(warnings.filter(line => line.includes('without a user'))).toHaveLength(1);
    expect(await metric('vigil_auth_fail_closed_total', 'no-user')).toBe(3);
    authorization.canSeeSite({ id: 'x', role: 'root', scope: 'city' }, 'a1');
    expect(await metric('vigil_auth_fail_closed_total', 'unknown-role')).toBe(1);
  });

  it('follows a registry reload: a user whose node was removed sees nothing from then on', async () => {
    expect(authorization.canSeeSite(opA, 'a1')).toBe(true);
    writeRegistry(dir, { withEntA: false });
    registry.reload();
    expect(authorization.scopeOf(opA).refused).toBe('unknown-scope');
    expect(authorization.visibleSites(opA).size).toBe(0);
    expect([...authorization.visibleSites(sup)]).toEqual(['b1']);
    expect(await metric('vigil_auth_users_without_access', 'unknown-scope')).toBe(2);
    expect(
      warnings.some(line => line.startsWith('user op-a') && line.includes('sees nothing')),
    ).toBe(true);
  });

  it('answers whether a known user sees a site (hazard assignees)', () => {
    expect(authorization.userSeesSite('op-a', 'a1')).toBe(true);
    expect(authorization.userSeesSite('op-a', 'b1')).toBe(false);
    expect(authorization.userSeesSite('lost', 'a1')).toBe(false);
    expect(authorization.userSeesSite('nobody', 'a1')).toBe(false);
  });
});
