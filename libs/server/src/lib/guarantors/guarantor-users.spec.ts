import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Logger } from '@nestjs/common';

import { RegistryError } from '@vigil/registry';

import { AuthService } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { hashPassword } from '../auth/passwords';
import { loadConfig, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';

/** city → park → ent-a (site a1: unit u1 with tank t1), ent-b (site b1). */
function writeRegistry(dir: string, guarantors: unknown): void {
  const site = (id: string, enterprise: string, extra: object = {}) => ({
    id,
    name: id,
    enterprise,
    frame: { width: 100, height: 100 },
    devices: [{ id: `gc-${id}`, class: 'gas-combustible', attributes: { gas: 'CH4' } }],
    ...extra,
  });
  writeFileSync(
    join(dir, 'registry', 'site.json'),
    JSON.stringify({
      organisation: [
        { id: 'city', name: 'City', kind: 'city' },
        { id: 'park', name: 'Park', kind: 'park', parent: 'city' },
        { id: 'ent-a', name: 'A', kind: 'enterprise', parent: 'park' },
        { id: 'ent-b', name: 'B', kind: 'enterprise', parent: 'park' },
      ],
      sites: [
        site('a1', 'ent-a', {
          hazardUnits: [{ id: 'u1', name: 'Tank farm', kind: 'storage', alpha: 1, guarantors }],
        }),
        site('b1', 'ent-b'),
      ],
    }),
  );
}

/**
 * Guarantors (包保责任人) are users of the users file who see their source's site: a registry that
 * names anyone else is refused at start (the gateway does not come up) and at reload (the running
 * registry stays), like any other registry error, with every problem listed.
 */
describe('guarantors are known users who see the site', () => {
  let dir: string;
  let config: VigilConfig;
  let metrics: VigilMetrics;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-guarantors-'));
    mkdirSync(join(dir, 'registry'));
    const hash = hashPassword('correct horse battery');
    writeFileSync(
      join(dir, 'users.yaml'),
      [
        'users:',
        `  - { id: op-a, name: A, role: operator, scope: ent-a, passwordHash: "${hash}" }`,
        `  - { id: op-b, name: B, role: operator, scope: ent-b, passwordHash: "${hash}" }`,
        `  - { id: sup, name: S, role: supervisor, scope: park, passwordHash: "${hash}" }`,
      ].join('\n'),
    );
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    config = loadConfig({
      VIGIL_REGISTRY: join(dir, 'registry'),
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_DEMO_MODE: 'false',
      VIGIL_USERS: join(dir, 'users.yaml'),
      VIGIL_AUTH_SECRET: 'a-test-secret-of-at-least-32-characters!',
    });
    metrics = new VigilMetrics();
  });

  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () => {
    const registry = new RegistryHolder(config, metrics);
    const authorization = new AuthorizationService(
      registry,
      metrics,
      new AuthService(config, registry, metrics),
    );
    return { registry, authorization };
  };

  it('starts with guarantors who see the site; their duties are assigned schedules', () => {
    writeRegistry(dir, { principal: 'sup', technical: 'op-a', operational: 'op-a' });
    const { registry, authorization } = start();
    expect(
      registry.current.site('a1')?.inspections?.map(schedule => [schedule.id, schedule.assignee]),
    ).toEqual([
      ['mhs-u1-principal', 'sup'],
      ['mhs-u1-technical', 'op-a'],
      ['mhs-u1-operational', 'op-a'],
    ]);
    authorization.onModuleDestroy();
  });

  it('refuses to start with a guarantor who is unknown or does not see the site', () => {
    writeRegistry(dir, { principal: 'sup', technical: 'ghost', operational: 'op-b' });
    let problems: readonly string[] = [];
    try {
      start();
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      'sites.a1.inspections.mhs-u1-technical.assignee: "ghost" (the technical guarantor of unit u1) is not a user of the users file',
      'sites.a1.inspections.mhs-u1-operational.assignee: "op-b" (the operational guarantor of unit u1) does not see site a1 (scope "ent-b", role "operator")',
    ]);
  });

  it('refuses a reload that names a guarantor who cannot see the site; the running registry stays', () => {
    writeRegistry(dir, { principal: 'sup', technical: 'op-a', operational: 'op-a' });
    const { registry, authorization } = start();
    const running = registry.current;
    writeRegistry(dir, { principal: 'sup', technical: 'op-a', operational: 'op-b' });
    expect(() => registry.reload()).toThrow(RegistryError);
    expect(registry.current).toBe(running);
    expect(registry.refused?.problems.join('\n')).toContain(
      'mhs-u1-operational.assignee: "op-b" (the operational guarantor of unit u1) does not see site a1',
    );
    writeRegistry(dir, { principal: 'sup', technical: 'op-a', operational: 'sup' });
    expect(registry.reload()).not.toBe(running);
    expect(registry.refused).toBeUndefined();
    authorization.onModuleDestroy();
  });
});
