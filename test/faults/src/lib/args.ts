import type { Bus, Mode } from './stack';

export interface FaultArgs {
  readonly modes: readonly Mode[];
  readonly bus: Bus;
  readonly rules: number;
  /** Scenario ids or `prefix*` patterns; empty = every scenario of the modes. */
  readonly scenarios: readonly string[];
  readonly devices: number;
  readonly rate: number;
  readonly durationMs: number;
  readonly faultAtMs: number;
  readonly downMs: number;
  readonly influxDownMs: number;
  readonly excursionsPerSecond: number;
  readonly holdReadings: number;
  readonly connections: number;
  readonly natsNodes: 1 | 3;
  readonly expect: readonly string[];
  readonly label: string;
  readonly docs: boolean;
  /** Re-render the docs from a saved report (test/faults/out/faults-*.json). */
  readonly render: string | null;
  readonly help: boolean;
}

export const USAGE = `node test/faults/run.mjs [options]   (or: npm run faults -- [options])

  --mode split|allinone|both   which deployment(s) (default both)
  --bus jetstream|mqtt         split mode's bus (default jetstream; mqtt = the legacy bridge)
  --rules 1|2                  rules instances in split mode (default 1)
  --nats-nodes 1|3             NATS nodes of the jetstream bus (default 3, streams R3; 1: R1)
  --scenarios a,b              scenario ids or prefixes with * (default: all of the modes), e.g.
                               split/kill-ingest,allinone/*  (--list shows them)
  --rate N                     readings/s (default 1000)
  --devices N                  detectors (default 1000)
  --duration S                 load seconds (default 40)
  --fault-at S                 fault this many seconds in (default 15)
  --down S                     a killed process / Mosquitto / NATS node stays down S (default 5)
  --influx-down S              influxd stays down S (default 20)
  --excursions N               alarm excursions started per second (default 2)
  --connections N              MQTT connections the detectors share (default 4; a real fleet has one
                               per device: NATS's MQTT listener stores each QoS 1 PUBLISH in
                               JetStream before its PUBACK, one at a time per connection)
  --expect E                   guaranteed | measured | <scenario or prefix*>=<guaranteed|measured>
                               (repeatable; default: EXPECTATIONS in src/lib/scenarios.ts)
  --label L                    report label, e.g. before / after (default run)
  --docs                       write the tables into docs/reliability.md (<label>-split, <label>-allinone)
  --render FILE                write them again from a saved report (test/faults/out/faults-*.json)
  --issue                      the issue's figures: 1,000 detectors, 2,000/s, 60 s, fault at 20 s,
                               down 5 s, influxd down 60 s
  --long                       InfluxDB down 10 minutes at 5,000 readings/s (influx-down only; ~15 min each)
`;

/** Parses the command line (pure). */
export function parseFaultArgs(argv: readonly string[]): FaultArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (['docs', 'help', 'issue', 'long', 'list'].includes(name)) {
      flags.add(name);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const known = [
    'mode',
    'bus',
    'rules',
    'scenarios',
    'rate',
    'devices',
    'duration',
    'fault-at',
    'down',
    'influx-down',
    'excursions',
    'connections',
    'nats-nodes',
    'expect',
    'label',
    'render',
  ];
  for (const name of values.keys()) {
    if (!known.includes(name)) throw new Error(`unknown option --${name}`);
  }
  const one = (name: string): string | undefined => values.get(name)?.at(-1);
  const num = (name: string, fallback: number): number => {
    const raw = one(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${name} ${raw}: not a positive number`);
    return value;
  };
  const issue = flags.has('issue');
  const long = flags.has('long');
  const mode = one('mode') ?? 'both';
  if (!['split', 'allinone', 'both'].includes(mode)) throw new Error(`--mode ${mode}`);
  const bus = one('bus') ?? 'jetstream';
  if (bus !== 'jetstream' && bus !== 'mqtt') throw new Error(`--bus ${bus}`);
  const rules = num('rules', 1);
  const natsNodes = num('nats-nodes', 3);
  if (natsNodes !== 1 && natsNodes !== 3) throw new Error('--nats-nodes 1 or 3');
  if (rules !== 1 && rules !== 2) throw new Error('--rules 1 or 2');
  const defaults = long
    ? { rate: 5000, devices: 1000, duration: 720, faultAt: 30, down: 5, influxDown: 600 }
    : issue
      ? { rate: 2000, devices: 1000, duration: 60, faultAt: 20, down: 5, influxDown: 60 }
      : { rate: 1000, devices: 1000, duration: 40, faultAt: 15, down: 5, influxDown: 20 };
  const scenarios = (values.get('scenarios') ?? [])
    .flatMap(list => list.split(','))
    .filter(Boolean);
  return {
    modes: mode === 'both' ? ['split', 'allinone'] : [mode as Mode],
    bus,
    rules,
    scenarios: long && scenarios.length === 0 ? ['*/influx-down'] : scenarios,
    devices: num('devices', defaults.devices),
    rate: num('rate', defaults.rate),
    durationMs: num('duration', defaults.duration) * 1000,
    faultAtMs: num('fault-at', defaults.faultAt) * 1000,
    downMs: num('down', defaults.down) * 1000,
    influxDownMs: num('influx-down', defaults.influxDown) * 1000,
    excursionsPerSecond: num('excursions', 2),
    holdReadings: 3,
    connections: num('connections', 4),
    natsNodes,
    expect: (values.get('expect') ?? []).flatMap(list => list.split(',')).filter(Boolean),
    label: one('label') ?? 'run',
    docs: flags.has('docs'),
    render: one('render') ?? null,
    help: flags.has('help') || flags.has('list'),
  };
}

/** Whether scenario `id` is selected by `patterns` (`*` = any mode, trailing `*` = prefix). */
export function selected(id: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some(pattern => {
    const [mode, name] = pattern.split('/') as [string, string | undefined];
    const [idMode, idName] = id.split('/') as [string, string];
    if (name === undefined)
      return pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern;
    const modeOk = mode === '*' || mode === idMode;
    const nameOk = name.endsWith('*') ? idName.startsWith(name.slice(0, -1)) : idName === name;
    return modeOk && nameOk;
  });
}
