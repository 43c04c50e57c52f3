import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { RegistryError, type Registry } from '@vigil/registry';
import { loadRegistry } from '@vigil/registry-node';

import {
  FleetSimulator,
  RateLimitedLog,
  findDevice,
  formatSummary,
  systemClock,
  type FleetDefinition,
  type FleetStats,
  readDeviceSecrets,
} from '@vigil/simulation';

import { USAGE, parseCli, type CliConfig } from './lib/cli-config';
import { COMMAND_HELP, executeCommand, parseCommand } from './lib/commands';

const SUMMARY_INTERVAL_MS = 10_000;
/** Exit code for bad flags or a bad registry (usage errors), as most command-line tools do. */
const EXIT_USAGE = 2;

const out = (line: string): void => void process.stdout.write(`[sim] ${line}\n`);
const err = (line: string): void => void process.stderr.write(`[sim] ${line}\n`);

function loadFleet(config: CliConfig): FleetDefinition {
  const registry: Registry = loadRegistry(resolve(config.registry));
  if (config.sites.length === 0) return registry;
  const unknown = config.sites.filter(siteId => !registry.site(siteId));
  if (unknown.length > 0) {
    throw new RegistryError(unknown.map(siteId => `--site: unknown site "${siteId}"`));
  }
  const wanted = new Set(config.sites);
  return {
    sites: registry.sites.filter(site => wanted.has(site.id)),
    devices: registry.devices.filter(device => wanted.has(device.siteId)),
  };
}

function main(): void {
  const parsed = parseCli(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (parsed.kind === 'invalid') {
    for (const problem of parsed.problems) err(problem);
    process.stderr.write(`\n${USAGE}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const config = parsed.config;

  let fleet: FleetDefinition;
  try {
    fleet = loadFleet(config);
    for (const leak of config.leakAfter) {
      const device = findDevice(fleet, leak.device);
      if (device.deviceClass !== 'gas-combustible') {
        throw new RegistryError([
          `--leak-after: ${leak.device} is a ${device.deviceClass} device, not gas-combustible`,
        ]);
      }
    }
  } catch (error) {
    const problems = error instanceof RegistryError ? error.problems : [(error as Error).message];
    for (const problem of problems) err(problem);
    process.exitCode = EXIT_USAGE;
    return;
  }

  const connectionLog = new RateLimitedLog(err, systemClock);
  let credentials;
  let simulator: FleetSimulator;
  try {
    credentials = config.credentials ? readDeviceSecrets(config.credentials) : undefined;
    simulator = new FleetSimulator(fleet, config.url, {
      ...(credentials ? { credentials } : {}),
      speed: config.speed,
      qos: config.qos,
      maxDeviceConnections: config.maxConnections,
      log: line => connectionLog.log(line),
      ...(config.seed === undefined ? {} : { seed: config.seed }),
    });
  } catch (error) {
    err((error as Error).message);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const startedAt = Date.now();
  out(
    `${fleet.devices.length} devices on ${fleet.sites.length} site(s) -> ${config.url}, ` +
      `${simulator.stats().connections} connection(s) (${simulator.connectionMode}), ` +
      `speed ${simulator.speed}, seed ${simulator.seed}, telemetry QoS ${config.qos}`,
  );
  void simulator.start().then(() => {
    if (simulator.stats().connected > 0) out(`connected after ${Date.now() - startedAt} ms`);
  });

  let previous = { stats: simulator.stats(), at: Date.now() };
  const summary = (): string => {
    const now = Date.now();
    const stats: FleetStats = simulator.stats();
    const line = formatSummary(stats, { stats: previous.stats, elapsedMs: now - previous.at });
    previous = { stats, at: now };
    return line;
  };
  const summaryTimer = config.quiet
    ? undefined
    : setInterval(() => out(summary()), SUMMARY_INTERVAL_MS);

  const run = (line: string): void => {
    const command = parseCommand(line);
    if (!command.ok) return err(command.error);
    const { kind } = command.command;
    if (kind === 'nothing') return;
    if (kind === 'quit') return void shutdown('quit');
    if (kind === 'help') return out(COMMAND_HELP);
    if (kind === 'stats') return out(formatSummary(simulator.stats()));
    try {
      out(executeCommand(command.command, simulator, fleet));
    } catch (error) {
      err((error as Error).message);
    }
  };

  const leakTimers = config.leakAfter.map(leak =>
    setTimeout(() => run(`leak ${leak.device}`), leak.afterSeconds * 1000),
  );

  // End of input (stdin from /dev/null, or a pipe that closed) is not a reason to stop.
  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', run);

  let stopping = false;
  async function shutdown(reason: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    if (summaryTimer) clearInterval(summaryTimer);
    for (const timer of leakTimers) clearTimeout(timer);
    input.close();
    out(`stopping (${reason})`);
    await simulator.stop({ graceful: true });
    out(`final: ${formatSummary(simulator.stats())}`);
    // stdin keeps the event loop alive when it is a terminal or an open pipe.
    process.exit(0);
  }
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main();
