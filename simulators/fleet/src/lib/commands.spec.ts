import { join } from 'node:path';

import { loadRegistry } from '@vigil/registry-node';

import { executeCommand, parseCommand, type CommandTarget } from './commands';

describe(parseCommand.name, () => {
  it('parses each command', () => {
    expect(parseCommand('leak gc-tf-02')).toEqual({
      ok: true,
      command: { kind: 'leak', device: 'gc-tf-02', peakLel: undefined },
    });
    expect(parseCommand('  leak plant-1/gc-tf-02 80 ')).toEqual({
      ok: true,
      command: { kind: 'leak', device: 'plant-1/gc-tf-02', peakLel: 80 },
    });
    expect(parseCommand('leak-area tank-farm')).toEqual({
      ok: true,
      command: { kind: 'leak-area', area: 'tank-farm', peakLel: undefined },
    });
    expect(parseCommand('event fp-main fire')).toEqual({
      ok: true,
      command: { kind: 'event', device: 'fp-main', code: 'fire', detail: undefined },
    });
    expect(parseCommand('event fp-main fire {"zone": "A 3", "loop": 1}')).toEqual({
      ok: true,
      command: { kind: 'event', device: 'fp-main', code: 'fire', detail: { zone: 'A 3', loop: 1 } },
    });
    expect(parseCommand('quit')).toEqual({ ok: true, command: { kind: 'quit' } });
    expect(parseCommand('exit')).toEqual({ ok: true, command: { kind: 'quit' } });
    expect(parseCommand('help')).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommand('stats')).toEqual({ ok: true, command: { kind: 'stats' } });
    expect(parseCommand('')).toEqual({ ok: true, command: { kind: 'nothing' } });
    expect(parseCommand('# a comment')).toEqual({ ok: true, command: { kind: 'nothing' } });
  });

  it('explains what is wrong with a bad line', () => {
    const error = (line: string) => {
      const parsed = parseCommand(line);
      return parsed.ok ? undefined : parsed.error;
    };
    expect(error('leak')).toBe('usage: leak <deviceId> [peakLel]');
    expect(error('leak gc 0')).toBe('peak must be a number in (0, 100], got "0"');
    expect(error('leak gc lots')).toBe('peak must be a number in (0, 100], got "lots"');
    expect(error('leak-area a b c')).toBe('usage: leak-area <areaId> [peakLel]');
    expect(error('event fp-main')).toBe('usage: event <deviceId> <code> [json detail]');
    expect(error('event fp-main FIRE')).toMatch(/^event code "FIRE" must match/);
    expect(error('event fp-main fire [1]')).toBe('event detail must be a JSON object, got [1]');
    expect(error('event fp-main fire {oops')).toBe('event detail must be a JSON object, got {oops');
    expect(error('quit now')).toBe('usage: quit');
    expect(error('explode')).toBe('unknown command "explode" (type "help")');
  });
});

describe(executeCommand.name, () => {
  const registry = loadRegistry(join(__dirname, '../../../../registry/sample'));
  const calls: unknown[] = [];
  const simulator: CommandTarget = {
    injectGasLeak: options => {
      calls.push(options);
      return {
        siteId: options.siteId,
        startedAt: 0,
        profile: {
          peakLel: options.peakLel ?? 65,
          rampSeconds: 10,
          holdSeconds: 60,
          decaySeconds: 30,
        },
        targets: [{ deviceId: 'gc-tf-02', peakLel: 65, distanceM: 0 }],
      };
    },
    publishEvent: (...args) => void calls.push(args),
  };

  beforeEach(() => (calls.length = 0));

  it('runs leaks and events against the resolved device or area', () => {
    expect(
      executeCommand({ kind: 'leak', device: 'gc-tf-02', peakLel: 70 }, simulator, registry),
    ).toBe('gas leak at plant-1/gc-tf-02: 70 %LEL after 10 s, held 60 s, gone 30 s later');
    expect(
      executeCommand(
        { kind: 'leak-area', area: 'tank-farm', peakLel: undefined },
        simulator,
        registry,
      ),
    ).toBe('gas leak in plant-1/tank-farm, peak %LEL per detector: gc-tf-02 65.0');
    expect(
      executeCommand(
        { kind: 'event', device: 'fp-main', code: 'fire', detail: undefined },
        simulator,
        registry,
      ),
    ).toBe('event fire sent for plant-1/fp-main');
    expect(calls).toEqual([
      { siteId: 'plant-1', deviceId: 'gc-tf-02', peakLel: 70 },
      { siteId: 'plant-1', areaId: 'tank-farm' },
      ['plant-1', 'fp-main', 'fire', undefined],
    ]);
  });

  it('sends fire-panel signals with their registry address (GB 26875 loop, point, zone)', () => {
    expect(parseCommand('panel fp-main fire 1-23')).toEqual({
      ok: true,
      command: { kind: 'panel', device: 'fp-main', state: 'fire', address: '1-23' },
    });
    expect(parseCommand('panel fp-main')).toEqual({
      ok: false,
      error: 'usage: panel <deviceId> <state> [loop-point | point | zone:<id>]',
    });
    const run = (state: string, address?: string) =>
      executeCommand({ kind: 'panel', device: 'fp-main', state, address }, simulator, registry);
    expect(run('fire', '1-23')).toBe(
      'panel fire sent for plant-1/fp-main: fire {"loop":1,"point":23,"zone":1}',
    );
    run('isolation-end', '1-24');
    run('mains-fault');
    run('manual');
    run('reset');
    expect(calls).toEqual([
      ['plant-1', 'fp-main', 'fire', { loop: 1, point: 23, zone: 1 }],
      ['plant-1', 'fp-main', 'isolation', { loop: 1, point: 24, zone: 1, cleared: true }],
      ['plant-1', 'fp-main', 'mains_fault', {}],
      ['plant-1', 'fp-main', 'manual_mode', {}],
      ['plant-1', 'fp-main', 'reset', {}],
    ]);
    expect(() => run('fire', '9-99')).toThrow('point 9-99 is not in the registry of fp-main');
    expect(() => run('smoke', '1-23')).toThrow('unknown panel state "smoke"');
    expect(() => run('reset', '1-23')).toThrow('panel state "reset" takes no address');
    expect(() =>
      executeCommand(
        { kind: 'panel', device: 'cp-tf-01', state: 'fire', address: undefined },
        simulator,
        registry,
      ),
    ).toThrow('cp-tf-01 is a call-point, not a fire panel');
  });

  it('warns when an event code is not one the class sends', () => {
    expect(
      executeCommand(
        { kind: 'event', device: 'cp-tf-01', code: 'fire', detail: undefined },
        simulator,
        registry,
      ),
    ).toBe(
      'event fire sent for plant-1/cp-tf-01 (not a call-point event, ingest will dead-letter it; usual: alarm)',
    );
  });

  it('throws for unknown devices and areas', () => {
    expect(() =>
      executeCommand({ kind: 'leak', device: 'nope', peakLel: undefined }, simulator, registry),
    ).toThrow('unknown device "nope"');
    expect(() =>
      executeCommand({ kind: 'leak-area', area: 'moon', peakLel: undefined }, simulator, registry),
    ).toThrow('unknown area "moon"');
  });
});
