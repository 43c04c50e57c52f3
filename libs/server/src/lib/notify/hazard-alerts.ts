import { GUARANTOR_TIER_NAMES_ZH, type Hazard } from '@vigil/contracts';
import { guarantorsOf, sourcesOf, type Registry } from '@vigil/registry';

import {
  peopleLabels,
  type AlertContext,
  type ContactLookup,
  type PersonContact,
  type PostableAlert,
} from './alerts';

/** The alert name of hazard notices (the alarm alerts keep `VigilAlarm`). */
export const HAZARD_ALERT_NAME = 'VigilHazard';

export interface HazardAlertContext extends AlertContext {
  readonly contactOf: ContactLookup;
}

/**
 * One notice Vigil owes about a hazard: the reminder to the enterprise, each escalation to the
 * node it reached, or a major hazard's wait for approval above the enterprise. `active` while it
 * still applies; otherwise it is what Alertmanager must be told is resolved.
 */
export interface HazardNotice {
  /** `remind`, `escalate-<level>` or `approve`: with the hazard id, the alert's identity. */
  readonly step: string;
  readonly nodeId: string;
  readonly at: number;
  readonly active: boolean;
}

/**
 * The notices of a hazard's current episode (HAZ-04 reminders, HAZ-07 escalation, HAZ-14
 * approval), read from its signed history so that they survive a restart exactly as journaled:
 * the last `remind` and the `escalate` steps after it, each to the node it names. They are active
 * while the hazard is still being rectified and still reminded (a new deadline clears
 * `remindedAt`, and with it the notices, until the new deadline passes in turn). A major hazard
 * accepted and not yet approved waits on the node above its enterprise.
 */
export function hazardNotices(hazard: Hazard, registry: Registry): HazardNotice[] {
  const notices: HazardNotice[] = [];
  let reminder = -1;
  for (let index = hazard.history.length - 1; index >= 0; index -= 1) {
    if (hazard.history[index]?.action === 'remind') {
      reminder = index;
      break;
    }
  }
  if (reminder >= 0) {
    const overdue =
      (hazard.state === 'assigned' || hazard.state === 'rectifying') &&
      hazard.remindedAt !== undefined;
    let level = 0;
    for (const action of hazard.history.slice(reminder)) {
      if (action.action === 'remind')
        notices.push({
          step: 'remind',
          nodeId: action.nodeId ?? hazard.enterprise,
          at: action.at,
          active: overdue,
        });
      else if (action.action === 'escalate' && action.nodeId !== undefined) {
        level += 1;
        notices.push({
          step: `escalate-${level}`,
          nodeId: action.nodeId,
          at: action.at,
          active: overdue,
        });
      }
    }
  }
  if (hazard.level === 'major') {
    const accepted = hazard.history.findLast(action => action.action === 'accept');
    const above = registry
      .orgPath(hazard.enterprise)
      .map(node => node.id)
      .reverse()[1];
    if (accepted && above !== undefined)
      notices.push({
        step: 'approve',
        nodeId: above,
        at: accepted.at,
        active: hazard.state === 'accepted' && hazard.approvedBy === undefined,
      });
  }
  return notices;
}

/** `王强 Wang Qiang (wang, wang@x.example, +86138…)`, or the text itself when it is no user. */
function describe(who: string, contact: PersonContact | undefined): string {
  if (!contact) return who;
  const reach = [contact.email, contact.phone].filter(Boolean);
  return `${contact.name} (${[who, ...reach].join(', ')})`;
}

/** The guarantors of the sources a hazard is at: the line for the message and their user ids. */
export function hazardGuarantors(
  registry: Registry,
  hazard: Hazard,
  contactOf: ContactLookup,
): { readonly line: string; readonly userIds: string[] } {
  const userIds: string[] = [];
  const line = sourcesOf(registry, hazard)
    .map(unit => ({ unit, guarantors: guarantorsOf(unit) }))
    .filter(({ guarantors }) => guarantors.length > 0)
    .map(({ unit, guarantors }) => {
      for (const each of guarantors) userIds.push(each.userId);
      return (
        `${unit.name} (${unit.id}): ` +
        guarantors
          .map(
            each =>
              `${GUARANTOR_TIER_NAMES_ZH[each.tier]} ${describe(each.userId, contactOf(each.userId))}`,
          )
          .join(', ')
      );
    })
    .join('; ');
  return { line, userIds: [...new Set(userIds)] };
}

/** The outbox key of a hazard alert: its identity (labels) with the hazard and step first. */
export function hazardAlertKey(hazardId: string, step: string, labels: object): string {
  return `hazard/${hazardId}/${step}/${JSON.stringify(labels)}`;
}

export interface HazardAlert {
  readonly key: string;
  readonly alert: PostableAlert;
  readonly active: boolean;
}

