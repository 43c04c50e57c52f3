import type { CanaryHop, CanaryReport } from '@vigil/contracts';

import { CanaryMonitor, canaryOffStatus, pipelineStatusFor } from './canary-monitor';

const ALL: CanaryHop[] = ['ingest', 'rules', 'gateway', 'persister'];

function report(hop: CanaryHop, sentAt: number, siteId = 's1', origin = 'me'): CanaryReport {
  return { hop, siteId, origin, seq: sentAt, sentAt, seenAt: sentAt + 5 };
}

/** A monitor on an injected clock: `at` is the time everything below happens. */
function monitor(hops: CanaryHop[] = ALL, sites = ['s1']) {
  const m = new CanaryMonitor({ origin: 'me', timeoutMs: 6000, hops });
  m.setSites(sites, 0);
  return m;
}

function allSee(m: CanaryMonitor, sentAt: number, hops: CanaryHop[] = ALL, siteId = 's1') {
  for (const hop of hops) m.seen(report(hop, sentAt, siteId));
}

describe('CanaryMonitor', () => {
  it('is not blinded by the clock set back: a pipeline that stops after the jump stalls', () => {
    const m = monitor();
    const HOUR = 3_600_000;
    for (let t = 0; t <= 2 * HOUR; t += 2000) allSee(m, t);
    expect(m.evaluate(2 * HOUR + 1000).status.canary).toBe('ok');
    // The server's clock is stepped back an hour (NTP, a restored VM) and the pipeline dies with
    // it: no canary arrives any more. Ages against the newest canary were negative for an hour.
    const back = HOUR + 1000;
    const jumped = m.evaluate(back);
    expect(jumped.clockWentBackMs).toBe(2 * HOUR - back);
    expect(jumped.status.canary).toBe('ok'); // counts from the jump, like a new site
    expect(m.evaluate(back + 6000).status.canary).toBe('ok');
    const stalled = m.evaluate(back + 6001);
    expect(stalled.status.canary).toBe('stalled');
    expect(stalled.status.stalled).toEqual(['ingest', 'rules', 'gateway', 'persister']);
    expect(stalled.alarms).toEqual([{ hop: 'ingest', siteId: 's1', ageMs: 6001 }]);
    expect(stalled.clockWentBackMs).toBeUndefined(); // said once, at the jump
  });

  it('after the clock is set back, canaries sent on the new clock keep every hop ok', () => {
    const m = monitor();
    allSee(m, 100_000);
    expect(m.evaluate(101_000).status.canary).toBe('ok');
    expect(m.evaluate(50_000).clockWentBackMs).toBe(50_000);
    // A canary sent before the jump arrives late: from the "future" again, forgotten again.
    allSee(m, 100_500);
    for (let t = 50_000; t <= 70_000; t += 2000) {
      allSee(m, t);
      expect(m.evaluate(t + 1000).status.canary).toBe('ok');
    }
  });

  it('is ok while every hop sees canaries within the timeout', () => {
    const m = monitor();
    for (let t = 0; t <= 20_000; t += 2000) {
      allSee(m, t);
      const verdict = m.evaluate(t + 1999);
      expect(verdict.status.canary).toBe('ok');
      expect(verdict.changes).toEqual([]);
      expect(verdict.alarms).toEqual([]);
    }
    const last = m.evaluate(21_000).status;
    expect(last.hops.rules).toEqual({ state: 'ok', ageMs: 1000, stalledSites: [] });
    expect(last.lastCanaryAt).toBe(20_000);
    expect(last.timeoutMs).toBe(6000);
  });

  it('names the hop whose canary is overdue, once, and recovers when a newer one arrives', () => {
    const m = monitor();
    allSee(m, 0);
    allSee(m, 2000, ['ingest', 'gateway', 'persister']); // the rules stop after 0
    expect(m.evaluate(6000).changes).toEqual([]); // exactly the timeout: not yet
    const stalled = m.evaluate(6001);
    expect(stalled.changes).toEqual([{ hop: 'rules', siteId: 's1', stalled: true, ageMs: 6001 }]);
    expect(stalled.alarms).toEqual([{ hop: 'rules', siteId: 's1', ageMs: 6001 }]);
    expect(stalled.status.canary).toBe('stalled');
    expect(stalled.status.stalled).toEqual(['rules']);
    expect(stalled.status.hops.rules).toEqual({
      state: 'stalled',
      ageMs: 6001,
      stalledSites: ['s1'],
    });
    expect(stalled.status.hops.ingest.state).toBe('ok');
    expect(stalled.status.lastCanaryAt).toBe(0); // the last canary every hop saw
    // Still stalled: no second change, the alarm stays wanted.
    const still = m.evaluate(7000);
    expect(still.changes).toEqual([]);
    expect(still.alarms).toHaveLength(1);

    allSee(m, 8000);
    const recovered = m.evaluate(8100);
    expect(recovered.changes).toEqual([{ hop: 'rules', siteId: 's1', stalled: false, ageMs: 100 }]);
    expect(recovered.alarms).toEqual([]);
    expect(recovered.status.canary).toBe('ok');
  });

  it('counts a hop that never saw a canary from when its site was first watched', () => {
    const m = new CanaryMonitor({ origin: 'me', timeoutMs: 6000, hops: ALL });
    m.setSites(['s1'], 10_000);
    expect(m.evaluate(15_000).status.canary).toBe('ok');
    expect(m.evaluate(16_001).status.stalled).toEqual(['ingest', 'rules', 'gateway', 'persister']);
  });

  it('raises only the root cause: ingest, while the canary does not reach it', () => {
    const m = monitor();
    allSee(m, 0);
    const verdict = m.evaluate(7000);
    expect(verdict.status.stalled).toEqual(['ingest', 'rules', 'gateway', 'persister']);
    expect(verdict.changes).toHaveLength(4);
    expect(verdict.alarms).toEqual([{ hop: 'ingest', siteId: 's1', ageMs: 7000 }]);
    // Ingest back, the store still stuck: now the store is the cause.
    allSee(m, 7500, ['ingest', 'rules', 'gateway']);
    expect(m.evaluate(8000).alarms).toEqual([{ hop: 'persister', siteId: 's1', ageMs: 8000 }]);
  });

  it('judges every site on its own and reports the worst age per hop', () => {
    const m = monitor(ALL, ['s1', 's2']);
    allSee(m, 0, ALL, 's1');
    allSee(m, 0, ALL, 's2');
    allSee(m, 4000, ALL, 's1');
    allSee(m, 4000, ['ingest', 'rules', 'gateway'], 's2');
    const verdict = m.evaluate(7000);
    expect(verdict.alarms).toEqual([{ hop: 'persister', siteId: 's2', ageMs: 7000 }]);
    expect(verdict.status.hops.persister).toEqual({
      state: 'stalled',
      ageMs: 7000,
      stalledSites: ['s2'],
    });
    expect(verdict.status.hops.ingest.ageMs).toBe(3000);
  });

  it('ignores other origins, unknown sites, unwatched hops and older canaries', () => {
    const m = monitor(['ingest', 'rules', 'gateway']);
    expect(m.seen(report('ingest', 5000, 's1', 'someone-else'))).toBe(false);
    expect(m.seen(report('ingest', 5000, 'nowhere'))).toBe(false);
    expect(m.seen(report('persister', 5000))).toBe(false);
    allSee(m, 5000, ['ingest', 'rules', 'gateway']);
    m.seen(report('rules', 1000)); // a late, older report does not turn the clock back
    const status = m.evaluate(6000).status;
    expect(status.hops.rules.ageMs).toBe(1000);
    expect(status.hops.persister).toEqual({ state: 'off', ageMs: undefined, stalledSites: [] });
  });

  it('drops removed sites and watches added ones from when they were added', () => {
    const m = monitor(ALL, ['s1']);
    m.setSites(['s2'], 5000);
    const verdict = m.evaluate(10_000);
    expect(verdict.status.canary).toBe('ok');
    expect(verdict.status.hops.ingest.ageMs).toBe(5000);
  });

  it('refuses a timeout that is not positive', () => {
    expect(() => new CanaryMonitor({ origin: 'me', timeoutMs: 0, hops: ALL })).toThrow(RangeError);
  });

  it('describes a disabled canary as off', () => {
    expect(canaryOffStatus(6000)).toMatchObject({ canary: 'off', stalled: [], timeoutMs: 6000 });
  });
});

describe('pipelineStatusFor', () => {
  it('names only the sites a user may see, and what is stalled only elsewhere is ok for them', () => {
    const m = monitor(ALL, ['s1', 's2']);
    allSee(m, 0, ALL, 's1');
    allSee(m, 0, ALL, 's2');
    allSee(m, 4000, ALL, 's1');
    allSee(m, 4000, ['ingest', 'rules', 'gateway'], 's2');
    const status = m.evaluate(7000).status;
    const s1Only = pipelineStatusFor(status, site => site === 's1');
    expect(s1Only).toMatchObject({ canary: 'ok', stalled: [] });
    expect(s1Only.hops.persister).toEqual({ state: 'ok', ageMs: 7000, stalledSites: [] });
    const s2Only = pipelineStatusFor(status, site => site === 's2');
    expect(s2Only).toMatchObject({ canary: 'stalled', stalled: ['persister'] });
    expect(s2Only.hops.persister.stalledSites).toEqual(['s2']);
  });
});
