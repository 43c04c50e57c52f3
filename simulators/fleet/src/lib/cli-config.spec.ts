import { USAGE, parseCli } from './cli-config';

describe(parseCli.name, () => {
  it('defaults to the sample registry and the local broker', () => {
    expect(parseCli([], {})).toEqual({
      kind: 'run',
      config: {
        registry: 'registry/sample',
        url: 'mqtt://127.0.0.1:1883',
        speed: 1,
        seed: undefined,
        qos: 0,
        maxConnections: 200,
        sites: [],
        leakAfter: [],
        quiet: false,
        credentials: undefined,
      },
    });
  });

  it('takes device logins from --credentials, else VIGIL_SIM_CREDENTIALS', () => {
    const credentials = (argv: string[], env: Record<string, string>) => {
      const result = parseCli(argv, env);
      return result.kind === 'run' ? result.config.credentials : result;
    };
    expect(credentials(['--credentials', '/s.json'], { VIGIL_SIM_CREDENTIALS: '/e.json' })).toBe(
      '/s.json',
    );
    expect(credentials([], { VIGIL_SIM_CREDENTIALS: '/e.json' })).toBe('/e.json');
  });

  it('takes the broker from VIGIL_MQTT_URL, else VIGIL_MQTT_PORT, unless --url says otherwise', () => {
    const url = (argv: string[], env: Record<string, string>) => {
      const result = parseCli(argv, env);
      return result.kind === 'run' ? result.config.url : result;
    };
    expect(url([], { VIGIL_MQTT_PORT: '18830' })).toBe('mqtt://127.0.0.1:18830');
    expect(url([], { VIGIL_MQTT_URL: 'mqtts://broker:8883', VIGIL_MQTT_PORT: '1' })).toBe(
      'mqtts://broker:8883',
    );
    expect(url(['--url', 'ws://h:9001/mqtt'], { VIGIL_MQTT_PORT: 'oops' })).toBe(
      'ws://h:9001/mqtt',
    );
  });

  it('reads every flag', () => {
    const result = parseCli(
      [
        '--registry',
        '/tmp/reg',
        '--url',
        'mqtt://10.0.0.5:1883',
        '--speed',
        '2.5',
        '--seed',
        '42',
        '--qos',
        '1',
        '--max-connections',
        '0',
        '--site',
        'plant-1',
        '--site',
        'plant-2',
        '--leak-after',
        '45:gc-tf-02',
        '--leak-after',
        '90.5:plant-1/gc-ru-01',
        '--quiet',
      ],
      {},
    );
    expect(result).toEqual({
      kind: 'run',
      config: {
        registry: '/tmp/reg',
        url: 'mqtt://10.0.0.5:1883',
        speed: 2.5,
        seed: 42,
        qos: 1,
        maxConnections: 0,
        sites: ['plant-1', 'plant-2'],
        leakAfter: [
          { afterSeconds: 45, device: 'gc-tf-02' },
          { afterSeconds: 90.5, device: 'plant-1/gc-ru-01' },
        ],
        quiet: true,
        credentials: undefined,
      },
    });
  });

  it('lists every bad flag at once, naming the flag', () => {
    const result = parseCli(
      [
        '--speed',
        '0',
        '--seed',
        '1.5',
        '--qos',
        '2',
        '--url',
        'http://x',
        '--leak-after',
        'soon:gc',
        '--max-connections',
        'many',
      ],
      {},
    );
    expect(result.kind).toBe('invalid');
    const problems = result.kind === 'invalid' ? result.problems : [];
    expect(problems).toEqual([
      '--url: must be a URL such as mqtt://127.0.0.1:1883 (mqtt, mqtts, tcp, tls, ws or wss)',
      '--speed: must be greater than 0',
      '--seed: must be an integer',
      '--qos: must be 0 or 1',
      '--max-connections: must be a number',
      '--leak-after: must look like <seconds>:<deviceId>, e.g. 45:gc-tf-02',
    ]);
  });

  it('blames the environment when the default broker address is bad', () => {
    expect(parseCli([], { VIGIL_MQTT_PORT: '99999' })).toEqual({
      kind: 'invalid',
      problems: ['VIGIL_MQTT_PORT: must be a port number, got "99999"'],
    });
    expect(parseCli([], { VIGIL_MQTT_URL: 'nonsense' })).toMatchObject({
      kind: 'invalid',
      problems: [expect.stringMatching(/^VIGIL_MQTT_URL: /)],
    });
  });

  it('refuses unknown flags, missing values and positionals', () => {
    for (const argv of [['--speeed', '2'], ['--speed'], ['extra']]) {
      const result = parseCli(argv, {});
      expect(result.kind).toBe('invalid');
    }
  });

  it('answers --help with the usage', () => {
    expect(parseCli(['-h'], {})).toEqual({ kind: 'help' });
    expect(USAGE).toContain('--leak-after');
  });
});
