import fc from 'fast-check';

import type { RuleSignal } from '@vigil/contracts';

import type { SiteArea, SiteRulesSettings } from './site-config';
import {
  context,
  deviceSignal,
  expectAlternating,
  fix,
  layout,
  tagReading,
  tick,
} from './site-fixtures';
import { compileSiteRules, reduceSiteRules } from './site-rules.reducer';
import { type SiteInput, createSiteRulesState } from './site-state';

function run(
  inputs: readonly SiteInput[],
  overrides: Partial<Record<string, Partial<SiteArea>>> = {},
  settings: Partial<SiteRulesSettings> = {},
): RuleSignal[] {
  const state = createSiteRulesState(compileSiteRules({ sites: [layout(overrides)], settings }));
  const out: RuleSignal[] = [];
  for (const input of inputs) out.push(...reduceSiteRules(state, input, context).signals);
  return out;
}

const crowdingOnly = (signals: readonly RuleSignal[]) =>
  signals.filter(signal => signal.ruleId === 'crowding');

/**
 * A gathering in the yard: `size` people around a centre, each fix jittered by up to 5 m (so any
 * two are ≤ 10 m apart, well within 15 m), reporting every 0.2–4 s, ticks every second; strangers
 * walk around far from them. Then everyone leaves and ticks run on for a minute.
 */
const gathering = fc.record({
  size: fc.integer({ min: 3, max: 8 }),
  centre: fc.tuple(fc.integer({ min: 20, max: 80 }), fc.integer({ min: 20, max: 80 })),
  durationS: fc.integer({ min: 0, max: 240 }),
  fixes: fc.array(
    fc.record({
      person: fc.nat(),
      gapMs: fc.integer({ min: 200, max: 4_000 }),
      angle: fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
      radius: fc.double({ min: 0, max: 5, noNaN: true }),
      stranger: fc.boolean(),
    }),
    { minLength: 300, maxLength: 1_500, size: 'max' },
  ),
  /** Single fixes of one member 40 m away, right after which the member is back. */
  dropouts: fc.array(fc.nat(), { maxLength: 3, size: 'max' }),
});

type Gathering = typeof gathering extends fc.Arbitrary<infer T> ? T : never;

function gatheringInputs(spec: Gathering) {
  const inputs: SiteInput[] = [];
  const [cx, cy] = spec.centre;
  const end = spec.durationS * 1_000;
  const dropoutAt = new Set(spec.dropouts.map(index => index % spec.fixes.length));
  let now = 0;
  let nextTick = 1_000;
  const advance = (to: number) => {
    for (; nextTick <= to; nextTick += 1_000) inputs.push(tick(nextTick));
    now = to;
  };
  for (let person = 0; person < spec.size; person += 1) inputs.push(fix(`p${person}`, 0, cx, cy));
  spec.fixes.forEach((step, index) => {
    if (now + step.gapMs > end) return;
    advance(now + step.gapMs);
    const person = `p${step.person % spec.size}`;
    if (step.stranger) {
      inputs.push(fix(`s${step.person % 3}`, now, 95 - (step.person % 3) * 40, 5 + step.radius));
      return;
    }
    const x = cx + step.radius * Math.cos(step.angle);
    const y = cy + step.radius * Math.sin(step.angle);
    if (dropoutAt.has(index)) inputs.push(fix(person, now, cx + 40, cy));
    inputs.push(fix(person, now, x, y));
  });
  advance(end);
  // Everyone keeps reporting until the end (no position goes stale), then leaves the site.
  for (let person = 0; person < spec.size; person += 1) inputs.push(fix(`p${person}`, end, cx, cy));
  for (let person = 0; person < spec.size; person += 1)
    inputs.push(fix(`p${person}`, end + 500, 300 + person * 20, 200));
  advance(end + 61_000);
  return inputs;
}

