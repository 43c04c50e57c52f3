import {
  HAZARD_COMMANDS,
  HAZARD_PLAN_FIELDS,
  type Hazard,
  type HazardAction,
  type HazardActionName,
  type HazardCommandName,
  type HazardPhoto,
  type HazardPhotoStep,
  type HazardPhotoType,
  type HazardPlan,
  type HazardState,
} from '@vigil/contracts';

import type { Role } from './actor';

/**
 * The hazard ledger's lifecycle (隐患闭环, HAZ-01/02): a pure reducer. The caller supplies the
 * time, makes the result durable and only then answers. Every step is signed by its actor and
 * appended to the history; nothing is ever removed from it.
 *
 *   reported ─assign→ assigned ─start→ rectifying ─rectify→ rectified ─accept→ accepted ─close→ closed
 *                                          ↑                    │                    │
 *                                          └──────reject────────┘          (major: approve first)
 */

/** Who acts on a hazard: a user with their organisation node, or Vigil itself (reminders). */
export interface HazardActor {
  readonly id: string;
  readonly role: Role | 'system';
  /** The organisation node the user is scoped to (approval of major hazards looks at it). */
  readonly scope?: string | undefined;
}

export const HAZARD_SYSTEM: HazardActor = { id: 'vigil', role: 'system' };

export interface HazardPolicy {
  /** After the reminder, a hazard still overdue goes one level up the tree this often. */
  readonly escalateEveryMs: number;
  /** Longest history kept on one hazard; a step beyond it is refused, never trimmed. */
  readonly maxHistory: number;
  /** Most photos stored with one hazard; one more is refused (409), never replaces another. */
  readonly maxPhotos: number;
}

export const DEFAULT_HAZARD_POLICY: HazardPolicy = {
  escalateEveryMs: 24 * 3_600_000,
  maxHistory: 500,
  maxPhotos: 20,
};

/** What a report gives: the hazard's own fields, before Vigil numbers, signs and stamps it. */
export type HazardReport = Pick<
  Hazard,
  | 'title'
  | 'description'
  | 'level'
  | 'source'
  | 'alarmId'
  | 'inspection'
  | 'siteId'
  | 'enterprise'
  | 'areaId'
  | 'deviceIds'
  | 'photos'
  | 'plan'
  | 'interimMeasures'
> & { readonly note?: string | undefined };

export type HazardCommand =
  | {
      readonly action: 'assign';
      readonly assignee: string;
      readonly plan?: Partial<HazardPlan> | undefined;
      readonly note?: string | undefined;
    }
  | { readonly action: 'start'; readonly note?: string | undefined }
  | { readonly action: 'interim'; readonly measures: string }
  | { readonly action: 'rectify'; readonly note: string }
  | { readonly action: 'reject'; readonly note: string }
  | { readonly action: 'accept'; readonly note?: string | undefined }
  | { readonly action: 'approve'; readonly note?: string | undefined }
  | { readonly action: 'close'; readonly note?: string | undefined };

export interface HazardContext {
  readonly now: number;
  /** Organisation node ids of the hazard's site, root (city) first, its enterprise last. */
  readonly siteOrgPath: readonly string[];
  readonly policy?: HazardPolicy | undefined;
  /**
   * An approval carried down from an upper Vigil (issue 15): the upper checked that its user is
   * scoped above the enterprise (a node of its own tree, not of this one), so the scope check is
   * not made again here; the step records the order's id. Never set from a user's request.
   */
  readonly fromUpper?: { readonly orderId: string } | undefined;
}

export type HazardRefusal = {
  readonly ok: false;
  readonly status: 400 | 403 | 404 | 409 | 422;
  readonly message: string;
};
export type HazardResult =
  { readonly ok: true; readonly hazard: Hazard; readonly action: HazardAction } | HazardRefusal;

function refuse(status: HazardRefusal['status'], message: string): HazardRefusal {
  return { ok: false, status, message };
}

const supervises = (actor: HazardActor) =>
  actor.role === 'supervisor' || actor.role === 'admin' || actor.role === 'system';

function step(
  hazard: Hazard,
  changes: Partial<Hazard>,
  name: HazardActionName,
  actor: HazardActor,
  now: number,
  note?: string,
  extra: Partial<HazardAction> = {},
): HazardResult {
  const state = changes.state ?? hazard.state;
  const action: HazardAction = {
    action: name,
    at: now,
    by: actor.id,
    role: actor.role,
    state,
    ...(note === undefined || note === '' ? {} : { note }),
    ...extra,
  };
  return {
    ok: true,
    hazard: { ...hazard, ...changes, updatedAt: now, history: [...hazard.history, action] },
    action,
  };
}

