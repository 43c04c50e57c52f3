// No Docker engine runs on the build machines, so the compose file is never started in CI. These
// checks hold it to the repository instead: every file it names exists, every variable it uses is
// defined and read by the code, every service is hardened and health-checked, and each image runs
// the entry point that scripts/build.mjs compiles.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';

import { parse } from 'yaml';
import { z } from 'zod';

import { freePort } from '@vigil/testing';

const DEPLOY_DIR = __dirname;
const REPO_ROOT = resolve(DEPLOY_DIR, '..');
const COMPOSE_PATH = join(DEPLOY_DIR, 'compose', 'docker-compose.yml');
const COMPOSE_DIR = dirname(COMPOSE_PATH);
const ENV_EXAMPLE_PATH = join(DEPLOY_DIR, 'env', '.env.example');
const README_PATH = join(DEPLOY_DIR, 'README.md');
const CONFIG_SCHEMA_PATH = join(
  REPO_ROOT,
  'libs',
  'server',
  'src',
  'lib',
  'config',
  'vigil-config.ts',
);
const BUILD_SCRIPT_PATH = join(REPO_ROOT, 'scripts', 'build.mjs');

const VIGIL_SERVICES = ['ingest', 'rules', 'persister', 'gateway'] as const;
const INFRASTRUCTURE = ['mosquitto', 'nats', 'influxdb'] as const;
const NATS_CLUSTER_PATH = join(COMPOSE_DIR, 'nats-cluster.yml');

const stringList = z.array(z.string());
const healthcheckSchema = z.looseObject({
  test: z.union([z.string(), stringList]),
  disable: z.boolean().optional(),
});
const serviceSchema = z.looseObject({
  image: z.string().optional(),
  build: z
    .looseObject({ context: z.string(), dockerfile: z.string(), target: z.string() })
    .optional(),
  healthcheck: healthcheckSchema.optional(),
  cap_drop: stringList.optional(),
  security_opt: stringList.optional(),
  read_only: z.boolean().optional(),
  restart: z.string().optional(),
  depends_on: z.record(z.string(), z.looseObject({ condition: z.string() })).optional(),
  volumes: stringList.optional(),
  secrets: stringList.optional(),
  ports: stringList.optional(),
  // Strings only: an unquoted `false` or `8080` would reach the container through YAML's types.
  environment: z.record(z.string(), z.string()).optional(),
});
const composeSchema = z.looseObject({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), z.looseObject({ file: z.string() })).optional(),
});
type Service = z.infer<typeof serviceSchema>;

const composeText = readFileSync(COMPOSE_PATH, 'utf8');
// `merge: true` resolves the `<<: *anchor` keys the way compose does.
const composeDocument: unknown = parse(composeText, { merge: true });
const compose = composeSchema.parse(composeDocument);
const envExample = parseEnvFile(readFileSync(ENV_EXAMPLE_PATH, 'utf8'));
const readme = readFileSync(README_PATH, 'utf8');
const dockerfilePath = join(DEPLOY_DIR, 'docker', 'Dockerfile');
const dockerfile = readFileSync(dockerfilePath, 'utf8');

function service(name: string): Service {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function parseEnvFile(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(trimmed);
    if (!match) throw new Error(`.env.example: not NAME=value: ${line}`);
    entries.set(match[1] as string, match[2] as string);
  }
  return entries;
}

/** Every string in the parsed document: keys and values (comments are not part of it). */
function* strings(node: unknown): Generator<string> {
  if (typeof node === 'string') yield node;
  else if (Array.isArray(node)) for (const item of node) yield* strings(item);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      yield key;
      yield* strings(value);
    }
  }
}

/** Names compose interpolates in a value: `${NAME}`, `${NAME:?message}`, `$NAME`; `$$` is a literal `$`. */
function interpolatedNames(value: string): string[] {
  const names: string[] = [];
  for (const match of value.matchAll(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))/g,
  )) {
    const name = match[1] ?? match[2];
    if (name !== undefined) names.push(name);
  }
  return names;
}

/** The keys of vigilEnvSchema, read from the source text (importing it would load Nest). */
function schemaKeys(): Set<string> {
  const source = readFileSync(CONFIG_SCHEMA_PATH, 'utf8');
  return new Set([...source.matchAll(/\b(VIGIL_[A-Z0-9_]+):/g)].map(match => match[1] as string));
}

