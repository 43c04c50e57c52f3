import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HttpException, NotFoundException } from '@nestjs/common';
import { stringify } from 'yaml';

import { startHttpRecorder, type HttpRecorder } from '@vigil/testing';

import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { NotifyConfigError } from './notify-config';
import { NotifyRelay } from './relay.controller';
import { alertmanagerWebhookSchema } from './relay-messages';

const SECRET = 'a-relay-secret-of-at-least-32-characters';
const webhook = alertmanagerWebhookSchema.parse({
  version: '4',
  status: 'firing',
  receiver: 'vigil-ent-huaxin',
  alerts: [
    {
      status: 'firing',
      labels: { alarm_id: 'alarm-1', priority: 'P1' },
      annotations: { summary_zh: '紧急报警 P1' },
      startsAt: '2026-12-07T02:00:00Z',
    },
  ],
});

describe('NotifyRelay', () => {
  let dir: string;
  let robot: HttpRecorder;
  let answer = '{"errcode":0,"errmsg":"ok"}';
  let metrics: VigilMetrics;

  function relayWith(notify: object, secret = SECRET): NotifyRelay {
    writeFileSync(join(dir, 'secret'), secret);
    writeFileSync(join(dir, 'notify.yaml'), stringify(notify));
    return new NotifyRelay(loadConfig({ VIGIL_NOTIFY_CONFIG: join(dir, 'notify.yaml') }), metrics);
  }
  const notify = () => ({
    relay: { url: 'http://127.0.0.1:8080', secretFile: 'secret' },
    receivers: {
      'ent-huaxin': {
        dingtalk: { webhook: `${robot.url}/robot/send?access_token=t`, secret: 'SECx' },
      },
    },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-relay-'));
    robot = await startHttpRecorder(() => ({ status: 200, body: answer }));
  });
  beforeEach(() => (metrics = new VigilMetrics()));
  afterAll(async () => {
    await robot.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts only the shared secret', () => {
    const relay = relayWith(notify());
    expect(relay.authorised(`Bearer ${SECRET}`)).toBe(true);
    expect(relay.authorised('Bearer wrong')).toBe(false);
    expect(relay.authorised(SECRET)).toBe(false);
    expect(relay.authorised(undefined)).toBe(false);
  });

  it('refuses a short secret at start', () => {
    expect(() => relayWith(notify(), 'short')).toThrow(NotifyConfigError);
  });

  it('answers 502 (Alertmanager retries) when the robot refuses, counts it, degraded until it delivers', async () => {
    const relay = relayWith(notify());
    answer = '{"errcode":310000,"errmsg":"sign not match"}';
    const failure = await relay.relay('ent-huaxin', 'dingtalk', webhook).catch(e => e);
    expect(failure).toBeInstanceOf(HttpException);
    expect((failure as HttpException).getStatus()).toBe(502);
    expect(relay.health()).toMatchObject({
      status: 'degraded',
      failing: { 'ent-huaxin/dingtalk': { error: 'errcode 310000 sign not match' } },
    });
    answer = '{"errcode":0,"errmsg":"ok"}';
    await relay.relay('ent-huaxin', 'dingtalk', webhook);
    expect(relay.health()).toMatchObject({ status: 'ok', failing: {} });
    const text = await metrics.registry.getSingleMetricAsString('vigil_notify_relay_total');
    expect(text).toContain('vigil_notify_relay_total{channel="dingtalk",outcome="failed"} 1');
    expect(text).toContain('vigil_notify_relay_total{channel="dingtalk",outcome="sent"} 1');
  });

  it('answers 404 for a node or channel notify.yaml does not name', async () => {
    const relay = relayWith(notify());
    await expect(relay.relay('park-chem', 'dingtalk', webhook)).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(relay.relay('ent-huaxin', 'wecom', webhook)).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });
});
