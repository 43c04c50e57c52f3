import { createServer } from 'node:net';

import { ConsoleLogger, type LogLevel } from '@nestjs/common';

import type { VigilConfig } from './config/vigil-config';

export const LOG_LEVELS = {
  debug: ['debug', 'log', 'warn', 'error', 'fatal'],
  log: ['log', 'warn', 'error', 'fatal'],
  warn: ['warn', 'error', 'fatal'],
  error: ['error', 'fatal'],
} as const satisfies Record<VigilConfig['logLevel'], readonly LogLevel[]>;

/**
 * Nest's start-up chatter: one line per module, controller and route (≈ 45 lines) that buried the
 * banner. Shown at VIGIL_LOG_LEVEL=debug only; their warnings and errors always pass.
 */
export const CHATTY_CONTEXTS: ReadonlySet<string> = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
  'NestMicroservice',
]);

/** Vigil's logger: JSON when asked (from the first line), Nest's start-up chatter only at debug. */
export class VigilLogger extends ConsoleLogger {
  constructor(
    json: boolean,
    private readonly level: VigilConfig['logLevel'],
  ) {
    super({ json, prefix: 'Vigil', logLevels: [...LOG_LEVELS[level]] });
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (this.level !== 'debug' && typeof context === 'string' && CHATTY_CONTEXTS.has(context)) {
      return;
    }
    super.log(message, ...rest);
  }
}

/**
 * The logger before the configuration is validated: VIGIL_LOG_JSON and VIGIL_LOG_LEVEL read
 * leniently (a bad value is reported by the configuration check, in this logger's format).
 */
export function earlyLogger(env: Record<string, string | undefined> = process.env): VigilLogger {
  const json = ['true', '1', 'yes', 'on'].includes((env['VIGIL_LOG_JSON'] ?? '').trim());
  const requested = env['VIGIL_LOG_LEVEL'] as VigilConfig['logLevel'] | undefined;
  const level = requested && requested in LOG_LEVELS ? requested : 'log';
  return new VigilLogger(json, level);
}

/** A port Vigil must listen on is taken: Vigil refuses to start (exit 2), naming the variable. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

export function portInUseMessage(variable: string, host: string, port: number): string {
  return (
    `port ${port} on ${host} is already in use (another program or another Vigil listens there): ` +
    `set ${variable} to a free port (e.g. ${variable}=${port + 10_000 > 65_535 ? port - 10_000 : port + 10_000} ./scripts/demo.sh)`
  );
}

/** The ports this process will listen on, with the variable that sets each. */
export function listenPorts(
  config: VigilConfig,
): { variable: string; host: string; port: number }[] {
  const ports = [];
  if (config.mqtt.embedded) {
    ports.push({ variable: 'VIGIL_MQTT_PORT', ...config.mqtt.embedded });
    const tls = config.security.mqttTls;
    if (tls) ports.push({ variable: 'VIGIL_MQTT_TLS_PORT', host: tls.host, port: tls.port });
  }
  ports.push({ variable: 'VIGIL_HTTP_PORT', ...config.http });
  return ports;
}

function canListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise(done => {
    const server = createServer();
    server.once('error', error => done(error as NodeJS.ErrnoException));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(undefined)));
  });
}

/**
 * Checked before anything is started (managed InfluxDB, broker, services), so that a busy port
 * costs one clear line and leaves nothing running. The listen calls themselves are checked too
 * (`isAddressInUse`): another program may take the port in between.
 */
export async function busyPortProblems(config: VigilConfig): Promise<string[]> {
  const problems = [];
  for (const { variable, host, port } of listenPorts(config)) {
    const error = await canListen(host, port);
    if (error?.code === 'EADDRINUSE') problems.push(portInUseMessage(variable, host, port));
  }
  return problems;
}

export function isAddressInUse(error: unknown): error is NodeJS.ErrnoException {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/** The refusal for an EADDRINUSE of one of this process's listeners. */
export function portInUseError(config: VigilConfig, error: NodeJS.ErrnoException): PortInUseError {
  const failed = (error as { port?: number }).port;
  const which = listenPorts(config).find(entry => entry.port === failed) ?? {
    variable: 'VIGIL_MQTT_PORT / VIGIL_HTTP_PORT',
    host: (error as { address?: string }).address ?? '?',
    port: failed ?? 0,
  };
  return new PortInUseError(portInUseMessage(which.variable, which.host, which.port));
}
