import type { RuleSignal } from '@vigil/contracts';

import type { SiteArea } from './site-config';
import {
  SITE,
  context,
  deviceSignal,
  expectAlternating,
  fix,
  layout,
  siteSignalLike,
  tagReading,
  tick,
} from './site-fixtures';
import { compileSiteRules, reduceSiteRules } from './site-rules.reducer';
import {
  type SiteInput,
  type SiteRulesState,
  type SiteState,
  createSiteRulesState,
  crowdsInArea,
  musterList,
  peopleInArea,
  tagPositions,
} from './site-state';

/** A running reducer: feed inputs, read the signals of each step and the state. */
function harness(overrides: Partial<Record<string, Partial<SiteArea>>> = {}) {
  const sites = compileSiteRules({ sites: [layout(overrides)] });
  const state: SiteRulesState = createSiteRulesState(sites);
  const all: RuleSignal[] = [];
  const feed = (...inputs: SiteInput[]): RuleSignal[] => {
    const out: RuleSignal[] = [];
    for (const input of inputs) out.push(...reduceSiteRules(state, input, context).signals);
    all.push(...out);
    return out;
  };
  /** Ticks every second from `from` to `to` inclusive, returning what they raised. */
  const ticks = (from: number, to: number): RuleSignal[] => {
    const out: RuleSignal[] = [];
    for (let now = from; now <= to; now += 1000) out.push(...feed(tick(now)));
    return out;
  };
  const site = (): SiteState => state.sites.get(SITE) as SiteState;
  return { state, feed, ticks, site, all };
}

describe('geofence: restricted area intrusion (§9.7)', () => {
  // The sump is 200..230 × 0..30; 3 m inside is x ≥ 203.
  it('raises on the second consecutive fix at least 3 m inside, at that fix', () => {
    const { feed, all } = harness();
    expect(feed(fix('t1', 1_000, 203, 15))).toEqual([]);
    expect(feed(fix('t1', 2_000, 210, 15))).toEqual([
      siteSignalLike('t1', 'intrusion', true, 2_000, {
        areaKey: 'sump',
        areaId: 'sump',
        priority: 2,
        level: 'intrusion',
        category: 'process',
        deviceClass: 'tag',
        message: 't1 entered restricted area Sump (≥ 3 m inside, 2 fixes)',
      }),
    ]);
    expectAlternating(all);
  });

  it('does not raise for fixes inside the accuracy buffer (2.9 m inside)', () => {
    const { feed, ticks } = harness();
    feed(fix('t1', 1_000, 202.9, 15), fix('t1', 2_000, 202.9, 15), fix('t1', 3_000, 215, 29));
    expect(ticks(4_000, 20_000)).toEqual([]);
  });

  it('raises on a tick ≥ 5 s after a single fix inside when the tag reports slowly', () => {
    const { feed, ticks } = harness();
    feed(fix('t1', 1_000, 215, 15));
    expect(ticks(2_000, 5_000)).toEqual([]);
    expect(ticks(6_000, 6_000)).toEqual([
      siteSignalLike('t1', 'intrusion', true, 6_000, {
        areaKey: 'sump',
        message: 't1 entered restricted area Sump (≥ 3 m inside, 5 s)',
      }),
    ]);
  });

  it('restarts a pending entry on a fix inside the buffer', () => {
    const { feed, ticks } = harness();
    feed(fix('t1', 1_000, 215, 15), fix('t1', 2_000, 201, 15)); // second fix only 1 m inside
    expect(ticks(3_000, 6_500)).toEqual([]);
    expect(feed(fix('t1', 7_000, 215, 15))).toEqual([]);
    expect(feed(fix('t1', 8_000, 215, 15))).toHaveLength(1);
  });

  it('clears after two fixes more than 3 m outside, not at the fence', () => {
    const { feed, all } = harness();
    feed(fix('t1', 1_000, 215, 15), fix('t1', 2_000, 215, 15));
    expect(feed(fix('t1', 3_000, 199, 15), fix('t1', 4_000, 197, 15))).toEqual([]); // 1 m, 3 m out
    expect(feed(fix('t1', 5_000, 196.9, 15))).toEqual([]);
    expect(feed(fix('t1', 6_000, 150, 15))).toEqual([
      siteSignalLike('t1', 'intrusion', false, 6_000, {
        areaKey: 'sump',
        message: 't1 left restricted area Sump (> 3 m outside, 2 fixes)',
      }),
    ]);
    expectAlternating(all);
  });

  it('clears on a tick 5 s after a single fix outside when the tag reports slowly', () => {
    const { feed, ticks } = harness();
    feed(fix('t1', 1_000, 215, 15), fix('t1', 2_000, 215, 15));
    feed(fix('t1', 3_000, 150, 15));
    expect(ticks(4_000, 7_000)).toEqual([]);
    expect(ticks(8_000, 8_000)).toEqual([
      siteSignalLike('t1', 'intrusion', false, 8_000, { areaKey: 'sump' }),
    ]);
  });

  it('honours per-area overrides (one fix confirms, 1 m buffer)', () => {
    const { feed } = harness({ sump: { rules: { intrusion: { confirmFixes: 1, bufferM: 1 } } } });
    expect(feed(fix('t1', 1_000, 201, 15))).toHaveLength(1);
  });
});