/** The first column of the table under "## Variables the code must add" in deploy/README.md. */
function variablesTheCodeMustAdd(): Set<string> {
  const section = /^## Variables the code must add\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme);
  if (!section) throw new Error('deploy/README.md has no "## Variables the code must add" section');
  return new Set(
    [...(section[1] as string).matchAll(/^\|\s*`(VIGIL_[A-Z0-9_]+)`\s*\|/gm)].map(
      m => m[1] as string,
    ),
  );
}

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** Splits `source:target[:mode]` at the colons outside `${…}` (which may hold `:?message`). */
function splitVolume(volume: string): string[] {
  const parts = [''];
  let depth = 0;
  for (let i = 0; i < volume.length; i += 1) {
    const char = volume[i] as string;
    if (char === '$' && volume[i + 1] === '{') depth += 1;
    else if (char === '}' && depth > 0) depth -= 1;
    if (char === ':' && depth === 0) parts.push('');
    else parts[parts.length - 1] += char;
  }
  return parts;
}

function mounts(entry: Service): Mount[] {
  return (entry.volumes ?? []).map(volume => {
    const [source = '', target = '', mode = ''] = splitVolume(volume);
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

/** Dockerfile stages by name, each with the instructions that follow its FROM. */
function dockerStages(): Map<string, string> {
  const stages = new Map<string, string>();
  const froms = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)\s*$/gim)];
  froms.forEach((match, index) => {
    const end = froms[index + 1]?.index ?? dockerfile.length;
    stages.set(match[1] as string, dockerfile.slice(match.index, end));
  });
  return stages;
}

function execNode(script: string, env: Record<string, string>): Promise<number> {
  return new Promise(resolveExit => {
    execFile(
      process.execPath,
      ['-e', script],
      { env: { ...process.env, ...env }, timeout: 10_000 },
      error => resolveExit(error === null ? 0 : typeof error.code === 'number' ? error.code : -1),
    );
  });
}

