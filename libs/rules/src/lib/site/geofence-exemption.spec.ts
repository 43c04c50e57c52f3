import type { RuleSignal } from '@vigil/contracts';

import { SITE, context, fix, layout, tick } from './site-fixtures';
import { compileSiteRules, reduceSiteRules } from './site-rules.reducer';
import { type SiteInput, createSiteRulesState } from './site-state';

/**
 * Geofence exemption for the named workers of an active special-operation permit (issue 15): no
 * intrusion for them in the permit's area while the permit lets them in, one for everybody else.
 * The sump (site-fixtures) is restricted, 200..230 × 0..30; 3 m inside is x ≥ 203.
 */
function harness(exempt: (siteId: string, areaId: string, tagId: string, now: number) => boolean) {
  const state = createSiteRulesState(compileSiteRules({ sites: [layout()] }));
  const options = { ...context, geofenceExempt: exempt };
  return (...inputs: SiteInput[]): RuleSignal[] =>
    inputs.flatMap(input => [...reduceSiteRules(state, input, options).signals]);
}

const intrusions = (signals: RuleSignal[]) =>
  signals.filter(signal => signal.ruleId === 'intrusion').map(s => `${s.deviceId}:${s.active}`);

describe('geofence exemption (special-operation permit)', () => {
  let permitActiveUntil = Infinity;
  const exempt = (siteId: string, areaId: string, tagId: string, now: number) =>
    siteId === SITE && areaId === 'sump' && tagId === 'worker' && now < permitActiveUntil;

  beforeEach(() => {
    permitActiveUntil = Infinity;
  });

  it('raises no intrusion for a named worker, and one for an unnamed tag beside them', () => {
    const feed = harness(exempt);
    const out = feed(
      fix('worker', 1_000, 210, 15),
      fix('visitor', 1_000, 211, 15),
      fix('worker', 2_000, 212, 15),
      fix('visitor', 2_000, 213, 15),
      tick(10_000),
    );
    expect(intrusions(out)).toEqual(['visitor:true']);
  });

  it('does not confirm an exempt worker by time either (a slow tag, ticks only)', () => {
    const feed = harness(exempt);
    expect(intrusions(feed(fix('worker', 1_000, 210, 15), tick(7_000), tick(8_000)))).toEqual([]);
  });

  it('raises for the worker once the permit no longer lets them in (window over, suspended)', () => {
    const feed = harness(exempt);
    expect(intrusions(feed(fix('worker', 1_000, 210, 15), fix('worker', 2_000, 210, 15)))).toEqual(
      [],
    );
    permitActiveUntil = 3_000;
    expect(intrusions(feed(fix('worker', 3_000, 210, 15), fix('worker', 4_000, 210, 15)))).toEqual([
      'worker:true',
    ]);
  });

  it('leaves an intrusion raised before the permit: it clears when the tag leaves', () => {
    permitActiveUntil = 0;
    const feed = harness(exempt);
    expect(intrusions(feed(fix('worker', 1_000, 210, 15), fix('worker', 2_000, 210, 15)))).toEqual([
      'worker:true',
    ]);
    permitActiveUntil = Infinity;
    expect(intrusions(feed(fix('worker', 3_000, 210, 15), tick(20_000)))).toEqual([]);
    expect(
      intrusions(feed(fix('worker', 21_000, 190, 15), fix('worker', 22_000, 190, 15))),
    ).toEqual(['worker:false']);
  });
});
