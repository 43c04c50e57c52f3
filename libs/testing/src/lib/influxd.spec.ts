import { influxQuery } from './influx-query';
import { startInfluxd, type InfluxHandle } from './influxd';

describe(startInfluxd.name, () => {
  let influx: InfluxHandle | undefined;

  afterEach(async () => {
    await influx?.stop();
    influx = undefined;
  });

  it('starts influxd on loopback ports, answers /ping and InfluxQL, and stops by pid', async () => {
    influx = await startInfluxd();
    expect(influx.url).toBe(`http://127.0.0.1:${influx.httpPort}`);
    expect(influx.httpPort).not.toBe(8086);

    const ping = await fetch(`${influx.url}/ping`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toMatch(/^1\./);

    await influxQuery(influx.url, '', 'CREATE DATABASE "harness"');
    const databases = await influxQuery(influx.url, '', 'SHOW DATABASES');
    expect(databases.map(row => row['name'])).toContain('harness');

    const { pid, dataDir } = influx;
    await influx.stop();
    influx = undefined;
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(import('node:fs/promises').then(fs => fs.stat(dataDir))).rejects.toThrow();
  });

  it('fails with what influxd printed when it cannot start', async () => {
    await expect(startInfluxd({ extraConfig: '[http]\n  this is not toml' })).rejects.toThrow(
      /influxd \(pid \d+\) exited with exit code \d+ before it was ready; it printed:\n.+/s,
    );
  });
});
