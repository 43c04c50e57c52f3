import 'reflect-metadata';

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

import { EmbeddedBroker } from './broker/embedded-broker';
import { withInternalCredentials } from './broker/internal-credentials';
import { InternalInbox } from './bus/internal-inbox';
import { MqttBusBridge, planBridge } from './bus/mqtt-bridge';
import { PipelineBus } from './bus/pipeline-bus';
import { loadConfig, type VigilConfig } from './config/vigil-config';
import { BEARER, completeOpenApi } from './gateway/openapi';
import { WsHub } from './gateway/ws-hub';
import { IngestBrokerLink } from './ingest/ingest-broker-link';
import { IngestService } from './ingest/ingest.service';
import { VigilMetrics } from './metrics/metrics';
import { ingestClientId, mqttClientOptions } from './mqtt/client-options';
import { VigilMqttServer } from './ingest/vigil-mqtt.server';
import { Lifecycle } from './lifecycle';
import { VigilModule } from './vigil.module';
import { VigilLogger, isAddressInUse, portInUseError } from './startup';

export interface RunningVigil {
  readonly app: INestApplication;
  readonly config: VigilConfig;
  /** The HTTP URL the gateway (or the health endpoints) listen on. */
  readonly httpUrl: string;
  /** The embedded broker of this process, if it runs one (SIGHUP reloads its access policy). */
  readonly broker: EmbeddedBroker | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the services named in the configuration in this process: the embedded broker first
 * (everything else connects to it), then the Nest application, and ingest's MQTT connection last,
 * once everything downstream of it is ready; stops in the reverse order (docs/reliability.md,
 * "Start and stop order").
 */
export async function startVigil(given: VigilConfig = loadConfig()): Promise<RunningVigil> {
  const logger = new Logger('Vigil');
  const vigilLogger = new VigilLogger(given.logJson, given.logLevel);
  // Before the broker starts: its first line is in Vigil's format (JSON when asked) too.
  Logger.overrideLogger(vigilLogger);
  // Vigil's own processes authenticate to the broker too (docs/security.md, "Internal traffic").
  const config = withInternalCredentials(given);
  const broker = config.mqtt.embedded ? new EmbeddedBroker(config) : undefined;
  try {
    await broker?.start();
  } catch (error) {
    if (!isAddressInUse(error)) throw error;
    await broker?.stop();
    throw portInUseError(config, error);
  }
  const https = config.security.https;

  const app = await NestFactory.create<NestExpressApplication>(VigilModule.forConfig(config), {
    logger: vigilLogger,
    bufferLogs: false,
    ...(https
      ? { httpsOptions: { cert: readFileSync(https.cert), key: readFileSync(https.key) } }
      : {}),
    // Throw instead of exiting, so that the caller reports a bad registry or users file clearly.
    abortOnError: false,
  });
  // No app.enableShutdownHooks(): runVigil owns SIGINT/SIGTERM and stops in order (bridge, app,
  // broker). Nest's own hook closed the app, then re-raised the signal and killed the process
  // under its clients (ECONNRESET stack traces at every Ctrl+C); and its default list includes
  // SIGHUP, which closed HTTP, WebSocket, ingest and rules while the process and its embedded
  // broker stayed up (issue 10 finding 3). SIGHUP reloads the registry (runVigil).
  if (broker) broker.attachMetrics(app.get(VigilMetrics).brokerDenied);
  app.disable('x-powered-by');

  const lifecycle = app.get(Lifecycle);
  let ingestServer: VigilMqttServer | undefined;
  if (config.services.includes('ingest')) {
    const ingest = app.get(IngestService);
    const options = {
      url: config.mqtt.url,
      // Stable and with a persistent session (issue 12): what the broker queued while ingest was
      // down (QoS 1) is delivered when it is back (ingestClientId says why it is also secret).
      clientId: ingestClientId(config),
      clean: false,
      ...mqttClientOptions(config),
      subscribeOptions: { qos: config.mqtt.qos },
      protocolVersion: 4,
      // A broker restarted without ingest's session (no persistence) drops what devices publish
      // before ingest subscribes again: reconnect sooner than mqtt.js's 1 s (the devices of
      // test/faults reconnect every 500 ms). Narrows that gap; only the broker's persistence
      // closes it (docs/reliability.md, "The device broker").
      reconnectPeriod: 200,
      // mqtt.js logs through `debug` several times per packet even when debugging is off, each
      // call allocating its arguments (~10 % of ingest's allocations at 50,000 messages/s).
      // (mqtt.js takes `log`; Nest's copy of its options type does not list it.)
      log: () => undefined,
    };
    const server = new VigilMqttServer(options);
    server.shareDeviceSubscriptions(config.mqtt.shareGroup);
    server.reportTo(app.get(IngestBrokerLink));
    server.deliverDeviceMessagesTo((topic, payload, retained, ack, redelivered) =>
      ingest.accept(topic, payload, retained, ack, redelivered),
    );
    app.connectMicroservice<MicroserviceOptions>({ strategy: server });
    ingestServer = server;
  }

  if (config.services.includes('gateway')) {
    const document = completeOpenApi(
      app,
      SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('Vigil API')
          .setDescription('REST API of the Vigil gateway. WebSocket: /ws (see docs/interfaces.md).')
          .setVersion('1')
          .addBearerAuth({ type: 'http', scheme: 'bearer' }, BEARER)
          .build(),
      ),
    );
    // /api/docs-json is where clients and generators look first; the older URL stays.
    SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
    app.getHttpAdapter().get('/api/docs/openapi.json', (_request, response) => {
      (response as { json(body: unknown): void }).json(document);
    });
    const consoleDir = resolve(config.consoleDir);
    if (existsSync(consoleDir)) app.useStaticAssets(consoleDir, { index: 'index.html' });
    else
      logger.warn(
        `console bundle not found at ${consoleDir}: run "npm run build" to serve the console`,
      );
  }

