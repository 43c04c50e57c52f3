import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Guards of how the Nest lib's folders may depend on each other (issue 14): helpers two features
 * share live in a common place (`alarms/`, `common/`, `auth/`), never in another feature's
 * controller, and authorisation is decided in one place (`auth/AuthorizationService`).
 */
const LIB = __dirname;

function sources(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const files = sources().map(path => ({
  path: relative(LIB, path),
  text: readFileSync(path, 'utf8'),
  imports: [...readFileSync(path, 'utf8').matchAll(/from '([^']+)'/g)].map(match => match[1] ?? ''),
}));

describe('feature boundaries of libs/server', () => {
  it('reads the lib', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files.some(file => file.path === join('gateway', 'ws-hub.ts'))).toBe(true);
  });

  it('console-api imports nothing from gateway/, the persister nothing from ingest/', () => {
    const offending = files.flatMap(file =>
      file.imports
        .filter(
          from =>
            (file.path.startsWith('console-api') && from.startsWith('../gateway/')) ||
            (file.path.startsWith('persister') && from.startsWith('../ingest/')),
        )
        .map(from => `${file.path} → ${from}`),
    );
    expect(offending).toEqual([]);
  });

  describe('the Nest modules (issue 14): each service module takes only core parts and its own', () => {
    // The folders whose parts CoreModule provides to every process, and those two services share.
    const CORE = ['core', 'config', 'metrics', 'lifecycle', 'bus', 'registry', 'mqtt', 'storage'];
    const SHARED = ['alarms', 'common', 'journal'];
    const SERVICES: Record<string, { module: string; folders: readonly string[] }> = {
      ingest: { module: join('ingest', 'ingest.module.ts'), folders: ['ingest'] },
      rules: { module: join('rules', 'rules.module.ts'), folders: ['rules'] },
      persister: { module: join('persister', 'persister.module.ts'), folders: ['persister'] },
      gateway: {
        module: join('gateway', 'gateway.module.ts'),
        folders: [
          'gateway',
          'auth',
          'console-api',
          'hazards',
          'inspections',
          'permits',
          'guarantors',
          'duty',
          'reports',
          'uplink',
          'notify',
          'canary',
        ],
      },
    };
    /** The top folder (or file, for lifecycle.ts) of the lib a relative import of `file` names. */
    const folderOf = (file: string, from: string): string | undefined =>
      from.startsWith('.')
        ? relative(LIB, join(LIB, dirname(file), from)).split(sep)[0]
        : undefined;
    const importsOf = (path: string) => {
      const file = files.find(candidate => candidate.path === path);
      if (!file) throw new Error(`${path} is missing`);
      return file.imports.map(from => ({ from, folder: folderOf(path, from) }));
    };

    it.each(Object.entries(SERVICES))('%s: core, shared and its own folders only', (_, service) => {
      const allowed = new Set([...CORE, ...SHARED, ...service.folders]);
      const offending = importsOf(service.module)
        .filter(({ folder }) => folder !== undefined && !allowed.has(folder))
        .map(({ from }) => `${service.module} → ${from}`);
      expect(offending).toEqual([]);
    });

    it('no service module imports another: the composition (vigil.module.ts) hands the gateway the rules', () => {
      const modules = Object.values(SERVICES).map(service => service.module);
      const offending = modules.flatMap(path =>
        importsOf(path)
          .filter(({ from }) => from.endsWith('.module'))
          .map(({ from }) => `${path} → ${from}`),
      );
      expect(offending).toEqual([]);
    });

    it('the core takes nothing of a service but the two parts every process holds', () => {
      // PermitBoard: where permits (gateway) meet the rule engine; StorageStatus: readiness and
      // /healthz of every process report the storage port's state.
      const exceptions = new Set(['../permits/permit-board', '../gateway/storage-status']);
      const serviceFolders = new Set(Object.values(SERVICES).flatMap(service => service.folders));
      const offending = importsOf(join('core', 'core.module.ts'))
        .filter(({ from, folder }) => folder && serviceFolders.has(folder) && !exceptions.has(from))
        .map(({ from }) => from);
      expect(offending).toEqual([]);
    });
  });

  it('imports controllers only to compose the app or to document its API', () => {
    // The composition roots, the OpenAPI document (it reads the request schemas the controllers
    // export), and the relay's status, which reads the relay that lives beside its controller.
    const allowed = new Set([
      join('ingest', 'ingest.module.ts'),
      join('gateway', 'gateway.module.ts'),
      join('health', 'health.module.ts'),
      join('console-api', 'index.ts'),
      join('notify', 'index.ts'),
      join('gateway', 'openapi.ts'),
      join('notify', 'notify-status.ts'),
    ]);
    const offending = files
      .filter(file => !file.path.endsWith('.controller.ts') && !allowed.has(file.path))
      .flatMap(file =>
        file.imports
          .filter(from => from.endsWith('.controller'))
          .map(from => `${file.path} → ${from}`),
      );
    expect(offending).toEqual([]);
  });

  it('decides scope and roles in auth/ only: no request scope, no hand-made scope check', () => {
    // The alarm lifecycle re-checks the role of a remote command with the same rule (mayAct).
    const offending = files
      .filter(
        file => !file.path.startsWith('auth') && file.path !== join('alarms', 'alarm.service.ts'),
      )
      .filter(file =>
        /@Req\(\)|requestScope|\binScope\(|\bmayAct\(|\bmayAdminister\(|\.scope\)\)?\.length|orgPath\([^)]*\)\.some/.test(
          file.text,
        ),
      )
      .map(file => file.path);
    expect(offending).toEqual([]);
  });
});
