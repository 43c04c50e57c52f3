import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Hazard } from '@vigil/contracts';
import { stringify } from 'yaml';

import { loadRegistry } from '@vigil/registry-node';
import type { RunningVigil } from '@vigil/server';
import { alertmanagerConfig, loadNotifyConfig } from '@vigil/server';
import {
  freePort,
  startAlertmanager,
  startHttpRecorder,
  startSmtpSink,
  waitFor,
  type AlertmanagerHandle,
  type HttpRecorder,
  type RecordedRequest,
  type SmtpSink,
} from '@vigil/testing';

import {
  SAMPLE_REGISTRY,
  WsRecorder,
  loginAs,
  mqttClient,
  startSystem,
  telemetry,
} from './support';

const DINGTALK_SECRET = 'SECvigil-test-dingtalk-secret-0123456789';
const RELAY_SECRET = 'relay-secret-for-the-system-test-0123456789';

/** What the DingTalk robot checks: sign = base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`)). */
function dingtalkSignatureValid(request: RecordedRequest): boolean {
  const url = new URL(request.url, 'http://robot');
  const timestamp = url.searchParams.get('timestamp') ?? '';
  const expected = createHmac('sha256', DINGTALK_SECRET)
    .update(`${timestamp}\n${DINGTALK_SECRET}`)
    .digest('base64');
  return (
    url.searchParams.get('access_token') === 'robot-token' &&
    Math.abs(Date.now() - Number(timestamp)) < 3_600_000 &&
    url.searchParams.get('sign') === expected
  );
}

