import { ConfigError, loadConfig } from './vigil-config';

const PRODUCTION = {
  VIGIL_DEMO_MODE: 'false',
  VIGIL_USERS: '/etc/vigil/users.yaml',
  VIGIL_AUTH_SECRET: 'a-secret-of-at-least-thirty-two-characters',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('broker security and TLS configuration', () => {
  it('admits anonymous MQTT clients by default in demo mode only', () => {
    expect(loadConfig({}).security.allowAnonymous).toBe(true);
    expect(loadConfig(PRODUCTION).security.allowAnonymous).toBe(false);
    expect(loadConfig({ VIGIL_MQTT_ALLOW_ANONYMOUS: 'false' }).security.allowAnonymous).toBe(false);
  });

  it('keeps the device secrets and the internal secret in the data directory by default', () => {
    const config = loadConfig({ VIGIL_DATA_DIR: '/var/lib/vigil' });
    expect(config.security.credentialsFile).toBe('/var/lib/vigil/device-credentials.json');
    expect(config.security.internalSecretFile).toBe('/var/lib/vigil/mqtt-internal.secret');
    expect(config.security.usesEmbeddedBroker).toBe(true);
  });

  it('refuses, loudly and all at once, what would leave production open or plain', () => {
    const problems = problemsOf({
      ...PRODUCTION,
      VIGIL_MQTT_ALLOW_ANONYMOUS: 'true',
      VIGIL_MQTT_HOST: '0.0.0.0',
      VIGIL_HTTP_HOST: '0.0.0.0',
      VIGIL_MQTT_TLS_CERT: '/etc/vigil/server.crt',
    });
    expect(problems).toEqual([
      'VIGIL_MQTT_TLS_CERT, VIGIL_MQTT_TLS_KEY: set both or neither',
      'VIGIL_MQTT_ALLOW_ANONYMOUS: anonymous MQTT clients are refused outside demo mode',
      expect.stringMatching(
        /^VIGIL_MQTT_HOST: the plain MQTT listener may only listen on loopback/,
      ),
      expect.stringMatching(
        /^VIGIL_HTTPS_CERT, VIGIL_HTTPS_KEY: the gateway listens on 0\.0\.0\.0/,
      ),
    ]);
  });

  it('refuses plain mqtt:// and anonymous access to an external broker outside demo mode', () => {
    expect(problemsOf({ ...PRODUCTION, VIGIL_MQTT_URL: 'mqtt://broker.site:1883' })).toEqual([
      expect.stringMatching(/^VIGIL_MQTT_URL: plain mqtt:\/\/ to broker\.site/),
      'VIGIL_MQTT_USERNAME: required for an external broker outside demo mode',
    ]);
    expect(
      problemsOf({
        ...PRODUCTION,
        VIGIL_MQTT_URL: 'mqtts://broker.site:8883',
        VIGIL_MQTT_USERNAME: 'vigil',
        VIGIL_MQTT_PASSWORD: 'x',
        VIGIL_MQTT_CA: '/etc/vigil/ca.crt',
      }),
    ).toEqual([]);
  });

  it('accepts production with TLS, loopback-only plain listeners, or an explicit private network', () => {
    expect(
      problemsOf({
        ...PRODUCTION,
        VIGIL_HTTP_HOST: '0.0.0.0',
        VIGIL_HTTPS_CERT: '/c',
        VIGIL_HTTPS_KEY: '/k',
        VIGIL_MQTT_TLS_HOST: '0.0.0.0',
        VIGIL_MQTT_TLS_CERT: '/c',
        VIGIL_MQTT_TLS_KEY: '/k',
      }),
    ).toEqual([]);
    expect(problemsOf(PRODUCTION)).toEqual([]);
    expect(
      problemsOf({
        ...PRODUCTION,
        VIGIL_HTTP_HOST: '0.0.0.0',
        VIGIL_MQTT_URL: 'mqtt://mosquitto:1883',
        VIGIL_MQTT_USERNAME: 'vigil-gateway',
        VIGIL_ALLOW_PLAINTEXT: 'true',
      }),
    ).toEqual([]);
  });
});