describe('site rule properties', () => {
  it('crowding raises exactly once for one continuous gathering, whatever the jitter, and clears once', () => {
    fc.assert(
      fc.property(gathering, spec => {
        // Random fixes can leave one member silent for 90 s: position expiry is not the subject.
        const settings = { positionTtlMs: 3_600_000 };
        const signals = crowdingOnly(
          run(
            gatheringInputs(spec),
            { yard: { maxPeople: 100, rules: { crowding: { minPeople: 3 } } } },
            settings,
          ),
        );
        expectAlternating(signals);
        const raises = signals.filter(signal => signal.active);
        expect(raises.length).toBeLessThanOrEqual(1);
        if (spec.durationS >= 62 && spec.dropouts.length === 0) expect(raises).toHaveLength(1);
        if (spec.durationS <= 60) expect(raises).toHaveLength(0);
        // Whatever happened, once they have left for more than 30 s the alarm is cleared.
        expect(signals.length).toBe(raises.length * 2);
        for (const raise of raises) expect(raise.members?.length).toBeGreaterThanOrEqual(3);
      }),
      { numRuns: 100 },
    );
  });

  it('voting raises exactly once each time the active detectors reach k, in any order', () => {
    const devices = ['gc-1', 'gc-2', 'gc-3', 'gc-4', 'gc-5'];
    const event = fc.record({
      device: fc.constantFrom(...devices, 'gc-9'), // gc-9 is in the office
      rule: fc.constantFrom('gas-l2', 'gas-l2', 'gas-l1', 'offline'),
      active: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.array(event, { maxLength: 80, size: 'max' }),
        (k, events) => {
          const voting = { yard: { rules: { voting: { k, rules: ['gas-l2'] } } } };
          const inputs = events.map((each, at) =>
            deviceSignal(each.device, each.rule, each.active, at, {
              areaId: each.device === 'gc-9' ? 'office' : 'yard',
            }),
          );
          const votes = run(inputs, voting).filter(signal => signal.ruleId === 'vote-gas-l2');

          // Model: the set of yard detectors whose gas-l2 is active; a raise each time it reaches k.
          const active = new Set<string>();
          const expected: Array<[boolean, number]> = [];
          let raised = false;
          events.forEach((each, at) => {
            if (each.device === 'gc-9' || each.rule !== 'gas-l2') return;
            if (each.active) active.add(each.device);
            else active.delete(each.device);
            if (!raised && active.size >= k) expected.push([(raised = true), at]);
            else if (raised && active.size < k) expected.push([(raised = false), at]);
          });
          expect(votes.map(signal => [signal.active, signal.at])).toEqual(expected);
          expectAlternating(votes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never emits the same state twice in a row for a key, whatever the fixes, stillness, ticks and signals', () => {
    const tags = ['t0', 't1', 't2', 't3'];
    // Spots that make rules flip often, jittered by ±2 m: a yard cluster, the yard fence band
    // (hysteresis), deep / shallow (inside the 3 m buffer) / just outside the sump, the office,
    // near the yard (within 50 m) and far away.
    const spots: ReadonlyArray<readonly [number, number]> = [
      [50, 50],
      [56, 50],
      [45, 58],
      [101, 50],
      [215, 15],
      [202, 15],
      [196, 15],
      [320, 20],
      [140, 50],
      [500, 500],
    ];
    const jitter = fc.double({ min: -2, max: 2, noNaN: true });
    const fixStep = fc.record({
      kind: fc.constant('fix' as const),
      tag: fc.constantFrom(...tags),
      advance: fc.integer({ min: 0, max: 5_000 }),
      skew: fc.integer({ min: -1_000, max: 0 }),
      spot: fc.nat(spots.length - 1),
      dx: jitter,
      dy: jitter,
      still: fc.option(fc.boolean()),
    });
    const step = fc.oneof(
      { arbitrary: fixStep, weight: 8 },
      {
        arbitrary: fc.record({
          kind: fc.constant('still' as const),
          tag: fc.constantFrom(...tags),
          advance: fc.integer({ min: 0, max: 5_000 }),
          still: fc.boolean(),
        }),
        weight: 1,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('tick' as const),
          advance: fc.integer({ min: 0, max: 70_000 }),
        }),
        weight: 3,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('signal' as const),
          device: fc.constantFrom('gc-1', 'gc-2', 'gc-3', 'gc-9'),
          rule: fc.constantFrom('gas-l1', 'gas-l2'),
          active: fc.boolean(),
        }),
        weight: 2,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('will' as const), tag: fc.constantFrom(...tags) }),
        weight: 1,
      },
    );
    const overrides = {
      yard: {
        maxPeople: 1,
        rules: {
          voting: { k: 2 },
          crowding: { holdMs: 5_000, offDelayMs: 3_000, minPeople: 2 },
          'head-count': { holdMs: 2_000 },
          'man-down': { preAlarmMs: 10_000, alarmMs: 20_000 },
        },
      },
      office: { rules: { overstay: { maxDwellMinutes: 1 } } },
    };
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300, size: 'max' }), steps => {
        let now = 0;
        const inputs: SiteInput[] = steps.map(each => {
          switch (each.kind) {
            case 'fix':
              now += each.advance;
              return fix(
                each.tag,
                Math.max(0, now + each.skew),
                (spots[each.spot]?.[0] ?? 0) + each.dx,
                (spots[each.spot]?.[1] ?? 0) + each.dy,
                each.still === null ? {} : { still: each.still },
              );
            case 'still':
              now += each.advance;
              return tagReading(each.tag, now, { still: each.still });
            case 'tick':
              now += each.advance;
              return tick(now);
            case 'signal':
              return deviceSignal(each.device, each.rule, each.active, now);
            case 'will':
              return {
                kind: 'status',
                status: {
                  siteId: 'plant-1',
                  deviceId: each.tag,
                  deviceClass: 'tag',
                  online: false,
                  ts: now,
                  receivedAt: now,
                },
              };
          }
        });
        const signals = run(inputs, overrides);
        for (const signal of signals) seen.add(`${signal.ruleId} ${signal.active}`);
        expectAlternating(signals);
        const listed = ['crowding', 'people-present', 'vote-gas-l2', 'head-count'];
        const unlisted = signals.filter(
          signal => signal.active && listed.includes(signal.ruleId) && !signal.members?.length,
        );
        expect(unlisted).toEqual([]);
      }),
      { numRuns: 300 },
    );
    // Not vacuous: the random runs exercised every rule both ways.
    for (const rule of [
      'intrusion',
      'overstay',
      'head-count',
      'crowding',
      'man-down-l1',
      'man-down-l2',
      'vote-gas-l2',
      'people-present',
    ]) {
      expect([rule, seen.has(`${rule} true`), seen.has(`${rule} false`)]).toEqual([
        rule,
        true,
        true,
      ]);
    }
  });
});
