// npm run backup / npm run restore (scripts/backup.mjs, scripts/restore.mjs) on a real influxd
// 1.6.7 with authentication on (issue 13): write points and alarm journal entries, back up, wipe
// both, restore, read back.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

jest.setTimeout(120_000);

const REPO_ROOT = resolve(__dirname, '..');
const ADMIN = { username: 'admin', password: 'backup-test' };

function run(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; output: string }>(done => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'scripts', script), ...args],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

async function influx(url: string, q: string): Promise<unknown[][]> {
  const auth = new URLSearchParams({ u: ADMIN.username, p: ADMIN.password });
  const body = new URLSearchParams({ q, db: 'vigil', epoch: 'ms' });
  const response = await fetch(`${url}/query?${auth}`, { method: 'POST', body });
  const json = (await response.json()) as {
    results?: { error?: string; series?: { values?: unknown[][] }[] }[];
  };
  if (!response.ok || json.results?.[0]?.error) throw new Error(`${q}: ${JSON.stringify(json)}`);
  return json.results?.[0]?.series?.flatMap(series => series.values ?? []) ?? [];
}

describe('npm run backup / npm run restore', () => {
  let work: string;
  let server: InfluxHandle | undefined;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vigil-backup-'));
  });
  afterAll(async () => {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('backs up InfluxDB and the alarm journal, and restores both after a wipe', async () => {
    server = await startInfluxd({ authEnabled: true, admin: ADMIN });
    const t0 = Date.now() - 60_000;
    await influx(server.url, 'CREATE DATABASE "vigil"');
    const lines = Array.from(
      { length: 20 },
      (_, i) => `telemetry,device=gt-1,site=plant-1 ppm=${i} ${(t0 + i * 1000) * 1e6}`,
    ).join('\n');
    const auth = new URLSearchParams({
      db: 'vigil',
      precision: 'n',
      ...{ u: ADMIN.username, p: ADMIN.password },
    });
    expect(
      (await fetch(`${server.url}/write?${auth}`, { method: 'POST', body: lines })).status,
    ).toBe(204);

    const dataDir = join(work, 'data');
    await mkdir(join(dataDir, 'alarms'), { recursive: true });
    const journal =
      '{"seq":1,"alarm":"a-1","action":"raise"}\n{"seq":2,"alarm":"a-1","action":"acknowledge"}\n';
    await writeFile(join(dataDir, 'alarms', 'journal.jsonl'), journal);

    const out = join(work, 'backup-1');
    const rpc = `127.0.0.1:${server.rpcPort}`;
    const backup = await run('backup.mjs', [
      '--out',
      out,
      '--data-dir',
      dataDir,
      '--influx-rpc',
      rpc,
    ]);
    expect(backup).toMatchObject({ code: 0 });
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))).toMatchObject({
      database: 'vigil',
      influx: true,
      alarms: true,
    });

    // A second backup into the same folder is refused, loudly.
    expect(
      (await run('backup.mjs', ['--out', out, '--data-dir', dataDir, '--influx-rpc', rpc])).code,
    ).toBe(1);

    // Wipe: a fresh server on an empty data dir, and no journal.
    await server.stop();
    server = await startInfluxd({ authEnabled: true, admin: ADMIN });
    await rm(join(dataDir, 'alarms'), { recursive: true, force: true });
    expect(await influx(server.url, 'SHOW DATABASES')).not.toContainEqual(['vigil']);

    const restore = await run('restore.mjs', [
      '--from',
      out,
      '--data-dir',
      dataDir,
      '--influx-rpc',
      `127.0.0.1:${server.rpcPort}`,
    ]);
    expect(restore).toMatchObject({ code: 0 });
    // The restored shards are imported by the server: read back until they are there.
    const url = server.url;
    const rows = await waitFor(
      async () => {
        const found = await influx(url, 'SELECT count(ppm), sum(ppm) FROM telemetry');
        return found.length > 0 ? found : undefined;
      },
      { what: 'restored points', timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(rows[0]?.slice(1)).toEqual([20, 190]);
    expect(await readdir(join(dataDir, 'alarms'))).toEqual(['journal.jsonl']);
    expect(await readFile(join(dataDir, 'alarms', 'journal.jsonl'), 'utf8')).toBe(journal);

    // Restoring over a journal that exists is refused: it is never overwritten.
    const again = await run('restore.mjs', ['--from', out, '--data-dir', dataDir, '--no-influx']);
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/not empty/);
  });

  it('explains its usage when --out is missing', async () => {
    const result = await run('backup.mjs', []);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/--out <dir> is required/);
  });
});
