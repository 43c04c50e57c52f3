import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

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

  it('imports controllers only to compose the app or to document its API', () => {
    // The composition roots, the OpenAPI document (it reads the request schemas the controllers
    // export), and the relay's status, which reads the relay that lives beside its controller.
    const allowed = new Set([
      'vigil.module.ts',
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
