import { parseArgs } from 'node:util';

import { z } from 'zod';

import { IDENTIFIER_PATTERN } from '@vigil/contracts';

export interface LeakAfter {
  /** Real (wall-clock) seconds after start, whatever the speed: it is for scripted demos. */
  readonly afterSeconds: number;
  /** `deviceId` or `siteId/deviceId`. */
  readonly device: string;
}

export interface CliConfig {
  readonly registry: string;
  readonly url: string;
  readonly speed: number;
  readonly seed: number | undefined;
  readonly qos: 0 | 1;
  readonly maxConnections: number;
  readonly sites: readonly string[];
  readonly leakAfter: readonly LeakAfter[];
  /** No periodic summary line (the demo's terminal stays readable); `stats` still prints one. */
  readonly quiet: boolean;
  /** Device logins (`npm run credentials -- issue … --secrets-out <file>`), for a closed broker. */
  readonly credentials: string | undefined;
}

export type CliParseResult =
  | { readonly kind: 'run'; readonly config: CliConfig }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

export const USAGE = `usage: vigil-sim [options]

Publishes telemetry, status and events for every device of a registry over MQTT.

options:
  --registry <dir|file>    registry to simulate (default registry/sample)
  --url <mqtt url>         broker (default $VIGIL_MQTT_URL, else mqtt://127.0.0.1:$VIGIL_MQTT_PORT, port 1883)
  --speed <factor>         simulated seconds per real second (default 1)
  --seed <int>             replay a run: same seed, same values (default random, printed at start)
  --qos <0|1>              telemetry QoS (default 0; status and events always use 1)
  --max-connections <n>    one MQTT connection per device up to n devices, else one shared
                           connection (default 200; 0 always shares)
  --site <siteId>          simulate only this site (repeatable)
  --leak-after <s>:<dev>   start a gas leak at a combustible detector s real seconds after start
                           (repeatable), e.g. --leak-after 45:gc-tf-02
  --quiet                  no summary line every 10 s (type stats for one)
  --credentials <file>     device logins {"<site>/<device>": {username, secret}} for a broker
                           that admits no anonymous device (default $VIGIL_SIM_CREDENTIALS);
                           one connection per device then
  -h, --help               this text

stdin commands: leak <deviceId> [peak], leak-area <areaId> [peak], event <deviceId> <code> [json],
                stats, help, quit`;

const MQTT_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:']);

const REF = `(?:[A-Za-z0-9_-]{1,64}/)?[A-Za-z0-9_-]{1,64}`;
const LEAK_AFTER_PATTERN = new RegExp(`^(\\d+(?:\\.\\d+)?):(${REF})$`);

const numberFlag = z.coerce.number({ error: 'must be a number' });

const cliSchema = z.object({
  registry: z.string().min(1, 'must not be empty'),
  url: z.string().refine(value => {
    try {
      return MQTT_PROTOCOLS.has(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be a URL such as mqtt://127.0.0.1:1883 (mqtt, mqtts, tcp, tls, ws or wss)'),
  speed: numberFlag
    .positive('must be greater than 0')
    .max(10_000, 'must be at most 10000')
    .finite(),
  seed: numberFlag
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .max(2 ** 32 - 1, 'must be below 2^32')
    .optional(),
  qos: z.enum(['0', '1'], { error: 'must be 0 or 1' }).transform(value => (value === '1' ? 1 : 0)),
  'max-connections': numberFlag.int('must be an integer').min(0, 'must be at least 0'),
  site: z.array(z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}')),
  'leak-after': z.array(
    z
      .string()
      .regex(LEAK_AFTER_PATTERN, 'must look like <seconds>:<deviceId>, e.g. 45:gc-tf-02')
      .transform(value => {
        const [, seconds, device] = LEAK_AFTER_PATTERN.exec(value) as RegExpExecArray;
        return { afterSeconds: Number(seconds), device: device as string };
      }),
  ),
});

/**
 * Reads the command line and the environment (`VIGIL_MQTT_URL`, `VIGIL_MQTT_PORT`) into a
 * validated config, listing every problem at once. Pure: no exit, no printing.
 */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliParseResult {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        registry: { type: 'string' },
        url: { type: 'string' },
        speed: { type: 'string' },
        seed: { type: 'string' },
        qos: { type: 'string' },
        'max-connections': { type: 'string' },
        site: { type: 'string', multiple: true },
        'leak-after': { type: 'string', multiple: true },
        quiet: { type: 'boolean' },
        credentials: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { kind: 'invalid', problems: [(error as Error).message] };
  }
  if (values.help) return { kind: 'help' };

  const problems: string[] = [];
  const envUrl = env['VIGIL_MQTT_URL'] || undefined;
  const envPort = env['VIGIL_MQTT_PORT'] || '1883';
  const urlSource =
    values.url !== undefined
      ? '--url'
      : envUrl !== undefined
        ? 'VIGIL_MQTT_URL'
        : 'VIGIL_MQTT_PORT';
  if (urlSource === 'VIGIL_MQTT_PORT' && !isPort(envPort)) {
    problems.push(`VIGIL_MQTT_PORT: must be a port number, got "${envPort}"`);
  }
  const parsed = cliSchema.safeParse({
    registry: values.registry ?? 'registry/sample',
    url: values.url ?? envUrl ?? `mqtt://127.0.0.1:${isPort(envPort) ? envPort : 1883}`,
    speed: values.speed ?? '1',
    seed: values.seed,
    qos: values.qos ?? '0',
    'max-connections': values['max-connections'] ?? '200',
    site: values.site ?? [],
    'leak-after': values['leak-after'] ?? [],
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [flag] = issue.path;
      problems.push(`${flag === 'url' ? urlSource : `--${String(flag)}`}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) return { kind: 'invalid', problems };
  const data = parsed.data;
  return {
    kind: 'run',
    config: {
      registry: data.registry,
      url: data.url,
      speed: data.speed,
      seed: data.seed,
      qos: data.qos,
      maxConnections: data['max-connections'],
      sites: data.site,
      leakAfter: data['leak-after'],
      quiet: values.quiet ?? false,
      credentials: values.credentials ?? (env['VIGIL_SIM_CREDENTIALS'] || undefined),
    },
  };
}

function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65_535;
}
