import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import WebSocket from 'ws';

import { hashPassword, type RunningVigil } from '@vigil/server';

import {
  SAMPLE_REGISTRY,
  issueDeviceCredentials,
  loginAs,
  mqttClient,
  startSystem,
  telemetry,
  type DeviceSecret,
} from './support';

/** Outside demo mode: no default credentials, every request authenticated and scoped. */
describe('authentication and scope outside demo mode', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let work: string;
  let secrets: Record<string, DeviceSecret>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
    const hash = hashPassword('correct horse battery');
    writeFileSync(
      join(work, 'users.yaml'),
      [
        'users:',
        `  - { id: op1, name: Operator One, role: operator, scope: ent-huaxin, passwordHash: "${hash}" }`,
        `  - { id: sup1, name: Supervisor One, role: supervisor, scope: park-chem, passwordHash: "${hash}" }`,
        `  - { id: other, name: Elsewhere, role: operator, scope: county-east, passwordHash: "${hash}" }`,
        `  - { id: stranger, name: Stranger, role: admin, scope: nowhere, passwordHash: "${hash}" }`,
        `  - { id: rival, name: Rival Operator, role: operator, scope: ent-rival, passwordHash: "${hash}" }`,
        `  - { id: victim, name: Victim, role: operator, scope: ent-huaxin, passwordHash: "${hash}", passwordChangedAt: "2026-11-01" }`,
      ].join('\n'),
    );
    // A second enterprise in the same park: its name must not reach users scoped elsewhere.
    cpSync(SAMPLE_REGISTRY, join(work, 'registry'), { recursive: true });
    appendFileSync(
      join(work, 'registry/organisation.yaml'),
      '  - { id: ent-rival, name: Rival Chemicals, kind: enterprise, parent: park-chem }\n',
    );
    // Outside demo mode the broker admits no anonymous device.
    secrets = await issueDeviceCredentials(join(work, 'data'), ['plant-1/gc-ru-01']);
    vigil = await startSystem({
      env: {
        VIGIL_DEMO_MODE: 'false',
        VIGIL_USERS: join(work, 'users.yaml'),
        VIGIL_AUTH_SECRET: 'a-test-secret-of-at-least-32-characters!',
        VIGIL_DATA_DIR: join(work, 'data'),
        VIGIL_REGISTRY: join(work, 'registry'),
      },
    });
  });

  afterAll(async () => {
    await vigil?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses requests without a valid token, but answers the probes', async () => {
    expect((await fetch(`${vigil.httpUrl}/api/v1/devices`)).status).toBe(401);
    expect(
      (
        await fetch(`${vigil.httpUrl}/api/v1/alarms`, {
          headers: { Authorization: 'Bearer forged.token.here' },
        })
      ).status,
    ).toBe(401);
    expect((await fetch(`${vigil.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${vigil.httpUrl}/metrics`)).status).toBe(200);
    await expect(loginAs(vigil.httpUrl, 'zhang', 'vigil-demo')).rejects.toThrow(/401/);
    await expect(loginAs(vigil.httpUrl, 'op1', 'wrong password')).rejects.toThrow(/401/);
  });

  it('closes a WebSocket without a token, and accepts one with a token', async () => {
    const closed = await new Promise<number>(resolve => {
      const socket = new WebSocket(`${vigil.httpUrl.replace('http', 'ws')}/ws`);
      socket.on('close', code => resolve(code));
    });
    expect(closed).toBe(4401);
    const { token } = await loginAs(vigil.httpUrl, 'op1', 'correct horse battery');
    const hello = await new Promise<{ type: string }>(resolve => {
      const socket = new WebSocket(`${vigil.httpUrl.replace('http', 'ws')}/ws?token=${token}`);
      socket.once('message', data => {
        resolve(JSON.parse(data.toString()) as { type: string });
        socket.close();
      });
    });
    expect(hello.type).toBe('hello');
  });

  it('shows each user only the sites under their node, and checks roles', async () => {
    const device = await mqttClient(vigil.mqttUrl, undefined, secrets['plant-1/gc-ru-01']);
    await device.publishAsync('vigil/v1/plant-1/gc-ru-01/telemetry', telemetry({ lel: 33 }, 1), {
      qos: 1,
    });
    await device.endAsync();
    await new Promise(resolve => setTimeout(resolve, 300));

    const op1 = await loginAs(vigil.httpUrl, 'op1', 'correct horse battery');
    const other = await loginAs(vigil.httpUrl, 'other', 'correct horse battery');
    const stranger = await loginAs(vigil.httpUrl, 'stranger', 'correct horse battery');
    const sup1 = await loginAs(vigil.httpUrl, 'sup1', 'correct horse battery');

    const mine = (await (await op1.call('/api/v1/alarms?state=open')).json()) as Array<{
      id: string;
      deviceId: string;
    }>;
    expect(mine.map(alarm => alarm.deviceId)).toContain('gc-ru-01');
    // county-east is above park-chem, so that operator sees the plant too; "nowhere" sees nothing.
    expect(((await (await other.call('/api/v1/devices')).json()) as unknown[]).length).toBe(24);
    expect(await (await stranger.call('/api/v1/devices')).json()).toEqual([]);
    const alarmId = mine.find(alarm => alarm.deviceId === 'gc-ru-01')?.id;
    // A user refused everything is told so (403) before the alarm is looked up.
    expect((await stranger.post(`/api/v1/alarms/${alarmId}/acknowledge`)).status).toBe(403);

    expect(
      (
        await op1.post('/api/v1/devices/plant-1/gc-ru-02/maintenance', {
          mode: 'maintenance',
          reason: 'x',
        })
      ).status,
    ).toBe(403);
    const maintenance = await sup1.post('/api/v1/devices/plant-1/gc-ru-02/maintenance', {
      mode: 'maintenance',
      reason: 'calibration',
    });
    expect(maintenance.status).toBe(200);
    expect(await maintenance.json()).toMatchObject({ mode: 'maintenance', by: 'sup1' });

    const me = (await (await op1.call('/api/v1/auth/me')).json()) as { scopePath: string[] };
    expect(me.scopePath).toEqual(['city-demo', 'county-east', 'park-chem', 'ent-huaxin']);
  });

  /**
   * Fail-closed: a user scoped to a node with no sites (rival) and one whose node is not in the
   * organisation tree (stranger) see nothing on the gateway's and the console API's endpoints and
   * over the WebSocket, while op1 sees the plant on the same endpoints. Fails if the authorisation
   * service answers "everything" for either.
   */
  it('shows a user out of scope, or with an unknown scope, nothing on every endpoint', async () => {
    const op1 = await loginAs(vigil.httpUrl, 'op1', 'correct horse battery');
    const rival = await loginAs(vigil.httpUrl, 'rival', 'correct horse battery');
    const stranger = await loginAs(vigil.httpUrl, 'stranger', 'correct horse battery');
    const json = async (user: typeof op1, path: string) => {
      const response = await user.call(path);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      return (await response.json()) as Record<string, unknown> & unknown[];
    };
    interface RiskTree {
      kind: string;
      children: RiskTree[];
    }
    const sitesIn = (nodes: RiskTree[]): number =>
      nodes.reduce((sum, node) => sum + (node.kind === 'site' ? 1 : 0) + sitesIn(node.children), 0);
    const seen = async (user: typeof op1) => ({
      devices: (await json(user, '/api/v1/devices')).length,
      alarms: (await json(user, '/api/v1/alarms?state=open')).length,
      sites: ((await json(user, '/api/v1/sites'))['sites'] as unknown[]).length,
      health: ((await json(user, '/api/v1/devices/health'))['devices'] as unknown[]).length,
      positions: ((await json(user, '/api/v1/positions'))['sites'] as unknown[]).length,
      riskSites: sitesIn((await json(user, '/api/v1/risk'))['roots'] as RiskTree[]),
    });
    expect(await seen(op1)).toEqual({
      devices: 24,
      alarms: expect.any(Number),
      sites: 1,
      health: 24,
      positions: 1,
      riskSites: 1,
    });
    expect((await seen(op1)).alarms).toBeGreaterThan(0);
    const nothing = { devices: 0, alarms: 0, sites: 0, health: 0, positions: 0, riskSites: 0 };
    expect(await seen(rival)).toEqual(nothing);
    expect(await seen(stranger)).toEqual(nothing);
    expect((await json(stranger, '/api/v1/risk'))['roots']).toEqual([]);

    for (const user of [rival, stranger]) {
      expect((await user.call('/api/v1/devices/plant-1/gc-ru-01')).status).toBe(404);
      expect((await user.call('/api/v1/devices/plant-1/gc-ru-01/live')).status).toBe(404);
      expect((await user.call('/api/v1/areas/plant-1/tank-farm/muster')).status).toBe(404);
    }
    const alarmId = ((await json(op1, '/api/v1/alarms?state=open')) as Array<{ id: string }>)[0]
      ?.id;
    expect((await rival.post(`/api/v1/alarms/${alarmId}/acknowledge`)).status).toBe(404);
    expect((await rival.call(`/api/v1/alarms/${alarmId}`)).status).toBe(404);

    const snapshot = (token: string) =>
      new Promise<unknown[]>(resolve => {
        const socket = new WebSocket(`${vigil.httpUrl.replace('http', 'ws')}/ws?token=${token}`);
        socket.on('message', data => {
          const message = JSON.parse(data.toString()) as { type: string; alarms?: unknown[] };
          if (message.type !== 'snapshot') return;
          resolve(message.alarms ?? []);
          socket.close();
        });
      });
    expect((await snapshot(op1.token)).length).toBeGreaterThan(0);
    expect(await snapshot(rival.token)).toEqual([]);
    expect(await snapshot(stranger.token)).toEqual([]);

    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/vigil_auth_users_without_access\{reason="unknown-scope"\} 1/);
    expect(metrics).toMatch(/vigil_auth_fail_closed_total\{reason="unknown-scope"\} 1/);
  });

  it('filters the organisation tree to the user scope (no other enterprise names)', async () => {
    const op1 = await loginAs(vigil.httpUrl, 'op1', 'correct horse battery');
    const sup1 = await loginAs(vigil.httpUrl, 'sup1', 'correct horse battery');
    const ids = async (user: typeof op1) =>
      (
        (await (await user.call('/api/v1/sites')).json()) as { organisation: Array<{ id: string }> }
      ).organisation.map(node => node.id);
    expect(await ids(op1)).toEqual(['city-demo', 'county-east', 'park-chem', 'ent-huaxin']);
    expect(await ids(sup1)).toEqual(expect.arrayContaining(['ent-huaxin', 'ent-rival']));
    const stranger = await loginAs(vigil.httpUrl, 'stranger', 'correct horse battery');
    expect(await ids(stranger)).toEqual([]);
  });

  it('revokes a token on logout, for REST and the WebSocket', async () => {
    const op1 = await loginAs(vigil.httpUrl, 'op1', 'correct horse battery');
    expect((await op1.call('/api/v1/auth/me')).status).toBe(200);
    expect((await op1.post('/api/v1/auth/logout')).status).toBe(204);
    expect((await op1.call('/api/v1/auth/me')).status).toBe(401);
    const closed = await new Promise<number>(resolve => {
      const socket = new WebSocket(`${vigil.httpUrl.replace('http', 'ws')}/ws?token=${op1.token}`);
      socket.on('close', code => resolve(code));
    });
    expect(closed).toBe(4401);
  });

  it('locks a user after repeated failures, audits it, and keeps issued tokens working', async () => {
    const before = await loginAs(vigil.httpUrl, 'victim', 'correct horse battery');
    const attempt = (password: string) =>
      fetch(`${vigil.httpUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'victim', password }),
      });
    for (let i = 0; i < 5; i += 1) expect((await attempt(`guess-${i}`)).status).toBe(401);
    const locked = await attempt('correct horse battery');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
    // Someone guessing the password does not throw the logged-in operator out.
    expect((await before.call('/api/v1/alarms')).status).toBe(200);

    const audit = readFileSync(join(work, 'data/audit/auth.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(line => JSON.parse(line) as { event: string; user: string; address: string });
    const events = audit.filter(entry => entry.user === 'victim').map(entry => entry.event);
    expect(events).toEqual(
      expect.arrayContaining(['login', 'login-failed', 'user-locked', 'login-refused']),
    );
    expect(audit.every(entry => typeof entry.address === 'string')).toBe(true);
    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /vigil_auth_logins_total\{result="refused",reason="user-locked"\} [1-9]/,
    );
  });
});
