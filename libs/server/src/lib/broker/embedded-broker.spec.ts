import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

import { connectAsync, type MqttClient } from 'mqtt';

import { freePort } from '@vigil/testing';

import { loadConfig } from '../config/vigil-config';

import { runCredentialsCli } from './credentials-cli';
import { EmbeddedBroker } from './embedded-broker';
import { withInternalCredentials } from './internal-credentials';

const ROOT = join(__dirname, '../../../../..');
const SAMPLE = join(ROOT, 'registry/sample');

describe('EmbeddedBroker over MQTTS with client certificates', () => {
  let dir = '';
  let broker: EmbeddedBroker;
  let tlsPort = 0;
  let login: { username: string; secret: string };
  const clients: MqttClient[] = [];
  const denied: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-embedded-tls-'));
    execFileSync(join(ROOT, 'scripts/make-site-ca.sh'), [
      join(dir, 'pki'),
      '127.0.0.1',
      'gc-tf-01',
    ]);
    const secrets = join(dir, 'secrets.json');
    await runCredentialsCli(
      ['issue', 'plant-1/gc-tf-01', '--secrets-out', secrets],
      { VIGIL_DATA_DIR: dir, VIGIL_REGISTRY: SAMPLE },
      { out: () => undefined, err: () => undefined },
    );
    login = (JSON.parse(readFileSync(secrets, 'utf8')) as Record<string, typeof login>)[
      'plant-1/gc-tf-01'
    ] as typeof login;
    tlsPort = await freePort();
    const config = withInternalCredentials(
      loadConfig({
        VIGIL_DEMO_MODE: 'false',
        VIGIL_SERVICES: 'broker',
        VIGIL_MQTT_PORT: String(await freePort()),
        VIGIL_DATA_DIR: dir,
        VIGIL_REGISTRY: SAMPLE,
        VIGIL_MQTT_TLS_PORT: String(tlsPort),
        VIGIL_MQTT_TLS_CERT: join(dir, 'pki/server.crt'),
        VIGIL_MQTT_TLS_KEY: join(dir, 'pki/server.key'),
        VIGIL_MQTT_TLS_CLIENT_CA: join(dir, 'pki/ca.crt'),
      }),
    );
    broker = new EmbeddedBroker(config);
    await broker.start();
    broker.attachMetrics({ inc: ({ reason }) => denied.push(reason) });
  });

  afterAll(async () => {
    await Promise.all(clients.map(c => c.endAsync(true)));
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ca = () => readFileSync(join(dir, 'pki/ca.crt'));
  const url = () => `mqtts://127.0.0.1:${tlsPort}`;

  it('refuses a client without a certificate of the site CA at the handshake', async () => {
    // Plain node:tls, so that the outcome is an event either way (with TLS 1.3 the refusal comes
    // as an alert after the client's side of the handshake).
    const outcome = await new Promise<string>(resolve => {
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, ca: ca() }, () => {
        socket.write(Buffer.from([0x10, 0x00])); // any bytes: the server must not answer them
      });
      socket.on('data', () => resolve('answered'));
      socket.on('error', error => resolve(`error: ${error.message}`));
      socket.on('close', () => resolve('closed'));
    });
    expect(outcome).toMatch(/^(error: .*certificate|closed)/);
  });

  it('admits a device with its certificate and its secret, and still checks the secret', async () => {
    const tls = {
      ca: ca(),
      cert: readFileSync(join(dir, 'pki/devices/gc-tf-01.crt')),
      key: readFileSync(join(dir, 'pki/devices/gc-tf-01.key')),
      reconnectPeriod: 0,
      protocolVersion: 4 as const,
    };
    const client = await connectAsync(url(), {
      ...tls,
      username: login.username,
      password: login.secret,
    });
    clients.push(client);
    await client.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', '{"values":{"lel":1}}', {
      qos: 1,
    });
    await expect(
      connectAsync(url(), { ...tls, username: login.username, password: 'wrong' }),
    ).rejects.toThrow(/Bad username|Not authorized/);
    expect(denied).toContain('bad-credentials');
    expect(broker.denials.get('bad-credentials')).toBeGreaterThanOrEqual(1);
  });
});
