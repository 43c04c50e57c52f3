import { BrokerAccessPolicy, type BrokerIdentity } from './broker-access';
import { testRegistry } from './broker-access.fixture';
import { newCredential, type CredentialsFile, type DeviceCredential } from './device-credentials';

const INTERNAL = { username: 'vigil', password: 'internal-secret-of-this-test' };

describe(BrokerAccessPolicy.name, () => {
  let secrets: Map<string, string>;
  let credentials: CredentialsFile;

  beforeAll(async () => {
    secrets = new Map();
    const entries: DeviceCredential[] = [];
    for (const key of ['s1/gas-1', 's2/gas-1', 's1/gas-2', 's1/gw']) {
      const [site, device] = key.split('/') as [string, string];
      const { credential, secret } = await newCredential(site, device, new Date(0));
      entries.push(credential);
      secrets.set(key, secret);
    }
    credentials = { version: 1, credentials: entries };
  });

  const policy = (allowAnonymous = false) =>
    new BrokerAccessPolicy({
      registry: testRegistry(),
      credentials,
      internal: INTERNAL,
      allowAnonymous,
    });
  const pw = (key: string) => Buffer.from(secrets.get(key) ?? '');
  async function login(p: BrokerAccessPolicy, user: string, secret: Buffer, clientId = 'dev-1') {
    const result = await p.authenticate(user, secret, clientId);
    if (!result.ok) throw new Error(result.reason);
    return result.identity;
  }

  it('admits a device with its own secret and refuses a wrong one or an unknown user', async () => {
    const p = policy();
    expect((await login(p, 'gas-2', pw('s1/gas-2'))).key).toBe('s1/gas-2');
    await expect(p.authenticate('gas-2', pw('s1/gw'), 'x')).resolves.toEqual({
      ok: false,
      reason: 'bad-credentials',
    });
    await expect(p.authenticate('nobody', pw('s1/gw'), 'x')).resolves.toEqual({
      ok: false,
      reason: 'bad-credentials',
    });
  });

  it('tells the two gas-1 apart by their secrets, or by site/device', async () => {
    const p = policy();
    expect((await login(p, 'gas-1', pw('s2/gas-1'))).key).toBe('s2/gas-1');
    expect((await login(p, 'gas-1', pw('s1/gas-1'))).key).toBe('s1/gas-1');
    expect((await login(p, 's1/gas-1', pw('s1/gas-1'))).key).toBe('s1/gas-1');
    await expect(p.authenticate('s1/gas-1', pw('s2/gas-1'), 'x')).resolves.toMatchObject({
      ok: false,
    });
  });

  it('refuses anonymous clients unless demo mode allows them', async () => {
    await expect(policy().authenticate(undefined, undefined, 'x')).resolves.toEqual({
      ok: false,
      reason: 'anonymous',
    });
    await expect(policy(true).authenticate(undefined, undefined, 'x')).resolves.toMatchObject({
      ok: true,
    });
  });

  it('reserves vigil- client ids for the internal identity, and the internal identity to them', async () => {
    const p = policy(true);
    await expect(p.authenticate(undefined, undefined, 'vigil-ingest-h-1')).resolves.toEqual({
      ok: false,
      reason: 'client-id-reserved',
    });
    await expect(p.authenticate('gas-2', pw('s1/gas-2'), 'vigil-x')).resolves.toEqual({
      ok: false,
      reason: 'client-id-reserved',
    });
    await expect(
      p.authenticate('vigil', Buffer.from(INTERNAL.password), 'not-vigil'),
    ).resolves.toEqual({ ok: false, reason: 'client-id-reserved' });
    await expect(p.authenticate('vigil', Buffer.from('guess'), 'vigil-x')).resolves.toEqual({
      ok: false,
      reason: 'bad-credentials',
    });
    expect((await login(p, 'vigil', Buffer.from(INTERNAL.password), 'vigil-x')).kind).toBe(
      'internal',
    );
  });

  it('lets a device publish only its own topics on its own site; a gateway its children too', async () => {
    const p = policy();
    const gas2 = await login(p, 'gas-2', pw('s1/gas-2'));
    expect(p.mayPublish(gas2, 'vigil/v1/s1/gas-2/telemetry')).toBeNull();
    expect(p.mayPublish(gas2, 'vigil/v1/s1/gas-2/event')).toBeNull();
    expect(p.mayPublish(gas2, 'vigil/v1/s1/gas-2/status')).toBeNull();
    expect(p.mayPublish(gas2, 'vigil/v1/s1/gas-1/telemetry')).toBe('publish-topic');
    expect(p.mayPublish(gas2, 'vigil/v1/s2/gas-2/telemetry')).toBe('publish-topic');
    expect(p.mayPublish(gas2, 'vigil-internal/v1/alarms')).toBe('internal-topic');
    expect(p.mayPublish(gas2, 'vigil/v1/_deadletter/not-json')).toBe('internal-topic');
    expect(p.mayPublish(gas2, '$SYS/broker/x')).toBe('sys-topic');
    const gw = await login(p, 'gw', pw('s1/gw'));
    expect(p.mayPublish(gw, 'vigil/v1/s1/cp-1/event')).toBeNull();
    expect(p.mayPublish(gw, 'vigil/v1/s1/gw/status')).toBeNull();
    expect(p.mayPublish(gw, 'vigil/v1/s1/gas-1/telemetry')).toBe('publish-topic');
  });

  it('denies #, $SYS, internal topics and other devices to subscribers that are not Vigil', async () => {
    const p = policy(true);
    const gas2 = await login(p, 'gas-2', pw('s1/gas-2'));
    const anonymous: BrokerIdentity = { kind: 'anonymous', key: 'anonymous' };
    for (const who of [gas2, anonymous]) {
      expect(p.maySubscribe(who, '#')).toBe('wildcard');
      expect(p.maySubscribe(who, '+/v1/#')).toBe('wildcard');
      expect(p.maySubscribe(who, '$SYS/#')).toBe('sys-topic');
      expect(p.maySubscribe(who, 'vigil-internal/v1/#')).toBe('internal-topic');
    }
    expect(p.maySubscribe(gas2, 'vigil/v1/s1/gas-1/telemetry')).toBe('subscribe-topic');
    expect(p.maySubscribe(gas2, 'vigil/v1/s1/gas-2/status')).toBeNull();
    const internal: BrokerIdentity = { kind: 'internal', key: 'internal' };
    expect(p.maySubscribe(internal, 'vigil-internal/v1/#')).toBeNull();
    expect(p.mayPublish(internal, 'vigil-internal/v1/alarms')).toBeNull();
  });

  it('anonymous demo clients may publish device topics only', () => {
    const p = policy(true);
    const anonymous: BrokerIdentity = { kind: 'anonymous', key: 'anonymous' };
    expect(p.mayPublish(anonymous, 'vigil/v1/s1/gas-1/telemetry')).toBeNull();
    expect(p.mayPublish(anonymous, 'vigil-internal/v1/readings')).toBe('internal-topic');
    expect(p.mayPublish(anonymous, 'vigil/v1/_deadletter/x')).toBe('internal-topic');
    expect(p.mayPublish(anonymous, 'anything/else')).toBe('publish-topic');
  });

  it('forgets a revoked or rotated device on refresh, and keeps the others', async () => {
    const p = policy();
    const gas2 = await login(p, 'gas-2', pw('s1/gas-2'));
    const gw = await login(p, 'gw', pw('s1/gw'));
    const rotated = await newCredential('s1', 'gas-2', new Date(1));
    const next = new BrokerAccessPolicy({
      registry: testRegistry(),
      credentials: {
        version: 1,
        credentials: [
          ...credentials.credentials.filter(c => c.device !== 'gas-2' && c.device !== 'gw'),
          rotated.credential,
        ],
      },
      internal: INTERNAL,
      allowAnonymous: false,
    });
    expect(next.refresh(gas2)).toBeUndefined();
    expect(next.refresh(gw)).toBeUndefined();
    const gas1 = await login(p, 'gas-1', pw('s1/gas-1'));
    expect(next.refresh(gas1)).toMatchObject({ key: 's1/gas-1' });
    await expect(next.authenticate('gas-2', pw('s1/gas-2'), 'x')).resolves.toMatchObject({
      ok: false,
    });
    await expect(
      next.authenticate('gas-2', Buffer.from(rotated.secret), 'x'),
    ).resolves.toMatchObject({ ok: true });
  });

  it('refuses a credential whose device left the registry', async () => {
    const orphan = await newCredential('s1', 'gone', new Date(0));
    const p = new BrokerAccessPolicy({
      registry: testRegistry(),
      credentials: { version: 1, credentials: [orphan.credential] },
      internal: INTERNAL,
      allowAnonymous: false,
    });
    await expect(p.authenticate('gone', Buffer.from(orphan.secret), 'x')).resolves.toEqual({
      ok: false,
      reason: 'unknown-device',
    });
  });
});

describe('anonymous topic shape', () => {
  const p = new BrokerAccessPolicy({
    registry: testRegistry(),
    credentials: { version: 1, credentials: [] },
    internal: INTERNAL,
    allowAnonymous: true,
  });
  const anonymous: BrokerIdentity = { kind: 'anonymous', key: 'anonymous' };
  it.each([
    ['vigil/v1/s1/gas-1/telemetry', null],
    ['vigil/v1/s1/bad id/event', null],
    ['vigil/v1/s1/gas-1/status', null],
    ['vigil/v1/s1/gas-1/other', 'publish-topic'],
    ['vigil/v1/s1/gas-1/telemetry/x', 'publish-topic'],
    ['vigil/v1//gas-1/telemetry', 'publish-topic'],
    ['vigil/v1/s1//telemetry', 'publish-topic'],
    ['vigil/v1/s1/telemetry', 'publish-topic'],
    ['vigil/v1/_deadletter/x/telemetry', 'internal-topic'],
  ])('%s → %s', (topic, reason) => {
    expect(p.mayPublish(anonymous, topic)).toBe(reason);
  });
});