describe('overstay (§9.7)', () => {
  it('raises strictly after 10 min in a restricted area and clears on leaving', () => {
    const { feed, ticks, all } = harness();
    feed(fix('t1', 0, 215, 15), fix('t1', 1_000, 215, 15)); // intrusion at 1 s
    for (let ts = 30_000; ts <= 600_000; ts += 30_000) feed(fix('t1', ts, 215, 15));
    expect(ticks(600_000, 600_000)).toEqual([]); // exactly 10 min
    expect(ticks(601_000, 601_000)).toEqual([
      siteSignalLike('t1', 'overstay', true, 601_000, {
        areaKey: 'sump',
        priority: 2,
        threshold: 10,
        message: 't1 in Sump for 10.02 min (limit 10 min)',
      }),
    ]);
    const out = feed(fix('t1', 602_000, 150, 15), fix('t1', 603_000, 150, 15));
    expect(out).toEqual([
      siteSignalLike('t1', 'overstay', false, 602_000, { areaKey: 'sump' }),
      siteSignalLike('t1', 'intrusion', false, 603_000, { areaKey: 'sump' }),
    ]);
    expectAlternating(all);
  });

  it('applies in other areas only with maxDwellMinutes, at P3', () => {
    const { feed, ticks } = harness({ office: { rules: { overstay: { maxDwellMinutes: 1 } } } });
    feed(fix('t1', 0, 320, 20), fix('t2', 0, 50, 50));
    expect(ticks(60_000, 61_000)).toEqual([
      siteSignalLike('t1', 'overstay', true, 61_000, { areaKey: 'office', priority: 3 }),
    ]);
  });
});

describe("head-count (§9.7, Tai'an ≤ 3)", () => {
  const four = (ts: number) => ['a', 'b', 'c', 'd'].map((tag, i) => fix(tag, ts, 10 + i * 20, 50));

  it('raises when more than maxPeople stay for more than 1 min, and clears on the leaving fix', () => {
    const { feed, ticks, all } = harness();
    feed(...four(0));
    expect(ticks(1_000, 60_000)).toEqual([]); // exactly 60 s over is not "more than 1 min"
    expect(ticks(61_000, 61_000)).toEqual([
      siteSignalLike('yard', 'head-count', true, 61_000, {
        deviceClass: undefined,
        areaId: 'yard',
        priority: 2,
        value: 4,
        threshold: 3,
        members: ['a', 'b', 'c', 'd'],
        message: '4 people in Yard for more than 60 s (limit 3): a, b, c, d',
      }),
    ]);
    expect(feed(fix('d', 62_000, 103, 50))).toEqual([]); // 3 m out: still a member (hysteresis)
    expect(feed(fix('d', 63_000, 150, 50))).toEqual([
      siteSignalLike('yard', 'head-count', false, 63_000, {
        value: 3,
        message: '3 people in Yard, back within the limit of 3',
      }),
    ]);
    expectAlternating(all);
  });

  it('restarts the minute when the count drops in between', () => {
    const { feed, ticks } = harness();
    feed(...four(0));
    feed(fix('d', 30_000, 150, 50), fix('d', 31_000, 50, 50));
    feed(...four(60_000)); // fresh positions (90 s TTL)
    expect(ticks(61_000, 91_000)).toEqual([]);
    expect(ticks(92_000, 92_000)).toHaveLength(1);
  });

  it('stops counting a tag whose position is older than 90 s (and clears)', () => {
    const { feed, ticks } = harness();
    feed(...four(0));
    for (let ts = 30_000; ts <= 120_000; ts += 30_000) feed(...four(ts).slice(0, 3));
    expect(ticks(61_000, 61_000)).toHaveLength(1);
    expect(ticks(62_000, 90_000)).toEqual([]);
    expect(ticks(91_000, 91_000)).toEqual([siteSignalLike('yard', 'head-count', false, 91_000)]);
  });

  it('stops counting a tag at once on its MQTT last will', () => {
    const { feed, ticks, site } = harness();
    feed(...four(0));
    ticks(61_000, 61_000);
    const will: SiteInput = {
      kind: 'status',
      status: {
        siteId: SITE,
        deviceId: 'd',
        deviceClass: 'tag',
        online: false,
        ts: 62_000,
        receivedAt: 62_000,
      },
    };
    expect(feed(will)).toEqual([siteSignalLike('yard', 'head-count', false, 62_000)]);
    expect(tagPositions(site()).find(tag => tag.tagId === 'd')).toMatchObject({ lost: true });
  });
});

