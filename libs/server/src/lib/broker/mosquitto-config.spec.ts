// The generated Mosquitto password file and ACL on a real mosquitto (Debian's 2.0.x): what
// `npm run credentials -- mosquitto` writes is what the broker enforces.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connectAsync, type MqttClient } from 'mqtt';

import { startMosquitto, waitFor, type MosquittoHandle } from '@vigil/testing';

import { testRegistry } from './broker-access.fixture';
import { runCredentialsCli } from './credentials-cli';
import { MOSQUITTO_SERVICE_ACL, mosquittoAcl } from './mosquitto-config';

const SHIPPED_ACL = join(__dirname, '../../../../../deploy/mosquitto/acl');

describe('generated Mosquitto configuration', () => {
  it('ships deploy/mosquitto/acl as the service part of the generated ACL, with no device rule', () => {
    expect(readFileSync(SHIPPED_ACL, 'utf8')).toBe(MOSQUITTO_SERVICE_ACL);
    expect(MOSQUITTO_SERVICE_ACL).not.toMatch(/^pattern/m);
    expect(mosquittoAcl(testRegistry(), [])).toBe(MOSQUITTO_SERVICE_ACL.trimEnd() + '\n');
  });

  describe('on a real mosquitto', () => {
    let dir = '';
    let mosquitto: MosquittoHandle;
    const secrets: Record<string, { username: string; secret: string }> = {};
    const clients: MqttClient[] = [];
    const INTERNAL = 'internal-password-of-this-test';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-gen-'));
      const registryDir = join(dir, 'registry.json');
      const { writeFileSync } = await import('node:fs');
      // The same two-site registry as the policy's spec, as a file for the CLI.
      writeFileSync(
        registryDir,
        JSON.stringify({
          organisation: [{ id: 'ent', name: 'Ent', kind: 'enterprise' }],
          sites: ['s1', 's2'].map(id => ({
            id,
            name: id,
            enterprise: 'ent',
            frame: { width: 100, height: 100 },
            devices:
              id === 's1'
                ? [
                    { id: 'gas-1', class: 'gas-combustible' },
                    { id: 'gas-2', class: 'gas-combustible' },
                    { id: 'gw', class: 'fire-panel' },
                    { id: 'cp-1', class: 'call-point', gateway: 'gw' },
                  ]
                : [{ id: 'gas-1', class: 'gas-combustible' }],
          })),
        }),
      );
      const env = {
        VIGIL_DATA_DIR: dir,
        VIGIL_REGISTRY: registryDir,
        VIGIL_MQTT_PASSWORD: INTERNAL,
      };
      const io = { out: () => undefined, err: () => undefined };
      const secretsOut = join(dir, 'secrets.json');
      expect(
        await runCredentialsCli(
          ['issue', 's1/gas-1', 's1/gas-2', 's1/gw', 's2/gas-1', '--secrets-out', secretsOut],
          env,
          io,
        ),
      ).toBe(0);
      Object.assign(secrets, JSON.parse(readFileSync(secretsOut, 'utf8')));
      const out = join(dir, 'generated');
      expect(await runCredentialsCli(['mosquitto', '--out', out], env, io)).toBe(0);
      mosquitto = await startMosquitto({
        security: { passwordFile: join(out, 'passwd'), aclFile: join(out, 'acl') },
      });
    });

    afterAll(async () => {
      await Promise.all(clients.map(c => c.endAsync(true)));
      await mosquitto?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function login(username: string, password: string): Promise<MqttClient> {
      const client = await connectAsync(mosquitto.url, {
        username,
        password,
        clientId: `t-${Math.random().toString(16).slice(2)}`,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      clients.push(client);
      return client;
    }
    const device = (key: string) => {
      const entry = secrets[key];
      if (!entry) throw new Error(`no secret for ${key}`);
      return login(entry.username, entry.secret);
    };

    it('refuses anonymous clients and wrong secrets', async () => {
      await expect(connectAsync(mosquitto.url, { reconnectPeriod: 0 })).rejects.toThrow(
        /Not authorized/i,
      );
      await expect(login('gas-2', 'wrong')).rejects.toThrow(/Not authorized|Bad username/i);
    });

    it('lets a device publish its own topics only: not as another device, not on another site', async () => {
      const vigil = await login('vigil', INTERNAL);
      const received: string[] = [];
      vigil.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
      await vigil.subscribeAsync(['vigil/v1/+/+/telemetry', 'vigil-internal/v1/#'], { qos: 1 });

      const gas2 = await device('s1/gas-2');
      await gas2.publishAsync('vigil/v1/s1/gas-2/telemetry', 'own', { qos: 1 });
      await gas2.publishAsync('vigil/v1/s1/gas-1/telemetry', 'forged', { qos: 1 });
      await gas2.publishAsync('vigil/v1/s2/gas-2/telemetry', 'cross-site', { qos: 1 });
      await gas2.publishAsync('vigil-internal/v1/alarms', 'forged', { qos: 1 });
      const s2gas1 = await device('s2/gas-1');
      await s2gas1.publishAsync('vigil/v1/s1/gas-1/telemetry', 'cross-site', { qos: 1 });
      await s2gas1.publishAsync('vigil/v1/s2/gas-1/telemetry', 'own', { qos: 1 });
      const gw = await device('s1/gw');
      await gw.publishAsync('vigil/v1/s1/cp-1/telemetry', 'child', { qos: 1 });
      await vigil.publishAsync('vigil-internal/v1/alarms', 'marker', { qos: 1 });
      await waitFor(() => received.includes('vigil-internal/v1/alarms marker'), {
        what: 'the marker',
      });
      expect(received).toEqual([
        'vigil/v1/s1/gas-2/telemetry own',
        'vigil/v1/s2/gas-1/telemetry own',
        'vigil/v1/s1/cp-1/telemetry child',
        'vigil-internal/v1/alarms marker',
      ]);
      expect(secrets['s2/gas-1']?.username).toBe('s2/gas-1');
      expect(secrets['s1/gas-2']?.username).toBe('gas-2');
    });

    it('grants a device no subscription to #, $SYS/# or internal topics', async () => {
      const gas2 = await device('s1/gas-2');
      const received: string[] = [];
      gas2.on('message', topic => received.push(topic));
      await gas2.subscribeAsync(['#', '$SYS/#', 'vigil-internal/v1/#'], { qos: 1 });
      const vigil = await login('vigil', INTERNAL);
      await vigil.publishAsync('vigil-internal/v1/alarms', 'secret', { qos: 1 });
      await (
        await device('s1/gas-1')
      ).publishAsync('vigil/v1/s1/gas-1/telemetry', 'x', {
        qos: 1,
      });
      // Mosquitto grants the SUBSCRIBE but delivers nothing the ACL does not allow to read. The
      // internal account may read everything: its marker arriving means the broker routed the
      // messages above already.
      const seen: string[] = [];
      vigil.on('message', topic => seen.push(topic));
      await vigil.subscribeAsync('vigil/v1/+/+/telemetry', { qos: 1 });
      await gas2.publishAsync('vigil/v1/s1/gas-2/telemetry', 'marker', { qos: 1 });
      await waitFor(() => seen.includes('vigil/v1/s1/gas-2/telemetry'), { what: 'the marker' });
      expect(received).toEqual([]);
    });
  });
});
