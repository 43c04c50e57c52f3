import type { Alarm, RiskNode } from '@vigil/contracts';
import type { OrgNode, Site } from '@vigil/registry';
import { mhsUnitsOf } from '@vigil/rules';

import { assess, computeRisk, levelOfScore } from './risk';

const NOW = 1_800_000_000_000;

const organisation: OrgNode[] = [
  { id: 'city', name: '示范市', kind: 'city' },
  { id: 'county', name: '东区', kind: 'county', parent: 'city' },
  { id: 'park', name: '化工园区', kind: 'park', parent: 'county' },
  { id: 'ent-a', name: '甲企业', kind: 'enterprise', parent: 'park' },
  { id: 'ent-b', name: '乙企业', kind: 'enterprise', parent: 'county' },
];

const square = (x: number): Array<[number, number]> => [
  [x, 0],
  [x + 10, 0],
  [x + 10, 10],
  [x, 10],
];

const sites: Site[] = [
  {
    id: 'plant-a',
    name: 'A 厂',
    enterprise: 'ent-a',
    frame: { width: 100, height: 100 },
    areas: [
      { id: 'tanks', name: '罐区', kind: 'storage', risk: 'yellow', polygon: square(0) },
      { id: 'office', name: '办公楼', kind: 'office', risk: 'blue', polygon: square(20) },
    ],
    profiles: [],
    devices: [],
  },
  {
    id: 'plant-b',
    name: 'B 厂',
    enterprise: 'ent-b',
    frame: { width: 100, height: 100 },
    areas: [{ id: 'unit', name: '装置', kind: 'production', risk: 'orange', polygon: square(0) }],
    profiles: [],
    devices: [],
  },
];

let next = 0;
function alarm(overrides: Partial<Alarm>): Alarm {
  next += 1;
  return {
    id: `a-${next}`,
    key: `plant-a/d-${next}/gas-l1`,
    ruleId: 'gas-l1',
    siteId: 'plant-a',
    deviceId: `d-${next}`,
    deviceClass: 'gas-combustible',
    areaId: 'tanks',
    category: 'process',
    priority: 2,
    level: 'L1',
    state: 'active-unacknowledged',
    conditionActive: true,
    latched: false,
    metric: 'lel',
    value: 30,
    threshold: 25,
    message: '',
    raisedAt: NOW - 1000,
    clearedAt: undefined,
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    updatedAt: NOW - 1000,
    detectedAt: NOW - 1000,
    history: [],
    ...overrides,
  };
}

function find(nodes: readonly RiskNode[], key: string): RiskNode {
  for (const node of nodes) {
    if (node.key === key) return node;
    try {
      return find(node.children, key);
    } catch {
      // keep looking
    }
  }
  throw new Error(`no node ${key}`);
}

