import { stringify } from 'yaml';

import type { OrgNode } from '@vigil/registry';

import { ALERT_NAME } from './alerts';
import { HAZARD_ALERT_NAME } from './hazard-alerts';
import { NotifyConfigError, RELAY_CHANNELS, type NotifyConfig } from './notify-config';

/** The path of the relay endpoint for one node's robot or SMS target. */
export function relayPath(node: string, channel: string): string {
  return `/api/v1/notify/relay/${encodeURIComponent(node)}/${channel}`;
}

/** The receiver that mails the people an alert names (notify.yaml `people.email`). */
export const PEOPLE_RECEIVER = 'vigil-people';

/** The mail subject: an alarm's priority, or 隐患 Hazard for the ledger's notices. */
const EMAIL_SUBJECT =
  '[Vigil {{ or .CommonLabels.priority "隐患 Hazard" }}]{{ if eq .Status "resolved" }} 已恢复 Resolved:{{ end }} ' +
  '{{ .CommonAnnotations.summary_zh }}';

export function receiverName(node: string): string {
  return `vigil-${node}`;
}

/**
 * The node whose receivers are told about alerts for `node`: the node itself when notify.yaml
 * names receivers for it, else its nearest ancestor that does (an escalation reaching a node
 * without on-call goes further up rather than nowhere).
 */
export function onCallNode(
  node: string,
  byId: ReadonlyMap<string, OrgNode>,
  config: NotifyConfig,
): string | undefined {
  const seen = new Set<string>();
  for (let cursor = byId.get(node); cursor && !seen.has(cursor.id);) {
    if (config.receivers[cursor.id]) return cursor.id;
    seen.add(cursor.id);
    cursor = cursor.parent ? byId.get(cursor.parent) : undefined;
  }
  return undefined;
}

/**
 * Writes an `alertmanager.yml` from the organisation tree and notify.yaml: one route per node
 * (matching the `notify_node` label Vigil sets on each alert; an escalation posts one more alert
 * for the next node up), one receiver per node with on-call, `send_resolved` everywhere so that
 * acknowledge and clear are announced. Deterministic: same input, same bytes. Throws listing
 * every problem (a node nobody would be told about, a receiver for an unknown node).
 */
export function alertmanagerConfig(organisation: readonly OrgNode[], config: NotifyConfig): string {
  const byId = new Map(organisation.map(node => [node.id, node]));
  const problems: string[] = [];
  for (const node of Object.keys(config.receivers)) {
    if (!byId.has(node)) problems.push(`receivers.${node}: not a node of the organisation tree`);
  }
  const routes: object[] = [];
  for (const node of organisation) {
    const onCall = onCallNode(node.id, byId, config);
    if (!onCall) {
      problems.push(
        `organisation node ${node.id}: no receivers for it or any node above it (alarms there would reach nobody)`,
      );
      continue;
    }
    routes.push({ matchers: [`notify_node="${node.id}"`], receiver: receiverName(onCall) });
  }
  const root = organisation.find(node => !node.parent);
  const defaultNode = config.default ?? (root ? onCallNode(root.id, byId, config) : undefined);
  if (config.default && !config.receivers[config.default])
    problems.push(`default: "${config.default}" has no receivers`);
  if (!defaultNode) problems.push('default: no receiver for alerts no node route matches');
  if (config.people?.email && !config.smtp)
    problems.push('people.email: mailing people needs smtp (the mail relay)');
  if (problems.length > 0) throw new NotifyConfigError(problems);

  const timing = config.alertmanager;
  const global: Record<string, unknown> = { resolve_timeout: timing.resolveTimeout };
  if (config.smtp) {
    global['smtp_smarthost'] = config.smtp.smarthost;
    global['smtp_from'] = config.smtp.from;
    global['smtp_require_tls'] = config.smtp.requireTls;
    if (config.smtp.hello) global['smtp_hello'] = config.smtp.hello;
    if (config.smtp.authUsername) global['smtp_auth_username'] = config.smtp.authUsername;
    if (config.smtp.authPasswordFile)
      global['smtp_auth_password_file'] = config.smtp.authPasswordFile;
  }
  const receivers = Object.keys(config.receivers)
    .sort()
    .map(node => {
      const entry = config.receivers[node] as NotifyConfig['receivers'][string];
      const receiver: Record<string, unknown> = { name: receiverName(node) };
      if (entry.email) {
        receiver['email_configs'] = [
          {
            to: entry.email.join(', '),
            send_resolved: true,
            headers: { Subject: EMAIL_SUBJECT },
          },
        ];
      }
      const hooks = RELAY_CHANNELS.filter(channel => entry[channel]).map(channel => ({
        url: `${(config.relay as { url: string }).url.replace(/\/$/, '')}${relayPath(node, channel)}`,
        send_resolved: true,
        http_config: {
          authorization: {
            type: 'Bearer',
            credentials_file: (config.relay as { secretFile: string }).secretFile,
          },
        },
      }));
      if (hooks.length > 0) receiver['webhook_configs'] = hooks;
      return receiver;
    });
  const vigilAlerts = `alertname=~"${ALERT_NAME}|${HAZARD_ALERT_NAME}"`;
  const peopleRoutes: object[] = [];
  if (config.people?.email) {
    receivers.push({
      name: PEOPLE_RECEIVER,
      email_configs: [
        {
          to: '{{ .CommonLabels.people_email }}',
          send_resolved: true,
          headers: { Subject: EMAIL_SUBJECT },
        },
      ],
    });
    // First, and `continue`: the people are told besides their node's on-call, never instead.
    peopleRoutes.push({
      matchers: [vigilAlerts, 'people_email=~".+"'],
      receiver: PEOPLE_RECEIVER,
      // One message per alarm (not per node it reached) and per hazard step.
      group_by: ['alarm_id', 'hazard_id', 'hazard_step'],
      continue: true,
    });
  }
  const document = {
    global,
    route: {
      receiver: receiverName(defaultNode as string),
      // One notification per alarm and node: a page names one alarm, never a digest of many.
      // Hazard notices: one per hazard and node, i.e. per step (hazard_id is empty on alarms).
      group_by: ['alarm_id', 'hazard_id', 'notify_node'],
      group_wait: timing.groupWait,
      group_interval: timing.groupInterval,
      repeat_interval: timing.repeatInterval,
      routes: [
        ...peopleRoutes,
        {
          matchers: [vigilAlerts],
          receiver: receiverName(defaultNode as string),
          routes,
        },
      ],
    },
    receivers,
  };
  return (
    '# Generated by `npm run notify -- alertmanager-config` from the registry and notify.yaml.\n' +
    '# Do not edit: change notify.yaml or the organisation tree and generate again.\n' +
    stringify(document, { lineWidth: 0 })
  );
}