describe('deploy/compose/docker-compose.yml', () => {
  const serviceNames = Object.keys(compose.services);

  it('runs Mosquitto, InfluxDB and the four Vigil services, and no embedded broker', () => {
    expect([...serviceNames].sort()).toEqual([...INFRASTRUCTURE, ...VIGIL_SERVICES].sort());
  });

  describe.each(serviceNames)('service %s', name => {
    const entry = service(name);

    it('is hardened: cap_drop ALL, no-new-privileges, read-only root, restart unless-stopped', () => {
      expect(entry.cap_drop).toEqual(['ALL']);
      expect(entry.security_opt).toContain('no-new-privileges:true');
      expect(entry.read_only).toBe(true);
      expect(entry.restart).toBe('unless-stopped');
    });

    it('has resource limits (the documented defaults)', () => {
      const limits = entry as Record<string, unknown>;
      expect(String(limits['mem_limit'])).toMatch(/^\d+[mg]$/);
      expect(Number(limits['cpus'])).toBeGreaterThan(0);
      expect(Number(limits['pids_limit'])).toBeGreaterThan(0);
    });

    it('runs a pinned image: an exact version or a digest, never a moving tag', () => {
      if (entry.image === undefined || entry.image.startsWith('vigil/')) return;
      // An exact version may name its variant (nats:2.10.24-alpine: the shell tools for wget).
      expect(entry.image).toMatch(
        /:\d+\.\d+\.\d+(-alpine)?(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$/,
      );
    });

    it('reads secrets from files it is given, never from the environment', () => {
      for (const [variable, value] of Object.entries(entry.environment ?? {})) {
        if (variable.endsWith('_FILE') && value.startsWith('/run/secrets/'))
          expect(entry.secrets).toContain(value.slice('/run/secrets/'.length));
      }
      expect(Object.keys(entry.environment ?? {})).not.toContain('VIGIL_INFLUX_TOKEN');
      expect(Object.keys(entry.environment ?? {})).not.toContain('VIGIL_INFLUX_PASSWORD');
    });

    it('has a healthcheck', () => {
      expect(entry.healthcheck).toBeDefined();
      expect(entry.healthcheck?.disable).not.toBe(true);
      const test = entry.healthcheck?.test ?? [];
      expect(Array.isArray(test) ? test.slice(1).join(' ') : test).not.toBe('');
    });

    it('runs an image, or builds one from a Dockerfile stage that exists', () => {
      expect(entry.image ?? entry.build).toBeDefined();
      if (entry.build) {
        const path = resolve(COMPOSE_DIR, entry.build.context, entry.build.dockerfile);
        expect(path).toBe(dockerfilePath);
        expect(existsSync(path)).toBe(true);
        expect([...dockerStages().keys()]).toContain(entry.build.target);
      }
    });

    it('waits only for defined services, and for them to be healthy', () => {
      for (const [dependency, { condition }] of Object.entries(entry.depends_on ?? {})) {
        expect(serviceNames).toContain(dependency);
        expect(condition).toBe('service_healthy');
      }
    });

    it('mounts files that exist in the repository, read-only, and declared volumes and secrets', () => {
      for (const mount of mounts(entry)) {
        if (mount.source.startsWith('.')) {
          expect({
            mount: mount.source,
            exists: existsSync(resolve(COMPOSE_DIR, mount.source)),
          }).toEqual({
            mount: mount.source,
            exists: true,
          });
          expect({ mount: mount.source, readOnly: mount.readOnly }).toEqual({
            mount: mount.source,
            readOnly: true,
          });
        } else if (mount.source.startsWith('$')) {
          // A host path the operator chooses in .env (checked with the other variables below).
          expect(mount.readOnly).toBe(true);
        } else {
          expect(Object.keys(compose.volumes ?? {})).toContain(mount.source);
        }
      }
      for (const secret of entry.secrets ?? [])
        expect(Object.keys(compose.secrets ?? {})).toContain(secret);
    });
  });

  it('uses only variables defined in deploy/env/.env.example, and .env.example only those it uses', () => {
    const used = new Set([...strings(composeDocument)].flatMap(interpolatedNames));
    const missing = [...used].filter(name => !envExample.has(name));
    const unused = [...envExample.keys()].filter(name => !used.has(name));
    expect({ missing, unused }).toEqual({ missing: [], unused: [] });
  });

  it('keeps secrets in .env.example as <INSERT_…> placeholders', () => {
    const secrets = [...envExample.entries()].filter(([name]) =>
      /_(PASSWORD|TOKEN|SECRET)$/.test(name),
    );
    expect(secrets.length).toBeGreaterThan(0);
    for (const [name, value] of secrets)
      expect({ name, value }).toEqual({ name, value: `<INSERT_${name}>` });
  });

  it('uses only VIGIL_* variables that vigilEnvSchema reads or that deploy/README.md lists for the code to add', () => {
    const known = schemaKeys();
    const toAdd = variablesTheCodeMustAdd();
    const used = new Set(
      [...strings(composeDocument)].flatMap(value => value.match(/\bVIGIL_[A-Z0-9_]+\b/g) ?? []),
    );
    expect([...used].filter(name => !known.has(name) && !toAdd.has(name))).toEqual([]);
  });

  it('lists under "Variables the code must add" only variables that vigilEnvSchema does not read yet', () => {
    const known = schemaKeys();
    expect(known.size).toBeGreaterThan(20);
    // When the code adds one, move it out of the README's list (and use it in .env.example).
    expect([...variablesTheCodeMustAdd()].filter(name => known.has(name))).toEqual([]);
  });

  it('never sets VIGIL_SERVICES: it would override the service that each main.ts names', () => {
    for (const name of serviceNames)
      expect(Object.keys(service(name).environment ?? {})).not.toContain('VIGIL_SERVICES');
  });

  it('gives each Vigil service its own VIGIL_HTTP_PORT; the gateway listens on 8080 and publishes it', () => {
    const ports = VIGIL_SERVICES.map(name => service(name).environment?.['VIGIL_HTTP_PORT']);
    expect(new Set(ports).size).toBe(VIGIL_SERVICES.length);
    expect(service('gateway').environment?.['VIGIL_HTTP_PORT']).toBe('8080');
    expect(service('gateway').ports?.some(port => port.endsWith(':8080'))).toBe(true);
    expect(service('mosquitto').ports?.some(port => port.endsWith(':1883'))).toBe(true);
  });

  it.each(VIGIL_SERVICES)(
    'runs %s against the external broker and InfluxDB, not in demo mode',
    name => {
      expect(service(name).environment).toMatchObject({
        VIGIL_MQTT_URL: 'mqtt://mosquitto:1883',
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_HTTP_HOST: '0.0.0.0',
        VIGIL_DEMO_MODE: 'false',
        VIGIL_LOG_JSON: 'true',
        VIGIL_REGISTRY: '/etc/vigil/registry',
      });
      expect(mounts(service(name)).map(mount => mount.target)).toContain('/etc/vigil/registry');
    },
  );
});

/** `nats-server -t` on a config file, with the environment the service would give it. */
function natsConfigCheck(file: string, env: Record<string, string>): Promise<string> {
  return new Promise(done =>
    execFile(
      'nats-server',
      ['-t', '-c', file],
      { env: { ...process.env, ...env }, timeout: 10_000 },
      (error, stdout, stderr) => done(error === null ? 'valid' : `${stdout}${stderr}`.trim()),
    ),
  );
}

/** The service's environment with `${NAME:?…}` replaced by .env.example's value. */
function resolvedEnvironment(entry: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(entry.environment ?? {}).map(([name, value]) => [
      name,
      value.replace(
        /\$\{([A-Z0-9_]+)[^}]*\}/g,
        (_, variable: string) => envExample.get(variable) ?? '',
      ),
    ]),
  );
}

