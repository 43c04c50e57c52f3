import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { waitFor } from '@vigil/testing';

import { node, type LoggedChild } from './console-browser';
import { REPO_ROOT } from './support';

/**
 * Built all-in-one Vigil processes on fixed loopback ports, for the tests that run more than one
 * (an enterprise forwarding to a city) and kill and restart one of them where it was.
 */

/** A loopback port in 20000-29999 that nothing listens on now (outside the ephemeral range). */
export async function randomFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>(resolve => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000-29999');
}

export interface VigilInstance {
  readonly env: Record<string, string>;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  process: LoggedChild;
}

/**
 * The built all-in-one Vigil on the ports `env` names (VIGIL_HTTP_PORT, VIGIL_MQTT_PORT), so that
 * a restart answers where it did; waits for `/readyz` 200 (or, `ready: false`, any answer).
 */
export async function startVigil(
  env: Record<string, string>,
  { ready = true }: { ready?: boolean } = {},
): Promise<VigilInstance> {
  const httpPort = Number(env['VIGIL_HTTP_PORT']);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const child = node('dist/apps/vigil/src/main.js', [], {
    VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
    VIGIL_LOG_LEVEL: 'warn',
    ...env,
  });
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`Vigil exited: ${child.log.join('').slice(-3000)}`);
      const response = await fetch(`${httpUrl}/readyz`).catch(() => undefined);
      return ready ? response?.status === 200 : response !== undefined;
    },
    {
      what: `Vigil on ${httpPort} (log: ${child.log.join('').slice(-2000)})`,
      timeoutMs: 30_000,
      intervalMs: 100,
    },
  );
  return {
    env,
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${env['VIGIL_MQTT_PORT']}`,
    process: child,
  };
}

/** SIGKILL by PID: the process dies without a chance to flush anything. */
export async function killVigil(instance: VigilInstance): Promise<void> {
  const child = instance.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** `vigil_uplink_items_total{kind,outcome}` from a process's /metrics. */
export async function uplinkItems(httpUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(
    /^vigil_uplink_items_total\{kind="(\w+)",outcome="(\w+)"\} (\d+)/gm,
  ))
    counts[`${match[1]}/${match[2]}`] = Number(match[3]);
  return counts;
}

/** The enterprise code of the sample registry's enterprise in the uplink tests. */
export const UPLINK_ENTERPRISE_CODE = '91310000MA1K4XY83B';

export interface UplinkPair {
  readonly city: VigilInstance;
  readonly enterprise: VigilInstance;
  /** The link's token (the city holds only its sha256). */
  readonly token: string;
}

/**
 * A city Vigil and an enterprise Vigil forwarding to it (docs/interfaces.md §Uplink), each on
 * free ports with its own data dir under `work` and its own InfluxDB database: the link file
 * (`node` is where the enterprise hangs in the city's tree) written, the city started first.
 */
export async function startUplinkPair(options: {
  readonly work: string;
  /** Both processes' environment (InfluxDB, registry, ticks). */
  readonly common: Record<string, string>;
  readonly node: string;
  readonly cityEnv?: Record<string, string>;
  readonly enterpriseEnv?: Record<string, string>;
}): Promise<UplinkPair> {
  const token = randomBytes(32).toString('hex');
  const links = join(options.work, 'uplink-links.json');
  writeFileSync(
    links,
    JSON.stringify({
      links: [
        {
          enterpriseCode: UPLINK_ENTERPRISE_CODE,
          name: '华新化工有限公司 Huaxin Chemicals',
          node: options.node,
          tokenSha256: createHash('sha256').update(token).digest('hex'),
        },
      ],
    }),
  );
  const city = await startVigil({
    ...options.common,
    VIGIL_HTTP_PORT: String(await randomFreePort()),
    VIGIL_MQTT_PORT: String(await randomFreePort()),
    VIGIL_INFLUX_DB: 'vigil_city',
    VIGIL_DATA_DIR: join(options.work, 'city'),
    VIGIL_UPLINK_LINKS: links,
    ...options.cityEnv,
  });
  const enterprise = await startVigil({
    ...options.common,
    VIGIL_HTTP_PORT: String(await randomFreePort()),
    VIGIL_MQTT_PORT: String(await randomFreePort()),
    VIGIL_INFLUX_DB: 'vigil_enterprise',
    VIGIL_DATA_DIR: join(options.work, 'enterprise'),
    VIGIL_UPLINK_URL: city.httpUrl,
    VIGIL_UPLINK_TOKEN: token,
    VIGIL_UPLINK_ENTERPRISE_CODE: UPLINK_ENTERPRISE_CODE,
    VIGIL_UPLINK_ENTERPRISE_NAME: '华新化工有限公司',
    VIGIL_UPLINK_RETRY_MAX_MS: '1000',
    ...options.enterpriseEnv,
  });
  return { city, enterprise, token };
}
