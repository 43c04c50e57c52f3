import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { parse } from 'yaml';
import { z } from 'zod';

/**
 * `notify.yaml`: who is told about P1/P2 alarms, per organisation node. One file feeds both the
 * Alertmanager configuration generator (routes, email receivers) and Vigil's webhook relay (the
 * robot and SMS targets with their secrets, which never leave Vigil).
 */
const duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as 10s, 5m or 4h');
const httpUrl = z.url({ protocol: /^https?$/ });

export const notifyConfigSchema = z
  .object({
    /** Alertmanager routing timings (see docs/notifications.md for the trade-offs). */
    alertmanager: z
      .object({
        groupWait: duration.default('10s'),
        groupInterval: duration.default('1m'),
        repeatInterval: duration.default('4h'),
        resolveTimeout: duration.default('5m'),
      })
      .strict()
      .prefault({}),
    smtp: z
      .object({
        /** host:port of the mail relay Alertmanager hands mail to. */
        smarthost: z.string().regex(/^[^\s:]+:\d+$/, 'host:port'),
        from: z.email(),
        hello: z.string().min(1).optional(),
        requireTls: z.boolean().default(true),
        authUsername: z.string().min(1).optional(),
        authPasswordFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    relay: z
      .object({
        /** How Alertmanager reaches Vigil's gateway (its relay endpoint). */
        url: httpUrl,
        /** A file holding the shared secret (at least 32 characters), read by Vigil and Alertmanager. */
        secretFile: z.string().min(1),
      })
      .strict()
      .optional(),
    /**
     * Also tell the people an alert names (responsible person, rectifier, guarantors) at their own
     * address (users file `email`, alert label `people_email`), besides their node's on-call.
     */
    people: z
      .object({ email: z.boolean().default(false) })
      .strict()
      .optional(),
    /** The node whose receivers get an alert no node route matches (defaults to the tree's root). */
    default: z.string().min(1).optional(),
    receivers: z.record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an organisation node id'),
      z
        .object({
          email: z.array(z.email()).min(1).optional(),
          wecom: z.object({ webhook: httpUrl }).strict().optional(),
          dingtalk: z
            .object({
              webhook: httpUrl,
              /** The robot's 加签 secret (SEC…): every message is signed with it. */
              secret: z.string().min(1),
              atMobiles: z.array(z.string().min(1)).optional(),
            })
            .strict()
            .optional(),
          sms: z
            .object({
              webhook: httpUrl,
              to: z.array(z.string().min(1)).min(1),
              /** Sent as `Authorization: Bearer …` when set. */
              token: z.string().min(1).optional(),
            })
            .strict()
            .optional(),
        })
        .strict(),
    ),
  })
  .strict();

export type NotifyConfig = z.infer<typeof notifyConfigSchema>;
export type NodeReceivers = NotifyConfig['receivers'][string];
export const RELAY_CHANNELS = ['wecom', 'dingtalk', 'sms'] as const;
export type RelayChannel = (typeof RELAY_CHANNELS)[number];

export class NotifyConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Notification configuration is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'NotifyConfigError';
  }
}

/** Validates a parsed notify.yaml, listing every problem. */
export function parseNotifyConfig(content: unknown, source = 'notify.yaml'): NotifyConfig {
  const parsed = notifyConfigSchema.safeParse(content);
  if (!parsed.success) {
    throw new NotifyConfigError(
      parsed.error.issues.map(
        issue => `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    );
  }
  const problems: string[] = [];
  for (const [node, receivers] of Object.entries(parsed.data.receivers)) {
    if (!receivers.email && !receivers.wecom && !receivers.dingtalk && !receivers.sms)
      problems.push(`${source}: receivers.${node}: names no email, wecom, dingtalk or sms`);
    if (receivers.email && !parsed.data.smtp)
      problems.push(`${source}: receivers.${node}.email: needs the smtp section`);
    if ((receivers.wecom || receivers.dingtalk || receivers.sms) && !parsed.data.relay)
      problems.push(`${source}: receivers.${node}: robots and SMS need the relay section`);
  }
  if (problems.length > 0) throw new NotifyConfigError(problems);
  return parsed.data;
}

/** Reads notify.yaml; relative `secretFile`/`authPasswordFile` paths are relative to it. */
export function loadNotifyConfig(path: string): NotifyConfig {
  let content: unknown;
  try {
    content = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new NotifyConfigError([`${path}: ${(error as Error).message}`]);
  }
  const config = parseNotifyConfig(content, path);
  const base = dirname(resolve(path));
  return {
    ...config,
    ...(config.relay
      ? { relay: { ...config.relay, secretFile: resolve(base, config.relay.secretFile) } }
      : {}),
    ...(config.smtp?.authPasswordFile
      ? { smtp: { ...config.smtp, authPasswordFile: resolve(base, config.smtp.authPasswordFile) } }
      : {}),
  };
}

/** The relay's shared secret, refused when short (it guards paging people). */
export function readRelaySecret(file: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new NotifyConfigError([`relay.secretFile: ${(error as Error).message}`]);
  }
  if (secret.length < 32)
    throw new NotifyConfigError([`relay.secretFile ${file}: at least 32 characters`]);
  return secret;
}