describe('crowding (MEM guide 2023: ≥ N within a 15 m radius for > 1 min)', () => {
  const group = (ts: number, tags = ['a', 'b', 'c']) =>
    tags.map((tag, i) => fix(tag, ts, 40 + i * 7, 40));
  /** The yard allows 10; crowding set to N = 3 explicitly (a crowd tighter than the limit). */
  const N3 = { yard: { maxPeople: 10, rules: { crowding: { minPeople: 3 } } } };

  it('raises once a crowd has lasted more than 60 s and lists its members', () => {
    const { feed, ticks, site, all } = harness(N3);
    feed(...group(0));
    expect(ticks(0, 60_000)).toEqual([]); // crowded since the tick at 0: 60 s is not more
    expect(ticks(61_000, 61_000)).toEqual([
      siteSignalLike('yard', 'crowding', true, 61_000, {
        priority: 2,
        level: 'crowding',
        value: 3,
        threshold: 3,
        members: ['a', 'b', 'c'],
        message: 'Crowding in Yard: 3 people, ≥ 3 within a 15 m radius for more than 60 s: a, b, c',
      }),
    ]);
    expect(crowdsInArea(site(), 'yard')).toEqual([['a', 'b', 'c']]);
    expect(ticks(62_000, 80_000)).toEqual([]);
    expectAlternating(all);
  });

  it('does not raise for two people, or three spread beyond 15 m', () => {
    const { feed, ticks } = harness(N3);
    feed(...group(0, ['a', 'b']), fix('x', 0, 10, 90), fix('y', 0, 26, 90), fix('z', 0, 42, 90));
    expect(ticks(0, 120_000)).toEqual([]);
  });

  it('does not raise in areas that are not crowding zones (office)', () => {
    const { feed, ticks } = harness();
    feed(fix('a', 0, 310, 10), fix('b', 0, 312, 10), fix('c', 0, 314, 10));
    expect(ticks(0, 120_000)).toEqual([]);
  });

  it('keeps the alarm through a gap shorter than 30 s and clears after 30 s without a crowd', () => {
    const { feed, ticks, all } = harness(N3);
    feed(...group(0));
    ticks(0, 61_000);
    feed(fix('c', 62_000, 90, 90)); // the crowd breaks up …
    expect(ticks(62_000, 80_000)).toEqual([]);
    feed(fix('c', 81_000, 54, 40)); // … and forms again within 30 s
    feed(...group(85_000));
    expect(ticks(81_000, 150_000)).toEqual([]);
    feed(...group(150_000), fix('c', 151_000, 90, 90));
    expect(ticks(151_000, 180_000)).toEqual([]);
    expect(ticks(181_000, 181_000)).toEqual([
      siteSignalLike('yard', 'crowding', false, 181_000, {
        message: 'Crowding in Yard ended: no 3 people within a 15 m radius for 30 s',
      }),
    ]);
    expectAlternating(all);
  });

  it("uses the per-area N (Tai'an: 2 in key-process workshops)", () => {
    const { feed, ticks } = harness({ yard: { rules: { crowding: { minPeople: 2 } } } });
    feed(...group(0, ['a', 'b']));
    expect(ticks(0, 61_000)).toHaveLength(1);
  });

  it('N follows the head-count limit: 3 allowed, so 3 gathered is no crowd and 4 is (≥ N = limit + 1)', () => {
    const { feed, ticks } = harness(); // the yard allows 3 (maxPeople)
    feed(...group(0));
    expect(ticks(0, 120_000)).toEqual([]); // 3 present: within the limit, and no crowd
    feed(...group(121_000, ['a', 'b', 'c', 'd']));
    const raised = ticks(121_000, 183_000);
    // The same 4 people break the head-count (4 > 3) and, gathered within 15 m, are a crowd (≥ 4).
    expect(raised.map(signal => [signal.ruleId, signal.threshold, signal.value])).toEqual([
      ['head-count', 3, 4],
      ['crowding', 4, 4],
    ]);
  });

  it('takes N from a head-count override too, and from the default 4 where there is no limit', () => {
    const override = harness({ yard: { rules: { 'head-count': { maxPeople: 2 } } } });
    override.feed(...group(0));
    expect(override.ticks(0, 61_000).map(signal => [signal.ruleId, signal.threshold])).toEqual([
      ['head-count', 2],
      ['crowding', 3],
    ]);
    const noLimit = harness({ yard: { maxPeople: undefined } });
    noLimit.feed(...group(0));
    expect(noLimit.ticks(0, 120_000)).toEqual([]);
    noLimit.feed(...group(121_000, ['a', 'b', 'c', 'd']));
    expect(noLimit.ticks(121_000, 183_000)).toEqual([
      expect.objectContaining({ ruleId: 'crowding', threshold: 4 }),
    ]);
  });

  it('tests one 15 m circle, not a chain: 5 people 14 m apart in a line are no crowd of 4', () => {
    const { feed, ticks } = harness({
      yard: { maxPeople: 10, rules: { crowding: { minPeople: 4 } } },
    });
    feed(...['a', 'b', 'c', 'd', 'e'].map((tag, i) => fix(tag, 0, 20 + i * 14, 50)));
    expect(ticks(0, 120_000)).toEqual([]);
  });

  it('does not count people on another floor', () => {
    const { feed, ticks } = harness(N3);
    feed(fix('a', 0, 40, 40), fix('b', 0, 45, 40), fix('c', 0, 50, 40, { floor: 2 }));
    expect(ticks(0, 120_000)).toEqual([]);
  });
});

