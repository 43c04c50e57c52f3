import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm, Hazard, HazardStats } from '@vigil/contracts';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { SAMPLE_REGISTRY, loginAs, mqttClient, telemetry } from './support';

type Client = Awaited<ReturnType<typeof loginAs>>;

/**
 * The hazard ledger's closed loop (issue 15) on the built Vigil process, through HTTP only: a
 * leak → alarm → disposed as a real event → hazard → assigned → rectified → accepted by another
 * user → approved above the enterprise → closed; an overdue hazard reminded and escalated up the
 * organisation tree; the ledger still there after a restart on the same data directory.
 */
describe('hazard ledger: from a leak to close-out, and an overdue hazard escalated', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  let device: MqttClient | undefined;
  let zhang: Client;
  let wang: Client;
  let chen: Client;
  let env: Record<string, string>;

  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const body = (await response.json()) as T;
    if (response.status !== status)
      throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const statusOf = async (response: Promise<Response>) => (await response).status;

  async function login(): Promise<void> {
    if (!vigil) throw new Error('not started');
    zhang = await loginAs(vigil.httpUrl, 'zhang'); // operator, enterprise ent-huaxin
    wang = await loginAs(vigil.httpUrl, 'wang'); // supervisor, park-chem (above the enterprise)
    chen = await loginAs(vigil.httpUrl, 'chen'); // supervisor, city-demo
  }

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-hazards-'));
    influx = await startInfluxd();
    env = {
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_RULE_TICK_MS: '200',
      VIGIL_ALARM_TICK_MS: '200',
      // An overdue hazard goes one level up every 1.8 s here (24 h by default).
      VIGIL_HAZARD_ESCALATE_HOURS: '0.0005',
    };
    vigil = await startBuiltVigil(env);
    device = await mqttClient(vigil.mqttUrl);
    await login();
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('walks a leak to a closed hazard, signed by each user, refusing what the policy forbids', async () => {
    if (!vigil || !device) throw new Error('not started');
    await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 30 }, 1), {
      qos: 1,
    });
    await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 30 }, 1), {
      qos: 1,
    });
    const alarmOf = (deviceId: string) =>
      waitFor(
        async () =>
          (await json<Alarm[]>(await zhang.call('/api/v1/alarms?site=plant-1'))).find(
            alarm => alarm.deviceId === deviceId && alarm.category === 'process',
          ),
        { what: `the leak alarm of ${deviceId}` },
      );
    const alarm = await alarmOf('gc-tf-01');
    const undisposed = await alarmOf('gc-tf-02');

    await json(await zhang.post(`/api/v1/alarms/${alarm.id}/acknowledge`, {}));
    await json(
      await zhang.post(`/api/v1/alarms/${alarm.id}/dispose`, {
        disposition: 'real-event',
        note: '现场确认 V-12 法兰泄漏 flange leak at V-12 confirmed on site',
      }),
    );

    // Only a disposal that found something real opens a hazard.
    expect(
      await statusOf(
        zhang.post('/api/v1/hazards', { alarmId: undisposed.id, title: 'x', level: 'general' }),
      ),
    ).toBe(422);
    expect(
      await statusOf(
        zhang.post('/api/v1/hazards', { alarmId: 'no-such-alarm', title: 'x', level: 'general' }),
      ),
    ).toBe(404);
    expect(await statusOf(zhang.post('/api/v1/hazards', { title: '', level: 'worst' }))).toBe(400);

    const hazard = await json<Hazard>(
      await zhang.post('/api/v1/hazards', {
        alarmId: alarm.id,
        title: '罐区 V-12 法兰泄漏 Flange leak at V-12',
        level: 'major',
        photos: ['photo://plant-1/v12-flange.jpg'],
        interimMeasures: '警戒隔离,每 2 小时巡检 cordoned, patrols every 2 h',
      }),
      201,
    );
    expect(hazard).toMatchObject({
      no: 1,
      state: 'reported',
      source: 'alarm',
      alarmId: alarm.id,
      siteId: 'plant-1',
      enterprise: 'ent-huaxin',
      areaId: 'tank-farm',
      deviceIds: ['gc-tf-01'],
      reportedBy: 'zhang',
    });
    // One hazard per alarm.
    expect(
      await statusOf(
        zhang.post('/api/v1/hazards', { alarmId: alarm.id, title: 'again', level: 'major' }),
      ),
    ).toBe(409);
    expect(await json<Hazard[]>(await wang.call(`/api/v1/hazards?alarm=${alarm.id}`))).toHaveLength(
      1,
    );

    const act = (who: Client, action: string, body: unknown = {}) =>
      who.post(`/api/v1/hazards/${hazard.id}/${action}`, body);
    const plan = {
      responsible: '张伟 Zhang Wei',
      measures: '更换法兰垫片 replace the flange gasket',
      funds: 5000,
      deadline: Date.now() + 7 * 86_400_000,
      contingencyPlan: '罐区泄漏应急预案 YA-03',
    };
    expect(await statusOf(act(zhang, 'assign', { assignee: 'zhang', plan }))).toBe(403);
    const { funds: _funds, ...incomplete } = plan;
    const missing = await act(wang, 'assign', { assignee: 'zhang', plan: incomplete });
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { message: string }).message).toContain('funds');
    expect(await statusOf(act(wang, 'fly'))).toBe(404);
    expect(await statusOf(zhang.post('/api/v1/hazards/nope/start', {}))).toBe(404);

    await json(await act(wang, 'assign', { assignee: 'zhang', plan }));
    await json(await act(zhang, 'start'));
    await json(
      await act(zhang, 'rectify', {
        note: '垫片已更换,检漏合格 gasket replaced, leak test passed',
      }),
    );
    expect(await statusOf(act(zhang, 'accept'))).toBe(403); // the rectifier, and an operator
    await json(await act(wang, 'accept', { note: '复查合格 re-checked on site' }));
    expect(await statusOf(act(wang, 'close'))).toBe(409); // major: approval first
    await json(await act(chen, 'approve', { note: '同意销号' }));
    const closed = await json<Hazard>(await act(wang, 'close', { note: '销号' }));

    expect(closed).toMatchObject({
      state: 'closed',
      rectifiedBy: 'zhang',
      acceptedBy: 'wang',
      approvedBy: 'chen',
      closedBy: 'wang',
      plan,
    });
    expect(closed.history.map(step => `${step.action}:${step.by}`)).toEqual([
      'report:zhang',
      'assign:wang',
      'start:zhang',
      'rectify:zhang',
      'accept:wang',
      'approve:chen',
      'close:wang',
    ]);
    expect(await statusOf(act(wang, 'interim', { measures: 'x' }))).toBe(409);
  });

  it('reminds and escalates an overdue hazard up the tree, and the ledger survives a restart', async () => {
    if (!vigil) throw new Error('not started');
    const hazard = await json<Hazard>(
      await zhang.post('/api/v1/hazards', {
        title: '装卸区接地线松动 Loose earthing at the loading bay',
        level: 'general',
        source: 'inspection',
        siteId: 'plant-1',
        areaId: 'loading-bay',
      }),
      201,
    );
    expect(hazard.source).toBe('inspection');
    await json(
      await wang.post(`/api/v1/hazards/${hazard.id}/assign`, {
        assignee: 'zhang',
        plan: {
          responsible: '张伟',
          measures: '紧固接地线',
          funds: 0,
          deadline: Date.now() + 1500,
          contingencyPlan: '静电事故应急预案',
        },
      }),
    );
    const escalated = await waitFor(
      async () => {
        const current = await json<Hazard>(await wang.call(`/api/v1/hazards/${hazard.id}`));
        return (current.escalation?.level ?? 0) >= 2 ? current : undefined;
      },
      { what: 'the overdue hazard escalated twice', timeoutMs: 30_000 },
    );
    const system = escalated.history.filter(step => step.by === 'vigil');
    expect(system.slice(0, 3).map(step => [step.action, step.nodeId])).toEqual([
      ['remind', 'ent-huaxin'],
      ['escalate', 'park-chem'],
      ['escalate', 'county-east'],
    ]);
    expect(escalated.overdue).toBe(true);
    const overdue = await json<Hazard[]>(await chen.call('/api/v1/hazards?overdue=true'));
    expect(overdue.map(h => h.id)).toEqual([hazard.id]);
    const stats = await json<HazardStats>(await chen.call('/api/v1/hazards/stats?by=enterprise'));
    expect(stats.rows).toEqual([
      {
        enterprise: 'ent-huaxin',
        levels: {
          general: { open: 1, overdue: 1, closed: 0 },
          major: { open: 0, overdue: 0, closed: 1 },
        },
        total: { open: 1, overdue: 1, closed: 1 },
      },
    ]);
    const regions = await json<HazardStats>(await chen.call('/api/v1/hazards/stats?by=region'));
    expect(regions.rows.map(row => [row.nodeId, row.total])).toEqual([
      ['city-demo', { open: 1, overdue: 1, closed: 1 }],
      ['county-east', { open: 1, overdue: 1, closed: 1 }],
      ['park-chem', { open: 1, overdue: 1, closed: 1 }],
    ]);
    expect(await statusOf(chen.call('/api/v1/hazards/stats?by=planet'))).toBe(400);
    expect(await statusOf(chen.call('/api/v1/hazards?overdue=maybe'))).toBe(400);

    // Restart on the same data directory: the ledger is rebuilt from the journal.
    const before = await json<Hazard[]>(await chen.call('/api/v1/hazards'));
    await stop(vigil.process);
    vigil = await startBuiltVigil(env);
    await login();
    const after = await json<Hazard[]>(await chen.call('/api/v1/hazards'));
    expect(after.map(h => [h.no, h.state, h.history.length])).toEqual(
      before.map(h => [h.no, h.state, expect.any(Number)]),
    );
    const closed = after.find(h => h.no === 1);
    expect(closed?.history).toEqual(before.find(h => h.no === 1)?.history);
  });
});
