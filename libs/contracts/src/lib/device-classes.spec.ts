import { DEVICE_CLASS_DEFINITIONS, deviceMetrics, type DeviceClass } from './device-classes';

const tank = (attributes: Record<string, string | number | boolean>) => ({
  deviceClass: 'mhs-tank' as DeviceClass,
  attributes,
});

describe(deviceMetrics.name, () => {
  it("lists a class's metrics, numeric first, and no extras without the attribute", () => {
    const metrics = deviceMetrics({ deviceClass: 'tag', attributes: {} });
    expect(metrics.names).toEqual(['x', 'y', 'floor', 'battery_pct', 'still']);
    expect([...metrics.extra]).toEqual([]);
    expect(metrics.problems).toEqual([]);
    expect(deviceMetrics({ deviceClass: 'call-point', attributes: {} }).names).toEqual([]);
  });

  it('appends the extraMetrics after the class metrics: trimmed, once each, class metrics not again', () => {
    const metrics = deviceMetrics(
      tank({ extraMetrics: ' flow_lpm,valve_pct , flow_lpm, level_pct' }),
    );
    expect(metrics.names).toEqual([
      ...Object.keys(DEVICE_CLASS_DEFINITIONS['mhs-tank'].metrics),
      'flow_lpm',
      'valve_pct',
    ]);
    expect([...metrics.extra]).toEqual(['flow_lpm', 'valve_pct']);
    expect(metrics.problems).toEqual([]);
  });

  it('says what is wrong with a list the registry must refuse', () => {
    expect(deviceMetrics(tank({ extraMetrics: 'flow_lpm, Valve %, ' })).problems).toEqual([
      '"Valve %" is not a metric name ([a-z][a-z0-9_]{0,63})',
      '"" is not a metric name ([a-z][a-z0-9_]{0,63})',
    ]);
    expect(deviceMetrics(tank({ extraMetrics: 3 })).problems).toEqual([
      'must be a comma-separated list of metric names, not a number',
    ]);
  });

  it('reads one attributes object once per class (devices of a profile share it)', () => {
    const attributes = { extraMetrics: 'flow_lpm' };
    expect(deviceMetrics(tank(attributes))).toBe(deviceMetrics(tank(attributes)));
    const asTag = deviceMetrics({ deviceClass: 'tag', attributes });
    expect(asTag.names).toEqual(['x', 'y', 'floor', 'battery_pct', 'still', 'flow_lpm']);
  });
});
