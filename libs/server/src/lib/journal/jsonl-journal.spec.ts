import {
  appendFileSync,
  fdatasyncSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { VigilMetrics } from '../metrics/metrics';
import { JournalStatus } from './journal-status';
import { JournalWriteError, JsonlJournal } from './jsonl-journal';

// fdatasync as the journal sees it: the real one, unless a test makes the disk fail it once.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return { ...actual, fdatasyncSync: jest.fn(actual.fdatasyncSync) };
});

interface Step {
  readonly id: string;
  readonly n: number;
}

describe('JsonlJournal (files on disk)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-jsonl-'));
    path = join(dir, 'sub', 'steps.jsonl');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replays the file and keeps the last step per id, as the alarm and hazard journals do. */
  const lastById = (journal: JsonlJournal<Step>) => {
    const last = new Map<string, Step>();
    const counts = journal.replay(step => last.set(step.id, step));
    return { last, ...counts };
  };
  /** The process died in the middle of a write: half a line, no newline, never acknowledged. */
  const tearLastLine = () => appendFileSync(path, '{"id":"b","n":');

  it('skips and counts a torn last line, keeps every whole one, in order', () => {
    const journal = new JsonlJournal<Step>(path, { name: 'steps' });
    expect(lastById(journal)).toEqual({ last: new Map(), entries: 0, skipped: 0 });
    journal.compact([]);
    journal.append([
      { id: 'a', n: 1 },
      { id: 'b', n: 1 },
    ]);
    journal.append([{ id: 'a', n: 2 }]);
    journal.close();
    tearLastLine();

    const seen: Step[] = [];
    const again = new JsonlJournal<Step>(path, { name: 'steps' });
    expect(again.replay(step => seen.push(step))).toEqual({ entries: 3, skipped: 1 });
    expect(seen).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: 1 },
      { id: 'a', n: 2 },
    ]);
  });

  it('compacts to what the caller keeps (atomically: no .compact file left), then appends after it', () => {
    const journal = new JsonlJournal<Step>(path, { name: 'steps' });
    journal.compact([]);
    for (let n = 1; n <= 50; n += 1) journal.append([{ id: `s${n % 3}`, n }]);
    journal.close();
    tearLastLine();

    const reopened = new JsonlJournal<Step>(path, { name: 'steps' });
    const { last, entries, skipped } = lastById(reopened);
    expect({ entries, skipped }).toEqual({ entries: 50, skipped: 1 });
    reopened.compact([...last.values()]);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['steps.jsonl']);
    expect(readFileSync(path, 'utf8')).toBe(
      `${[...last.values()].map(step => JSON.stringify(step)).join('\n')}\n`,
    );
    reopened.append([{ id: 's9', n: 51 }]);
    reopened.close();

    const third = lastById(new JsonlJournal<Step>(path, { name: 'steps' }));
    expect({ entries: third.entries, skipped: third.skipped }).toEqual({ entries: 4, skipped: 0 });
    expect(third.last.get('s2')).toEqual({ id: 's2', n: 50 });
    expect(third.last.get('s9')).toEqual({ id: 's9', n: 51 });
  });

  it('counts a failed fdatasync, reports it (metric, /readyz status) and throws it to the caller until a write is durable again', async () => {
    const metrics = new VigilMetrics();
    const status = new JournalStatus(metrics);
    const journal = new JsonlJournal<Step>(path, { name: 'steps', status });
    journal.compact([]);
    // The disk refuses to make the write durable (EIO from fdatasync, as on a failing disk).
    const sync = jest.mocked(fdatasyncSync);
    sync.mockClear();
    sync.mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    });
    let thrown: unknown;
    try {
      journal.append([{ id: 'a', n: 1 }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(JournalWriteError);
    expect((thrown as Error).message).toMatch(/steps journal .* NOT made durable \(EIO/);
    expect(journal.writeErrors).toBe(1);
    expect(status.ok).toBe(false);
    expect(status.report()).toEqual({
      steps: { errors: 1, lastError: (thrown as Error).message, lastErrorAt: expect.any(Number) },
    });
    const counted = await metrics.journalWriteErrors.get();
    expect(counted.values).toEqual([{ labels: { journal: 'steps' }, value: 1 }]);

    // The next append is durable: the failure is no longer shown (the count stays).
    journal.append([{ id: 'a', n: 2 }]);
    expect(sync).toHaveBeenCalledTimes(2);
    expect(status.ok).toBe(true);
    expect(journal.writeErrors).toBe(1);
    journal.close();
  });

  it('refuses an append before it is opened (a caller bug, loud)', () => {
    const journal = new JsonlJournal<Step>(path, { name: 'steps' });
    expect(() => journal.append([{ id: 'a', n: 1 }])).toThrow('steps journal is not open');
  });
});
