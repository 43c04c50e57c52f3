import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { requireBinary } from './binaries';
import { freePort } from './free-port';
import { awaitReady, spawnService, type ExitInfo, type ServiceProcess } from './service-process';

export interface NatsNodeOptions {
  /** Also listen for MQTT clients (NATS's own MQTT listener, backed by JetStream). */
  readonly mqtt?: boolean;
  /** Extra nats-server.conf lines. */
  readonly extraConfig?: readonly string[];
  readonly readyTimeoutMs?: number;
}

export interface NatsNode {
  readonly name: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly clusterPort: number | undefined;
  /** `mqtt://127.0.0.1:<port>` when started with `mqtt`. */
  readonly mqttUrl: string | undefined;
  readonly storeDir: string;
  pid(): number;
  exited(): Promise<ExitInfo>;
  kill(signal: NodeJS.Signals): void;
  /** Starts this node again on the same ports and store (after a kill or stop). */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export interface NatsHandle {
  readonly nodes: readonly NatsNode[];
  /** Every node's client URL, comma-separated: what VIGIL_NATS_URL takes. */
  readonly url: string;
  /** Stops every node and removes the stores. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/**
 * Starts a private nats-server with JetStream on free loopback ports (the machine's own holds
 * 4222). `nodes: 3` makes a cluster (routes between every node), so streams can have 3 replicas.
 */
export async function startNats(
  options: NatsNodeOptions & { readonly nodes?: 1 | 3 } = {},
): Promise<NatsHandle> {
  const binary = requireBinary('nats-server', 'nats-server');
  const count = options.nodes ?? 1;
  const root = await mkdtemp(join(tmpdir(), 'vigil-nats-'));
  // The kernel may hand the same free port out twice in a row (each probe closes it at once):
  // a node whose cluster port was its own client port died at start ("address already in use").
  const taken = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  const ports: Array<{
    client: number;
    monitor: number;
    cluster: number | undefined;
    mqtt: number | undefined;
  }> = [];
  for (let index = 0; index < count; index += 1)
    ports.push({
      client: await distinctPort(),
      monitor: await distinctPort(),
      cluster: count > 1 ? await distinctPort() : undefined,
      mqtt: options.mqtt ? await distinctPort() : undefined,
    });
  const nodes: NatsNode[] = [];
  try {
    for (const [index, own] of ports.entries()) {
      const name = `n${index + 1}`;
      const storeDir = join(root, name);
      const lines = [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${own.client}`,
        `http: 127.0.0.1:${own.monitor}`,
        `jetstream { store_dir: "${storeDir}" }`,
        ...(own.mqtt ? [`mqtt { listen: 127.0.0.1:${own.mqtt} }`] : []),
        ...(own.cluster
          ? [
              'cluster {',
              '  name: vigil-test',
              `  listen: 127.0.0.1:${own.cluster}`,
              `  routes: [${ports.map(p => `nats://127.0.0.1:${p.cluster}`).join(', ')}]`,
              '}',
            ]
          : []),
        ...(options.extraConfig ?? []),
        '',
      ];
      const configPath = join(root, `${name}.conf`);
      await writeFile(configPath, lines.join('\n'));
      nodes.push(natsNode(binary, name, configPath, storeDir, own, options));
    }
    // A cluster's JetStream is ready only once the nodes have elected a meta leader: start them
    // all, then wait for each.
    await Promise.all(nodes.map(node => node.restart()));
  } catch (error) {
    await Promise.all(nodes.map(node => node.stop().catch(() => undefined)));
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes,
    url: nodes.map(node => node.url).join(','),
    stop: async () => {
      await Promise.all(nodes.map(node => node.stop()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

function natsNode(
  binary: string,
  name: string,
  configPath: string,
  storeDir: string,
  ports: { client: number; monitor: number; cluster: number | undefined; mqtt: number | undefined },
  options: NatsNodeOptions,
): NatsNode {
  let service: ServiceProcess | undefined;
  return {
    name,
    url: `nats://127.0.0.1:${ports.client}`,
    port: ports.client,
    monitorPort: ports.monitor,
    clusterPort: ports.cluster,
    mqttUrl: ports.mqtt ? `mqtt://127.0.0.1:${ports.mqtt}` : undefined,
    storeDir,
    pid: () => service?.pid ?? -1,
    exited: () => service?.exited ?? Promise.resolve({ code: 0, signal: null }),
    kill: signal => service?.kill(signal),
    restart: async () => {
      service = await spawnService(`nats-server ${name}`, binary, ['-c', configPath]);
      // A restarted cluster node is up once it serves JetStream; catching up every stream and
      // consumer it holds (full `/healthz`) can take longer than a start (a fault run saw an R1
      // consumer of NATS's MQTT listener stay "not current" for over 20 s). What the cluster does
      // meanwhile is the fault under test, not the harness's to wait out.
      await awaitReady(
        service,
        () => healthy(ports.monitor, false),
        options.readyTimeoutMs ?? READY_TIMEOUT_MS,
      );
    },
    stop: async () => {
      await service?.stop();
    },
  };
}

/**
 * `/healthz`: the server is up with JetStream; in a cluster, also current with an elected meta
 * leader (before that, JetStream API requests time out).
 */
async function healthy(monitorPort: number, clustered: boolean): Promise<boolean> {
  const query = clustered ? '' : '?js-enabled-only=true';
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz${query}`, {
      signal: AbortSignal.timeout(500),
    });
    return response.ok;
  } catch {
    return false;
  }
}