/** The five fields still missing from a plan (五落实, HAZ-05). */
export function missingPlanFields(plan: Partial<HazardPlan>): (keyof HazardPlan)[] {
  return HAZARD_PLAN_FIELDS.filter(field => {
    const value = plan[field];
    if (typeof value === 'string') return value.trim() === '';
    if (typeof value === 'number') return !Number.isFinite(value) || value < 0;
    return true;
  });
}

/** A new hazard, signed by the reporter. Anyone who sees the site may report. */
export function reportHazard(
  report: HazardReport,
  actor: HazardActor,
  at: { readonly now: number; readonly id: string; readonly no: number },
): HazardResult {
  if (!report.title.trim()) return refuse(400, 'a hazard needs a title');
  if (report.source === 'alarm' && !report.alarmId)
    return refuse(400, 'a hazard from an alarm names the alarm');
  const state: HazardState = 'reported';
  const action: HazardAction = {
    action: 'report',
    at: at.now,
    by: actor.id,
    role: actor.role,
    state,
    ...(report.note ? { note: report.note } : {}),
  };
  const hazard: Hazard = {
    id: at.id,
    no: at.no,
    title: report.title.trim(),
    description: report.description,
    level: report.level,
    state,
    source: report.source,
    ...(report.alarmId ? { alarmId: report.alarmId } : {}),
    ...(report.inspection ? { inspection: { ...report.inspection } } : {}),
    siteId: report.siteId,
    enterprise: report.enterprise,
    ...(report.areaId ? { areaId: report.areaId } : {}),
    deviceIds: [...report.deviceIds],
    photos: [...report.photos],
    plan: { ...report.plan },
    ...(report.interimMeasures ? { interimMeasures: report.interimMeasures } : {}),
    reportedBy: actor.id,
    reportedAt: at.now,
    updatedAt: at.now,
    history: [action],
  };
  return { ok: true, hazard, action };
}

