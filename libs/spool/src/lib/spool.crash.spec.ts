import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Spool } from './spool';

/**
 * A child process appends as fast as it can and prints each seq once durable() resolved; it is
 * SIGKILLed mid-appends. Reopened, the spool holds every acknowledged entry, intact and in order.
 */
describe('Spool after SIGKILL', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-crash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged entry', async () => {
    let acknowledged = 0;
    for (let round = 0; round < 2; round += 1) {
      const child = spawn(
        process.execPath,
        ['-r', '@swc-node/register', join(__dirname, 'crash-child.fixture.ts'), dir],
        {
          env: {
            ...process.env,
            SWC_NODE_PROJECT: join(__dirname, '../../../../tsconfig.base.json'),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let output = '';
      let lines = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        for (const byte of chunk) if (byte === 10) lines += 1;
      });
      // Kill once it has acknowledged a good number of entries (mid-appends: it never stops).
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (lines > 20_000) {
            clearInterval(check);
            child.kill('SIGKILL');
            resolve();
          }
        }, 20);
        child.once('exit', code => {
          clearInterval(check);
          if (code !== null) reject(new Error(`child exited with ${code}`));
        });
      });
      await new Promise(resolve => child.once('close', resolve));
      const acked = output
        .split('\n')
        .filter(line => line.length > 0)
        .map(Number);
      acknowledged = Math.max(acknowledged, ...acked);
    }
    const spool = Spool.open({ dir, maxBytes: 256 * 1024 * 1024, fsyncMs: 2 });
    try {
      expect(spool.lastSeq).toBeGreaterThanOrEqual(acknowledged);
      const cursor = spool.cursor('check');
      let expected = 1;
      const wrong: string[] = [];
      for (let batch = cursor.read(5000); batch.length > 0; batch = cursor.read(5000)) {
        for (const entry of batch) {
          const text = `entry ${expected} ${'p'.repeat(expected % 300)}`;
          if (entry.seq !== expected || entry.payload.toString() !== text)
            wrong.push(`seq ${entry.seq}`);
          expected += 1;
        }
      }
      expect(wrong).toEqual([]);
      expect(expected - 1).toBe(spool.lastSeq);
    } finally {
      await spool.close();
    }
  }, 60_000);
});
