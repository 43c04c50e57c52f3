import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm, Hazard, RiskNode, UplinkEnterprise, UplinkStatus } from '@vigil/contracts';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { SAMPLE_REGISTRY, WsRecorder, loginAs, mqttClient, telemetry } from './support';
import { requireBuildAndBrowser, stop } from './console-browser';
import {
  killVigil as kill,
  startVigil as start,
  uplinkItems,
  type VigilInstance as Instance,
  startUplinkPair,
  UPLINK_ENTERPRISE_CODE as ENTERPRISE_CODE,
} from './vigil-instances';

type Client = Awaited<ReturnType<typeof loginAs>>;

/** What this test reads of /readyz. */
interface Readiness {
  readonly status: string;
  readonly checks: Readonly<Record<string, boolean>>;
  readonly details?: { readonly uplink?: UplinkStatus };
}

/**
 * The network upward (issue 15, 市县企三级联网) on two built Vigil processes: an enterprise Vigil
 * forwards its alarms, its hazard ledger and samples of its major-hazard tanks to a city Vigil,
 * which shows them to the city's supervisor; the city is killed mid-way, the enterprise carries on
 * (its backlog on /readyz), the city comes back, and everything arrives exactly once.
 */
describe('uplink: an enterprise Vigil forwards to a city Vigil, across a cut link', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let city: Instance | undefined;
  let enterprise: Instance | undefined;
  let device: MqttClient | undefined;
  let token = '';

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-uplink-'));
    influx = await startInfluxd();
    ({ city, enterprise, token } = await startUplinkPair({
      work,
      node: 'park-chem',
      common: {
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_INFLUX_URL: influx.url,
        VIGIL_WRITE_FLUSH_MS: '50',
        VIGIL_REGISTRY: SAMPLE_REGISTRY,
        VIGIL_RULE_TICK_MS: '200',
        VIGIL_ALARM_TICK_MS: '200',
      },
      enterpriseEnv: { VIGIL_UPLINK_SAMPLE_MS: '1000', VIGIL_UPLINK_ORDERS_POLL_MS: '1000' },
    }));
    device = await mqttClient(`mqtt://127.0.0.1:${enterprise.env['VIGIL_MQTT_PORT']}`);
  }, 90_000);

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await stop(enterprise?.process);
    await stop(city?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const body = (await response.json()) as T;
    if (response.status !== status)
      throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };

  it('delivers alarms, hazard steps and tank samples exactly once, though the city was down', async () => {
    if (!city || !enterprise || !device) throw new Error('not started');
    const zhang = await loginAs(enterprise.httpUrl, 'zhang'); // operator, ent-huaxin
    const wang = await loginAs(enterprise.httpUrl, 'wang'); // supervisor, park-chem
    let chen: Client = await loginAs(city.httpUrl, 'chen'); // supervisor, city-demo (at the city)
    const cityView = async (): Promise<UplinkEnterprise | undefined> =>
      (await json<UplinkEnterprise[]>(await chen.call('/api/v1/uplink/enterprises'))).find(
        entry => entry.enterpriseCode === ENTERPRISE_CODE,
      );

    // Tank readings of the major hazard source tank-farm-1, and a leak on a gas detector.
    await device.publishAsync(
      'vigil/v1/plant-1/tk-101/telemetry',
      telemetry({ level_pct: 41.5, temp_c: 18.2, pressure_kpa: 102 }, 1),
      { qos: 1 },
    );
    await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 30 }, 1), {
      qos: 1,
    });
    const alarm = await waitFor(
      async () =>
        (await json<Alarm[]>(await zhang.call('/api/v1/alarms?site=plant-1'))).find(
          a => a.deviceId === 'gc-tf-01' && a.category === 'process',
        ),
      { what: 'the leak alarm at the enterprise' },
    );
    await json(await zhang.post(`/api/v1/alarms/${alarm.id}/acknowledge`, {}));
    await json(
      await zhang.post(`/api/v1/alarms/${alarm.id}/dispose`, {
        disposition: 'real-event',
        note: '现场确认法兰泄漏 flange leak confirmed',
      }),
    );
    const hazard = await json<Hazard>(
      await zhang.post('/api/v1/hazards', {
        alarmId: alarm.id,
        title: '罐区法兰泄漏 Flange leak in the tank farm',
        level: 'general',
      }),
      201,
    );
    const act = async (who: Client, action: string, body: unknown = {}) =>
      json(await who.post(`/api/v1/hazards/${hazard.id}/${action}`, body));
    await act(wang, 'assign', {
      assignee: 'zhang',
      plan: {
        responsible: '张伟 Zhang Wei',
        measures: '更换垫片 replace the gasket',
        funds: 800,
        deadline: Date.now() + 7 * 86_400_000,
        contingencyPlan: 'YA-03',
      },
    });
    await act(zhang, 'start');

    // The city sees the enterprise: the alarm acknowledged and disposed, the hazard in work, the tank.
    const first = await waitFor(
      async () => {
        const view = await cityView();
        const seen = view?.hazards.find(h => h.hazardId === hazard.id);
        const tank = view?.realtime.find(r => r.hazardSourceCode === 'plant-1.tank-farm-1');
        return seen?.state === 'rectifying' && tank ? view : undefined;
      },
      { what: 'the city to receive the alarm, the hazard and the tank sample', timeoutMs: 15_000 },
    );
    expect(first.node).toBe('park-chem');
    const cityAlarm = first.alarms.find(a => a.alarmId === alarm.id);
    expect(cityAlarm).toMatchObject({
      alarmType: expect.any(String),
      siteId: 'plant-1',
      deviceId: 'gc-tf-01',
      pointCode: 'gc-tf-01.lel',
      hazardSourceCodes: ['plant-1.tank-farm-1'],
      disposition: 'real-event',
    });
    expect(first.realtime.find(r => r.hazardSourceCode === 'plant-1.tank-farm-1')?.points).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pointCode: 'tk-101.level_pct', value: 41.5 }),
        expect.objectContaining({ pointCode: 'tk-101.temp_c', value: 18.2 }),
      ]),
    );
    // Scoped by the city's authorisation: the enterprise's own operator account at the city sees
    // nothing of it (zhang's scope, ent-huaxin, is beneath the link's node park-chem).
    const zhangAtCity = await loginAs(city.httpUrl, 'zhang');
    expect(
      await json<UplinkEnterprise[]>(await zhangAtCity.call('/api/v1/uplink/enterprises')),
    ).toEqual([]);
    // Without the link's token: refused.
    const forged = await fetch(`${city.httpUrl}/api/v1/uplink/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
      body: JSON.stringify({ version: 1, enterpriseCode: ENTERPRISE_CODE, sentAt: 0, items: [] }),
    });
    expect(forged.status).toBe(400); // an empty batch is refused before the token is looked up
    if (!cityAlarm) throw new Error('no alarm at the city');
    const { steps: _steps, ...item } = cityAlarm;
    const forgedWithItem = await fetch(`${city.httpUrl}/api/v1/uplink/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
      body: JSON.stringify({
        version: 1,
        enterpriseCode: ENTERPRISE_CODE,
        sentAt: 0,
        items: [{ ...item, seq: 10_000 }],
      }),
    });
    expect(forgedWithItem.status).toBe(401);

    // Cut the link: the city dies (SIGKILL by PID). The enterprise carries on.
    const socket = await WsRecorder.open(enterprise.httpUrl, `?token=${zhang.token}`);
    await kill(city);
    await act(zhang, 'rectify', { note: '垫片已更换 gasket replaced' });
    await act(wang, 'accept', { note: '复查合格' });
    await act(wang, 'close', { note: '销号' });
    await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 35 }, 1), {
      qos: 1,
    });
    const second = await waitFor(
      async () =>
        (await json<Alarm[]>(await zhang.call('/api/v1/alarms?site=plant-1'))).find(
          a => a.deviceId === 'gc-tf-02' && a.category === 'process',
        ),
      { what: 'the second leak alarm' },
    );
    await json(await zhang.post(`/api/v1/alarms/${second.id}/acknowledge`, {}));
    await device.publishAsync(
      'vigil/v1/plant-1/tk-101/telemetry',
      telemetry({ level_pct: 43, temp_c: 18.4, pressure_kpa: 103 }, 2),
      { qos: 1 },
    );
    // The backlog is visible on the enterprise's /readyz (degraded, not a silent 200).
    const degraded = await waitFor(
      async () => {
        const response = await fetch(`${enterprise?.httpUrl}/readyz`);
        const body = (await response.json()) as Readiness;
        const uplink = body.details?.uplink;
        return response.status === 503 &&
          uplink &&
          uplink.backlog >= 5 &&
          uplink.consecutiveFailures > 0
          ? { body, uplink }
          : undefined;
      },
      { what: "the enterprise's /readyz to show the uplink's backlog", timeoutMs: 15_000 },
    );
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.checks.uplink).toBe(false);
    expect(degraded.uplink.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    // The console hears it in the heartbeat (its banner, #uplink-banner).
    await waitFor(
      () =>
        socket.messages.some(
          message => message.type === 'heartbeat' && (message.uplink?.backlog ?? 0) > 0,
        ),
      { what: 'a heartbeat that carries the failing uplink' },
    );
    socket.close();

    // The city comes back on the same data directory and port.
    city = await start(city.env);
    chen = await loginAs(city.httpUrl, 'chen');
    await waitFor(
      async () => {
        const response = await fetch(`${enterprise?.httpUrl}/readyz`);
        const body = (await response.json()) as Readiness;
        return response.status === 200 && body.details?.uplink === undefined ? true : undefined;
      },
      { what: "the enterprise's backlog drained", timeoutMs: 15_000 },
    );
    // Let the sampler stop adding (no new tank readings), then compare both sides.
    const final = await waitFor(
      async () => {
        const view = await cityView();
        const sent = await uplinkItems(enterprise?.httpUrl ?? '');
        const queued = (kind: string) => sent[`${kind}/queued`] ?? 0;
        return view &&
          view.received.alarm === queued('alarm') &&
          view.received.hazard === queued('hazard') &&
          view.received.realtime === queued('realtime')
          ? { view, sent }
          : undefined;
      },
      { what: 'the city to hold what the enterprise queued', timeoutMs: 15_000 },
    );
    const { view, sent } = final;
    expect(sent['alarm/refused'] ?? 0).toBe(0);
    expect(view.gaps).toEqual([]);
    expect(view.acked).toBe(view.received.alarm + view.received.hazard + view.received.realtime);

    // Exactly once, in order: the city's steps are the enterprise's history, no more, no less.
    const closed = view.hazards.find(h => h.hazardId === hazard.id);
    expect(closed?.state).toBe('closed');
    const lowerHazard = await json<Hazard>(await wang.call(`/api/v1/hazards/${hazard.id}`));
    expect(closed?.steps.map(step => step.transition)).toEqual(
      lowerHazard.history.map(step => step.action),
    );
    expect(closed?.steps.map(step => step.transition)).toEqual(
      expect.arrayContaining(['report', 'assign', 'start', 'rectify', 'accept', 'close']),
    );
    for (const id of [alarm.id, second.id]) {
      const lower = await json<Alarm>(await zhang.call(`/api/v1/alarms/${id}`));
      const upper = view.alarms.find(a => a.alarmId === id);
      expect(upper?.steps.map(step => step.transition)).toEqual(
        lower.history.map(step => step.action),
      );
      expect(upper?.state).toBe(lower.state);
    }
    const seqs = [...view.alarms, ...view.hazards].flatMap(entry => entry.steps.map(s => s.seq));
    expect(new Set(seqs).size).toBe(seqs.length);
    // A batch the city already holds, sent again (as after an answer lost on the way): taken for
    // a duplicate, nothing stored twice.
    const resent = await json<{ acked: number; accepted: number; duplicates: number }>(
      await fetch(`${city.httpUrl}/api/v1/uplink/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          version: 1,
          enterpriseCode: ENTERPRISE_CODE,
          sentAt: 0,
          items: [item],
        }),
      }),
    );
    expect(resent).toEqual({ acked: view.acked, accepted: 0, duplicates: 1 });
    expect((await cityView())?.received).toEqual(view.received);

    // 挂牌督办: the city's supervisor issues a supervision order; the enterprise's Vigil fetches
    // it and shows it. An operator at the city may not issue one.
    const order = await json<{ id: string; seq: number }>(
      await chen.post(`/api/v1/uplink/enterprises/${ENTERPRISE_CODE}/orders`, {
        title: '罐区泄漏隐患挂牌督办 Supervised rectification of the tank-farm leak',
        text: '30 日内完成罐区法兰全面排查 inspect every flange in the tank farm within 30 days',
        hazardId: hazard.id,
      }),
      201,
    );
    expect(order.seq).toBe(1);
    const zhangAtCityAgain = await loginAs(city.httpUrl, 'zhang');
    expect(
      (
        await zhangAtCityAgain.post(`/api/v1/uplink/enterprises/${ENTERPRISE_CODE}/orders`, {
          title: 'x',
        })
      ).status,
    ).toBe(403);
    const received = await waitFor(
      async () => {
        const orders = await json<{ id: string; issuedBy: string; hazardId?: string }[]>(
          await zhang.call('/api/v1/uplink/orders'),
        );
        return orders.length > 0 ? orders : undefined;
      },
      { what: 'the enterprise to fetch the supervision order', timeoutMs: 15_000 },
    );
    expect(received).toEqual([
      expect.objectContaining({ id: order.id, issuedBy: 'chen', hazardId: hazard.id }),
    ]);

    // The tank's second sample arrived too.
    expect(view.realtime.find(r => r.hazardSourceCode === 'plant-1.tank-farm-1')?.points).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pointCode: 'tk-101.level_pct', value: 43 }),
      ]),
    );
  }, 120_000);

  it('approves a major hazard at the city: carried down once (repeated polls, a city restart), its step back up', async () => {
    if (!city || !enterprise) throw new Error('not started');
    const zhang = await loginAs(enterprise.httpUrl, 'zhang'); // operator, ent-huaxin
    const wang = await loginAs(enterprise.httpUrl, 'wang'); // supervisor, park-chem
    let chen: Client = await loginAs(city.httpUrl, 'chen'); // supervisor, city-demo (at the city)
    const cityHazard = async (id: string) =>
      (await json<UplinkEnterprise[]>(await chen.call('/api/v1/uplink/enterprises')))
        .find(entry => entry.enterpriseCode === ENTERPRISE_CODE)
        ?.hazards.find(h => h.hazardId === id);
    const approveAtCity = (who: Client, id: string, body: unknown = {}) =>
      who.post(`/api/v1/uplink/enterprises/${ENTERPRISE_CODE}/hazards/${id}/approve`, body);

    // A major hazard reported, assigned, rectified and accepted at the enterprise.
    const hazard = await json<Hazard>(
      await zhang.post('/api/v1/hazards', {
        title: '液氯储罐区安全阀失效 Chlorine tank relief valve failed',
        level: 'major',
        siteId: 'plant-1',
        areaId: 'tank-farm',
      }),
      201,
    );
    const act = async (who: Client, action: string, body: unknown = {}) =>
      json<Hazard>(await who.post(`/api/v1/hazards/${hazard.id}/${action}`, body));
    await act(wang, 'assign', {
      assignee: 'zhang',
      plan: {
        responsible: '张伟 Zhang Wei',
        measures: '更换安全阀 replace the relief valve',
        funds: 12_000,
        deadline: Date.now() + 7 * 86_400_000,
        contingencyPlan: 'YA-07',
      },
    });
    await act(zhang, 'start');
    // Not accepted yet at the city's view: refused there with a clear 409.
    await waitFor(async () => (await cityHazard(hazard.id))?.state === 'rectifying', {
      what: 'the city to see the major hazard in work',
      timeoutMs: 15_000,
    });
    const early = await approveAtCity(chen, hazard.id);
    expect(early.status).toBe(409);
    expect(await early.text()).toContain('approval comes after acceptance');
    await act(zhang, 'rectify', { note: '安全阀已更换并校验 valve replaced and tested' });
    await act(wang, 'accept', { note: '复查合格' });
    // Without approval above the enterprise it cannot be closed (the gap this closes).
    expect((await wang.post(`/api/v1/hazards/${hazard.id}/close`, {})).status).toBe(409);
    await waitFor(async () => (await cityHazard(hazard.id))?.state === 'accepted', {
      what: 'the city to see the major hazard accepted',
      timeoutMs: 15_000,
    });

    // The city's risk map holds the enterprise below, under its link node, read-only: coloured by
    // its forwarded open alarms, with the freshness of what came up.
    const below = (
      await json<UplinkEnterprise[]>(await chen.call('/api/v1/uplink/enterprises'))
    ).find(entry => entry.enterpriseCode === ENTERPRISE_CODE);
    const risk = await json<{ roots: RiskNode[] }>(await chen.call('/api/v1/risk'));
    const findNode = (nodes: readonly RiskNode[], key: string): RiskNode | undefined =>
      nodes.reduce<RiskNode | undefined>(
        (found, node) => found ?? (node.key === key ? node : findNode(node.children, key)),
        undefined,
      );
    const park = findNode(risk.roots, 'park:park-chem');
    const forwarded = park?.children.find(child => child.key === `forwarded:${ENTERPRISE_CODE}`);
    const open = below?.alarms.filter(a => a.state !== 'normal').map(a => a.priority) ?? [];
    expect(forwarded).toMatchObject({
      kind: 'enterprise',
      level: open.includes(1)
        ? 'red'
        : open.includes(2)
          ? 'orange'
          : open.includes(3)
            ? 'yellow'
            : 'blue',
      forwarded: { enterpriseCode: ENTERPRISE_CODE, lastReceivedAt: below?.lastReceivedAt },
    });
    expect(open.length).toBeGreaterThan(0);

    // An operator at the city is refused; so is a general hazard.
    const zhangAtCity = await loginAs(city.httpUrl, 'zhang');
    expect(JSON.stringify(await json(await zhangAtCity.call('/api/v1/risk')))).not.toContain(
      `forwarded:${ENTERPRISE_CODE}`,
    );
    expect((await approveAtCity(zhangAtCity, hazard.id)).status).toBe(403);
    const general = (await json<UplinkEnterprise[]>(await chen.call('/api/v1/uplink/enterprises')))
      .find(entry => entry.enterpriseCode === ENTERPRISE_CODE)
      ?.hazards.find(h => h.level === 'general');
    if (!general) throw new Error('no general hazard at the city');
    const notMajor = await approveAtCity(chen, general.hazardId);
    expect(notMajor.status).toBe(409);
    expect(await notMajor.text()).toContain('not major');

    // The city's supervisor approves; the city dies at once and comes back on the same data.
    const approval = await json<{ id: string; seq: number; kind: string; issuedBy: string }>(
      await approveAtCity(chen, hazard.id, { note: '同意销号 approved for close-out' }),
      201,
    );
    expect(approval).toMatchObject({ kind: 'approve', issuedBy: 'chen' });
    // Another one while it is on its way: refused (one approval per hazard).
    expect((await approveAtCity(chen, hazard.id)).status).toBe(409);
    await kill(city);
    city = await start(city.env);
    chen = await loginAs(city.httpUrl, 'chen');

    // Applied at the enterprise as the hazard's approve step, signed by the city's user.
    const approved = await waitFor(
      async () => {
        const lower = await json<Hazard>(await wang.call(`/api/v1/hazards/${hazard.id}`));
        return lower.approvedBy ? lower : undefined;
      },
      { what: 'the approval applied at the enterprise', timeoutMs: 15_000 },
    );
    expect(approved.approvedBy).toBe('city-demo:chen');
    expect(approved.history.filter(step => step.action === 'approve')).toEqual([
      expect.objectContaining({
        by: 'city-demo:chen',
        role: 'supervisor',
        note: '同意销号 approved for close-out',
        upperOrder: approval.id,
      }),
    ]);
    // Its step flows back up as a normal hazard step, and the city sees the order applied.
    await waitFor(
      async () => {
        const view = (
          await json<UplinkEnterprise[]>(await chen.call('/api/v1/uplink/enterprises'))
        ).find(entry => entry.enterpriseCode === ENTERPRISE_CODE);
        const up = view?.hazards.find(h => h.hazardId === hazard.id);
        const order = view?.orders.find(o => o.id === approval.id);
        return up?.steps.some(
          step => step.transition === 'approve' && step.by === 'city-demo:chen',
        ) && order?.outcome?.outcome === 'applied'
          ? true
          : undefined;
      },
      { what: 'the approve step and the outcome back at the city', timeoutMs: 15_000 },
    );
    // Approved now: the city refuses another approval.
    expect((await approveAtCity(chen, hazard.id)).status).toBe(409);

    // Polls go on (every second) and the city restarts once more: still one approve step.
    await kill(city);
    city = await start(city.env);
    chen = await loginAs(city.httpUrl, 'chen');
    await new Promise(resolve => setTimeout(resolve, 3000));
    const after = await json<Hazard>(await wang.call(`/api/v1/hazards/${hazard.id}`));
    expect(after.history.filter(step => step.action === 'approve')).toHaveLength(1);
    const orders = await json<{ id: string }[]>(await zhang.call('/api/v1/uplink/orders'));
    expect(orders.filter(order => order.id === approval.id)).toHaveLength(1);

    // The loop closes at the enterprise: the major hazard is closed out (销号).
    expect((await act(wang, 'close', { note: '销号' })).state).toBe('closed');
    await waitFor(async () => (await cityHazard(hazard.id))?.state === 'closed', {
      what: 'the city to see the major hazard closed',
      timeoutMs: 15_000,
    });
  }, 120_000);
});