describe('man-down (§9.7)', () => {
  it('raises the P2 pre-alarm at 60 s still and the P1 alarm at 120 s; motion clears both', () => {
    const { feed, ticks, all } = harness();
    feed(fix('t1', 0, 50, 50, { still: true }));
    for (let ts = 5_000; ts <= 130_000; ts += 5_000) feed(fix('t1', ts, 50.5, 50, { still: true }));
    expect(ticks(1_000, 59_000)).toEqual([]);
    expect(ticks(60_000, 60_000)).toEqual([
      siteSignalLike('t1', 'man-down-l1', true, 60_000, {
        areaId: 'yard',
        priority: 2,
        level: 'pre-alarm',
        value: 60,
        threshold: 60,
        message: 't1 motionless for 60 s in Yard (man-down pre-alarm at 60 s)',
      }),
    ]);
    expect(ticks(61_000, 119_000)).toEqual([]);
    expect(ticks(120_000, 120_000)).toEqual([
      siteSignalLike('t1', 'man-down-l2', true, 120_000, { priority: 1, level: 'alarm' }),
    ]);
    expect(feed(tagReading('t1', 131_000, { still: false }))).toEqual([
      siteSignalLike('t1', 'man-down-l1', false, 131_000, {
        message: 't1 moving again after 131 s',
      }),
      siteSignalLike('t1', 'man-down-l2', false, 131_000),
    ]);
    expectAlternating(all);
  });

  it('does not raise in areas without man-down (office) or outside every area', () => {
    const { feed, ticks } = harness();
    feed(fix('t1', 0, 320, 20, { still: true }), fix('t2', 0, 500, 500, { still: true }));
    expect(ticks(0, 200_000)).toEqual([]);
  });

  it('restarts the 60 s after any motion', () => {
    const { feed, ticks } = harness();
    feed(fix('t1', 0, 50, 50, { still: true }), tagReading('t1', 50_000, { still: false }));
    feed(tagReading('t1', 51_000, { still: true }));
    expect(ticks(1_000, 110_000)).toEqual([]);
    expect(ticks(111_000, 111_000)).toHaveLength(1);
  });
});

