import { createHmac } from 'node:crypto';

import { z } from 'zod';

/** Alertmanager's webhook body (version 4), the parts the relay reads. */
export const alertmanagerWebhookSchema = z.object({
  version: z.string(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string(), z.string()),
        annotations: z.record(z.string(), z.string()).default({}),
        startsAt: z.string(),
        endsAt: z.string().optional(),
      }),
    )
    .min(1),
});
export type AlertmanagerWebhook = z.infer<typeof alertmanagerWebhookSchema>;

/** WeCom robots take markdown up to 4096 bytes; DingTalk up to 20,000; SMS as short as possible. */
const WECOM_MAX_BYTES = 4096;

function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let cut = text;
  while (Buffer.byteLength(cut) > max - 3) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return `${cut}…`;
}

function heading(alert: AlertmanagerWebhook['alerts'][number]): string {
  const priority = alert.labels['priority'] ?? '';
  return alert.status === 'resolved' ? `已恢复 Resolved ${priority}` : `${priority} 报警 Alarm`;
}

function markdownLines(webhook: AlertmanagerWebhook): string[] {
  const lines: string[] = [];
  for (const alert of webhook.alerts) {
    const a = alert.annotations;
    lines.push(`### ${heading(alert)}`);
    if (a['summary_zh']) lines.push(`${a['summary_zh']}`);
    if (a['summary_en']) lines.push(`${a['summary_en']}`);
    const facts = [
      ['站点 Site', alert.labels['site']],
      ['设备 Device', alert.labels['device']],
      ['数值 Value', a['value']],
      ['编号 Alarm', alert.labels['alarm_id']],
    ].filter((fact): fact is [string, string] => Boolean(fact[1]));
    for (const [name, value] of facts) lines.push(`> ${name}: ${value}`);
    if (a['console_url']) lines.push(`[打开控制台 Open console](${a['console_url']})`);
    lines.push('');
  }
  return lines;
}

/** The WeCom (企业微信) group robot markdown message. */
export function wecomMessage(webhook: AlertmanagerWebhook): object {
  return {
    msgtype: 'markdown',
    markdown: { content: truncateBytes(markdownLines(webhook).join('\n'), WECOM_MAX_BYTES) },
  };
}

/** The DingTalk (钉钉) custom robot markdown message, @-mentioning the on-call mobiles. */
export function dingtalkMessage(webhook: AlertmanagerWebhook, atMobiles: readonly string[] = []) {
  const first = webhook.alerts[0] as AlertmanagerWebhook['alerts'][number];
  const mention = atMobiles.map(mobile => `@${mobile}`).join(' ');
  return {
    msgtype: 'markdown',
    markdown: {
      title: `Vigil ${heading(first)}`,
      text: [...markdownLines(webhook), mention].join('\n').trim(),
    },
    at: { atMobiles: [...atMobiles], isAtAll: false },
  };
}

/**
 * DingTalk 加签: sign = urlencode(base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`))), with
 * the timestamp in milliseconds; DingTalk refuses a timestamp more than an hour off.
 */
export function dingtalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

export function signedDingtalkUrl(webhook: string, secret: string, timestamp: number): string {
  const url = new URL(webhook);
  url.searchParams.set('timestamp', String(timestamp));
  url.searchParams.set('sign', dingtalkSign(secret, timestamp));
  return url.toString();
}

/**
 * The SMS gateway body Vigil sends (documented in docs/interfaces.md): one short text per
 * notification, plain text, the Chinese summary first.
 */
export function smsMessage(webhook: AlertmanagerWebhook, to: readonly string[]) {
  const texts = webhook.alerts.map(alert => {
    const prefix = alert.status === 'resolved' ? '【已恢复】' : '';
    return `${prefix}${alert.annotations['summary_zh'] ?? alert.labels['alarm_id'] ?? ''}`;
  });
  return {
    to: [...to],
    text: `[Vigil] ${texts.join('；')}`.slice(0, 500),
    status: webhook.status,
    alarmIds: webhook.alerts.map(alert => alert.labels['alarm_id']).filter(Boolean),
  };
}