/** Applies a user's step; refusals say why (status as the HTTP API answers it). */
export function applyHazardCommand(
  hazard: Hazard | undefined,
  command: HazardCommand,
  actor: HazardActor,
  context: HazardContext,
): HazardResult {
  if (!hazard) return refuse(404, 'no hazard with this id');
  const { now } = context;
  const policy = context.policy ?? DEFAULT_HAZARD_POLICY;
  if (hazard.state === 'closed')
    return refuse(409, 'the hazard is closed (销号): nothing more to do');
  if (hazard.history.length >= policy.maxHistory)
    return refuse(409, `the hazard's history is full (${policy.maxHistory} steps)`);
  const isAssignee = hazard.assignee !== undefined && hazard.assignee === actor.id;
  switch (command.action) {
    case 'assign': {
      if (!supervises(actor)) return refuse(403, 'only a supervisor or an admin assigns a hazard');
      if (
        hazard.state !== 'reported' &&
        hazard.state !== 'assigned' &&
        hazard.state !== 'rectifying'
      )
        return refuse(409, `the hazard is ${hazard.state}: it is no longer assigned`);
      if (!command.assignee.trim()) return refuse(400, 'assign to whom?');
      const plan: Partial<HazardPlan> = { ...hazard.plan, ...definedOnly(command.plan ?? {}) };
      const missing = missingPlanFields(plan);
      if (missing.length > 0)
        return refuse(
          422,
          `the five fields (五落实) are incomplete: ${missing.join(', ')} missing`,
        );
      const newDeadline =
        command.plan?.deadline !== undefined && command.plan.deadline !== hazard.plan.deadline;
      if ((hazard.state === 'reported' || newDeadline) && (plan.deadline ?? 0) <= now)
        return refuse(422, 'plan.deadline: the deadline must be in the future');
      const changes: Partial<Hazard> = {
        plan,
        assignee: command.assignee.trim(),
        state: hazard.state === 'reported' ? 'assigned' : hazard.state,
        // A new deadline starts the reminders again; `overdue` stays: it was late once (HAZ-04).
        ...(newDeadline ? { remindedAt: undefined, escalation: undefined } : {}),
      };
      return step(
        hazard,
        changes,
        'assign',
        actor,
        now,
        command.note ?? `to ${command.assignee.trim()}`,
      );
    }
    case 'start':
      if (hazard.state !== 'assigned')
        return refuse(409, `the hazard is ${hazard.state}: only an assigned hazard is started`);
      if (!isAssignee && !supervises(actor))
        return refuse(403, `assigned to ${hazard.assignee}: only they or a supervisor start it`);
      return step(hazard, { state: 'rectifying' }, 'start', actor, now, command.note);
    case 'interim':
      if (hazard.state === 'rectified' || hazard.state === 'accepted')
        return refuse(409, `the hazard is ${hazard.state}: interim measures are past`);
      if (!command.measures.trim()) return refuse(400, 'interim measures need text');
      return step(
        hazard,
        { interimMeasures: command.measures.trim() },
        'interim',
        actor,
        now,
        command.measures.trim(),
      );
    case 'rectify':
      if (hazard.state !== 'rectifying')
        return refuse(409, `the hazard is ${hazard.state}: only work in progress is signed done`);
      if (!isAssignee && !supervises(actor))
        return refuse(
          403,
          `assigned to ${hazard.assignee}: only they or a supervisor sign it done`,
        );
      if (!command.note.trim()) return refuse(400, 'say what was done');
      return step(
        hazard,
        { state: 'rectified', rectifiedBy: actor.id },
        'rectify',
        actor,
        now,
        command.note,
      );
    case 'reject':
      if (hazard.state !== 'rectified')
        return refuse(409, `the hazard is ${hazard.state}: only rectified work is re-checked`);
      if (!supervises(actor)) return refuse(403, 'only a supervisor or an admin re-checks');
      if (actor.id === hazard.rectifiedBy)
        return refuse(403, 'the rectifier does not re-check their own work');
      if (!command.note.trim()) return refuse(400, 'say why the work is not accepted');
      return step(
        hazard,
        { state: 'rectifying', rectifiedBy: undefined },
        'reject',
        actor,
        now,
        command.note,
      );
    case 'accept':
      if (hazard.state !== 'rectified')
        return refuse(409, `the hazard is ${hazard.state}: only rectified work is accepted`);
      if (!supervises(actor)) return refuse(403, 'only a supervisor or an admin accepts');
      if (actor.id === hazard.rectifiedBy)
        return refuse(403, 'acceptance is by someone other than the rectifier (HAZ-19)');
      return step(
        hazard,
        { state: 'accepted', acceptedBy: actor.id },
        'accept',
        actor,
        now,
        command.note,
      );
    case 'approve': {
      if (hazard.level !== 'major') return refuse(409, 'only a major hazard needs approval');
      if (hazard.state !== 'accepted')
        return refuse(409, `the hazard is ${hazard.state}: approval comes after acceptance`);
      if (hazard.approvedBy) return refuse(409, `already approved by ${hazard.approvedBy}`);
      if (!supervises(actor)) return refuse(403, 'only a supervisor or an admin approves');
      if (context.fromUpper)
        return step(hazard, { approvedBy: actor.id }, 'approve', actor, now, command.note, {
          upperOrder: context.fromUpper.orderId,
        });
      if (!aboveEnterprise(actor, hazard, context.siteOrgPath))
        return refuse(
          403,
          'a major hazard is approved above its enterprise (park, county or city)',
        );
      return step(hazard, { approvedBy: actor.id }, 'approve', actor, now, command.note);
    }
    case 'close':
      if (hazard.state !== 'accepted')
        return refuse(409, `the hazard is ${hazard.state}: only an accepted hazard is closed`);
      if (!supervises(actor)) return refuse(403, 'only a supervisor or an admin closes a hazard');
      if (hazard.level === 'major' && !hazard.approvedBy)
        return refuse(409, 'a major hazard is closed only after approval above its enterprise');
      return step(
        hazard,
        { state: 'closed', closedBy: actor.id, closedAt: now },
        'close',
        actor,
        now,
        command.note,
      );
  }
}

/** A photo about to be attached: what the upload was found to be (the file is stored already). */
export interface HazardPhotoFile {
  readonly sha256: string;
  readonly type: HazardPhotoType;
  readonly bytes: number;
  readonly step: HazardPhotoStep;
}

export type HazardPhotoResult =
  | HazardResult
  /** The same bytes are already on this hazard: nothing to add (an upload retried). */
  | { readonly ok: true; readonly duplicate: HazardPhoto; readonly hazard: Hazard };

/**
 * Attaches a stored photo as a signed `photo` step. Anyone in scope documents the hazard as found
 * (`report`) while it is open; evidence of the rectification (`rectify`) comes from the assignee or
 * a supervisor while the work is in progress or signed done (before acceptance). The same SHA-256
 * twice on one hazard is one photo (`duplicate`, no step); more than `maxPhotos` is refused.
 * The caller checks first (with the photo not yet stored) and again once it is.
 */
