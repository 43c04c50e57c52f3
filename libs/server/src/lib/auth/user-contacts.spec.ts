import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { AuthService } from './auth.service';

const SAMPLE = join(__dirname, '../../../../../registry/sample');

/** Users file `email` and `phone` (issue 15): validated at start, never in the public user. */
describe('user contacts (users file)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vigil-contacts-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function service(lines: string[]): AuthService {
    writeFileSync(join(dir, 'users.yaml'), ['users:', ...lines].join('\n'));
    const config = loadConfig({
      VIGIL_REGISTRY: SAMPLE,
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_DEMO_MODE: 'false',
      VIGIL_USERS: join(dir, 'users.yaml'),
      VIGIL_AUTH_SECRET: 'a-test-secret-of-at-least-32-characters!',
    });
    const metrics = new VigilMetrics();
    return new AuthService(config, new RegistryHolder(config, metrics), metrics);
  }
  const user = (extra: string) =>
    `  - { id: zhang, name: 张伟, role: operator, scope: ent-huaxin, passwordHash: "scrypt$x"${extra} }`;

  it('keeps email and phone for the notifier, out of the user the API answers', () => {
    const auth = service([
      user(', email: zhang@huaxin.test, phone: "+8613800000001"'),
      '  - { id: li, name: 李娜, role: operator, scope: ent-huaxin, passwordHash: "scrypt$x" }',
    ]);
    expect(auth.contactOf('zhang')).toEqual({
      name: '张伟',
      email: 'zhang@huaxin.test',
      phone: '+8613800000001',
    });
    expect(auth.contactOf('li')).toEqual({ name: '李娜' });
    expect(auth.contactOf('nobody')).toBeUndefined();
    expect(auth.knownUser('zhang')).toEqual({
      id: 'zhang',
      name: '张伟',
      role: 'operator',
      scope: 'ent-huaxin',
    });
  });

  it('refuses a malformed address or number at start, naming the field', () => {
    expect(() => service([user(', email: not-an-address')])).toThrow(/users\.0\.email/);
    expect(() => service([user(', phone: "13800000001"')])).toThrow(
      /users\.0\.phone: an E\.164 number/,
    );
  });
});
