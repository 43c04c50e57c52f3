import {
  DEFAULT_SITE_RULES_SETTINGS,
  type SiteLayout,
  defaultAreaRules,
  deviceRuleOverrides,
  resolveSiteLayouts,
} from './site-config';
import { DETECTORS, SITE, layout, rect } from './site-fixtures';

/** The areas of registry/sample/site-plant-1.yaml, as the registry parses them. */
const SAMPLE: SiteLayout = {
  siteId: 'plant-1',
  areas: [
    {
      id: 'tank-farm',
      name: '罐区 Tank farm',
      kind: 'storage',
      risk: 'red',
      polygon: rect(20, 160, 180, 280),
      maxPeople: 3,
    },
    {
      id: 'reactor-unit',
      name: '反应装置区',
      kind: 'production',
      risk: 'orange',
      polygon: rect(200, 160, 380, 280),
      maxPeople: 3,
    },
    {
      id: 'loading-bay',
      name: '装卸区',
      kind: 'loading',
      risk: 'yellow',
      polygon: rect(20, 20, 180, 140),
    },
    {
      id: 'control-room',
      name: '中控室',
      kind: 'control-room',
      risk: 'blue',
      polygon: rect(200, 20, 280, 80),
    },
    {
      id: 'office',
      name: '办公楼',
      kind: 'office',
      risk: 'blue',
      polygon: rect(300, 20, 380, 140),
    },
    {
      id: 'confined-space',
      name: '受限空间',
      kind: 'restricted',
      risk: 'red',
      polygon: rect(150, 240, 175, 275),
    },
  ],
  devices: [
    {
      deviceId: 'gc-tf-01',
      deviceClass: 'gas-combustible',
      areaId: 'tank-farm',
      position: [50, 200],
    },
    { deviceId: 'tag-001', deviceClass: 'tag' },
  ],
};

function enabled(siteLayout: SiteLayout): Record<string, string[]> {
  const { sites, errors } = resolveSiteLayouts([siteLayout]);
  expect(errors).toEqual([]);
  const result: Record<string, string[]> = {};
  for (const area of sites[0]?.areas ?? []) {
    result[area.id] = Object.entries(area.rules)
      .filter(([, rule]) => rule.enabled)
      .map(([id]) => id);
  }
  return result;
}

describe(defaultAreaRules.name, () => {
  it('turns rules on by area kind, risk and maxPeople (the sample plant)', () => {
    expect(enabled(SAMPLE)).toEqual({
      'tank-farm': ['head-count', 'crowding', 'man-down', 'people-present'],
      'reactor-unit': ['head-count', 'crowding', 'man-down', 'people-present'],
      'loading-bay': ['crowding', 'people-present'],
      'control-room': ['people-present'],
      office: ['people-present'],
      'confined-space': ['intrusion', 'overstay', 'man-down', 'people-present'],
    });
  });

  it('carries the cited defaults', () => {
    const restricted = defaultAreaRules({ kind: 'restricted' });
    expect(restricted.intrusion).toEqual({
      enabled: true,
      bufferM: 3,
      confirmFixes: 2,
      confirmMs: 5_000,
      priority: 2,
    });
    expect(restricted.overstay).toEqual({ enabled: true, maxDwellMinutes: 10, priority: 2 });
    const storage = defaultAreaRules({ kind: 'storage', maxPeople: 3 });
    expect(storage['head-count']).toEqual({
      enabled: true,
      maxPeople: 3,
      holdMs: 60_000,
      priority: 2,
    });
    // N follows the limit: 3 people allowed, so a crowd is 4 or more within 15 m.
    expect(storage.crowding).toEqual({
      enabled: true,
      minPeople: 4,
      radiusM: 15,
      holdMs: 60_000,
      offDelayMs: 30_000,
      priority: 2,
    });
    expect(storage['man-down']).toMatchObject({
      enabled: false,
      preAlarmMs: 60_000,
      alarmMs: 120_000,
    });
    expect(storage.voting).toEqual({
      enabled: false,
      k: 2,
      rules: ['gas-l2'],
      priority: 1,
      latched: true,
    });
    expect(storage['people-present']).toMatchObject({ enabled: true, radiusM: 50, priority: 1 });
  });

  it('takes the crowding and man-down area kinds from the settings', () => {
    const settings = {
      ...DEFAULT_SITE_RULES_SETTINGS,
      crowdingKinds: ['office'],
      manDownKinds: [],
    };
    expect(defaultAreaRules({ kind: 'office' }, settings).crowding.enabled).toBe(true);
    expect(defaultAreaRules({ kind: 'storage' }, settings).crowding.enabled).toBe(false);
    expect(defaultAreaRules({ kind: 'restricted' }, settings)['man-down'].enabled).toBe(false);
  });
});

