import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { requireBinary } from '@vigil/testing';

import { runNotifyCli } from './notify-cli';

const ROOT = join(__dirname, '../../../../..');

describe('npm run notify -- alertmanager-config', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'vigil-notify-cli-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = runNotifyCli(args, {
      stdout: text => (stdout += text),
      stderr: text => (stderr += text),
    });
    return { code, stdout, stderr };
  }

  it('generates from the shipped example and the sample registry a file amtool accepts', () => {
    const out = join(dir, 'alertmanager.yml');
    const result = run([
      'alertmanager-config',
      '--notify',
      join(ROOT, 'deploy/alertmanager/notify.example.yaml'),
      '--registry',
      join(ROOT, 'registry/sample'),
      '--out',
      out,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: `wrote ${out}\n` });
    const amtool = requireBinary('amtool', 'prometheus-alertmanager');
    expect(
      execFileSync(amtool, ['check-config', out], { encoding: 'utf8', stdio: 'pipe' }),
    ).toContain('SUCCESS');
    expect(readFileSync(out, 'utf8')).toContain('notify_node="county-east"');
  });

  it('lists every problem and exits 1', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'receivers:\n  nowhere: { email: [x@y.example] }\n');
    const result = run([
      'alertmanager-config',
      '--notify',
      bad,
      '--registry',
      join(ROOT, 'registry/sample'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs the smtp section');
  });

  it('prints the usage for anything else', () => {
    expect(run([]).code).toBe(2);
    expect(run(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('usage:') });
  });
});