  // The legacy bus over the MQTT broker (VIGIL_BUS=mqtt); JetStream hops are Nest providers.
  if (config.bus.kind === 'mqtt')
    logger.warn(
      'VIGIL_BUS=mqtt: the hops between processes cross the broker in memory; what is in flight is lost when a process stops (use jetstream, docs/reliability.md)',
    );
  const bridge = new MqttBusBridge(
    app.get(PipelineBus),
    config.bus.kind === 'mqtt' ? planBridge(config.services) : { publish: [], subscribe: [] },
    config.mqtt.url,
    mqttClientOptions(config),
    app.get(InternalInbox),
  );

  // Start order (docs/reliability.md, "Start and stop order"): ingest's broker connection, with
  // its persistent session, takes what the broker queued (and PUBACKs it) at once; so it comes
  // last, after everything downstream of it. Before this order, ingest connected first: the
  // broker's backlog reached the bus before the rules subscribed and again in the spool replay
  // (every queued reading evaluated twice, older ones after newer: late, out of order).
  // 1. Every onModuleInit and onApplicationBootstrap: registry, alarm journal, the rule state
  //    restored and brought up to the rules' cursor, the local spool replayed into the rules
  //    (LocalSpool), the gateway's alarm view loaded, the JetStream consumers set up.
  await app.init();
  // 2. The legacy bus's inbound hops (VIGIL_BUS=mqtt), now that their subscribers exist.
  await bridge.start();
  // 3. HTTP and WebSocket: /readyz answers 503 `starting` until step 4 is done.
  try {
    await app.listen(config.http.port, config.http.host);
  } catch (error) {
    if (!isAddressInUse(error)) throw error;
    // Stop what already runs, so that the refusal leaves nothing behind.
    await bridge.stop();
    await app.close();
    await broker?.stop();
    throw portInUseError(config, error);
  }
  if (config.services.includes('gateway')) app.get(WsHub).attach(app.getHttpServer());
  // 4. Ingest connects and takes device messages.
  await app.startAllMicroservices();
  lifecycle.running();

  const httpUrl = `${https ? 'https' : 'http'}://${config.http.host}:${config.http.port}`;
  logger.log(
    `services [${config.services.join(', ')}] running; HTTP ${httpUrl}, MQTT ${config.mqtt.url}`,
  );

  let stopped = false;
  return {
    app,
    config,
    httpUrl,
    broker,
    async stop() {
      if (stopped) return;
      stopped = true;
      // The reverse of the start: stop taking device messages (what ingest took is made durable
      // and acknowledged; the rest stays queued at the broker for ingest's session), hand ingest's
      // last batch on while the rules and the persister still run, then close them.
      lifecycle.stopping();
      await ingestServer?.close();
      if (config.services.includes('ingest')) app.get(IngestService).flush();
      await bridge.stop();
      await app.close();
      await broker?.stop();
    },
  };
}