/** Bytes of quoted-printable text: `=XX` is a byte, everything else its UTF-8. */
function qpBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const piece of text.split(/(=[0-9A-Fa-f]{2})/)) {
    if (/^=[0-9A-Fa-f]{2}$/.test(piece)) parts.push(Buffer.from(piece.slice(1), 'hex'));
    else parts.push(Buffer.from(piece, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** Mail comes with MIME-encoded headers (RFC 2047) and a quoted-printable body: decode to search. */
function decodeMail(data: string): string {
  const headers = data
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([qb])\?([^?]*)\?=/gi, (_all, kind: string, text: string) =>
      kind.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : qpBytes(text.replace(/_/g, ' ')).toString('utf8'),
    );
  return qpBytes(headers.replace(/=\r\n/g, '')).toString('utf8');
}

/**
 * Issue 13 "alarms that reach people", end to end on real parts: Vigil posts a P1 gas alarm to a
 * real Alertmanager configured by the generator, which mails it into a local SMTP server and
 * sends it through Vigil's relay to WeCom, DingTalk (signed) and SMS receivers on loopback; the
 * acknowledgement resolves it everywhere; a P3 alarm pages nobody.
 */
describe('notifications: Vigil → Alertmanager → email, WeCom, DingTalk, SMS', () => {
  let dir: string;
  let smtp: SmtpSink;
  let wecom: HttpRecorder;
  let dingtalk: HttpRecorder;
  let sms: HttpRecorder;
  let alertmanager: AlertmanagerHandle;
  let vigil: RunningVigil & { mqttUrl: string };
  let device: MqttClient;
  let ws: WsRecorder;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-notify-'));
    smtp = await startSmtpSink();
    wecom = await startHttpRecorder();
    dingtalk = await startHttpRecorder(request =>
      dingtalkSignatureValid(request)
        ? { status: 200, body: '{"errcode":0,"errmsg":"ok"}' }
        : { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' },
    );
    sms = await startHttpRecorder(() => ({ status: 200, body: '{"ok":true}' }));
    const httpPort = await freePort();
    writeFileSync(join(dir, 'relay-secret'), `${RELAY_SECRET}\n`, { mode: 0o600 });
    // A user with contacts (issue 15), named as the responsible person of an overdue hazard below.
    const usersFile = join(dir, 'users.yaml');
    writeFileSync(
      usersFile,
      stringify({
        users: [
          {
            id: 'zhou',
            name: '周敏 Zhou Min',
            role: 'operator',
            scope: 'ent-huaxin',
            passwordHash: 'scrypt$never-logs-in',
            email: 'zhou@huaxin.test',
            phone: '+8613800000002',
          },
        ],
      }),
    );
    const notifyFile = join(dir, 'notify.yaml');
    writeFileSync(
      notifyFile,
      stringify({
        alertmanager: { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' },
        smtp: {
          smarthost: `${smtp.host}:${smtp.port}`,
          from: 'vigil@plant.test',
          requireTls: false,
        },
        relay: { url: `http://127.0.0.1:${httpPort}`, secretFile: 'relay-secret' },
        people: { email: true },
        receivers: {
          'ent-huaxin': {
            email: ['safety@huaxin.test'],
            wecom: { webhook: `${wecom.url}/cgi-bin/webhook/send?key=wecom-key` },
            dingtalk: {
              webhook: `${dingtalk.url}/robot/send?access_token=robot-token`,
              secret: DINGTALK_SECRET,
              atMobiles: ['13800000000'],
            },
            sms: { webhook: `${sms.url}/send`, to: ['+8613800000000'], token: 'sms-token' },
          },
          'city-demo': { email: ['duty@city.test'] },
        },
      }),
    );
    const organisation = loadRegistry(SAMPLE_REGISTRY).organisation;
    alertmanager = await startAlertmanager(
      alertmanagerConfig(organisation, loadNotifyConfig(notifyFile)),
    );
    vigil = await startSystem({
      env: {
        VIGIL_HTTP_PORT: String(httpPort),
        VIGIL_ALERTMANAGER_URL: alertmanager.url,
        VIGIL_ALERTMANAGER_RESEND_MS: '5000',
        VIGIL_NOTIFY_CONFIG: notifyFile,
        VIGIL_PUBLIC_URL: 'https://vigil.plant.test',
        VIGIL_USERS: usersFile,
        // An overdue hazard goes one level up every 3.6 s here (24 h by default).
        VIGIL_HAZARD_ESCALATE_HOURS: '0.001',
        VIGIL_ALARM_TICK_MS: '200',
      },
    });
    device = await mqttClient(vigil.mqttUrl);
    ws = await WsRecorder.open(vigil.httpUrl);
  });

  afterAll(async () => {
    ws?.close();
    await device?.endAsync();
    await vigil?.stop();
    await alertmanager?.stop();
    await Promise.all([smtp?.stop(), wecom?.stop(), dingtalk?.stop(), sms?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const mentions = (device: string) => (request: RecordedRequest) => request.body.includes(device);

  it('a P3 alarm pages nobody', async () => {
    // Residual current 250 mA: above the 210 mA pre-alarm (P3 warning), below the 300 mA alarm.
    await device.publishAsync(
      'vigil/v1/plant-1/ef-ru-mcc/telemetry',
      telemetry({ leak_ma: 250, temp_c: 30, arc: 0 }),
      { qos: 1 },
    );
    const preAlarm = await waitFor(
      () => ws.alarms().find(m => m.alarm.deviceId === 'ef-ru-mcc' && m.alarm.priority === 3),
      { what: 'the P3 pre-alarm', timeoutMs: 10_000 },
    );
    expect(preAlarm.alarm.state).toBe('active-unacknowledged');
    // Checked again at the end, after the P1 went through the same path.
  });

  it('mails a P1 gas alarm and sends it to WeCom, to DingTalk signed and to the SMS gateway', async () => {
    await device.publishAsync('vigil/v1/plant-1/gc-ru-01/telemetry', telemetry({ lel: 60 }), {
      qos: 1,
    });
    const l2 = await waitFor(
      () => ws.alarms().find(m => m.alarm.deviceId === 'gc-ru-01' && m.alarm.level === 'L2'),
      { what: 'the L2 alarm', timeoutMs: 10_000 },
    );
    expect(l2.alarm.priority).toBe(1);
    const alarmId = l2.alarm.id;

    const mail = await waitFor(
      () =>
        smtp.mails.find(
          m => decodeMail(m.data).includes(alarmId) && m.to.includes('safety@huaxin.test'),
        ),
      { what: 'the alarm mail at the SMTP sink', timeoutMs: 30_000, intervalMs: 200 },
    );
    const text = decodeMail(mail.data);
    expect(mail.from).toBe('vigil@plant.test');
    expect(text).toMatch(/Subject: \[Vigil P1\] 紧急报警 P1/);
    expect(text).toContain('装置区可燃气 1');
    expect(text).toContain('https://vigil.plant.test/#/alarms?alarm=');

    const robot = await waitFor(() => dingtalk.requests.find(r => r.body.includes(alarmId)), {
      what: 'the DingTalk robot message',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(dingtalkSignatureValid(robot)).toBe(true);
    const robotBody = JSON.parse(robot.body) as {
      msgtype: string;
      markdown: { title: string; text: string };
      at: { atMobiles: string[] };
    };
    expect(robotBody.msgtype).toBe('markdown');
    expect(robotBody.markdown.title).toBe('Vigil P1 报警 Alarm');
    expect(robotBody.markdown.text).toContain('60 %LEL');
    expect(robotBody.at.atMobiles).toEqual(['13800000000']);

    const group = await waitFor(() => wecom.requests.find(r => r.body.includes(alarmId)), {
      what: 'the WeCom robot message',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(group.url).toBe('/cgi-bin/webhook/send?key=wecom-key');
    const groupBody = JSON.parse(group.body) as { msgtype: string; markdown: { content: string } };
    expect(groupBody.msgtype).toBe('markdown');
    expect(groupBody.markdown.content).toContain('紧急报警 P1');

    const text1 = await waitFor(() => sms.requests.find(r => r.body.includes(alarmId)), {
      what: 'the SMS gateway request',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(text1.headers['authorization']).toBe('Bearer sms-token');
    expect(JSON.parse(text1.body)).toMatchObject({
      to: ['+8613800000000'],
      status: 'firing',
      alarmIds: [alarmId],
    });
    expect((JSON.parse(text1.body) as { text: string }).text).toMatch(/^\[Vigil\] 紧急报警 P1/);

    // Every DingTalk message carried a valid signature (the robot would have refused it).
    expect(dingtalk.requests.every(dingtalkSignatureValid)).toBe(true);
  });

  it('acknowledging resolves it: the resolved notification arrives by mail and robot', async () => {
    const l2 = ws.alarms().find(m => m.alarm.deviceId === 'gc-ru-01' && m.alarm.level === 'L2');
    const alarmId = l2?.alarm.id as string;
    const zhang = await loginAs(vigil.httpUrl, 'zhang');
    expect(
      (await zhang.post(`/api/v1/alarms/${alarmId}/acknowledge`, { note: 'on it' })).status,
    ).toBe(200);

    await waitFor(
      () =>
        smtp.mails.find(m => {
          const text = decodeMail(m.data);
          return text.includes(alarmId) && text.includes('已恢复 Resolved');
        }),
      { what: 'the resolved mail', timeoutMs: 30_000, intervalMs: 200 },
    );
    const resolved = await waitFor(
      () =>
        dingtalk.requests.find(r => r.body.includes(alarmId) && r.body.includes('已恢复 Resolved')),
      { what: 'the resolved DingTalk message', timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(dingtalkSignatureValid(resolved)).toBe(true);
    await waitFor(
      () => sms.requests.find(r => r.body.includes(alarmId) && r.body.includes('"resolved"')),
      { what: 'the resolved SMS', timeoutMs: 30_000, intervalMs: 200 },
    );
  });

  it('counts what it sent, reports ok on /readyz, and never paged for the P3', async () => {
    const ready = (await (await fetch(`${vigil.httpUrl}/readyz`)).json()) as {
      details: { notify: { status: string; alertmanager: object; relay: object } };
    };
    expect(ready.details.notify).toMatchObject({
      status: 'ok',
      alertmanager: { status: 'ok', pending: 0 },
      relay: { status: 'ok', failing: {} },
    });
    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/vigil_notify_alerts_total\{outcome="sent"\} [1-9]/);
    expect(metrics).toMatch(/vigil_notify_relay_total\{channel="dingtalk",outcome="sent"\} [1-9]/);

    const alerts = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as {
      labels: Record<string, string>;
    }[];
    expect(alerts.some(alert => alert.labels['device'] === 'gc-ru-01')).toBe(true);
    expect(alerts.some(alert => alert.labels['device'] === 'ef-ru-mcc')).toBe(false);
    for (const receiver of [wecom, dingtalk, sms])
      expect(receiver.requests.filter(mentions('ef-ru-mcc'))).toEqual([]);
    expect(smtp.mails.filter(m => decodeMail(m.data).includes('ef-ru-mcc'))).toEqual([]);
  });

  it('escalates an unacknowledged P1 up the tree: the park has no on-call of its own, so the city is mailed', async () => {
    // DEFAULT_ALARM_POLICY: a P1 not acknowledged within 60 s escalates one level (enterprise →
    // park); park-chem has no receivers in this notify.yaml, so its route is the nearest node
    // above with some (city-demo). A real wait: the alarm clock is the wall clock here.
    await device.publishAsync('vigil/v1/plant-1/gc-tf-03/telemetry', telemetry({ lel: 60 }), {
      qos: 1,
    });
    const l2 = await waitFor(
      () => ws.alarms().find(m => m.alarm.deviceId === 'gc-tf-03' && m.alarm.level === 'L2'),
      { what: 'the second P1', timeoutMs: 10_000 },
    );
    const mail = await waitFor(
      () =>
        smtp.mails.find(
          m => m.to.includes('duty@city.test') && decodeMail(m.data).includes(l2.alarm.id),
        ),
      { what: 'the escalation mail to the city', timeoutMs: 100_000, intervalMs: 500 },
    );
    expect(decodeMail(mail.data)).toContain('【升级】');
    // The enterprise was told first and is not let off by the escalation.
    expect(
      smtp.mails.some(
        m => m.to.includes('safety@huaxin.test') && decodeMail(m.data).includes(l2.alarm.id),
      ),
    ).toBe(true);
  }, 120_000);

  it('mails an overdue hazard: the reminder to the enterprise, the escalation up the tree, the responsible person; resolved when rectified', async () => {
    const zhang = await loginAs(vigil.httpUrl, 'zhang');
    const wang = await loginAs(vigil.httpUrl, 'wang');
    const title = '装卸区接地线松动 Loose earthing at the loading bay';
    const created = await zhang.post('/api/v1/hazards', {
      title,
      level: 'general',
      source: 'manual',
      siteId: 'plant-1',
      areaId: 'loading-bay',
    });
    expect(created.status).toBe(201);
    const hazard = (await created.json()) as Hazard;
    const deadline = Date.now() + 1500;
    const assigned = await wang.post(`/api/v1/hazards/${hazard.id}/assign`, {
      assignee: 'zhang',
      plan: {
        responsible: 'zhou',
        measures: '紧固接地线',
        funds: 0,
        deadline,
        contingencyPlan: '静电事故应急预案',
      },
    });
    expect(assigned.status).toBe(200);
    const mailTo = (address: string, ...parts: string[]) =>
      smtp.mails.find(m => {
        const text = decodeMail(m.data);
        return m.to.includes(address) && parts.every(part => text.includes(part));
      });

    const reminder = await waitFor(() => mailTo('safety@huaxin.test', title, '【隐患超期】'), {
      what: 'the reminder mail to the enterprise',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const reminderText = decodeMail(reminder.data);
    expect(reminderText).toMatch(/Subject: \[Vigil 隐患 Hazard\] 【隐患超期】一般隐患 No\. \d+/);
    expect(reminderText).toContain(new Date(deadline).toISOString());
    expect(reminderText).toContain(
      '整改责任人：周敏 Zhou Min (zhou, zhou@huaxin.test, +8613800000002)',
    );
    expect(reminderText).toContain(`https://vigil.plant.test/#/hazards?id=${hazard.id}`);
    // park-chem has no on-call here: the escalation to it reaches the city's.
    const escalation = await waitFor(
      () => mailTo('duty@city.test', title, '【隐患升级】', '已升级至 park-chem'),
      { what: 'the escalation mail (park → city on-call)', timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(decodeMail(escalation.data)).not.toContain('已恢复 Resolved');
    // The responsible person at their own address (users file email, notify.yaml people.email).
    await waitFor(() => mailTo('zhou@huaxin.test', title, '【隐患超期】'), {
      what: 'the reminder mail to the responsible person',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    // One message per step: the reminder reached the enterprise once.
    expect(
      smtp.mails.filter(m => {
        const text = decodeMail(m.data);
        return (
          m.to.includes('safety@huaxin.test') &&
          text.includes(title) &&
          text.includes('【隐患超期】') &&
          !text.includes('已恢复 Resolved')
        );
      }),
    ).toHaveLength(1);

    expect((await zhang.post(`/api/v1/hazards/${hazard.id}/start`, {})).status).toBe(200);
    expect(
      (await zhang.post(`/api/v1/hazards/${hazard.id}/rectify`, { note: '已紧固' })).status,
    ).toBe(200);
    await waitFor(() => mailTo('safety@huaxin.test', title, '已恢复 Resolved', '【隐患超期】'), {
      what: 'the resolved reminder mail',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await waitFor(() => mailTo('duty@city.test', title, '已恢复 Resolved', '【隐患升级】'), {
      what: 'the resolved escalation mail',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  }, 90_000);

  it('refuses a relay request without the shared secret', async () => {
    const response = await fetch(`${vigil.httpUrl}/api/v1/notify/relay/ent-huaxin/dingtalk`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer wrong' },
      body: JSON.stringify({ version: '4', status: 'firing', receiver: 'x', alerts: [] }),
    });
    expect(response.status).toBe(401);
  });
});

/** A notification path that fails must say so: degraded on /readyz, counted, still retrying. */
describe('notifications: Alertmanager unreachable', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let device: MqttClient;

  beforeAll(async () => {
    const deadPort = await freePort();
    vigil = await startSystem({
      env: { VIGIL_ALERTMANAGER_URL: `http://127.0.0.1:${deadPort}`, VIGIL_LOG_LEVEL: 'error' },
    });
    device = await mqttClient(vigil.mqttUrl);
  });

  afterAll(async () => {
    await device?.endAsync();
    await vigil?.stop();
  });

  it('keeps readiness as it was, reports notify degraded with the error, and counts the failures', async () => {
    // Without InfluxDB this Vigil's readiness depends on the storage: notifications must not change it.
    const before = (await fetch(`${vigil.httpUrl}/readyz`)).status;
    await device.publishAsync('vigil/v1/plant-1/gc-ru-01/telemetry', telemetry({ lel: 60 }), {
      qos: 1,
    });
    const ready = await waitFor(
      async () => {
        const response = await fetch(`${vigil.httpUrl}/readyz`);
        const body = (await response.json()) as {
          status: string;
          details: {
            notify: { status: string; alertmanager: { pending: number; lastError?: string } };
          };
        };
        return body.details.notify.status === 'degraded'
          ? { status: response.status, body }
          : undefined;
      },
      { what: 'notify degraded on /readyz', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(ready.status).toBe(before);
    expect(ready.body.details.notify.alertmanager.pending).toBeGreaterThan(0);
    expect(ready.body.details.notify.alertmanager.lastError).toBeTruthy();
    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/vigil_notify_alerts_total\{outcome="failed"\} [1-9]/);
  });
});

/** Split mode: the gateway process notifies from the alarm updates bridged over the broker. */
describe('notifications: gateway in its own process', () => {
  let alertmanager: HttpRecorder;
  let front: RunningVigil & { mqttUrl: string };
  let gateway: RunningVigil & { mqttUrl: string };
  let device: MqttClient;

  const posted = () =>
    alertmanager.requests.flatMap(
      request => JSON.parse(request.body) as { labels: Record<string, string>; endsAt: string }[],
    );

  beforeAll(async () => {
    // Stands in for Alertmanager's API: what the gateway posts is what is asserted.
    alertmanager = await startHttpRecorder(() => ({ status: 200, body: '' }));
    front = await startSystem({ services: 'broker,ingest,rules' });
    gateway = await startSystem({
      services: 'gateway',
      mqttUrl: front.mqttUrl,
      env: {
        VIGIL_ALERTMANAGER_URL: alertmanager.url,
        // A process without the embedded broker logs in with Vigil's internal identity
        // (docs/security.md): the user and the secret the broker's process generated.
        VIGIL_MQTT_USERNAME: 'vigil',
        VIGIL_MQTT_PASSWORD: readFileSync(
          join(front.config.dataDir, 'mqtt-internal.secret'),
          'utf8',
        ).trim(),
      },
    });
    device = await mqttClient(front.mqttUrl);
  });

  afterAll(async () => {
    await device?.endAsync();
    await gateway?.stop();
    await front?.stop();
    await alertmanager?.stop();
  });

  it('posts the P1 from the rules process and resolves it when acknowledged at the gateway', async () => {
    await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 60 }), {
      qos: 1,
    });
    const firing = await waitFor(
      () =>
        posted().find(
          alert => alert.labels['device'] === 'gc-tf-02' && alert.labels['priority'] === 'P1',
        ),
      { what: 'the P1 alert posted by the gateway process', timeoutMs: 15_000, intervalMs: 100 },
    );
    const alarmId = firing.labels['alarm_id'] as string;
    const zhang = await loginAs(gateway.httpUrl, 'zhang');
    expect((await zhang.post(`/api/v1/alarms/${alarmId}/acknowledge`, {})).status).toBe(200);
    await waitFor(
      () =>
        posted().find(
          alert => alert.labels['alarm_id'] === alarmId && Date.parse(alert.endsAt) <= Date.now(),
        ),
      { what: 'the resolved alert', timeoutMs: 15_000, intervalMs: 100 },
    );
  });
});
