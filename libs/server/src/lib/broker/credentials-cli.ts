import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { type Registry } from '@vigil/registry';
import { loadRegistry } from '@vigil/registry-node';

import { vigilEnvSchema } from '../config/vigil-config';

import { DEFAULT_INTERNAL_USERNAME } from './broker-access';
import {
  credentialKey,
  newCredential,
  readCredentialsFile,
  writeCredentialsFile,
  type CredentialsFile,
} from './device-credentials';
import { loadOrCreateInternalSecret } from './internal-credentials';
import {
  MOSQUITTO_SERVICE_ACCOUNTS,
  deviceUsername,
  mosquittoAcl,
  mosquittoPasswordFile,
} from './mosquitto-config';

export const CREDENTIALS_USAGE = `Usage: npm run credentials -- <command> [options]

  issue <site>/<device>...   new credentials (prints each secret once; refuses an existing one)
  issue <site>/*             every device of the site that has none yet
  rotate <site>/<device>...  new secret; the old one stops working, the device is disconnected
  revoke <site>/<device>...  remove; a connected device is disconnected by the embedded broker
  list [<site>]              credentials and registry devices without one
  mosquitto --out <dir>      Mosquitto password file (passwd) and ACL (acl) from the registry

Options:
  --registry <path>      registry (default $VIGIL_REGISTRY, else registry/sample)
  --file <path>          device secrets (default $VIGIL_MQTT_CREDENTIALS, else
                         <$VIGIL_DATA_DIR>/device-credentials.json); never commit it
  --secrets-out <file>   issue/rotate: also write {"<site>/<device>": {username, secret}} there
                         (mode 0600), e.g. for the fleet simulator's --credentials

The embedded broker re-reads the secrets file within a second; Mosquitto after
"kill -HUP" with the files written by "mosquitto". Service account passwords for Mosquitto come
from MQTT_INGEST_PASSWORD, MQTT_RULES_PASSWORD, ... (deploy/env/.env); the "${DEFAULT_INTERNAL_USERNAME}" account (Vigil in
one process) uses $VIGIL_MQTT_PASSWORD or Vigil's internal secret file.
`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export class CliUsageError extends Error {}

/** `vigil devices credentials` (npm run credentials): returns the exit code. */
export async function runCredentialsCli(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CliIo,
  now: () => Date = () => new Date(),
): Promise<number> {
  try {
    return await run(argv, env, io, now);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(`${error.message}\n\n${CREDENTIALS_USAGE}`);
      return 2;
    }
    io.err((error as Error).message);
    return 1;
  }
}

