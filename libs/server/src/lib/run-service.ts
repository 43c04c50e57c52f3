import { setFlagsFromString } from 'node:v8';

import { Logger } from '@nestjs/common';

import { ConfigError, loadConfig, type ServiceName } from './config/vigil-config';
import { InfluxLauncher, ManagedInfluxError } from './persister/influx-launcher';
import { RegistryError } from '@vigil/registry';
import { startVigil } from './bootstrap';
import { BackboneUnavailableError } from './bus/jetstream/backbone';
import { installProcessBackstop } from './process-backstop';
import { RegistryHolder } from './registry/registry-holder';
import { PortInUseError, busyPortProblems, earlyLogger } from './startup';

/** sysexits.h: a service this process needs is unavailable (JetStream never answered at start). */
const EX_UNAVAILABLE = 69;

/**
 * Entry point of every Vigil process: `services` is the default when VIGIL_SERVICES is unset.
 * A bad configuration or registry stops the process with every problem listed (exit code 2).
 */
export async function runVigil(services: readonly ServiceName[] | 'all'): Promise<void> {
  limitHeapGrowth();
  // JSON from the very first line when VIGIL_LOG_JSON asks for it, also for a refused start.
  Logger.overrideLogger(earlyLogger());
  const logger = new Logger('Vigil');
  // An error nothing handled: logged fatal with its stack, cleanup, exit non-zero (never half-alive).
  const backstop = installProcessBackstop({ logger });
  let config;
  try {
    config = loadConfig({
      VIGIL_SERVICES: services === 'all' ? 'all' : services.join(','),
      ...process.env,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error(error.message);
      process.exit(2);
    }
    throw error;
  }

  // A busy port is refused before anything starts (InfluxDB included): one line, exit 2.
  const busy = await busyPortProblems(config);
  if (busy.length > 0) {
    for (const problem of busy) logger.error(problem);
    process.exit(2);
  }

  const launcher =
    config.influx.mode === 'managed' && config.services.includes('persister')
      ? new InfluxLauncher(config.influx.url, config.influx.binary, config.dataDir)
      : undefined;
  backstop.onFatal(() => launcher?.stop());
  try {
    await launcher?.ensure();
  } catch (error) {
    if (error instanceof ManagedInfluxError) {
      logger.error(error.message);
      process.exit(2);
    }
    throw error;
  }

  // SIGHUP reloads the registry and rule configuration of this process without a restart, in
  // every process (each holds its registry). Installed before start: SIGHUP's default action
  // would end a process still starting. A refused reload is logged with every problem (by the
  // RegistryHolder) and changes nothing; SIGHUP never stops anything.
  let running: Awaited<ReturnType<typeof startVigil>> | undefined;
  process.on('SIGHUP', () => {
    if (!running) {
      logger.warn('SIGHUP while starting: the registry is read at start anyway, nothing to reload');
      return;
    }
    try {
      const next = running.app.get(RegistryHolder).reload();
      logger.log(`SIGHUP: registry reloaded (${next.devices.length} device(s))`);
    } catch (error) {
      if (!(error instanceof RegistryError))
        logger.error(`SIGHUP: registry reload failed: ${(error as Error).stack ?? String(error)}`);
    }
    // The embedded broker's device credentials reload on SIGHUP too, whatever the registry did.
    try {
      running.broker?.reload();
    } catch (error) {
      logger.error(`SIGHUP: broker reload failed: ${(error as Error).stack ?? String(error)}`);
    }
  });

  try {
    running = await startVigil(config);
  } catch (error) {
    if (error instanceof RegistryError || error instanceof PortInUseError) {
      logger.error(error.message);
      await launcher?.stop();
      process.exit(2);
    }
    if (error instanceof BackboneUnavailableError) {
      // One clear line, no stack: the NATS cluster is at fault, not this code.
      logger.error(error.message);
      await launcher?.stop();
      process.exit(EX_UNAVAILABLE);
    }
    throw error;
  }

  const started = running;
  backstop.onFatal(() => started.stop());
  let stopping = false;
  const shutdown = (signal: string) => {
    // Ctrl+C reaches every process of the group, and `npm start` then sends SIGTERM: stop once.
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: stopping`);
    void started
      .stop()
      .then(() => launcher?.stop())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * Under a high allocation rate V8 lets the old generation grow to up to 4× the live heap before
 * collecting it. Vigil's live heap is mostly long-lived device state (≈ 280 MB for 100,000
 * devices), so the default let RSS reach ≈ 1 GB at 10,000 readings/s; growing by 1.5× holds it
 * near 570 MB for about the same CPU (measured, docs/benchmarks.md). An explicit
 * --heap-growing-percent on the command line or in NODE_OPTIONS wins.
 */
function limitHeapGrowth(): void {
  const flag = '--heap-growing-percent';
  if (process.execArgv.some(arg => arg.startsWith(flag))) return;
  if ((process.env['NODE_OPTIONS'] ?? '').includes(flag)) return;
  setFlagsFromString(`${flag}=50`);
}