describe('dynamic risk', () => {
  it('maps scores to colours with the LEC cut-points (≥320 red, 160–320 orange, 70–160 yellow)', () => {
    expect(levelOfScore(320)).toBe('red');
    expect(levelOfScore(319.9)).toBe('orange');
    expect(levelOfScore(160)).toBe('orange');
    expect(levelOfScore(70)).toBe('yellow');
    expect(levelOfScore(69)).toBe('blue');
  });

  it('without alarms every area keeps its inherent colour, rolled up by the worst child', () => {
    const [city] = computeRisk({ organisation, sites, alarms: [], now: NOW });
    expect(city?.level).toBe('orange');
    expect(city?.inherent).toBe('orange');
    expect(city?.areas).toEqual({ red: 0, orange: 1, yellow: 1, blue: 1 });
    expect(find([city as RiskNode], 'area:plant-a/tanks').level).toBe('yellow');
    expect(find([city as RiskNode], 'enterprise:ent-a').level).toBe('yellow');
    expect(find([city as RiskNode], 'county:county').driver).toBe('enterprise:ent-b');
  });

  it('hangs the enterprises below (uplink) under their link node, coloured by their forwarded open alarms', () => {
    const below = {
      node: 'park',
      enterpriseCode: '91310000MA1K4XY83B',
      name: '华新化工',
      lastReceivedAt: NOW - 5000,
      realtimeAt: NOW - 60_000,
      openAlarmPriorities: [3, 1, 4],
    };
    const quiet = {
      ...below,
      node: 'county',
      enterpriseCode: '91310000MA1K000001',
      openAlarmPriorities: [],
    };
    const roots = computeRisk({
      organisation,
      sites,
      alarms: [],
      now: NOW,
      forwarded: [below, quiet],
    });
    const node = find(roots, 'forwarded:91310000MA1K4XY83B');
    expect(node).toMatchObject({
      kind: 'enterprise',
      level: 'red',
      areas: { red: 0, orange: 0, yellow: 0, blue: 0 },
      forwarded: {
        enterpriseCode: '91310000MA1K4XY83B',
        lastReceivedAt: NOW - 5000,
        realtimeAt: NOW - 60_000,
        openAlarms: { p1: 1, p2: 0, p3: 1, p4: 1 },
      },
    });
    // It rolls up like any child: the park and everything above turn red, driven by it.
    expect(find(roots, 'park:park')).toMatchObject({ level: 'red', driver: node.key });
    expect(find(roots, 'city:city').level).toBe('red');
    expect(find(roots, 'forwarded:91310000MA1K000001').level).toBe('blue');
    // A scope beneath the link node does not see it.
    const entA = computeRisk({
      organisation,
      sites,
      alarms: [],
      now: NOW,
      scope: 'ent-a',
      forwarded: [below],
    });
    expect(JSON.stringify(entA)).not.toContain('forwarded:');
  });

  it('a P1 alarm makes its area red and rolls up to site, enterprise, park, county and city', () => {
    const p1 = alarm({ priority: 1, level: 'L2', ruleId: 'gas-l2' });
    const roots = computeRisk({ organisation, sites, alarms: [p1], now: NOW });
    const tanks = find(roots, 'area:plant-a/tanks');
    expect(tanks.level).toBe('red');
    expect(tanks.reasons).toEqual([
      expect.objectContaining({ kind: 'alarm', alarmId: p1.id, weight: 0.5, floor: 'red' }),
    ]);
    for (const key of [
      'site:plant-a',
      'enterprise:ent-a',
      'park:park',
      'county:county',
      'city:city',
    ])
      expect(find(roots, key).level).toBe('red');
    expect(find(roots, 'site:plant-a').driver).toBe('area:plant-a/tanks');
    expect(find(roots, 'city:city').driver).toBe('county:county');
    expect(find(roots, 'area:plant-a/office').level).toBe('blue');
    expect(find(roots, 'enterprise:ent-b').level).toBe('orange');
  });

  it('P2 raises to at least orange, P3 to at least yellow; P2 weights are capped at +0.6', () => {
    const p2s = [1, 2, 3, 4].map(() => alarm({}));
    const { sum, floor } = assess(p2s, NOW);
    expect(sum).toBe(0.6);
    expect(floor).toBe('orange');
    const roots = computeRisk({
      organisation,
      sites,
      alarms: [alarm({ areaId: 'office', priority: 3, level: 'pre' })],
      now: NOW,
    });
    expect(find(roots, 'area:plant-a/office').level).toBe('yellow');
  });

  it('the §9.9 score raises a colour by modifiers alone: yellow × (1 + 0.3 crowding + 0.2 data missing) ≥ 160 → orange', () => {
    const crowding = alarm({
      ruleId: 'crowding',
      category: 'process',
      priority: 4,
      level: 'crowd',
    });
    const offline = alarm({
      ruleId: 'offline',
      category: 'quality',
      priority: 3,
      level: 'offline',
      raisedAt: NOW - 31 * 60_000,
    });
    const roots = computeRisk({ organisation, sites, alarms: [crowding, offline], now: NOW });
    const tanks = find(roots, 'area:plant-a/tanks');
    expect(tanks.score).toEqual({ inherent: 115, multiplier: 1.5, dynamic: 172.5 });
    expect(tanks.level).toBe('orange');
    expect(tanks.reasons.map(r => r.kind).sort()).toEqual(['crowding', 'data-missing']);
  });

  it('ignores data gaps under 30 min, cleared and suppressed alarms', () => {
    const alarms = [
      alarm({ ruleId: 'offline', category: 'quality', priority: 2, raisedAt: NOW - 60_000 }),
      alarm({ priority: 1, state: 'returned-unacknowledged', conditionActive: false }),
      alarm({ priority: 1, suppressed: 'maintenance' }),
    ];
    const roots = computeRisk({ organisation, sites, alarms, now: NOW });
    expect(find(roots, 'area:plant-a/tanks')).toMatchObject({ level: 'yellow', reasons: [] });
  });

  it('keeps a latched alarm counting after its condition cleared, until it is reset', () => {
    const latched = alarm({
      priority: 1,
      latched: true,
      conditionActive: false,
      state: 'active-acknowledged',
    });
    expect(
      find(computeRisk({ organisation, sites, alarms: [latched], now: NOW }), 'area:plant-a/tanks')
        .level,
    ).toBe('red');
  });

  it('a major-hazard grade signal sets at least its colour; site-wide alarms colour the site', () => {
    const grade = alarm({
      ruleId: 'mhs-grade',
      level: 'grade-2',
      priority: 3,
      category: 'warning',
      areaId: 'office',
    });
    const sos = alarm({
      ruleId: 'sos',
      priority: 1,
      level: 'sos',
      areaId: undefined,
      deviceClass: 'tag',
    });
    const roots = computeRisk({ organisation, sites, alarms: [grade, sos], now: NOW });
    expect(find(roots, 'area:plant-a/office')).toMatchObject({
      level: 'orange',
      reasons: [expect.objectContaining({ kind: 'mhs-grade', floor: 'orange' })],
    });
    const site = find(roots, 'site:plant-a');
    expect(site.level).toBe('red');
    expect(site.reasons).toEqual([expect.objectContaining({ alarmId: sos.id, floor: 'red' })]);
    expect(site.driver).toBeUndefined();
  });

  it("returns the user's scope as the root", () => {
    const roots = computeRisk({ organisation, sites, alarms: [], now: NOW, scope: 'ent-b' });
    expect(roots.map(root => root.key)).toEqual(['enterprise:ent-b']);
    expect(roots[0]?.children.map(child => child.key)).toEqual(['site:plant-b']);
    expect(computeRisk({ organisation, sites, alarms: [], now: NOW, scope: 'nowhere' })).toEqual(
      [],
    );
  });

  it('shows each GB 18218-2018 unit of a site with its regulatory grade and live index', () => {
    const { units } = mhsUnitsOf(
      {
        id: 'plant-a',
        hazardUnits: [
          { id: 'tf-1', name: '罐区', kind: 'storage', area: 'tanks', exposedPopulation: 120 },
          { id: 'ru-1', name: '装置', kind: 'production', exposedPopulation: 40 },
        ],
      },
      [
        tankDevice('tk-nh3', { substance: 'ammonia', unit: 'tf-1', design_max_t: 50 }),
        tankDevice('tk-meoh', { substance: 'methanol', unit: 'tf-1', design_max_t: 800 }),
        tankDevice('r-201', { substance: 'hydrogen', unit: 'ru-1', design_max_t: 6 }),
      ],
    );
    const levels: Record<string, number> = { 'tk-nh3': 20, 'tk-meoh': 50, 'r-201': 50 };
    const roots = computeRisk({
      organisation,
      sites,
      alarms: [],
      now: NOW,
      mhsUnits: units,
      levelOf: (_site, device) => levels[device],
    });
    expect(find(roots, 'site:plant-a').hazardUnits).toEqual([
      {
        id: 'tf-1',
        name: '罐区',
        kind: 'storage',
        areaId: 'tanks',
        exposedPopulation: 120,
        alpha: 2,
        tanks: 2,
        // 2 × (2 × 50/10 + 800/500) = 23.2: grade III at design maximum
        regulatory: { grade: 3, r: 23.2, s: 6.6 },
        // 2 × (2 × 10/10 + 400/500) = 5.6: grade IV now
        live: { grade: 4, r: 5.6, s: 1.8, withoutLevel: [] },
      },
      {
        id: 'ru-1',
        name: '装置',
        kind: 'production',
        areaId: undefined,
        exposedPopulation: 40,
        alpha: 1.2,
        tanks: 1,
        // 1.2 × 1.5 × 6/5 = 2.16: grade IV; at half full S = 0.6 < 1: not a major hazard now
        regulatory: { grade: 4, r: 2.16, s: 1.2 },
        live: { grade: null, r: 1.08, s: 0.6, withoutLevel: [] },
      },
    ]);
    expect(find(roots, 'site:plant-b').hazardUnits).toBeUndefined();
  });
});

function tankDevice(deviceId: string, attributes: Record<string, string | number>) {
  return { siteId: 'plant-a', deviceId, deviceClass: 'mhs-tank', areaId: undefined, attributes };
}
