import { countHidden, hiddenByParentOffline, hiddenCauses } from './alarms';

describe(countHidden.name, () => {
  it('counts every cause, zeros included, an alarm under two causes under both', () => {
    const now = 1000;
    const counts = countHidden(
      [
        { suppressed: 'maintenance', suppressedBy: [{ kind: 'maintenance', since: 0 }] },
        {
          suppressed: 'parent-offline',
          suppressedBy: [
            { kind: 'parent-offline', since: 0, gatewayId: 'gw' },
            { kind: 'out-of-service', since: 0 },
          ],
          shelved: { by: 'zhang', reason: 'x', until: 2000 },
        },
        { shelved: { by: 'zhang', reason: 'expired', until: 500 } },
        {},
      ],
      now,
    );
    expect(counts).toEqual({
      maintenance: 1,
      'out-of-service': 1,
      'parent-offline': 1,
      shelved: 1,
    });
    expect(countHidden([], now)).toEqual({
      maintenance: 0,
      'out-of-service': 0,
      'parent-offline': 0,
      shelved: 0,
    });
  });

  it('reads the bare kind of alarms journaled before causes were recorded', () => {
    expect(hiddenCauses({ suppressed: 'maintenance' }, 0)).toEqual(['maintenance']);
  });

  it('lets a parent hide only offline and data-quality alarms', () => {
    expect(hiddenByParentOffline({ category: 'quality', level: 'offline' })).toBe(true);
    expect(hiddenByParentOffline({ category: 'quality', level: 'fault' })).toBe(false);
    expect(hiddenByParentOffline({ category: 'process', level: 'offline' })).toBe(false);
  });
});
