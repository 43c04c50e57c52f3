import { mqttClientOptions } from '../mqtt/client-options';
import { ConfigError, loadConfig } from './vigil-config';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('clustered device brokers (docs/scaling.md)', () => {
  it('subscribes plainly unless VIGIL_MQTT_SHARE_GROUP names a group', () => {
    expect(loadConfig({}).mqtt.shareGroup).toBeUndefined();
    expect(loadConfig({ VIGIL_MQTT_SHARE_GROUP: 'vigil-ingest' }).mqtt.shareGroup).toBe(
      'vigil-ingest',
    );
  });

  it('refuses a share group that would add topic levels or wildcards', () => {
    for (const group of ['a/b', 'all+', '#', ''])
      expect(problemsOf({ VIGIL_MQTT_SHARE_GROUP: group }).join()).toMatch(
        /VIGIL_MQTT_SHARE_GROUP/,
      );
  });

  it('gives every MQTT client the whole node list, VIGIL_MQTT_URL first, when failover nodes are set', () => {
    const config = loadConfig({
      VIGIL_MQTT_URL: 'mqtt://10.0.0.1:1883',
      VIGIL_MQTT_FAILOVER_URLS: 'mqtt://10.0.0.2:1884, mqtt://nats-3',
    });
    expect(config.mqtt.url).toBe('mqtt://10.0.0.1:1883');
    expect(config.mqtt.failoverUrls).toEqual(['mqtt://10.0.0.2:1884', 'mqtt://nats-3']);
    expect(mqttClientOptions(config).servers).toEqual([
      { host: '10.0.0.1', port: 1883, protocol: 'mqtt' },
      { host: '10.0.0.2', port: 1884, protocol: 'mqtt' },
      { host: 'nats-3', port: 1883, protocol: 'mqtt' },
    ]);
    expect(mqttClientOptions(loadConfig({})).servers).toBeUndefined();
  });

  it('refuses failover nodes without a first node, with another scheme, or not host:port', () => {
    expect(problemsOf({ VIGIL_MQTT_FAILOVER_URLS: 'mqtt://10.0.0.2:1883' })).toEqual([
      'VIGIL_MQTT_FAILOVER_URLS: needs VIGIL_MQTT_URL (the first node of the cluster)',
    ]);
    const problems = problemsOf({
      VIGIL_MQTT_URL: 'mqtts://10.0.0.1:8883',
      VIGIL_MQTT_FAILOVER_URLS: 'mqtt://10.0.0.2:1883,http://10.0.0.3,mqtts://10.0.0.4:8883/x',
    });
    expect(problems).toEqual([
      'VIGIL_MQTT_FAILOVER_URLS: mqtt://10.0.0.2:1883 does not use mqtts: like VIGIL_MQTT_URL',
      'VIGIL_MQTT_FAILOVER_URLS: http://10.0.0.3 is not an mqtt:// or mqtts:// address (host:port)',
      'VIGIL_MQTT_FAILOVER_URLS: mqtts://10.0.0.4:8883/x is not an mqtt:// or mqtts:// address (host:port)',
    ]);
  });

  it('refuses plain mqtt:// failover nodes off loopback outside demo mode, like VIGIL_MQTT_URL', () => {
    const problems = problemsOf({
      VIGIL_DEMO_MODE: 'false',
      VIGIL_SERVICES: 'ingest',
      VIGIL_MQTT_URL: 'mqtt://127.0.0.1:1883',
      VIGIL_MQTT_USERNAME: 'vigil-ingest',
      VIGIL_MQTT_FAILOVER_URLS: 'mqtt://10.0.0.2:1883',
    });
    expect(problems).toContain(
      'VIGIL_MQTT_FAILOVER_URLS: plain mqtt:// to 10.0.0.2 outside demo mode; use mqtts://',
    );
  });
});