describe('2-out-of-N voting (GB 16808-2025 §5.5.1.8)', () => {
  const voting = { yard: { rules: { voting: { k: 2, rules: ['gas-l2'] } } } };

  it('raises a P1 voted alarm when 2 detectors of the area are in gas-l2, clears below 2', () => {
    const { feed, all } = harness(voting);
    expect(feed(deviceSignal('gc-1', 'gas-l2', true, 1_000))).toEqual([]);
    expect(feed(deviceSignal('gc-1', 'gas-l2', true, 1_500))).toEqual([]); // repeated: one vote
    expect(feed(deviceSignal('gc-9', 'gas-l2', true, 1_600))).toEqual([]); // office: not this area
    expect(feed(deviceSignal('gc-2', 'gas-l1', true, 1_700))).toEqual([]); // not a voting rule
    expect(feed(deviceSignal('gc-2', 'gas-l2', true, 2_000))).toEqual([
      siteSignalLike('yard', 'vote-gas-l2', true, 2_000, {
        areaId: 'yard',
        priority: 1,
        level: 'voted',
        latched: true,
        value: 2,
        threshold: 2,
        members: ['gc-1', 'gc-2'],
        message: '2 detectors in Yard in gas-l2 (2-out-of-N vote): gc-1, gc-2',
      }),
    ]);
    expect(feed(deviceSignal('gc-3', 'gas-l2', true, 3_000))).toEqual([]);
    expect(feed(deviceSignal('gc-1', 'gas-l2', false, 4_000))).toEqual([]);
    expect(feed(deviceSignal('gc-3', 'gas-l2', false, 5_000))).toEqual([
      siteSignalLike('yard', 'vote-gas-l2', false, 5_000, {
        message: '1 detector left in gas-l2 in Yard, fewer than the 2 of the vote',
      }),
    ]);
    expectAlternating(all);
  });

  it('is off unless the area asks for it', () => {
    const { feed } = harness();
    expect(
      feed(deviceSignal('gc-1', 'gas-l2', true, 1), deviceSignal('gc-2', 'gas-l2', true, 2)),
    ).toEqual([]);
  });

  it('takes the area from the signal for a device missing from the layout', () => {
    const { feed } = harness(voting);
    feed(deviceSignal('gc-new', 'gas-l2', true, 1, { areaId: 'yard' }));
    expect(feed(deviceSignal('gc-1', 'gas-l2', true, 2))).toHaveLength(1);
  });
});

describe('people present during a process alarm (§9.7 correlation)', () => {
  it('raises at once with the muster list (inside and within 50 m), and clears with the alarm', () => {
    const { feed, all } = harness();
    feed(fix('in', 0, 50, 50), fix('near', 0, 140, 50), fix('far', 0, 151, 50));
    expect(feed(deviceSignal('gc-1', 'gas-l1', true, 1_000))).toEqual([
      siteSignalLike('yard', 'people-present', true, 1_000, {
        priority: 1,
        level: 'people-present',
        value: 2,
        members: ['in', 'near'],
        message: '2 people in or within 50 m of Yard during a process alarm (gc-1): in, near',
      }),
    ]);
    expect(feed(deviceSignal('gc-2', 'gas-l2', true, 2_000))).toEqual([]); // already raised
    expect(feed(deviceSignal('gc-1', 'gas-l1', false, 3_000))).toEqual([]);
    expect(feed(deviceSignal('gc-2', 'gas-l2', false, 4_000))).toEqual([
      siteSignalLike('yard', 'people-present', false, 4_000, {
        message: 'No process alarm left in Yard',
      }),
    ]);
    expectAlternating(all);
  });

  it('takes a fire-panel point’s area (the signal’s), not the panel’s, and each point apart', () => {
    const { feed } = harness();
    feed(fix('in', 0, 50, 50));
    const point = (key: string, active: boolean, at: number) =>
      deviceSignal('gc-9', 'fire', active, at, {
        key: `plant-1/gc-9/fire/${key}`,
        deviceClass: 'fire-panel',
        areaId: 'yard', // the point's area; the panel (gc-9 in the layout) is in the office
        location: { loop: '1', point: key },
      });
    expect(feed(point('P1', true, 1_000))).toEqual([
      siteSignalLike('yard', 'people-present', true, 1_000, { members: ['in'] }),
    ]);
    feed(point('P2', true, 2_000));
    expect(feed(point('P1', false, 3_000))).toEqual([]); // P2 is still in fire
    expect(feed(point('P2', false, 4_000))).toEqual([
      siteSignalLike('yard', 'people-present', false, 4_000),
    ]);
  });

  it('raises on the tick after someone comes near an area already in alarm', () => {
    const { feed, ticks } = harness();
    feed(deviceSignal('gc-1', 'gas-l2', true, 0));
    expect(ticks(1_000, 5_000)).toEqual([]);
    feed(fix('t1', 5_500, 120, 20));
    expect(ticks(6_000, 6_000)).toEqual([
      siteSignalLike('yard', 'people-present', true, 6_000, { members: ['t1'] }),
    ]);
  });

  it('clears 30 s after the last person left, and ignores non-process and tag signals', () => {
    const { feed, ticks } = harness();
    feed(fix('t1', 0, 50, 50), deviceSignal('gc-1', 'gas-l1', true, 0));
    feed(fix('t1', 1_000, 300, 300));
    expect(ticks(1_000, 30_000)).toEqual([]);
    expect(ticks(31_000, 31_000)).toEqual([
      siteSignalLike('yard', 'people-present', false, 31_000, {
        value: 0,
        message: 'Nobody in or within 50 m of Yard for 30 s',
      }),
    ]);
    feed(fix('t1', 32_000, 50, 50));
    const offline = deviceSignal('gc-2', 'offline', true, 33_000, { category: 'quality' });
    const sos = deviceSignal('t9', 'sos', true, 33_000, { deviceClass: 'tag', areaId: 'yard' });
    feed(deviceSignal('gc-1', 'gas-l1', false, 32_500), offline, sos);
    expect(ticks(33_000, 40_000)).toEqual([]);
  });
});