async function run(
  argv: readonly string[],
  rawEnv: Record<string, string | undefined>,
  io: CliIo,
  now: () => Date,
): Promise<number> {
  const options = new Map<string, string>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      io.out(CREDENTIALS_USAGE);
      return 0;
    }
    if (arg.startsWith('--')) {
      const value = argv[i + 1];
      if (value === undefined) throw new CliUsageError(`${arg} needs a value`);
      options.set(arg.slice(2), value);
      i += 1;
    } else args.push(arg);
  }
  for (const key of options.keys())
    if (!['registry', 'file', 'secrets-out', 'out'].includes(key))
      throw new CliUsageError(`unknown option --${key}`);
  const [command, ...targets] = args;
  const env = vigilEnvSchema
    .pick({
      VIGIL_DATA_DIR: true,
      VIGIL_REGISTRY: true,
      VIGIL_MQTT_CREDENTIALS: true,
      VIGIL_MQTT_INTERNAL_SECRET_FILE: true,
      VIGIL_MQTT_PASSWORD: true,
    })
    .parse(rawEnv);
  const registry = loadRegistry(options.get('registry') ?? env.VIGIL_REGISTRY);
  const file =
    options.get('file') ??
    env.VIGIL_MQTT_CREDENTIALS ??
    join(env.VIGIL_DATA_DIR, 'device-credentials.json');
  const store = readCredentialsFile(file);

  switch (command) {
    case 'issue':
    case 'rotate': {
      const keys = resolveTargets(registry, store, targets, command);
      const issued: Array<{ key: string; username: string; secret: string }> = [];
      for (const key of keys) {
        const [site, device] = key.split('/') as [string, string];
        const { credential, secret } = await newCredential(site, device, now());
        store.credentials = store.credentials.filter(c => credentialKey(c.site, c.device) !== key);
        store.credentials.push(credential);
        issued.push({ key, username: deviceUsername(registry, site, device), secret });
      }
      writeCredentialsFile(file, store);
      const secretsOut = options.get('secrets-out');
      if (secretsOut) writeSecrets(secretsOut, issued);
      for (const { key, username, secret } of issued)
        io.out(
          secretsOut
            ? `${key}: ${command === 'issue' ? 'issued' : 'rotated'} (username ${username}; secret in ${secretsOut})`
            : `${key}: username ${username} secret ${secret}`,
        );
      if (!secretsOut && issued.length > 0)
        io.err('The secrets are shown once: only their hashes are kept, in ' + file);
      return 0;
    }
    case 'revoke': {
      const keys = resolveTargets(registry, store, targets, 'revoke');
      store.credentials = store.credentials.filter(
        c => !keys.includes(credentialKey(c.site, c.device)),
      );
      writeCredentialsFile(file, store);
      for (const key of keys) io.out(`${key}: revoked`);
      return 0;
    }
    case 'list': {
      const [site] = targets;
      const held = new Set(store.credentials.map(c => credentialKey(c.site, c.device)));
      for (const c of store.credentials)
        if (!site || c.site === site)
          io.out(
            `${credentialKey(c.site, c.device)}\tusername ${deviceUsername(registry, c.site, c.device)}\tissued ${c.issuedAt}`,
          );
      for (const d of registry.devices)
        if ((!site || d.siteId === site) && !held.has(credentialKey(d.siteId, d.deviceId)))
          io.out(`${credentialKey(d.siteId, d.deviceId)}\tno credential`);
      return 0;
    }
    case 'mosquitto': {
      const out = options.get('out');
      if (!out) throw new CliUsageError('mosquitto needs --out <dir>');
      const internal: Array<readonly [string, string]> = [
        [
          DEFAULT_INTERNAL_USERNAME,
          env.VIGIL_MQTT_PASSWORD ??
            loadOrCreateInternalSecret(
              env.VIGIL_MQTT_INTERNAL_SECRET_FILE ??
                join(env.VIGIL_DATA_DIR, 'mqtt-internal.secret'),
            ),
        ],
      ];
      for (const [account, variable] of MOSQUITTO_SERVICE_ACCOUNTS) {
        const password = rawEnv[variable];
        if (password && !password.startsWith('<INSERT_')) internal.push([account, password]);
        else io.err(`${account}: no password in ${variable}, left out of the password file`);
      }
      // A credential whose device left the registry is left out, as the embedded broker refuses it.
      const current = store.credentials.filter(c => registry.device(c.site, c.device));
      for (const c of store.credentials)
        if (!current.includes(c))
          io.err(`${credentialKey(c.site, c.device)}: not in the registry any more, left out`);
      mkdirSync(out, { recursive: true, mode: 0o700 });
      const passwd = join(out, 'passwd');
      writeFileSync(passwd, await mosquittoPasswordFile(registry, current, internal), {
        mode: 0o600,
      });
      chmodSync(passwd, 0o600);
      writeFileSync(join(out, 'acl'), mosquittoAcl(registry, current));
      io.out(
        `${join(out, 'passwd')}: ${internal.length} service and ${current.length} device accounts; ${join(out, 'acl')}`,
      );
      return 0;
    }
    default:
      throw new CliUsageError(command ? `unknown command "${command}"` : 'no command');
  }
}

function resolveTargets(
  registry: Registry,
  store: CredentialsFile,
  targets: readonly string[],
  command: 'issue' | 'rotate' | 'revoke',
): string[] {
  if (targets.length === 0) throw new CliUsageError(`${command} needs <site>/<device>`);
  const held = new Set(store.credentials.map(c => credentialKey(c.site, c.device)));
  const keys: string[] = [];
  const problems: string[] = [];
  for (const target of targets) {
    const [site, device, ...rest] = target.split('/');
    if (!site || !device || rest.length > 0) {
      problems.push(`${target}: expected <site>/<device>`);
      continue;
    }
    if (device === '*' && command === 'issue') {
      for (const d of registry.devices)
        if (d.siteId === site && !held.has(credentialKey(site, d.deviceId)))
          keys.push(credentialKey(site, d.deviceId));
      if (!registry.site(site)) problems.push(`${target}: no site "${site}" in the registry`);
      continue;
    }
    const key = credentialKey(site, device);
    if (command === 'issue' && !registry.device(site, device))
      problems.push(`${target}: not a device of the registry`);
    else if (command === 'issue' && held.has(key))
      problems.push(`${target}: has a credential already (rotate or revoke it)`);
    else if (command !== 'issue' && !held.has(key)) problems.push(`${target}: has no credential`);
    else keys.push(key);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return keys;
}

/** Merges secrets into a JSON file readable by its owner only (for simulators and provisioning). */
function writeSecrets(
  path: string,
  issued: ReadonlyArray<{ key: string; username: string; secret: string }>,
): void {
  const existing: Record<string, unknown> = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>)
    : {};
  for (const { key, username, secret } of issued) existing[key] = { username, secret };
  writeFileSync(path, `${JSON.stringify(existing, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
