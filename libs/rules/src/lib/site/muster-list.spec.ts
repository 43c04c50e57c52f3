import { compilePolygon } from '@vigil/contracts';

import { distanceToPolygon, musterOf } from './muster-list';

const square: Array<[number, number]> = [
  [0, 0],
  [100, 0],
  [100, 100],
  [0, 100],
];

describe('muster list', () => {
  it('measures 0 inside a polygon and the distance to the nearest edge or corner outside', () => {
    expect(distanceToPolygon([50, 50], square)).toBe(0);
    expect(distanceToPolygon([130, 50], square)).toBe(30);
    expect(distanceToPolygon([103, 104], square)).toBe(5);
  });

  it('lists tags inside, then those within the radius, nearest first; farther ones are left out', () => {
    const tags = [
      { deviceId: 'far', x: 200, y: 50 },
      { deviceId: 'near', x: 140, y: 50 },
      { deviceId: 'in-b', x: 10, y: 10 },
      { deviceId: 'in-a', x: 90, y: 90 },
      { deviceId: 'edge', x: 50, y: 150 },
    ];
    expect(
      musterOf(tags, compilePolygon(square), 50, t => t.deviceId).map(t => [
        t.item.deviceId,
        t.distanceM,
        t.inside,
      ]),
    ).toEqual([
      ['in-a', 0, true],
      ['in-b', 0, true],
      ['near', 40, false],
      ['edge', 50, false],
    ]);
  });
});
