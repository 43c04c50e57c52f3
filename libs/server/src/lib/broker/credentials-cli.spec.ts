import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCredentialsCli } from './credentials-cli';
import { readCredentialsFile, verifySecret } from './device-credentials';

const SAMPLE = join(__dirname, '../../../../../registry/sample');

describe('credentials CLI', () => {
  let dir = '';
  let out: string[];
  let err: string[];
  const run = (...argv: string[]) =>
    runCredentialsCli(
      argv,
      { VIGIL_DATA_DIR: dir, VIGIL_REGISTRY: SAMPLE },
      {
        out: line => out.push(line),
        err: line => err.push(line),
      },
    );
  const file = () => join(dir, 'device-credentials.json');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-credentials-'));
    out = [];
    err = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('issues a secret once and stores only its hashes, owner-readable', async () => {
    expect(await run('issue', 'plant-1/gc-tf-02')).toBe(0);
    const [line] = out;
    const secret = /secret (\S+)$/.exec(line ?? '')?.[1] ?? '';
    expect(line).toMatch(/^plant-1\/gc-tf-02: username gc-tf-02 secret /);
    const text = readFileSync(file(), 'utf8');
    expect(text).not.toContain(secret);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    const [credential] = readCredentialsFile(file()).credentials;
    expect(await verifySecret(secret, credential?.hash ?? '')).toBe(true);
    expect(credential?.mosquittoHash).toMatch(/^\$7\$101\$/);
  });

  it('refuses unknown devices and a second issue, listing every problem', async () => {
    await run('issue', 'plant-1/gc-tf-02');
    expect(await run('issue', 'plant-1/gc-tf-02', 'plant-1/nope', 'plant-9/gc-tf-02')).toBe(1);
    expect(err.join('\n')).toContain('plant-1/gc-tf-02: has a credential already');
    expect(err.join('\n')).toContain('plant-1/nope: not a device of the registry');
    expect(err.join('\n')).toContain('plant-9/gc-tf-02: not a device of the registry');
  });

  it('rotates (the old secret stops working) and revokes', async () => {
    await run('issue', 'plant-1/gc-tf-02');
    const before = readCredentialsFile(file()).credentials[0]?.hash;
    expect(await run('rotate', 'plant-1/gc-tf-02')).toBe(0);
    expect(readCredentialsFile(file()).credentials[0]?.hash).not.toBe(before);
    expect(await run('revoke', 'plant-1/gc-tf-02')).toBe(0);
    expect(readCredentialsFile(file()).credentials).toEqual([]);
    expect(await run('revoke', 'plant-1/gc-tf-02')).toBe(1);
  });

  it('issues a whole site into a secrets file, and lists who has a credential', async () => {
    const secrets = join(dir, 'sim.json');
    expect(await run('issue', 'plant-1/*', '--secrets-out', secrets)).toBe(0);
    const issued = JSON.parse(readFileSync(secrets, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(issued)).toContain('plant-1/gc-tf-02');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    out = [];
    await run('list', 'plant-1');
    expect(out.some(l => l.startsWith('plant-1/gc-tf-02\tusername gc-tf-02'))).toBe(true);
    expect(out.some(l => l.endsWith('no credential'))).toBe(false);
  });

  it('refuses a malformed secrets file instead of treating it as empty', async () => {
    writeFileSync(file(), '{"version": 1, "credentials": [{"site": "x"}]}');
    expect(await run('list')).toBe(1);
    expect(err.join('\n')).toMatch(/device-credentials\.json: credentials\.0/);
  });
});
