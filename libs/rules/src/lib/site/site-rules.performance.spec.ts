import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { RuleSignal } from '@vigil/contracts';

import type { SiteArea, SiteLayout } from './site-config';
import { context, deviceSignal, fix, rect, tick } from './site-fixtures';
import { compileSiteRules, reduceSiteRules } from './site-rules.reducer';
import {
  type SiteInput,
  type SiteRulesState,
  type SiteState,
  createSiteRulesState,
  crowdsInArea,
  musterList,
} from './site-state';

/**
 * Cost of the site rules for one large site (README "Cost"): 5,000 tags on a 1 km² site with 22
 * areas, every tag sending a fix every second and a tick every second. It asserts only counts and
 * the memory budget, never time; run with VIGIL_REPORT_MEMORY=1 to print the figures.
 */
const TAGS = 5_000;
const ROUNDS = 10;
const WARM_UP = 3;
const BUDGET_BYTES_PER_TAG = 5_000;

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

function heapUsed(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

function report(line: string): void {
  if (process.env['VIGIL_REPORT_MEMORY']) process.stdout.write(`${line}\n`);
}

/** ns per trivial float iteration on this machine, to compare figures across machines. */
function calibrate(): number {
  const values = Float64Array.from({ length: 4096 }, (_, index) => (index % 97) / 97);
  let sum = 0;
  const started = performance.now();
  for (let index = 0; index < 5_000_000; index += 1) {
    const a = values[index & 4095] as number;
    const b = values[(index * 7) & 4095] as number;
    sum += a * b + (a > b ? a / (b + 1) : b);
  }
  const elapsed = performance.now() - started;
  return sum >= 0 ? (elapsed * 1e6) / 5_000_000 : NaN;
}

/** Deterministic PRNG (mulberry32), so every run measures the same positions. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** 20 areas of 200 × 250 m in a 5 × 4 grid (kinds cycling), plus 2 restricted pits. */
function bigSite(): SiteLayout {
  const kinds = ['production', 'storage', 'loading', 'warning', 'office'];
  const areas: SiteArea[] = [];
  for (let column = 0; column < 5; column += 1) {
    for (let row = 0; row < 4; row += 1) {
      const x = column * 200;
      const y = row * 250;
      const kind = kinds[(column + row) % kinds.length] as string;
      areas.push({
        id: `a-${column}-${row}`,
        name: `Area ${column}-${row}`,
        kind,
        risk: row === 0 ? 'red' : 'yellow',
        polygon: rect(x, y, x + 200, y + 250),
        maxPeople: 400,
        // N = 3 as before the circle test (the default, limit + 1 = 401, is never reached here).
        ...(kind === 'office' ? {} : { rules: { crowding: { minPeople: 3 } } }),
      });
    }
  }
  areas.push({ id: 'pit-1', name: 'Pit 1', kind: 'restricted', polygon: rect(90, 90, 110, 110) });
  areas.push({ id: 'pit-2', name: 'Pit 2', kind: 'restricted', polygon: rect(690, 590, 710, 610) });
  const devices = areas.map((area, index) => ({
    deviceId: `gc-${index}`,
    deviceClass: 'gas-combustible' as const,
    areaId: area.id,
  }));
  return { siteId: 'plant-1', areas, devices };
}

interface Figures {
  fixMicros: number;
  tickMillis: number;
  signals: number;
}

function measure(
  state: SiteRulesState,
  positions: Float64Array,
  next: () => number,
  spreadM: number,
  fromMs = 0,
): Figures {
  let fixTime = 0;
  let tickTime = 0;
  let signals = 0;
  const inputs: SiteInput[] = new Array<SiteInput>(TAGS);
  for (let round = 1; round <= ROUNDS + WARM_UP; round += 1) {
    const now = fromMs + round * 1_000;
    for (let index = 0; index < TAGS; index += 1) {
      // Random walk of up to ±1 m a second, clamped to the spread.
      const x = Math.min(spreadM, Math.max(0, (positions[2 * index] as number) + next() * 2 - 1));
      const y = Math.min(
        spreadM,
        Math.max(0, (positions[2 * index + 1] as number) + next() * 2 - 1),
      );
      positions[2 * index] = x;
      positions[2 * index + 1] = y;
      inputs[index] = fix(`tag-${index}`, now, x, y, { still: false });
    }
    const started = performance.now();
    for (const input of inputs) signals += reduceSiteRules(state, input, context).signals.length;
    const fixed = performance.now();
    signals += reduceSiteRules(state, tick(now), context).signals.length;
    const ticked = performance.now();
    if (round > WARM_UP) {
      fixTime += fixed - started;
      tickTime += ticked - fixed;
    }
  }
  return { fixMicros: (fixTime * 1_000) / (ROUNDS * TAGS), tickMillis: tickTime / ROUNDS, signals };
}

function start(spreadM: number, seed: number) {
  const sites = compileSiteRules({ sites: [bigSite()] });
  const state = createSiteRulesState(sites);
  const next = random(seed);
  const positions = new Float64Array(TAGS * 2);
  for (let index = 0; index < positions.length; index += 1) positions[index] = next() * spreadM;
  return { state, next, positions, site: () => state.sites.get('plant-1') as SiteState };
}

describe('site rules cost', () => {
  it(`keeps ${TAGS} tags per site well within budget (figures printed with VIGIL_REPORT_MEMORY=1)`, () => {
    const before = heapUsed();
    const { state, next, positions, site } = start(1_000, 7);
    const spread = measure(state, positions, next, 1_000);
    const after = heapUsed();
    const perTag = (after - before) / TAGS;

    // An alarm in every area: people-present looks for people near each of them at every tick.
    const alarms: RuleSignal[] = [];
    site().site.areas.forEach((_, index) => {
      const input = deviceSignal(`gc-${index}`, 'gas-l1', true, 30_000);
      alarms.push(...reduceSiteRules(state, input, context).signals);
    });
    const withAlarms = measure(state, positions, next, 1_000, 100_000);
    const musterStarted = performance.now();
    const muster = musterList(site(), 'a-2-2');
    const musterMillis = performance.now() - musterStarted;

    report(
      `site rules, ${TAGS} tags over 1 km², 22 areas: ${spread.fixMicros.toFixed(2)} µs per fix, ` +
        `${spread.tickMillis.toFixed(2)} ms per tick; with an alarm in all 22 areas ` +
        `${withAlarms.tickMillis.toFixed(2)} ms per tick, musterList ${musterMillis.toFixed(2)} ms; ` +
        `state ${Math.round(perTag)} B/tag (${((perTag * TAGS) / 2 ** 20).toFixed(1)} MiB); ` +
        `calibration ${calibrate().toFixed(1)} ns per trivial loop iteration`,
    );
    expect(site().tags.size).toBe(TAGS);
    expect(alarms.filter(signal => signal.ruleId === 'people-present')).toHaveLength(22);
    expect(muster.length).toBeGreaterThan(0);
    expect(state.stats.tagFixes).toBe(TAGS * (ROUNDS + WARM_UP) * 2);
    expect(perTag).toBeLessThan(BUDGET_BYTES_PER_TAG);
  });

  it('reports the worst case: all tags crowded into one 100 × 100 m corner', () => {
    const { state, next, positions } = start(100, 11);
    const dense = measure(state, positions, next, 100);
    report(
      `site rules, ${TAGS} tags in one 100 × 100 m corner: ${dense.fixMicros.toFixed(2)} µs per fix, ` +
        `${dense.tickMillis.toFixed(2)} ms per tick (crowding: everyone in a 15 m circle)`,
    );
    const site = state.sites.get('plant-1') as SiteState;
    const crowds = crowdsInArea(site, 'a-0-0');
    // Circles of 15 m, not one chain: a few dozen circles cover the 100 × 100 m corner.
    expect(new Set(crowds.flat()).size).toBe(TAGS);
    expect(crowds.length).toBeLessThan(100);
    expect(dense.signals).toBeGreaterThan(0);
  });
});