describe('the backbone: NATS JetStream (docs/scaling.md)', () => {
  const nats = service('nats');
  const networks = (compose as { networks?: Record<string, { internal?: boolean } | null> })
    .networks;

  it.each(VIGIL_SERVICES)(
    'runs %s on JetStream at nats:4222, one replica, after NATS is healthy',
    name => {
      const entry = service(name);
      expect(entry.environment).toMatchObject({
        VIGIL_BUS: 'jetstream',
        VIGIL_NATS_URL: 'nats://nats:4222',
        VIGIL_NATS_USER: 'vigil',
        VIGIL_NATS_REPLICAS: '1',
      });
      expect(entry.environment?.['VIGIL_NATS_PASSWORD']).toMatch(/^\$\{NATS_VIGIL_PASSWORD:\?/);
      expect(entry.environment?.['VIGIL_PARTITIONS']).toMatch(/^\$\{VIGIL_PARTITIONS:\?/);
      expect(entry.depends_on?.['nats']?.condition).toBe('service_healthy');
      expect((entry as { networks?: string[] }).networks).toContain('backbone');
    },
  );

  it('names each Vigil service for good (VIGIL_INSTANCE): stable MQTT session and lease owner', () => {
    const instances = VIGIL_SERVICES.map(name => service(name).environment?.['VIGIL_INSTANCE']);
    expect(instances.every(instance => /^[A-Za-z0-9_-]+$/.test(instance ?? ''))).toBe(true);
    expect(new Set(instances).size).toBe(VIGIL_SERVICES.length);
  });

  it('gives ingest a data volume for its spool (messages wait there while NATS is unreachable)', () => {
    const ingest = service('ingest');
    const dataDir = ingest.environment?.['VIGIL_DATA_DIR'];
    expect(dataDir).toBeDefined();
    const mount = mounts(ingest).find(m => m.target === dataDir);
    expect(Object.keys(compose.volumes ?? {})).toContain(mount?.source);
  });

  it('keeps JetStream on a named volume, publishes no port, and talks on an internal network only', () => {
    const conf = readFileSync(join(DEPLOY_DIR, 'nats', 'nats.conf'), 'utf8');
    const storeDir = /store_dir:\s*(\S+)/.exec(conf)?.[1] ?? '';
    const volume = mounts(nats).find(m => storeDir.startsWith(m.target));
    expect(Object.keys(compose.volumes ?? {})).toContain(volume?.source);
    expect(mounts(nats).find(m => m.target === '/etc/nats/nats.conf')?.source).toBe(
      '../nats/nats.conf',
    );
    expect(nats.ports ?? []).toEqual([]);
    expect((nats as { networks?: string[] }).networks).toEqual(['backbone']);
    expect(networks?.['backbone']?.internal).toBe(true);
    expect(nats.healthcheck?.test).toContain('http://127.0.0.1:8222/healthz?js-enabled-only=true');
  });

  it('gives NATS the password the services use, and nats.conf is a valid nats-server config', async () => {
    const env = resolvedEnvironment(nats);
    expect(env['NATS_VIGIL_PASSWORD']).toBe('<INSERT_NATS_VIGIL_PASSWORD>');
    expect(await natsConfigCheck(join(DEPLOY_DIR, 'nats', 'nats.conf'), env)).toBe('valid');
    // Without the variables compose sets, the file is refused: they are really used.
    expect(await natsConfigCheck(join(DEPLOY_DIR, 'nats', 'nats.conf'), {})).toMatch(/NATS_/);
  });
});

describe('deploy/compose/nats-cluster.yml (3-node NATS, 3 replicas)', () => {
  const overlay = composeSchema
    .extend({ services: z.record(z.string(), serviceSchema) })
    .parse(parse(readFileSync(NATS_CLUSTER_PATH, 'utf8'), { merge: true }));
  const nodes = ['nats', 'nats-2', 'nats-3'];
  const clusterConf = join(DEPLOY_DIR, 'nats', 'nats-cluster.conf');

  it('runs three NATS nodes, each hardened, health-checked, with its own name and JetStream volume', () => {
    const names = new Set<string>();
    const volumes = new Set<string>();
    for (const name of nodes) {
      const node = overlay.services[name];
      expect(node).toBeDefined();
      expect(node?.cap_drop).toEqual(['ALL']);
      expect(node?.read_only).toBe(true);
      expect(node?.healthcheck?.test).toContain('http://127.0.0.1:8222/healthz');
      expect(node?.image ?? service('nats').image).toBe(service('nats').image);
      names.add(node?.environment?.['NATS_SERVER_NAME'] ?? '');
      const store = mounts(node as Service).find(m => m.target === '/data');
      volumes.add(store?.source ?? '');
      expect([
        ...Object.keys(compose.volumes ?? {}),
        ...Object.keys(overlay.volumes ?? {}),
      ]).toContain(store?.source);
      expect(mounts(node as Service).find(m => m.target === '/etc/nats/nats.conf')).toEqual({
        source: '../nats/nats-cluster.conf',
        target: '/etc/nats/nats.conf',
        readOnly: true,
      });
    }
    expect(names.size).toBe(3);
    expect(volumes.size).toBe(3);
  });

  it('routes every node to the three services by name, and nats-cluster.conf is valid', async () => {
    const conf = readFileSync(clusterConf, 'utf8');
    const routes = [...conf.matchAll(/nats-route:\/\/([a-z0-9-]+):6222/g)].map(m => m[1]);
    expect(routes.sort()).toEqual([...nodes].sort());
    const env = resolvedEnvironment({
      ...overlay.services['nats-2'],
      environment: overlay.services['nats-2']?.environment ?? {},
    } as Service);
    expect(await natsConfigCheck(clusterConf, env)).toBe('valid');
  });

  it.each(VIGIL_SERVICES)('points %s at all three nodes with 3 replicas', name => {
    expect(overlay.services[name]?.environment).toEqual({
      VIGIL_NATS_URL: nodes.map(node => `nats://${node}:4222`).join(','),
      VIGIL_NATS_REPLICAS: '3',
    });
  });

  it('uses only variables of .env.example', () => {
    const text = readFileSync(NATS_CLUSTER_PATH, 'utf8');
    const used = [...strings(parse(text, { merge: true }))].flatMap(interpolatedNames);
    expect(used.filter(name => !envExample.has(name))).toEqual([]);
  });
});

describe('deploy/docker/Dockerfile', () => {
  const stages = dockerStages();
  const buildScript = readFileSync(BUILD_SCRIPT_PATH, 'utf8');

  it('builds on a pinned node:20.x.y-bookworm-slim with npm install and scripts/build.mjs, and runs as node', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m);
    expect(stages.get('build')).toMatch(/^RUN npm install --no-audit --no-fund$/m);
    expect(stages.get('build')).toMatch(/^RUN node scripts\/build\.mjs$/m);
    expect(dockerfile).not.toMatch(/^RUN .*npm ci/m);
    const runtime = stages.get('runtime') ?? '';
    expect(runtime).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^COPY --from=prod-deps \/src\/node_modules \.\/node_modules$/m);
    expect(runtime).toMatch(/^COPY registry \.\/registry$/m);
    expect(runtime).toMatch(/^USER node$/m);
  });

  it('copies into the build stage every folder that scripts/build.mjs compiles', () => {
    // deploy/docker-context.spec.ts builds from exactly these folders.
    for (const folder of ['scripts', 'libs', 'apps', 'simulators', 'bench', 'tools']) {
      expect(stages.get('build')).toContain(`COPY ${folder} ./${folder}`);
    }
  });

  it.each(VIGIL_SERVICES)(
    'runs dist/apps/%s/src/main.js, which scripts/build.mjs compiles from a main.ts naming that service',
    name => {
      expect(service(name).build?.target).toBe(name);
      const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(stages.get(name) ?? '');
      expect(cmd).not.toBeNull();
      const entryPoint = `dist/apps/${name}/src/main.js`;
      expect(JSON.parse((cmd as RegExpExecArray)[1] as string)).toEqual(['node', entryPoint]);

      // scripts/build.mjs compiles apps/<name>/src/**.ts to dist/apps/<name>/src/**.js.
      const apps = /\[([^\]]*)\]\.map\(\s*name\s*=>\s*join\('apps',\s*name,\s*'src'\),?\s*\)/.exec(
        buildScript,
      );
      expect(apps).not.toBeNull();
      const compiled = [...((apps as RegExpExecArray)[1] as string).matchAll(/'([a-z-]+)'/g)].map(
        m => m[1],
      );
      expect(compiled).toContain(name);
      expect(buildScript).toContain("join(dist, relative(root, file)).replace(/\\.tsx?$/, '.js')");

      const main = join(REPO_ROOT, 'apps', name, 'src', 'main.ts');
      expect(existsSync(main)).toBe(true);
      expect(readFileSync(main, 'utf8')).toMatch(new RegExp(`runVigil\\(\\['${name}'\\]\\)`));
    },
  );
});

