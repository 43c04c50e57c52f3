import { parseArgs } from 'node:util';

import { z } from 'zod';

import { durationSchema, loadProfileSchema, type LoadProfile } from '@vigil/simulation';

export const USAGE = `usage: vigil-loadtest <command> [options]

commands:
  fleet <fleet.yaml>                 expand a fleet file into a registry (for VIGIL_REGISTRY)
      --out <dir>                    where to write it (default: a new temp folder)
  scenario <scenario.yaml>...        play scenarios against a running Vigil and judge them
      --gateway <http url>           Vigil's HTTP port (REST and /ws), e.g. http://127.0.0.1:8080
      --url <mqtt url>               the broker devices publish to
      --influx <http url>            InfluxDB 1.x, to compare readings sent with readings stored
      --influx-db <name>             database (default vigil)
      --token <token>                a gateway token (default $VIGIL_TOKEN; none in demo mode)
      --settle <duration>            extra wait for alarms after a scenario (default 5s)
      --target <name=http url>       another Vigil the scenario's operator steps address
                                     (target: city); repeatable; main is --gateway
      --without <name>               play without that target: its steps are skipped
      --mqtt-username <name>         log in to a closed broker (as for load, below)
      --seed <int>                   values of the background fleet (default 1)
      --out <dir>                    report folder (default: a new temp folder)
  load                               offer a load profile and report what the system did with it
      --fleet <fleet.yaml|registry>  the devices to play (a fleet file or a registry folder)
      --url <mqtt url>               the broker
      --gateway <http url>           Vigil's HTTP port: /ws for alarms, /metrics, REST
      --ws <ws url>                  an alarm WebSocket of another system (instead of --gateway)
      --influx <http url>            InfluxDB 1.x, to count stored readings
      --influx-db <name>             database (default vigil)
      --influx-rp <name>             retention policy (default raw; "" for the default one)
      --profile steady|ramp|burst    (default steady)
      --rate <n>                     readings/s (steady, and the base of burst; default 1000)
      --from <n> --to <n>            ramp from/to readings/s
      --peak <n>                     burst rate (default 4 × rate)
      --burst-every <d> --burst-for <d>   burst period and length (default 10s, 2s)
      --duration <d>                 length of the run (default 60s)
      --qos <0|1>                    telemetry QoS (default 0)
      --batch <n>                    samples per message: gateway batches {"batch": […]} (default 1)
      --alarms <n>                   gas alarms provoked per second (default 10; 0 for none)
      --pid <name=pid>               also sample this process's CPU and memory (repeatable)
      --mqtt-username <name>         log in to a closed broker (password: $VIGIL_LOADTEST_MQTT_PASSWORD);
                                     one connection publishes for every device, so a gateway's
                                     login (its children) or a test broker's load account
      --out <dir>                    report folder (default: a new temp folder)
  -h, --help                         this text

exit codes: 0 passed, 1 an expected alarm was missed, late or duplicated, a forbidden alarm was
raised or readings were lost, 2 bad usage or input files, or the system under test unreachable.`;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const mqttUrl = z.url({
  protocol: /^(mqtt|mqtts|tcp|tls|ws|wss)$/,
  error: 'must be an mqtt:// URL',
});
const count = z.coerce.number({ error: 'must be a number' }).finite().min(0);

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'fleet'; readonly file: string; readonly out: string | undefined }
  | {
      readonly kind: 'scenario';
      readonly files: readonly string[];
      readonly gateway: string;
      readonly url: string;
      readonly influx: string | undefined;
      readonly influxDb: string;
      readonly token: string | undefined;
      readonly settleMs: number;
      /** Further Vigil instances by name (`--target city=http://…`). */
      readonly targets: Readonly<Record<string, string>>;
      /** Targets left out (`--without city`): their steps are skipped. */
      readonly without: readonly string[];
      readonly mqttLogin: { readonly username: string; readonly password: string } | undefined;
      readonly seed: number;
      readonly out: string | undefined;
    }
  | {
      readonly kind: 'load';
      readonly fleet: string;
      readonly url: string;
      readonly gateway: string | undefined;
      readonly ws: string | undefined;
      readonly influx: string | undefined;
      readonly influxDb: string;
      readonly influxRp: string;
      readonly profile: LoadProfile;
      readonly qos: 0 | 1;
      readonly batch: number;
      readonly alarmsPerSecond: number;
      readonly pids: Readonly<Record<string, number>>;
      readonly out: string | undefined;
      readonly token: string | undefined;
      readonly mqttLogin: { readonly username: string; readonly password: string } | undefined;
    };

