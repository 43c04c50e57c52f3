import { USAGE, parseCommandLine } from './cli';

describe('vigil-loadtest command line', () => {
  it('prints help without a command', () => {
    expect(parseCommandLine([])).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommandLine(['load', '--help'])).toEqual({ ok: true, command: { kind: 'help' } });
    expect(USAGE).toContain('vigil-loadtest <command>');
  });

  it('reads a fleet command', () => {
    expect(parseCommandLine(['fleet', 'f.yaml', '--out', '/tmp/r'])).toEqual({
      ok: true,
      command: { kind: 'fleet', file: 'f.yaml', out: '/tmp/r' },
    });
  });

  it('reads a scenario command with its defaults and the token from the environment', () => {
    const parsed = parseCommandLine(
      [
        'scenario',
        'a.yaml',
        'b.yaml',
        '--gateway',
        'http://127.0.0.1:8080/',
        '--url',
        'mqtt://127.0.0.1:1883',
      ],
      { VIGIL_TOKEN: 't0k' },
    );
    expect(parsed).toEqual({
      ok: true,
      command: {
        kind: 'scenario',
        files: ['a.yaml', 'b.yaml'],
        gateway: 'http://127.0.0.1:8080',
        url: 'mqtt://127.0.0.1:1883',
        influx: undefined,
        influxDb: 'vigil',
        token: 't0k',
        settleMs: 5000,
        targets: {},
        without: [],
        seed: 1,
        out: undefined,
      },
    });
  });

  it('reads further Vigil targets for operator steps, refusing main and bad URLs', () => {
    const base = ['scenario', 'a.yaml', '--gateway', 'http://h:1', '--url', 'mqtt://h:2'];
    const parsed = parseCommandLine([...base, '--target', 'city=http://city:8080/']);
    expect(parsed.ok && parsed.command.kind === 'scenario' && parsed.command.targets).toEqual({
      city: 'http://city:8080',
    });
    const without = parseCommandLine([...base, '--without', 'city']);
    expect(without.ok && without.command.kind === 'scenario' && without.command.without).toEqual([
      'city',
    ]);
    const bad = parseCommandLine([
      ...base,
      '--target',
      'main=http://x',
      '--target',
      'city=ftp://x',
    ]);
    expect(bad.ok ? [] : bad.problems).toEqual([
      '--target main=http://x: must be name=http://… (a name other than main)',
      '--target city=ftp://x: must be an http:// or https:// URL',
    ]);
  });

  it('lists every problem of a bad scenario command', () => {
    const parsed = parseCommandLine(['scenario', '--gateway', 'ftp://x', '--settle', 'later']);
    expect(parsed.ok).toBe(false);
    const problems = parsed.ok ? [] : parsed.problems;
    expect(problems[0]).toBe('scenario: give at least one scenario file');
    expect(problems.join('\n')).toMatch(/--gateway: must be an http/);
    expect(problems.join('\n')).toMatch(/--url/);
    expect(problems.join('\n')).toMatch(/--settle: "later" is not a duration/);
  });

  it('takes a broker login for load: the name from --mqtt-username, the password from the environment', () => {
    const base = ['load', '--fleet', 'f.yaml', '--url', 'mqtt://h:1', '--gateway', 'http://h:2'];
    const parsed = parseCommandLine([...base, '--mqtt-username', 'gw-1'], {
      VIGIL_LOADTEST_MQTT_PASSWORD: 's3cret',
    });
    expect(parsed.ok && parsed.command).toMatchObject({
      mqttLogin: { username: 'gw-1', password: 's3cret' },
    });
    const anonymous = parseCommandLine(base, {});
    expect(anonymous.ok && anonymous.command).toMatchObject({ mqttLogin: undefined });
  });

  it('builds load profiles from flags', () => {
    const base = ['load', '--fleet', 'f.yaml', '--url', 'mqtt://h:1', '--gateway', 'http://h:2'];
    const steady = parseCommandLine([
      ...base,
      '--rate',
      '5000',
      '--duration',
      '90s',
      '--qos',
      '1',
      '--pid',
      'broker=42',
    ]);
    expect(steady.ok && steady.command).toMatchObject({
      kind: 'load',
      profile: { kind: 'steady', rate: 5000, durationMs: 90_000 },
      qos: 1,
      batch: 1,
      alarmsPerSecond: 10,
      pids: { broker: 42 },
      influxRp: 'raw',
    });
    const ramp = parseCommandLine([
      ...base,
      '--profile',
      'ramp',
      '--from',
      '1000',
      '--to',
      '50000',
    ]);
    expect(ramp.ok && ramp.command).toMatchObject({
      profile: { kind: 'ramp', from: 1000, to: 50_000, durationMs: 60_000 },
    });
    const burst = parseCommandLine([
      ...base,
      '--profile',
      'burst',
      '--rate',
      '1000',
      '--burst-every',
      '5s',
      '--burst-for',
      '1s',
    ]);
    expect(burst.ok && burst.command).toMatchObject({
      profile: { kind: 'burst', rate: 1000, peak: 4000, everyMs: 5000, burstMs: 1000 },
    });
  });

  it('refuses incomplete load commands', () => {
    const noWatch = parseCommandLine(['load', '--fleet', 'f', '--url', 'mqtt://h:1']);
    expect(noWatch).toEqual({
      ok: false,
      problems: ['load: give --gateway (Vigil) or --ws (another system) to watch alarms'],
    });
    const ramp = parseCommandLine([
      'load',
      '--fleet',
      'f',
      '--url',
      'mqtt://h:1',
      '--ws',
      'ws://h/ws',
      '--profile',
      'ramp',
    ]);
    expect(ramp.ok ? [] : ramp.problems).toEqual(['--profile ramp: give --from and --to']);
    const burst = parseCommandLine([
      'load',
      '--fleet',
      'f',
      '--url',
      'mqtt://h:1',
      '--ws',
      'ws://h/ws',
      '--profile',
      'burst',
      '--burst-every',
      '1s',
      '--burst-for',
      '2s',
    ]);
    expect(burst.ok ? [] : burst.problems).toEqual([
      '--profile burst: a burst must be shorter than its period',
    ]);
    expect(parseCommandLine(['load', '--bogus'])).toMatchObject({ ok: false });
    expect(parseCommandLine(['teleport'])).toEqual({
      ok: false,
      problems: ['unknown command "teleport" (fleet, scenario, load)'],
    });
  });
});
