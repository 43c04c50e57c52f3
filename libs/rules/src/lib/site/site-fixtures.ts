import type { IngestRecord, MetricValue, RuleSignal } from '@vigil/contracts';

import type { EngineTick, RuleContext } from '../rule-signal';
import type { SiteArea, SiteDevice, SiteLayout } from './site-config';
import type { SiteInput } from './site-state';

/** Test data for the site rule specs (not exported from the library). */

export const SITE = 'plant-1';
export const DETECTED_AT = 1_763_900_000_000;
export const context: RuleContext = { clock: () => DETECTED_AT };

/** Axis-aligned rectangle polygon. */
export function rect(x0: number, y0: number, x1: number, y1: number): Array<[number, number]> {
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
}

/**
 * yard: 100 × 100 production area, red risk, max 3 people (crowding, man-down, head-count on).
 * sump: 30 × 30 restricted area far east of it (intrusion, overstay, man-down on).
 * office: 40 × 40 office (nothing but people-present on by default).
 */
export const YARD: SiteArea = {
  id: 'yard',
  name: 'Yard',
  kind: 'production',
  risk: 'red',
  polygon: rect(0, 0, 100, 100),
  maxPeople: 3,
};
export const SUMP: SiteArea = {
  id: 'sump',
  name: 'Sump',
  kind: 'restricted',
  polygon: rect(200, 0, 230, 30),
};
export const OFFICE: SiteArea = {
  id: 'office',
  name: 'Office',
  kind: 'office',
  polygon: rect(300, 0, 340, 40),
};

export const DETECTORS: readonly SiteDevice[] = [
  { deviceId: 'gc-1', deviceClass: 'gas-combustible', areaId: 'yard', position: [10, 10] },
  { deviceId: 'gc-2', deviceClass: 'gas-combustible', areaId: 'yard', position: [50, 50] },
  { deviceId: 'gc-3', deviceClass: 'gas-combustible', areaId: 'yard', position: [90, 90] },
  { deviceId: 'gc-9', deviceClass: 'gas-combustible', areaId: 'office', position: [310, 10] },
];

export function layout(overrides: Partial<Record<string, Partial<SiteArea>>> = {}): SiteLayout {
  return {
    siteId: SITE,
    areas: [YARD, SUMP, OFFICE].map(area => ({ ...area, ...overrides[area.id] })),
    devices: DETECTORS,
  };
}

/**
 * A tag reading at event time `ts` (`receivedAt` = `ts` unless given; `clockSkewMs` is the
 * difference, as ingest records it).
 */
export function tagReading(
  tagId: string,
  ts: number,
  values: Record<string, MetricValue>,
  receivedAt = ts,
  siteId = SITE,
): IngestRecord {
  return {
    kind: 'reading',
    reading: {
      siteId,
      deviceId: tagId,
      deviceClass: 'tag',
      areaId: undefined,
      ts,
      receivedAt,
      seq: undefined,
      deviceTime: true,
      clockSkewMs: ts - receivedAt,
      values,
    },
  };
}

export function fix(
  tagId: string,
  ts: number,
  x: number,
  y: number,
  extra: Record<string, MetricValue> = {},
): IngestRecord {
  return tagReading(tagId, ts, { x, y, floor: 1, battery_pct: 80, ...extra });
}

/**
 * A tag reading received at `receivedAt` (server time) from a tag whose clock is `skewMs` off the
 * server's: `ts` is the tag's time, as ingest keeps it for a clock behind (README "Tag clocks").
 */
export function skewedTagReading(
  tagId: string,
  receivedAt: number,
  skewMs: number,
  values: Record<string, MetricValue>,
): IngestRecord {
  return tagReading(tagId, receivedAt + skewMs, values, receivedAt);
}

/** A fix (floor 1) as `skewedTagReading`: received at `receivedAt`, `skewMs` off the server. */
export function skewedFix(
  tagId: string,
  receivedAt: number,
  skewMs: number,
  x: number,
  y: number,
  extra: Record<string, MetricValue> = {},
): IngestRecord {
  return skewedTagReading(tagId, receivedAt, skewMs, { x, y, floor: 1, battery_pct: 80, ...extra });
}

export function tick(now: number): EngineTick {
  return { kind: 'tick', now };
}

/** A device engine signal wrapped as a site input. */
export function deviceSignal(
  deviceId: string,
  ruleId: string,
  active: boolean,
  at: number,
  extra: Partial<RuleSignal> = {},
): SiteInput {
  const signal: RuleSignal = {
    key: `${SITE}/${deviceId}/${ruleId}`,
    ruleId,
    siteId: SITE,
    deviceId,
    deviceClass: 'gas-combustible',
    areaId: undefined,
    category: 'process',
    priority: ruleId === 'gas-l2' ? 1 : 2,
    level: ruleId === 'gas-l2' ? 'L2' : 'L1',
    active,
    latched: ruleId === 'gas-l2',
    metric: 'lel',
    value: active ? 60 : 10,
    threshold: 50,
    message: 'test',
    at,
    detectedAt: at,
    ...extra,
  };
  return { kind: 'signal', signal };
}

/** Matches a site signal by the fields a test cares about. */
export function siteSignalLike(
  subjectId: string,
  ruleId: string,
  active: boolean,
  at: number,
  extra: Partial<RuleSignal> & { areaKey?: string } = {},
): RuleSignal {
  const { areaKey, ...fields } = extra;
  return expect.objectContaining({
    key: `${SITE}/${subjectId}/${ruleId}${areaKey === undefined ? '' : `@${areaKey}`}`,
    ruleId,
    deviceId: subjectId,
    active,
    at,
    ...fields,
  }) as RuleSignal;
}

/** Checks that no key ever repeats its state: active, cleared, active, … from inactive. */
export function expectAlternating(signals: readonly RuleSignal[]): void {
  const last = new Map<string, boolean>();
  for (const signal of signals) {
    const expected = !(last.get(signal.key) ?? false);
    // Plain comparison first: an `expect` per signal makes property runs several times slower.
    if (signal.active !== expected)
      expect([signal.key, signal.active]).toEqual([signal.key, expected]);
    last.set(signal.key, signal.active);
  }
}
