import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm, ShiftView } from '@vigil/contracts';
import { hashPassword } from '@vigil/server';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { SAMPLE_REGISTRY, loginAs, mqttClient, telemetry } from './support';

type Client = Awaited<ReturnType<typeof loginAs>>;

/**
 * A shift hand-over (值班交接班, issue 15) on the built Vigil process, through MQTT and HTTP only:
 * zhang's shift hands over the real gas alarm open in plant-1 to li; the same person signing both
 * sides, a user of another enterprise and a stale acceptance (an alarm raised after the snapshot)
 * are refused with the reason, the new alarm listed; li's shift runs past its planned end and the
 * grace with nobody taking over: a P2 duty-unmanned alarm on the alarm list, counted and on
 * /readyz.
 */
describe('duty: shift hand-over with a snapshot of what is open, unmanned control room', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  let device: MqttClient | undefined;
  let zhang: Client;
  let li: Client;
  let rival: Client;

  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const body = (await response.json()) as T;
    if (response.status !== status)
      throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const lel = (deviceId: string, value: number) =>
    device?.publishAsync(`vigil/v1/plant-1/${deviceId}/telemetry`, telemetry({ lel: value }), {
      qos: 1,
    });
  const alarms = async () => json<Alarm[]>(await zhang.call('/api/v1/alarms?site=plant-1'));
  const alarmOf = (deviceId: string) =>
    waitFor(async () => (await alarms()).find(alarm => alarm.deviceId === deviceId), {
      what: `an alarm of ${deviceId}`,
    });

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-duty-'));
    // A second enterprise in the park: its user does not see plant-1.
    cpSync(SAMPLE_REGISTRY, join(work, 'registry'), { recursive: true });
    appendFileSync(
      join(work, 'registry/organisation.yaml'),
      '  - { id: ent-rival, name: Rival Chemicals, kind: enterprise, parent: park-chem }\n',
    );
    writeFileSync(
      join(work, 'users.yaml'),
      `users:\n  - { id: rival, name: Rival, role: supervisor, scope: ent-rival, passwordHash: "${hashPassword('rival-password')}" }\n`,
    );
    influx = await startInfluxd();
    vigil = await startBuiltVigil({
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_REGISTRY: join(work, 'registry'),
      VIGIL_USERS: join(work, 'users.yaml'),
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_RULE_TICK_MS: '200',
      VIGIL_ALARM_TICK_MS: '200',
      VIGIL_DUTY_GRACE_MS: '1000',
    });
    device = await mqttClient(vigil.mqttUrl);
    zhang = await loginAs(vigil.httpUrl, 'zhang'); // operator, ent-huaxin
    li = await loginAs(vigil.httpUrl, 'li'); // operator, ent-huaxin
    rival = await loginAs(vigil.httpUrl, 'rival', 'rival-password'); // ent-rival: not plant-1
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('hands the open alarm over, refuses one signer twice, a stranger and a stale acceptance', async () => {
    if (!vigil) throw new Error('not started');
    await lel('gc-tf-01', 45);
    const leak = await alarmOf('gc-tf-01');

    const shift = await json<ShiftView>(
      await zhang.post('/api/v1/duty/shifts', {
        siteId: 'plant-1',
        roomId: 'control-room',
        lead: 'zhang',
        operators: ['wang'],
        plannedEnd: Date.now() + 3_600_000,
      }),
      201,
    );
    expect(shift).toMatchObject({ no: 1, state: 'on-duty', lead: 'zhang' });
    // The room is staffed: a second start is refused (hand it over instead).
    const twice = await zhang.post('/api/v1/duty/shifts', {
      siteId: 'plant-1',
      roomId: 'control-room',
      lead: 'zhang',
      plannedEnd: Date.now() + 3_600_000,
    });
    expect(twice.status).toBe(409);

    // Only users who see plant-1 can take over: the rival is refused by name.
    const stranger = await zhang.post(`/api/v1/duty/shifts/${shift.id}/hand-over`, {
      notes: 'x',
      incoming: { lead: 'rival', plannedEnd: Date.now() + 3_600_000 },
    });
    expect(stranger.status).toBe(422);
    expect(JSON.stringify(await stranger.json())).toContain('rival');

    const opened = await json<ShiftView>(
      await zhang.post(`/api/v1/duty/shifts/${shift.id}/hand-over`, {
        notes: '罐区 gc-tf-01 泄漏处置中 Leak at the tank farm being handled',
        incoming: { lead: 'li', operators: ['wang'], plannedEnd: Date.now() + 5_000 },
      }),
    );
    expect(opened.handOver?.snapshot.items).toContainEqual(
      expect.objectContaining({ kind: 'alarm', id: leak.id, siteId: 'plant-1' }),
    );
    await json(await zhang.post(`/api/v1/duty/shifts/${shift.id}/sign`, {}));

    // The outgoing lead accepting his own hand-over; a user without scope over the site.
    const self = await zhang.post(`/api/v1/duty/shifts/${shift.id}/accept`, { seen: [] });
    expect(self.status).toBe(403);
    expect(JSON.stringify(await self.json())).toContain('both sides');
    const outside = await rival.post(`/api/v1/duty/shifts/${shift.id}/accept`, { seen: [] });
    expect(outside.status).toBe(404);

    // An alarm raised after the snapshot: the acceptance is stale until li has seen it.
    await lel('gc-tf-02', 60);
    const meanwhile = await alarmOf('gc-tf-02');
    const stale = await li.post(`/api/v1/duty/shifts/${shift.id}/accept`, { seen: [] });
    expect(stale.status).toBe(409);
    const staleBody = (await stale.json()) as { message: string; changes: { added: unknown[] } };
    expect(staleBody.message).toContain(`alarm:${meanwhile.id}`);
    expect(staleBody.changes.added).toContainEqual(expect.objectContaining({ id: meanwhile.id }));

    const seen = staleBody.changes.added.map(item => `alarm:${(item as { id: string }).id}`);
    const incoming = await json<ShiftView>(
      await li.post(`/api/v1/duty/shifts/${shift.id}/accept`, { seen, note: '接班' }),
    );
    expect(incoming).toMatchObject({ no: 2, state: 'on-duty', lead: 'li', previousId: shift.id });
    const ended = await json<ShiftView>(await zhang.call(`/api/v1/duty/shifts/${shift.id}`));
    expect(ended.state).toBe('ended');
    expect(ended.handOver).toMatchObject({ signedOutBy: 'zhang', acceptedBy: 'li' });
    expect(ended.handOver?.changesAtAcceptance?.added).toContainEqual(
      expect.objectContaining({ id: meanwhile.id }),
    );
    expect(ended.history.map(step => [step.action, step.by])).toEqual([
      ['start', 'zhang'],
      ['open-hand-over', 'zhang'],
      ['sign', 'zhang'],
      ['handed-over', 'li'],
    ]);
  });

  it('raises a P2 duty-unmanned alarm when li’s shift ends with nobody taking over', async () => {
    if (!vigil) throw new Error('not started');
    const httpUrl = vigil.httpUrl;
    const unmanned = await waitFor(
      async () => (await alarms()).find(alarm => alarm.ruleId === 'duty-unmanned'),
      { what: 'the duty-unmanned alarm', timeoutMs: 20_000 },
    );
    expect(unmanned).toMatchObject({
      priority: 2,
      siteId: 'plant-1',
      areaId: 'control-room',
      state: 'active-unacknowledged',
    });
    expect(unmanned.message).toContain('no hand-over was opened');
    const rooms = await json<{ onDuty?: ShiftView }[]>(await li.call('/api/v1/duty/rooms'));
    expect(rooms[0]?.onDuty?.unmanned?.reason).toContain('lead li');
    // Reported on /readyz, counted; readiness itself stays (Vigil still monitors the plant).
    const ready = (await (await fetch(`${httpUrl}/readyz`)).json()) as {
      details?: { duty?: { unmannedCount: number; unmanned: { roomId: string }[] } };
    };
    expect(ready.details?.duty).toMatchObject({
      unmannedCount: 1,
      unmanned: [{ roomId: 'control-room' }],
    });
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_duty_unmanned 1$/m);
    expect(metrics).toMatch(/^vigil_duty_unmanned_total 1$/m);
    // The operator acknowledges it like any alarm (the gateway owns it).
    await json(await li.post(`/api/v1/alarms/${unmanned.id}/acknowledge`, {}));
  });
});
