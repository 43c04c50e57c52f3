import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm, Permit, PermitView } from '@vigil/contracts';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { SAMPLE_REGISTRY, loginAs, mqttClient, telemetry } from './support';

type Client = Awaited<ReturnType<typeof loginAs>>;

/**
 * A confined-space permit (受限空间作业, issue 15) on the built Vigil process, through MQTT and HTTP
 * only: refused to start while the area's oxygen is outside the permit's band, started once it is
 * within; inside the restricted area its named worker raises no geofence alarm while an unnamed
 * tag beside them does; an oxygen drop raises a P1 stop-work alarm naming the permit, its workers
 * and the people inside, and the permit is suspended, signed by Vigil. The sample registry's
 * `confined-space` area is restricted (150..175 × 240..275) and has one oxygen detector,
 * `go-cs-01`.
 */
describe('special-operation permit: gas check at start, geofence exemption, stop work', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  let device: MqttClient | undefined;
  let zhang: Client;
  let wang: Client;
  let env: Record<string, string>;

  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const body = (await response.json()) as T;
    if (response.status !== status)
      throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const publish = (deviceId: string, values: Record<string, number>) =>
    device?.publishAsync(`vigil/v1/plant-1/${deviceId}/telemetry`, telemetry(values), { qos: 1 });
  const alarms = async () => json<Alarm[]>(await zhang.call('/api/v1/alarms?site=plant-1'));

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-permits-'));
    influx = await startInfluxd();
    env = {
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_RULE_TICK_MS: '200',
      VIGIL_ALARM_TICK_MS: '200',
    };
    vigil = await startBuiltVigil(env);
    device = await mqttClient(vigil.mqttUrl);
    zhang = await loginAs(vigil.httpUrl, 'zhang'); // operator, enterprise ent-huaxin
    wang = await loginAs(vigil.httpUrl, 'wang'); // supervisor, park-chem (above it)
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('starts only within the limits, exempts the named worker, and stops work on an O₂ drop', async () => {
    if (!vigil || !device) throw new Error('not started');
    const now = Date.now();
    const requested = await json<Permit>(
      await zhang.post('/api/v1/permits', {
        kind: 'confined-space',
        title: '污水池清淤 Sump desilting',
        siteId: 'plant-1',
        areaId: 'confined-space',
        from: now - 1_000,
        to: now + 3_600_000,
        workers: ['tag-001', 'tag-002'],
        guardian: '李娜 Li Na',
      }),
      201,
    );
    // GB 30871 via secondary (S): confined-space oxygen 19.5–21 %VOL by default.
    expect(requested).toMatchObject({
      no: 1,
      state: 'requested',
      limits: { oxygenMin: 19.5, oxygenMax: 21 },
      requestedBy: 'zhang',
    });
    // Workers must be personnel tags of the site; the requester does not approve.
    const notATag = await zhang.post('/api/v1/permits', {
      kind: 'confined-space',
      title: 'x',
      siteId: 'plant-1',
      areaId: 'confined-space',
      from: now,
      to: now + 60_000,
      workers: ['go-cs-01'],
      guardian: 'li',
    });
    expect(notATag.status).toBe(422);
    expect((await zhang.post(`/api/v1/permits/${requested.id}/approve`, {})).status).toBe(403);
    await json(await wang.post(`/api/v1/permits/${requested.id}/approve`, {}));

    // No reading yet: the gas analysis cannot pass (fail closed).
    const none = await zhang.post(`/api/v1/permits/${requested.id}/start`, {});
    expect(none.status).toBe(409);
    expect(JSON.stringify(await none.json())).toContain('no fresh o2 reading');

    // Oxygen above the permit's 21 %VOL: refused.
    await publish('go-cs-01', { o2: 22.5 });
    const above = await waitFor(
      async () => {
        const response = await zhang.post(`/api/v1/permits/${requested.id}/start`, {});
        const body = JSON.stringify(await response.json());
        return response.status === 409 && body.includes('go-cs-01') ? body : undefined;
      },
      { what: 'a start refused for the oxygen reading above the limit' },
    );
    expect(above).toContain('o2 22.5 outside the permit');

    // Within the band: started, the analysis recorded with the step.
    await publish('go-cs-01', { o2: 20.9 });
    const started = await waitFor(
      async () => {
        const response = await zhang.post(`/api/v1/permits/${requested.id}/start`, {});
        return response.status === 200 ? ((await response.json()) as Permit) : undefined;
      },
      { what: 'the permit started once the oxygen is within its band' },
    );
    expect(started.state).toBe('active');
    expect(started.history.at(-1)).toMatchObject({
      action: 'start',
      by: 'zhang',
      gasCheck: { passed: true, readings: [{ deviceId: 'go-cs-01', value: 20.9, within: true }] },
    });

    // The named worker and an unnamed tag walk deep into the restricted area, side by side.
    for (let fix = 0; fix < 3; fix += 1) {
      await publish('tag-001', { x: 162, y: 258 });
      await publish('tag-003', { x: 163, y: 257 });
    }
    const intrusion = await waitFor(
      async () =>
        (await alarms()).find(
          alarm => alarm.ruleId === 'intrusion' && alarm.deviceId === 'tag-003',
        ),
      { what: 'the geofence alarm of the unnamed tag-003' },
    );
    expect(intrusion.areaId).toBe('confined-space');
    // Both tags' fixes were evaluated before tag-003's alarm was: none for the named worker.
    expect(
      (await alarms()).filter(
        alarm => alarm.ruleId === 'intrusion' && alarm.deviceId === 'tag-001',
      ),
    ).toEqual([]);

    // Oxygen drops below 19.5 %VOL: stop work (P1) naming the permit, workers and people inside.
    await publish('go-cs-01', { o2: 18.2 });
    const stopWork = await waitFor(
      async () => (await alarms()).find(alarm => alarm.ruleId === 'stop-work'),
      { what: 'the stop-work alarm' },
    );
    expect(stopWork).toMatchObject({
      priority: 1,
      areaId: 'confined-space',
      key: `plant-1/permit-${requested.id}/stop-work`,
    });
    expect(stopWork.message).toContain('停止作业 STOP WORK: permit No. 1 (confined-space)');
    expect(stopWork.message).toContain('named workers: tag-001, tag-002');
    expect(stopWork.message).toContain('tag-003');
    expect([...(stopWork.members ?? [])].sort()).toEqual(['tag-001', 'tag-002', 'tag-003']);

    const suspended = await waitFor(
      async () => {
        const permit = await json<Permit>(await zhang.call(`/api/v1/permits/${requested.id}`));
        return permit.state === 'suspended' ? permit : undefined;
      },
      { what: 'the permit suspended by the stop-work alarm' },
    );
    expect(suspended.history.at(-1)).toMatchObject({
      action: 'suspend',
      by: 'vigil',
      alarmKey: stopWork.key,
    });
    // Resuming needs a supervisor and a new analysis that passes: the oxygen is still low.
    expect((await zhang.post(`/api/v1/permits/${requested.id}/resume`, {})).status).toBe(403);
    expect((await wang.post(`/api/v1/permits/${requested.id}/resume`, {})).status).toBe(409);
  });

  it('keeps the permit across a restart (journal in the data directory)', async () => {
    if (!vigil) throw new Error('not started');
    const before = await json<Permit[]>(await zhang.call('/api/v1/permits'));
    await device?.endAsync().catch(() => undefined);
    await stop(vigil.process);
    vigil = await startBuiltVigil(env);
    device = await mqttClient(vigil.mqttUrl);
    zhang = await loginAs(vigil.httpUrl, 'zhang');
    const after = await json<Permit[]>(await zhang.call('/api/v1/permits?state=open'));
    expect(after).toEqual(before);
    expect(after.map(permit => [permit.no, permit.state])).toEqual([[1, 'suspended']]);
  });

  it('stops work when the gas monitoring goes silent, and names the workers still inside after the window', async () => {
    if (!vigil) throw new Error('not started');
    // Restarted with a short gas-silence bound (GB 30871: continuous monitoring during the work).
    await device?.endAsync().catch(() => undefined);
    await stop(vigil.process);
    vigil = await startBuiltVigil({ ...env, VIGIL_PERMIT_GAS_SILENCE_MS: '3000' });
    device = await mqttClient(vigil.mqttUrl);
    zhang = await loginAs(vigil.httpUrl, 'zhang');
    wang = await loginAs(vigil.httpUrl, 'wang');
    const now = Date.now();
    const requested = await json<Permit>(
      await zhang.post('/api/v1/permits', {
        kind: 'confined-space',
        title: '罐内检查 Tank inspection',
        siteId: 'plant-1',
        areaId: 'confined-space',
        from: now - 1_000,
        to: now + 15_000,
        workers: ['tag-002'],
        guardian: '李娜 Li Na',
      }),
      201,
    );
    await json(await wang.post(`/api/v1/permits/${requested.id}/approve`, {}));
    await publish('go-cs-01', { o2: 20.9 });
    const started = await waitFor(
      async () => {
        const response = await zhang.post(`/api/v1/permits/${requested.id}/start`, {});
        return response.status === 200 ? ((await response.json()) as PermitView) : undefined;
      },
      { what: 'the second permit started' },
    );
    expect(started.state).toBe('active');
    // The all-in-one process evaluates it: not reported as unevaluated on /readyz or the permit.
    await new Promise(resolve => setTimeout(resolve, 1_000));
    const ready = (await (await fetch(`${vigil.httpUrl}/readyz`)).json()) as {
      checks: Record<string, boolean>;
    };
    expect(ready.checks['permits']).toBeUndefined();
    expect(
      (await json<PermitView>(await zhang.call(`/api/v1/permits/${requested.id}`))).unevaluated,
    ).toBeUndefined();

    // The named worker is inside; the oxygen detector says nothing more.
    await publish('tag-002', { x: 162, y: 258 });
    const key = `plant-1/permit-${requested.id}/stop-work`;
    const silent = await waitFor(async () => (await alarms()).find(alarm => alarm.key === key), {
      what: 'the stop-work alarm for no gas monitoring',
      timeoutMs: 10_000,
    });
    expect(silent.priority).toBe(1);
    expect(silent.message).toContain(
      'permit No. 2 (confined-space) in confined-space: no gas monitoring',
    );
    expect(silent.message).toContain('named workers: tag-002');
    const suspended = await waitFor(
      async () => {
        const permit = await json<PermitView>(await zhang.call(`/api/v1/permits/${requested.id}`));
        return permit.state === 'suspended' ? permit : undefined;
      },
      { what: 'the permit suspended for no gas monitoring' },
    );
    expect(suspended.history.at(-1)).toMatchObject({
      action: 'suspend',
      by: 'vigil',
      alarmKey: key,
    });

    // The window ends with tag-002 still inside: an overstay alarm naming permit and worker.
    const overstay = await waitFor(
      async () => {
        await publish('tag-002', { x: 162, y: 258 });
        return (await alarms()).find(
          alarm => alarm.key === `plant-1/permit-${requested.id}/permit-overstay`,
        );
      },
      { what: 'the overstay alarm', timeoutMs: 20_000, intervalMs: 500 },
    );
    expect(overstay.message).toContain('permit No. 2');
    expect(overstay.message).toContain('named workers are still inside: tag-002');
    expect(overstay.members).toContain('tag-002');
    const overdue = await json<PermitView>(await zhang.call(`/api/v1/permits/${requested.id}`));
    expect(overdue).toMatchObject({ state: 'suspended', overdue: true });
    // Closed: no longer overdue.
    const closed = await json<PermitView>(
      await wang.post(`/api/v1/permits/${requested.id}/close`, {}),
    );
    expect(closed.overdue).toBeUndefined();
  }, 60_000);
});