describe('inputs that change nothing', () => {
  it('ignores late tag readings, other device classes, events and unknown sites (counted)', () => {
    const { feed, state, site } = harness();
    feed(fix('t1', 10_000, 50, 50));
    feed(fix('t1', 9_000, 215, 15)); // older (within the late allowance): ignored
    feed(tagReading('t1', 11_000, { x: 1 })); // x without y
    feed(
      fix('t2', 0, 50, 50).kind === 'reading'
        ? tagReading('t2', 0, { x: 1, y: 2 }, 0, 'plant-9')
        : tick(0),
    );
    feed({
      kind: 'event',
      event: {
        siteId: SITE,
        deviceId: 't1',
        deviceClass: 'tag',
        areaId: undefined,
        ts: 12_000,
        receivedAt: 12_000,
        code: 'sos',
        detail: undefined,
      },
    });
    feed(deviceSignal('gc-1', 'gas-l1', true, 1, { siteId: 'plant-9' }));
    expect(tagPositions(site())).toEqual([
      {
        tagId: 't1',
        x: 50,
        y: 50,
        floor: 1,
        fixAt: 10_000,
        lost: false,
        still: false,
        areaIds: ['yard'],
      },
    ]);
    expect(state.stats).toMatchObject({
      tagFixes: 1,
      outOfOrderReadings: 1,
      lateReadings: 0,
      clockRebases: 0,
      badFixes: 1,
      unknownSiteInputs: 2,
    });
  });
});

describe('queries', () => {
  it('peopleInArea, musterList (nearest first) and tagPositions read the live state', () => {
    const { feed, site } = harness();
    feed(fix('b', 0, 50, 50), fix('a', 0, 60, 50), fix('c', 0, 120, 50), fix('d', 0, 215, 15));
    expect(peopleInArea(site(), 'yard')).toEqual(['a', 'b']);
    expect(peopleInArea(site(), 'sump')).toEqual(['d']);
    expect(peopleInArea(site(), 'nowhere')).toEqual([]);
    expect(
      musterList(site(), 'yard').map(entry => [entry.tagId, entry.distanceM, entry.inside]),
    ).toEqual([
      ['a', 0, true],
      ['b', 0, true],
      ['c', 20, false],
    ]);
    expect(musterList(site(), 'yard', 10).map(entry => entry.tagId)).toEqual(['a', 'b']);
    expect(tagPositions(site()).map(tag => [tag.tagId, tag.areaIds])).toEqual([
      ['a', ['yard']],
      ['b', ['yard']],
      ['c', []],
      ['d', ['sump']],
    ]);
  });
});