export type ParseResult =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly problems: readonly string[] };

const OPTIONS = {
  out: { type: 'string' },
  gateway: { type: 'string' },
  url: { type: 'string' },
  ws: { type: 'string' },
  influx: { type: 'string' },
  'influx-db': { type: 'string' },
  'influx-rp': { type: 'string' },
  token: { type: 'string' },
  'mqtt-username': { type: 'string' },
  settle: { type: 'string' },
  seed: { type: 'string' },
  fleet: { type: 'string' },
  profile: { type: 'string' },
  rate: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  peak: { type: 'string' },
  'burst-every': { type: 'string' },
  'burst-for': { type: 'string' },
  duration: { type: 'string' },
  qos: { type: 'string' },
  batch: { type: 'string' },
  alarms: { type: 'string' },
  pid: { type: 'string', multiple: true },
  target: { type: 'string', multiple: true },
  without: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

function issues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map(
    issue => `${prefix}${issue.path.length ? `--${issue.path.join('.')}` : ''}: ${issue.message}`,
  );
}

/** Reads the command line (and `VIGIL_TOKEN`); lists every problem at once. Pure. */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParseResult {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  const { values, positionals } = parsed;
  const [name, ...rest] = positionals;
  if (values.help || name === undefined || name === 'help')
    return { ok: true, command: { kind: 'help' } };
  const token = values.token ?? env['VIGIL_TOKEN'] ?? undefined;

  if (name === 'fleet') {
    if (rest.length !== 1) return { ok: false, problems: ['fleet: give exactly one fleet file'] };
    return { ok: true, command: { kind: 'fleet', file: rest[0] as string, out: values.out } };
  }

  if (name === 'scenario') {
    const schema = z.object({
      gateway: httpUrl,
      url: mqttUrl,
      influx: httpUrl.optional(),
      'influx-db': z
        .string()
        .regex(/^[A-Za-z0-9_]+$/)
        .default('vigil'),
      settle: durationSchema().default(5000),
      seed: z.coerce
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .default(1),
    });
    const result = schema.safeParse(values);
    const problems = result.success ? [] : issues('', result.error);
    if (rest.length === 0) problems.unshift('scenario: give at least one scenario file');
    const targets: Record<string, string> = {};
    for (const entry of values.target ?? []) {
      const equals = entry.indexOf('=');
      const targetName = entry.slice(0, equals);
      const url = httpUrl.safeParse(entry.slice(equals + 1));
      if (equals < 1 || !/^[A-Za-z0-9_-]{1,64}$/.test(targetName) || targetName === 'main')
        problems.push(`--target ${entry}: must be name=http://… (a name other than main)`);
      else if (!url.success) problems.push(`--target ${entry}: must be an http:// or https:// URL`);
      else targets[targetName] = url.data.replace(/\/$/, '');
    }
    if (!result.success || problems.length) return { ok: false, problems };
    return {
      ok: true,
      command: {
        kind: 'scenario',
        files: rest,
        gateway: result.data.gateway.replace(/\/$/, ''),
        url: result.data.url,
        influx: result.data.influx?.replace(/\/$/, ''),
        influxDb: result.data['influx-db'],
        token,
        settleMs: result.data.settle,
        targets,
        without: values.without ?? [],
        mqttLogin: mqttLoginOf(values['mqtt-username'], env),
        seed: result.data.seed,
        out: values.out,
      },
    };
  }

  if (name === 'load') {
    const schema = z.object({
      fleet: z.string({ error: 'is required (a fleet file or a registry folder)' }).min(1),
      url: mqttUrl,
      gateway: httpUrl.optional(),
      ws: z.url({ protocol: /^wss?$/, error: 'must be a ws:// URL' }).optional(),
      influx: httpUrl.optional(),
      'influx-db': z
        .string()
        .regex(/^[A-Za-z0-9_]+$/)
        .default('vigil'),
      'influx-rp': z
        .string()
        .regex(/^[A-Za-z0-9_]*$/)
        .default('raw'),
      profile: z
        .enum(['steady', 'ramp', 'burst'], { error: 'must be steady, ramp or burst' })
        .default('steady'),
      rate: count.default(1000),
      from: count.optional(),
      to: count.optional(),
      peak: count.optional(),
      'burst-every': durationSchema({ min: 1 }).default(10_000),
      'burst-for': durationSchema({ min: 1 }).default(2000),
      duration: durationSchema({ min: 1 }).default(60_000),
      qos: z.enum(['0', '1'], { error: 'must be 0 or 1' }).default('0'),
      batch: z.coerce.number().int().min(1).max(1000).default(1),
      alarms: count.default(10),
      pid: z
        .array(z.string().regex(/^[A-Za-z0-9_.-]+=\d+$/, 'must look like name=1234'))
        .default([]),
    });
    const result = schema.safeParse(values);
    const problems = result.success ? [] : issues('', result.error);
    if (!result.success) return { ok: false, problems };
    const o = result.data;
    if (!o.gateway && !o.ws)
      problems.push('load: give --gateway (Vigil) or --ws (another system) to watch alarms');
    if (o.profile === 'ramp' && (o.from === undefined || o.to === undefined)) {
      problems.push('--profile ramp: give --from and --to');
    }
    // The profile schema reads durations as text ("60s") or seconds: hand it milliseconds as text.
    const ms = (value: number): string => `${value}ms`;
    const profileInput =
      o.profile === 'steady'
        ? { kind: 'steady', rate: o.rate, durationMs: ms(o.duration) }
        : o.profile === 'ramp'
          ? { kind: 'ramp', from: o.from ?? 0, to: o.to ?? 0, durationMs: ms(o.duration) }
          : {
              kind: 'burst',
              rate: o.rate,
              peak: o.peak ?? o.rate * 4,
              everyMs: ms(o['burst-every']),
              burstMs: ms(o['burst-for']),
              durationMs: ms(o.duration),
            };
    const profile = loadProfileSchema.safeParse(profileInput);
    if (!profile.success)
      problems.push(
        ...profile.error.issues.map(issue => `--profile ${o.profile}: ${issue.message}`),
      );
    if (problems.length || !profile.success) return { ok: false, problems };
    return {
      ok: true,
      command: {
        kind: 'load',
        fleet: o.fleet,
        url: o.url,
        gateway: o.gateway?.replace(/\/$/, ''),
        ws: o.ws,
        influx: o.influx?.replace(/\/$/, ''),
        influxDb: o['influx-db'],
        influxRp: o['influx-rp'],
        profile: profile.data as LoadProfile,
        qos: o.qos === '1' ? 1 : 0,
        batch: o.batch,
        alarmsPerSecond: o.alarms,
        pids: Object.fromEntries(
          o.pid.map(entry => {
            const [pidName, pid] = entry.split('=') as [string, string];
            return [pidName, Number(pid)];
          }),
        ),
        out: values.out,
        token,
        mqttLogin: mqttLoginOf(values['mqtt-username'], env),
      },
    };
  }
  return { ok: false, problems: [`unknown command "${name}" (fleet, scenario, load)`] };
}

/** A broker login: the name from the command line, the password from the environment only. */
function mqttLoginOf(
  username: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { username: string; password: string } | undefined {
  return username === undefined
    ? undefined
    : { username, password: env['VIGIL_LOADTEST_MQTT_PASSWORD'] ?? '' };
}