export function attachHazardPhoto(
  hazard: Hazard | undefined,
  file: HazardPhotoFile,
  actor: HazardActor,
  context: Pick<HazardContext, 'now' | 'policy'>,
): HazardPhotoResult {
  if (!hazard) return refuse(404, 'no hazard with this id');
  const policy = context.policy ?? DEFAULT_HAZARD_POLICY;
  const photos = hazard.photoFiles ?? [];
  const same = photos.find(photo => photo.sha256 === file.sha256);
  if (same) return { ok: true, duplicate: same, hazard };
  if (hazard.state === 'closed')
    return refuse(409, 'the hazard is closed (销号): its record takes no more photos');
  if (photos.length >= policy.maxPhotos)
    return refuse(
      409,
      `the hazard already holds ${photos.length} photos (at most ${policy.maxPhotos})`,
    );
  if (hazard.history.length >= policy.maxHistory)
    return refuse(409, `the hazard's history is full (${policy.maxHistory} steps)`);
  if (file.step === 'rectify') {
    if (hazard.state !== 'rectifying' && hazard.state !== 'rectified')
      return refuse(
        409,
        `the hazard is ${hazard.state}: rectification photos belong to work in progress or signed done`,
      );
    const isAssignee = hazard.assignee !== undefined && hazard.assignee === actor.id;
    if (!isAssignee && !supervises(actor))
      return refuse(
        403,
        `assigned to ${hazard.assignee}: only they or a supervisor document the rectification`,
      );
  }
  const photo: HazardPhoto = { ...file, at: context.now, by: actor.id };
  return step(hazard, { photoFiles: [...photos, photo] }, 'photo', actor, context.now, undefined, {
    photo: { sha256: file.sha256, type: file.type, bytes: file.bytes, step: file.step },
  });
}

/** The actor's node is on the site's path, strictly above the enterprise. */
function aboveEnterprise(actor: HazardActor, hazard: Hazard, siteOrgPath: readonly string[]) {
  if (actor.scope === undefined) return false;
  const enterpriseAt = siteOrgPath.indexOf(hazard.enterprise);
  const actorAt = siteOrgPath.indexOf(actor.scope);
  return actorAt >= 0 && enterpriseAt >= 0 && actorAt < enterpriseAt;
}

function definedOnly(plan: Partial<HazardPlan>): Partial<HazardPlan> {
  return Object.fromEntries(
    Object.entries(plan).filter(([, value]) => value !== undefined),
  ) as Partial<HazardPlan>;
}

/**
 * Vigil's own step due at `now` (HAZ-04 整改不及时,系统有警示; HAZ-07 督促提醒): past the deadline
 * and not yet signed done, a reminder to the responsible person; still overdue `escalateEveryMs`
 * later, one level up `escalationPath` (node ids from the enterprise up to the root), and again
 * at each interval until the root. At most one step per call.
 */
export function dueHazardTransition(
  hazard: Hazard,
  now: number,
  escalationPath: readonly string[],
  policy: HazardPolicy = DEFAULT_HAZARD_POLICY,
): HazardResult | undefined {
  if (hazard.state !== 'assigned' && hazard.state !== 'rectifying') return undefined;
  const deadline = hazard.plan.deadline;
  if (deadline === undefined || now <= deadline) return undefined;
  if (hazard.history.length >= policy.maxHistory) return undefined;
  if (hazard.remindedAt === undefined) {
    return step(
      hazard,
      { overdue: true, remindedAt: now },
      'remind',
      HAZARD_SYSTEM,
      now,
      `deadline ${new Date(deadline).toISOString()} passed: reminder to ${hazard.plan.responsible ?? hazard.assignee ?? 'the responsible person'}`,
      escalationPath[0] === undefined ? {} : { nodeId: escalationPath[0] },
    );
  }
  const level = hazard.escalation?.level ?? 0;
  const nodeId = escalationPath[level + 1];
  if (nodeId === undefined) return undefined;
  const since = hazard.escalation?.at ?? hazard.remindedAt;
  if (now < since + policy.escalateEveryMs) return undefined;
  return step(
    hazard,
    { escalation: { level: level + 1, nodeId, at: now } },
    'escalate',
    HAZARD_SYSTEM,
    now,
    `overdue since ${new Date(deadline).toISOString()}: escalated to ${nodeId}`,
    { nodeId },
  );
}

/**
 * The steps `actor` may take on `hazard` now: those the lifecycle would not refuse for the role,
 * the person or the state (403/409). Asked of the reducer itself, so the console offers exactly
 * what the server accepts; a step that only lacks input (400/422) is offered.
 */
export function allowedHazardCommands(
  hazard: Hazard,
  actor: HazardActor,
  context: HazardContext,
): HazardCommandName[] {
  const plan: HazardPlan = {
    responsible: 'r',
    measures: 'm',
    funds: 0,
    deadline: context.now + 1,
    contingencyPlan: 'p',
  };
  const probes: Record<HazardCommandName, HazardCommand> = {
    assign: { action: 'assign', assignee: actor.id, plan },
    start: { action: 'start' },
    interim: { action: 'interim', measures: 'm' },
    rectify: { action: 'rectify', note: 'n' },
    reject: { action: 'reject', note: 'n' },
    accept: { action: 'accept' },
    approve: { action: 'approve' },
    close: { action: 'close' },
  };
  return HAZARD_COMMANDS.filter(name => {
    const result = applyHazardCommand(hazard, probes[name], actor, context);
    return result.ok || (result.status !== 403 && result.status !== 409);
  });
}