describe(resolveSiteLayouts.name, () => {
  it('applies overrides from the area rules map; an entry turns its rule on', () => {
    const { sites, errors } = resolveSiteLayouts([
      layout({
        yard: {
          rules: {
            'gas-l1': { setpoint: 20 }, // a device rule: ignored here
            crowding: { minPeople: 2 },
            voting: { k: 2, rules: ['gas-l2'] },
          },
        },
        office: {
          rules: { overstay: { maxDwellMinutes: 30 }, 'people-present': { enabled: false } },
        },
      }),
    ]);
    expect(errors).toEqual([]);
    const [yard, , office] = sites[0]?.areas ?? [];
    expect(yard?.rules.crowding).toMatchObject({ enabled: true, minPeople: 2, radiusM: 15 });
    expect(yard?.rules.voting).toMatchObject({ enabled: true, k: 2 });
    expect(yard?.votingRuleId).toBe('vote-gas-l2');
    expect(office?.rules.overstay).toEqual({ enabled: true, maxDwellMinutes: 30, priority: 3 });
    expect(office?.rules['people-present'].enabled).toBe(false);
    expect(sites[0]?.deviceAreas.get('gc-9')).toBe('office');
  });

  it('lists every problem, one line each, and leaves the broken site out', () => {
    const broken: SiteLayout = {
      siteId: SITE,
      areas: [
        {
          id: 'yard',
          name: 'Yard',
          kind: 'production',
          polygon: rect(0, 0, 10, 10),
          rules: {
            crowding: { minpeople: 2 },
            'man-down': { preAlarmMs: 60_000, alarmMs: 30_000 },
            'head-count': { holdMs: 1_000 },
          },
        },
        {
          id: 'yard',
          name: 'Again',
          kind: 'office',
          polygon: rect(0, 0, 1, 1),
          rules: { overstay: { priority: 2 } },
        },
        {
          id: 'vote',
          name: 'Vote',
          kind: 'office',
          polygon: rect(0, 0, 1, 1),
          rules: { voting: { k: 1 } },
        },
      ],
      devices: [
        ...DETECTORS,
        { deviceId: 'gc-1', deviceClass: 'gas-combustible', areaId: 'nowhere' },
      ],
    };
    const { sites, errors } = resolveSiteLayouts(
      [broken, { siteId: 'bad site', areas: [], devices: [] }],
      {
        positionTtlMs: 10,
      },
    );
    expect(sites).toEqual([]);
    expect(errors).toEqual([
      'settings.positionTtlMs: Too small: expected number to be >=1000',
      'plant-1: areas.yard.rules.crowding: Unrecognized key: "minpeople"; did you mean "minPeople"?',
      'plant-1: areas.yard.rules.head-count.maxPeople: required (the area has no maxPeople)',
      'plant-1: areas.yard.rules.man-down.alarmMs: must be greater than preAlarmMs',
      'plant-1: areas.yard: area id listed twice',
      'plant-1: areas.yard.rules.overstay.maxDwellMinutes: required to enable overstay here',
      'plant-1: areas.vote.rules.voting.k: Too small: expected number to be >=2',
      'plant-1: devices.gc-9.areaId: "office" is not an area of the site',
      'plant-1: devices.gc-1: device id listed twice',
      'plant-1: devices.gc-1.areaId: "nowhere" is not an area of the site',
      'sites.1.siteId: must match [A-Za-z0-9_-]{1,64}',
    ]);
  });

  it('accepts registry objects as they are (extra fields are ignored)', () => {
    const registryDevice = {
      ...DETECTORS[0],
      name: 'Gas 1',
      profileId: 'catalytic-ch4',
      attributes: {},
    };
    const { errors } = resolveSiteLayouts([{ ...layout(), devices: [registryDevice] }]);
    expect(errors).toEqual([]);
  });
});

describe(deviceRuleOverrides.name, () => {
  it('keeps only the device rules of an area rules map, for resolveDeviceRules', () => {
    expect(
      deviceRuleOverrides({ 'gas-l1': { setpoint: 20 }, crowding: { minPeople: 2 }, voting: {} }),
    ).toEqual({
      'gas-l1': { setpoint: 20 },
    });
    expect(deviceRuleOverrides(undefined)).toBeUndefined();
  });
});
