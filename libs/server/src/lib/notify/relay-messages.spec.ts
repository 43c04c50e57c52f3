import { execFileSync } from 'node:child_process';

import {
  alertmanagerWebhookSchema,
  dingtalkMessage,
  dingtalkSign,
  signedDingtalkUrl,
  smsMessage,
  wecomMessage,
  type AlertmanagerWebhook,
} from './relay-messages';

const webhook: AlertmanagerWebhook = alertmanagerWebhookSchema.parse({
  version: '4',
  status: 'firing',
  receiver: 'vigil-ent-huaxin',
  groupLabels: {},
  alerts: [
    {
      status: 'firing',
      labels: { alarm_id: 'alarm-1', priority: 'P1', site: 'plant-1', device: 'gc-ru-01' },
      annotations: {
        summary_zh: '紧急报警 P1：华新化工一厂 · 装置区可燃气 1 L2 60 %LEL',
        summary_en: 'P1 alarm at plant-1: Combustible gas 60 %LEL ≥ L2 set-point 50 %LEL',
        value: '60 %LEL',
        console_url: 'https://vigil.example/#/alarms?alarm=alarm-1',
      },
      startsAt: '2026-12-07T02:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
    },
  ],
});

function first(): AlertmanagerWebhook['alerts'][number] {
  const [alert] = webhook.alerts;
  if (!alert) throw new Error('no alert');
  return alert;
}

describe('DingTalk signing', () => {
  it('is HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64 (checked with openssl)', () => {
    const secret = 'SEC0123456789abcdef';
    const timestamp = 1_765_072_800_000;
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret, '-binary'], {
      input: `${timestamp}\n${secret}`,
    }).toString('base64');
    expect(dingtalkSign(secret, timestamp)).toBe(expected);
    const url = new URL(
      signedDingtalkUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', secret, timestamp),
    );
    expect(url.searchParams.get('access_token')).toBe('abc');
    expect(url.searchParams.get('timestamp')).toBe(String(timestamp));
    expect(url.searchParams.get('sign')).toBe(expected);
    // URL-encoded in the query: base64's + / = never appear raw.
    expect(url.search.split('sign=')[1]).not.toMatch(/[+/=]/);
  });
});

describe('robot and SMS messages', () => {
  it('WeCom: a markdown message with both languages, the value and the console link', () => {
    const message = wecomMessage(webhook) as { msgtype: string; markdown: { content: string } };
    expect(message.msgtype).toBe('markdown');
    expect(message.markdown.content).toContain('紧急报警 P1');
    expect(message.markdown.content).toContain('Combustible gas 60 %LEL');
    expect(message.markdown.content).toContain('60 %LEL');
    expect(message.markdown.content).toContain('(https://vigil.example/#/alarms?alarm=alarm-1)');
  });

  it('WeCom: stays within the robot limit of 4096 bytes', () => {
    const many = { ...webhook, alerts: Array.from({ length: 60 }, () => first()) };
    const message = wecomMessage(many) as { markdown: { content: string } };
    expect(Buffer.byteLength(message.markdown.content)).toBeLessThanOrEqual(4096);
  });

  it('DingTalk: markdown with a title, mentioning the on-call mobiles', () => {
    const message = dingtalkMessage(webhook, ['13800000000']);
    expect(message.markdown.title).toBe('Vigil P1 报警 Alarm');
    expect(message.markdown.text).toContain('@13800000000');
    expect(message.at).toEqual({ atMobiles: ['13800000000'], isAtAll: false });
  });

  it('says resolved when Alertmanager resolves', () => {
    const done = {
      ...webhook,
      status: 'resolved' as const,
      alerts: [{ ...first(), status: 'resolved' as const }],
    };
    expect(dingtalkMessage(done).markdown.title).toContain('已恢复 Resolved');
    expect(smsMessage(done, ['+86138']).text).toContain('【已恢复】');
  });

  it('SMS: recipients, a short text led by the Chinese summary, the alarm ids', () => {
    expect(smsMessage(webhook, ['+8613800000000'])).toEqual({
      to: ['+8613800000000'],
      text: '[Vigil] 紧急报警 P1：华新化工一厂 · 装置区可燃气 1 L2 60 %LEL',
      status: 'firing',
      alarmIds: ['alarm-1'],
    });
  });
});
