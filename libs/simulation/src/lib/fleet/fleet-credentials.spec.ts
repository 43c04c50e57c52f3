import { join } from 'node:path';

import { loadRegistry } from '@vigil/registry-node';

import { FleetSimulator } from './fleet-simulator';
import type { FleetClientOptions, FleetMqttClient } from './mqtt-connector';

const registry = loadRegistry(join(__dirname, '../../../../../registry/sample'));
const devices = registry.devices.slice(0, 3);
const fleet = { devices, sites: registry.sites };

/** Records the options of each connection; never connects. */
function recorder(): {
  options: FleetClientOptions[];
  connect: (o: FleetClientOptions) => FleetMqttClient;
} {
  const options: FleetClientOptions[] = [];
  return {
    options,
    connect: o => {
      options.push(o);
      return {
        connected: false,
        publish: () => undefined,
        end: (_force, _opts, callback) => callback(),
        on: () => undefined,
      };
    },
  };
}

describe('FleetSimulator with device credentials', () => {
  const credentials = new Map(
    devices.map(d => [
      `${d.siteId}/${d.deviceId}`,
      { username: d.deviceId, secret: `s-${d.deviceId}` },
    ]),
  );

  it('opens one connection per device, each with its own login, even when sharing was asked for by size', () => {
    const { options, connect } = recorder();
    const simulator = new FleetSimulator(fleet, connect, { credentials, maxDeviceConnections: 0 });
    expect(simulator.connectionMode).toBe('per-device');
    void simulator.start();
    expect(options.map(o => [o.username, o.password])).toEqual(
      devices.map(d => [d.deviceId, `s-${d.deviceId}`]),
    );
    void simulator.stop();
  });

  it('refuses to start without a login for every device, naming them', () => {
    const partial = new Map([...credentials].slice(1));
    expect(() => new FleetSimulator(fleet, recorder().connect, { credentials: partial })).toThrow(
      `no credentials for 1 device(s): ${devices[0]?.siteId}/${devices[0]?.deviceId}`,
    );
    expect(
      () =>
        new FleetSimulator(fleet, recorder().connect, { credentials, connectionMode: 'shared' }),
    ).toThrow(/one connection per device/);
  });
});