describe('configuration files', () => {
  it('mosquitto.conf has a listener, refuses anonymous clients, and reads the mounted password and ACL files', () => {
    const conf = readFileSync(join(DEPLOY_DIR, 'mosquitto', 'mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^listener 1883$/m);
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).not.toMatch(/^allow_anonymous true$/m);
    const mosquitto = service('mosquitto');
    const targets = mounts(mosquitto).map(mount => mount.target);
    expect(targets).toContain('/mosquitto/config/mosquitto.conf');
    expect(targets).toContain(/^acl_file (\S+)$/m.exec(conf)?.[1]);
    expect(targets).toContain(/^persistence_location (\S+?)\/?$/m.exec(conf)?.[1]);
    expect(/^password_file (\S+)$/m.exec(conf)?.[1]).toBe(`/run/secrets/${mosquitto.secrets?.[0]}`);
  });

  it('the InfluxDB scripts are executable, valid bash, and create the events bucket and both DBRP mappings', async () => {
    for (const script of ['init-vigil.sh', 'create-service-token.sh']) {
      const path = join(DEPLOY_DIR, 'influxdb', script);
      // The influxdb image runs only executable *.sh files from /docker-entrypoint-initdb.d.
      expect(() => accessSync(path, constants.X_OK)).not.toThrow();
      expect(statSync(path).mode & 0o005).toBe(0o005);
      const status = await new Promise<number>(done =>
        execFile('bash', ['-n', path], error => done(error === null ? 0 : 1)),
      );
      expect({ script, syntax: status }).toEqual({ script, syntax: 0 });
    }
    const init = readFileSync(join(DEPLOY_DIR, 'influxdb', 'init-vigil.sh'), 'utf8');
    expect(init).toMatch(/influx bucket create .*--name "\$events_bucket"/);
    expect(init).toMatch(/influx v1 dbrp create .*--rp raw .*--default/);
    expect(init).toMatch(/influx v1 dbrp create .*--rp events /);
    expect(service('influxdb').environment?.['DOCKER_INFLUXDB_INIT_BUCKET']).toBe(
      service('influxdb').environment?.['VIGIL_INFLUX_DB'],
    );
  });
});

describe('the node healthchecks', () => {
  let server: Server;
  let port = 0;
  let closedPort = 0;
  let status = 200;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(status).end();
    });
    await new Promise<void>(listening => server.listen(0, '127.0.0.1', listening));
    port = (server.address() as AddressInfo).port;
    closedPort = await freePort();
  });

  afterAll(async () => {
    await new Promise(closed => server.close(closed));
  });

  const scripts = VIGIL_SERVICES.map(name => {
    const test = service(name).healthcheck?.test;
    if (!Array.isArray(test) || test[0] !== 'CMD' || test[1] !== 'node' || test[2] !== '-e') {
      throw new Error(`${name}: healthcheck is not [CMD, node, -e, <script>]`);
    }
    return [name, test[3] as string] as const;
  });

  it.each(scripts)(
    '%s: exits 0 on 200, 1 on 503 and 1 when nothing answers',
    async (name, script) => {
      expect(script).toContain(name === 'gateway' ? "'/readyz'" : "'/healthz'");
      status = 200;
      expect(await execNode(script, { VIGIL_HTTP_PORT: String(port) })).toBe(0);
      status = 503;
      expect(await execNode(script, { VIGIL_HTTP_PORT: String(port) })).toBe(1);
      expect(await execNode(script, { VIGIL_HTTP_PORT: String(closedPort) })).toBe(1);
    },
    // Three node start-ups: seconds each on a loaded CI machine (5 s timed out there).
    60_000,
  );
});
