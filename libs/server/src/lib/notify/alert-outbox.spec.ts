import { AlertOutbox, type AlertOutcome, type PostOutcome } from './alert-outbox';
import type { PostableAlert } from './alerts';

function alert(id: string, endsAt = '2026-12-07T02:04:00.000Z'): PostableAlert {
  return {
    labels: { alertname: 'VigilAlarm', alarm_id: id },
    annotations: {},
    startsAt: '2026-12-07T02:00:00.000Z',
    endsAt,
    generatorURL: 'http://vigil',
  };
}

/** An outbox whose posts and timers the test drives by hand. */
function harness(maxPending = 100) {
  const posts: { alerts: readonly PostableAlert[]; settle: (o: PostOutcome) => void }[] = [];
  const counts: Partial<Record<AlertOutcome, number>> = {};
  const warnings: string[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  let now = 0;
  const outbox = new AlertOutbox({
    post: alerts =>
      new Promise(resolve => {
        posts.push({ alerts, settle: outcome => resolve({ outcome, detail: `said ${outcome}` }) });
      }),
    count: (outcome, n) => (counts[outcome] = (counts[outcome] ?? 0) + n),
    warn: (_key, message) => warnings.push(message),
    now: () => now,
    setTimer: (callback, ms) => timers.push({ callback, ms }),
    clearTimer: () => undefined,
    maxPending,
    batchSize: 10,
    minBackoffMs: 500,
    maxBackoffMs: 4000,
  });
  const flush = () => new Promise(resolve => setImmediate(resolve));
  return { outbox, posts, counts, warnings, timers, flush, tick: (ms: number) => (now += ms) };
}

describe('AlertOutbox', () => {
  it('sends, counts and reports ok', async () => {
    const h = harness();
    h.outbox.enqueue('a', alert('a'));
    expect(h.posts).toHaveLength(1);
    h.posts[0]?.settle('sent');
    await h.flush();
    expect(h.counts).toEqual({ sent: 1 });
    expect(h.outbox.health()).toMatchObject({ status: 'ok', pending: 0 });
    expect(h.outbox.idle).toBe(true);
  });

  it('retries a failed batch with exponential backoff, degraded until it succeeds', async () => {
    const h = harness();
    h.outbox.enqueue('a', alert('a'));
    for (const expected of [500, 1000, 2000, 4000, 4000]) {
      h.posts.at(-1)?.settle('retry');
      await h.flush();
      expect(h.timers.at(-1)?.ms).toBe(expected);
      expect(h.outbox.health()).toMatchObject({ status: 'degraded', pending: 1 });
      h.timers.at(-1)?.callback();
    }
    expect(h.posts).toHaveLength(6);
    h.posts.at(-1)?.settle('sent');
    await h.flush();
    expect(h.counts).toEqual({ failed: 5, sent: 1 });
    expect(h.outbox.health()).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
    expect(h.warnings).toHaveLength(5);
  });

  it('treats a thrown post (network error, timeout) as a failure to retry', async () => {
    const counts: Partial<Record<AlertOutcome, number>> = {};
    const timers: number[] = [];
    const outbox = new AlertOutbox({
      post: () => Promise.reject(new Error('ECONNREFUSED')),
      count: (outcome, n) => (counts[outcome] = (counts[outcome] ?? 0) + n),
      warn: () => undefined,
      setTimer: (_callback, ms) => timers.push(ms),
    });
    outbox.enqueue('a', alert('a'));
    await new Promise(resolve => setImmediate(resolve));
    expect(counts).toEqual({ failed: 1 });
    expect(timers).toEqual([500]);
    expect(outbox.health()).toMatchObject({ status: 'degraded', lastError: 'ECONNREFUSED' });
  });

  it('never sends a stale state after a newer one: the resolved alert replaces the firing one', async () => {
    const h = harness();
    h.outbox.enqueue('a', alert('a'));
    h.outbox.enqueue('a', alert('a', '2026-12-07T02:01:00.000Z'));
    h.posts[0]?.settle('retry');
    await h.flush();
    h.timers[0]?.callback();
    expect(h.posts[1]?.alerts).toEqual([alert('a', '2026-12-07T02:01:00.000Z')]);
  });

  it('does not retry what Alertmanager rejects, and says so', async () => {
    const h = harness();
    h.outbox.enqueue('a', alert('a'));
    h.posts[0]?.settle('rejected');
    await h.flush();
    expect(h.counts).toEqual({ rejected: 1 });
    expect(h.timers).toHaveLength(0);
    expect(h.outbox.health()).toMatchObject({ status: 'degraded', rejected: 1 });
    expect(h.warnings[0]).toContain('refused');
  });

  it('is bounded: beyond maxPending the oldest alert is dropped, counted and logged', async () => {
    const h = harness(3);
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) h.outbox.enqueue(id, alert(id));
    // 'a' is in flight; b..f wait, of which the two oldest go.
    expect(h.counts).toEqual({ dropped: 2 });
    expect(h.outbox.health()).toMatchObject({ pending: 3, dropped: 2 });
    h.posts[0]?.settle('sent');
    await h.flush();
    expect(h.posts[1]?.alerts.map(a => a.labels['alarm_id'])).toEqual(['d', 'e', 'f']);
    expect(h.warnings.some(w => w.includes('dropped'))).toBe(true);
  });

  it('batches what waits while a post is in flight', async () => {
    const h = harness();
    h.outbox.enqueue('a', alert('a'));
    h.outbox.enqueue('b', alert('b'));
    h.outbox.enqueue('c', alert('c'));
    expect(h.posts).toHaveLength(1);
    h.posts[0]?.settle('sent');
    await h.flush();
    expect(h.posts[1]?.alerts).toHaveLength(2);
  });
});
