import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * What the console's bundle is made of (scripts/console-bundle.mjs, the options scripts/build.mjs
 * builds dist/apps/console with). zod is a server-side concern: it reached the bundle through a
 * module the console used (a constant beside a schema in @vigil/contracts) or through a lib
 * barrel (@vigil/alarms' risk roll-up → @vigil/rules), and made up 454 KB of its 720 KB.
 */
describe('the console bundle', () => {
  const script = join(__dirname, '../../../scripts/console-bundle.mjs');
  const run = spawnSync(process.execPath, [script, '--report'], { encoding: 'utf8' });

  it('builds', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('holds no zod, no rule catalogue and no Node-only lib', () => {
    const { parts } = JSON.parse(run.stdout) as { parts: Record<string, number> };
    expect(Object.keys(parts).sort()).toEqual([
      'apps/console',
      'libs/alarms',
      'libs/contracts',
      'preact',
      'uplot',
    ]);
  });
});
