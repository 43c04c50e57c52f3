import type { RegisteredDevice } from '@vigil/registry';

import { LookupError, findArea, findDevice } from './fleet-lookup';
import type { FleetDefinition } from './site-layout';

const device = (siteId: string, deviceId: string): RegisteredDevice => ({
  siteId,
  deviceId,
  deviceClass: 'gas-combustible',
  name: deviceId,
  areaId: undefined,
  profileId: undefined,
  gatewayId: undefined,
  position: undefined,
  intervalSeconds: 5,
  attributes: {},
  ruleOverrides: [],
});
const square: Array<[number, number]> = [
  [0, 0],
  [1, 0],
  [1, 1],
];
const fleet: FleetDefinition = {
  sites: [
    { id: 'a', frame: { width: 10, height: 10 }, areas: [{ id: 'yard', polygon: square }] },
    {
      id: 'b',
      frame: { width: 10, height: 10 },
      areas: [
        { id: 'yard', polygon: square },
        { id: 'shed', polygon: square },
      ],
    },
  ],
  devices: [device('a', 'd1'), device('b', 'd1'), device('b', 'd2')],
};

describe(findDevice.name, () => {
  it('finds bare and site-qualified ids, and refuses ambiguous or unknown ones', () => {
    expect(findDevice(fleet, 'd2').siteId).toBe('b');
    expect(findDevice(fleet, 'a/d1').siteId).toBe('a');
    expect(() => findDevice(fleet, 'd1')).toThrow('use one of a/d1, b/d1');
    expect(() => findDevice(fleet, 'a/d2')).toThrow(LookupError);
  });
});

describe(findArea.name, () => {
  it('finds bare and site-qualified areas, and refuses ambiguous or unknown ones', () => {
    expect(findArea(fleet, 'shed')).toEqual({ siteId: 'b', areaId: 'shed' });
    expect(findArea(fleet, 'a/yard')).toEqual({ siteId: 'a', areaId: 'yard' });
    expect(() => findArea(fleet, 'yard')).toThrow('several sites');
    expect(() => findArea(fleet, 'pond')).toThrow('unknown area "pond"');
  });
});