/**
 * One alert per notice of the hazard (`hazardNotices`), for the node it reached: labels name the
 * hazard, the step and the node (notify.yaml routes on `notify_node`, like an alarm's), and the
 * contacts of the people it names; the zh/en summaries give the hazard, its deadline, the
 * responsible person and the guarantors of the major hazard sources it is at. Active ones end at
 * `endsAt` unless posted again; the others are to be resolved.
 */
export function hazardAlertsFor(
  hazard: Hazard,
  context: HazardAlertContext,
  endsAt: number,
): HazardAlert[] {
  const notices = hazardNotices(hazard, context.registry);
  if (notices.length === 0) return [];
  const registry = context.registry;
  const path = registry
    .orgPath(hazard.enterprise)
    .map(node => node.id)
    .reverse();
  const orgPath = [...path].reverse().join('/') || hazard.enterprise;
  const site = registry.site(hazard.siteId);
  const area = hazard.areaId ? registry.area(hazard.siteId, hazard.areaId) : undefined;
  const where = [site?.name ?? hazard.siteId, area?.name].filter(Boolean).join(' · ');
  const link = `${context.consoleUrl.replace(/\/$/, '')}/#/hazards?id=${encodeURIComponent(hazard.id)}`;
  const deadline =
    hazard.plan.deadline === undefined ? '' : new Date(hazard.plan.deadline).toISOString();
  const responsibleId = hazard.plan.responsible ?? hazard.assignee ?? '';
  const responsibleContact = context.contactOf(responsibleId);
  const responsible = responsibleId ? describe(responsibleId, responsibleContact) : '';
  const assigneeContact =
    hazard.assignee !== undefined && hazard.assignee !== responsibleId
      ? context.contactOf(hazard.assignee)
      : undefined;
  const assignee =
    hazard.assignee !== undefined && hazard.assignee !== responsibleId
      ? describe(hazard.assignee, assigneeContact)
      : '';
  const guarantors = hazardGuarantors(registry, hazard, context.contactOf);
  const people = peopleLabels([
    responsibleContact,
    assigneeContact,
    ...guarantors.userIds.map(id => context.contactOf(id)),
  ]);
  const levelZh = hazard.level === 'major' ? '重大事故隐患' : '一般隐患';
  const levelEn = hazard.level === 'major' ? 'major hazard' : 'hazard';
  const title = `No. ${hazard.no} "${hazard.title}" (${where})`;
  return notices.map(notice => {
    const labels: Record<string, string> = {
      alertname: HAZARD_ALERT_NAME,
      hazard_id: hazard.id,
      hazard_step: notice.step,
      notify_node: notice.nodeId,
      org_path: orgPath,
      enterprise: hazard.enterprise,
      site: hazard.siteId,
      hazard_level: hazard.level,
      severity: hazard.level === 'major' ? 'major' : 'warning',
      ...(hazard.areaId ? { area: hazard.areaId } : {}),
      ...people,
    };
    let zh: string;
    let en: string;
    if (notice.step === 'approve') {
      zh = `【待审批】${levelZh} ${title} 已验收，待 ${notice.nodeId} 审批后销号`;
      en = `[Approval] ${levelEn} ${title} accepted, waiting for approval by ${notice.nodeId} before close-out`;
    } else if (notice.step === 'remind') {
      zh = `【隐患超期】${levelZh} ${title} 整改期限 ${deadline} 已过，请立即整改`;
      en = `[Overdue] ${levelEn} ${title}: rectification deadline ${deadline} passed`;
    } else {
      zh = `【隐患升级】${levelZh} ${title} 整改期限 ${deadline} 已过仍未整改，已升级至 ${notice.nodeId}`;
      en = `[Escalated] ${levelEn} ${title}: still not rectified after the deadline ${deadline}, escalated to ${notice.nodeId}`;
    }
    if (responsible) {
      zh += `；整改责任人：${responsible}`;
      en += `; responsible: ${responsible}`;
    }
    if (assignee) {
      zh += `；整改人：${assignee}`;
      en += `; rectifier: ${assignee}`;
    }
    if (guarantors.line) {
      zh += `；包保责任人：${guarantors.line}`;
      en += `; guarantors: ${guarantors.line}`;
    }
    return {
      key: hazardAlertKey(hazard.id, notice.step, labels),
      active: notice.active,
      alert: {
        labels,
        annotations: {
          summary_zh: zh,
          summary_en: en,
          title: hazard.title,
          hazard_no: String(hazard.no),
          state: hazard.state,
          ...(deadline ? { deadline } : {}),
          ...(responsible ? { responsible } : {}),
          ...(assignee ? { assignee } : {}),
          ...(guarantors.line ? { guarantors: guarantors.line } : {}),
          step_at: new Date(notice.at).toISOString(),
          console_url: link,
        },
        startsAt: new Date(notice.at).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
        generatorURL: link,
      },
    };
  });
}
