import {
  CONFINED_SPACE_OXYGEN_ENRICHED_MAX,
  CONFINED_SPACE_OXYGEN_MAX,
  CONFINED_SPACE_OXYGEN_MIN,
  PERMIT_GAS_CHECK_MAX_AGE_MS,
  PERMIT_MAX_LEL_CEILING,
  describePermitLimit,
  withinPermitLimits,
  type Permit,
  type PermitAction,
  type PermitActionName,
  type PermitGasCheck,
  type PermitGasReading,
  type PermitKind,
  type PermitLimits,
  type PermitMetric,
  type PermitRuleView,
  type PermitState,
} from '@vigil/contracts';

import type { HazardActor } from './hazard-lifecycle';

/**
 * Special-operation permits (特殊作业, GB 30871-2022): a pure reducer, like the hazard ledger's.
 * The caller supplies the time and the area's latest gas readings, makes the result durable and
 * only then answers. Every step is signed and appended to the history.
 *
 *   requested ─approve→ approved ─start (gas check passed)→ active ─suspend→ suspended
 *       │                  │                                  │  ↑              │
 *       └──────────────────┴──────────close──────────────────┘  └───resume─────┘ (gas check passed)
 */

export type PermitActor = HazardActor;
export const PERMIT_SYSTEM: PermitActor = { id: 'vigil', role: 'system' };

/** What a request gives: the permit's own fields, before Vigil numbers, signs and stamps it. */
export type PermitRequest = Pick<
  Permit,
  | 'kind'
  | 'title'
  | 'siteId'
  | 'enterprise'
  | 'areaId'
  | 'from'
  | 'to'
  | 'workers'
  | 'guardian'
  | 'limits'
> & { readonly note?: string | undefined };

/** One gas reading of the area, as the rule engine last received it. */
export type AreaGasReading = Pick<PermitGasReading, 'deviceId' | 'metric' | 'value' | 'at'>;

export type PermitCommand =
  | { readonly action: 'approve'; readonly note?: string | undefined }
  | { readonly action: 'start'; readonly note?: string | undefined }
  | { readonly action: 'suspend'; readonly note: string; readonly alarmKey?: string | undefined }
  | { readonly action: 'resume'; readonly note?: string | undefined }
  | { readonly action: 'close'; readonly note?: string | undefined };
export type PermitCommandName = PermitCommand['action'];
export const PERMIT_COMMANDS = [
  'approve',
  'start',
  'suspend',
  'resume',
  'close',
] as const satisfies readonly PermitCommandName[];

export interface PermitContext {
  readonly now: number;
  /** The area's latest gas readings (start and resume check them); none → refused. */
  readonly gasReadings: readonly AreaGasReading[];
  readonly maxHistory?: number | undefined;
}

export type PermitRefusal = {
  readonly ok: false;
  readonly status: 400 | 403 | 404 | 409 | 422;
  readonly message: string;
  /** A start or resume refused for its gas analysis: what the analysis saw. */
  readonly gasCheck?: PermitGasCheck | undefined;
};
export type PermitResult =
  { readonly ok: true; readonly permit: Permit; readonly action: PermitAction } | PermitRefusal;

const MAX_HISTORY = 500;
/** A work window longer than this is refused (one shift's work, renewed by a new permit; P). */
export const PERMIT_MAX_WINDOW_MS = 24 * 3_600_000;
/** Named workers per permit (a bound, not a standard's figure; P). */
export const PERMIT_MAX_WORKERS = 50;

function refuse(status: PermitRefusal['status'], message: string): PermitRefusal {
  return { ok: false, status, message };
}

const supervises = (actor: PermitActor) =>
  actor.role === 'supervisor' || actor.role === 'admin' || actor.role === 'system';

/** The limits a permit of `kind` carries: the request's, with the reference's defaults. */
export function permitLimits(
  kind: PermitKind,
  limits: PermitLimits,
): { readonly limits: PermitLimits; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const resolved: PermitLimits =
    kind === 'confined-space'
      ? {
          ...limits,
          oxygenMin: limits.oxygenMin ?? CONFINED_SPACE_OXYGEN_MIN,
          oxygenMax: limits.oxygenMax ?? CONFINED_SPACE_OXYGEN_MAX,
        }
      : { ...limits };
  if (kind === 'hot-work' && resolved.maxLel === undefined)
    problems.push('limits.maxLel: a hot-work permit names its combustible-gas limit (%LEL)');
  if (resolved.maxLel !== undefined && !(resolved.maxLel >= 0))
    problems.push('limits.maxLel: must be ≥ 0');
  if (resolved.maxLel !== undefined && resolved.maxLel > PERMIT_MAX_LEL_CEILING)
    problems.push(
      `limits.maxLel: at most ${PERMIT_MAX_LEL_CEILING} %LEL, the first-level gas alarm ceiling (GB/T 50493-2019 §5.5.2-1)`,
    );
  if (resolved.maxToxicPpm !== undefined && !(resolved.maxToxicPpm >= 0))
    problems.push('limits.maxToxicPpm: must be ≥ 0');
  if (kind === 'confined-space') {
    if ((resolved.oxygenMin ?? 0) < CONFINED_SPACE_OXYGEN_MIN)
      problems.push(
        `limits.oxygenMin: at least ${CONFINED_SPACE_OXYGEN_MIN} %VOL in a confined space (GB 30871)`,
      );
    if ((resolved.oxygenMax ?? Infinity) > CONFINED_SPACE_OXYGEN_ENRICHED_MAX)
      problems.push(
        `limits.oxygenMax: at most ${CONFINED_SPACE_OXYGEN_ENRICHED_MAX} %VOL in a confined space (GB 30871)`,
      );
  }
  if (
    resolved.oxygenMin !== undefined &&
    resolved.oxygenMax !== undefined &&
    resolved.oxygenMin > resolved.oxygenMax
  )
    problems.push('limits: oxygenMin is above oxygenMax');
  return { limits: resolved, problems };
}

/**
 * The gas analysis of a start or resume, from the area's latest readings. It passes when every
 * fresh reading with a limit is within it, no reading of a limited metric is stale, and each
 * limited metric has at least one fresh reading (hot work: combustible; confined space: oxygen,
 * and every other limit given). No reading at all never passes: fail closed.
 */
export function checkPermitGas(
  limits: PermitLimits,
  readings: readonly AreaGasReading[],
  now: number,
  maxAgeMs = PERMIT_GAS_CHECK_MAX_AGE_MS,
): PermitGasCheck {
  const problems: string[] = [];
  const seen = new Set<PermitMetric>();
  const checked: PermitGasReading[] = [];
  for (const reading of readings) {
    const within = withinPermitLimits(limits, reading.metric, reading.value);
    const stale = now - reading.at > maxAgeMs;
    checked.push({
      ...reading,
      ...(within === undefined ? {} : { within }),
      ...(stale ? { stale } : {}),
    });
    if (within === undefined) continue;
    if (stale) {
      problems.push(
        `${reading.deviceId}: last ${reading.metric} reading is older than ${maxAgeMs / 60_000} min`,
      );
      continue;
    }
    seen.add(reading.metric);
    if (!within)
      problems.push(
        `${reading.deviceId}: ${reading.metric} ${reading.value} outside the permit's ${describePermitLimit(limits, reading.metric)}`,
      );
  }
  const limited: PermitMetric[] = [];
  if (limits.maxLel !== undefined) limited.push('lel');
  if (limits.maxToxicPpm !== undefined) limited.push('ppm');
  if (limits.oxygenMin !== undefined || limits.oxygenMax !== undefined) limited.push('o2');
  for (const metric of limited)
    if (!seen.has(metric))
      problems.push(`no fresh ${metric} reading in the area: the analysis cannot pass without one`);
  return { at: now, passed: problems.length === 0, readings: checked, problems };
}

function step(
  permit: Permit,
  changes: Partial<Permit>,
  name: PermitActionName,
  actor: PermitActor,
  now: number,
  note?: string,
  extra: Partial<PermitAction> = {},
): PermitResult {
  const state: PermitState = changes.state ?? permit.state;
  const action: PermitAction = {
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
    permit: { ...permit, ...changes, updatedAt: now, history: [...permit.history, action] },
    action,
  };
}

/** A new permit, signed by the requester. */
export function requestPermit(
  request: PermitRequest,
  actor: PermitActor,
  at: { readonly now: number; readonly id: string; readonly no: number },
): PermitResult {
  if (!request.title.trim()) return refuse(400, 'a permit needs a title');
  if (!(request.to > request.from)) return refuse(422, 'the window ends before it starts');
  if (request.to <= at.now) return refuse(422, 'the window is already over');
  if (request.to - request.from > PERMIT_MAX_WINDOW_MS)
    return refuse(422, `the window is longer than ${PERMIT_MAX_WINDOW_MS / 3_600_000} h`);
  const workers = [...new Set(request.workers.map(worker => worker.trim()))].filter(Boolean);
  if (workers.length === 0) return refuse(422, 'workers: a permit names its workers');
  if (workers.length > PERMIT_MAX_WORKERS)
    return refuse(422, `workers: at most ${PERMIT_MAX_WORKERS}`);
  if (!request.guardian.trim())
    return refuse(422, 'guardian: a permit names its guardian (监护人)');
  const { limits, problems } = permitLimits(request.kind, request.limits);
  if (problems.length > 0) return refuse(422, problems.join('; '));
  const action: PermitAction = {
    action: 'request',
    at: at.now,
    by: actor.id,
    role: actor.role,
    state: 'requested',
    ...(request.note ? { note: request.note } : {}),
  };
  const permit: Permit = {
    id: at.id,
    no: at.no,
    kind: request.kind,
    title: request.title.trim(),
    siteId: request.siteId,
    enterprise: request.enterprise,
    areaId: request.areaId,
    from: request.from,
    to: request.to,
    workers,
    guardian: request.guardian.trim(),
    limits,
    state: 'requested',
    requestedBy: actor.id,
    requestedAt: at.now,
    updatedAt: at.now,
    history: [action],
  };
  return { ok: true, permit, action };
}

/** Applies a step; refusals say why (status as the HTTP API answers it). */
export function applyPermitCommand(
  permit: Permit | undefined,
  command: PermitCommand,
  actor: PermitActor,
  context: PermitContext,
): PermitResult {
  if (!permit) return refuse(404, 'no permit with this id');
  const { now } = context;
  if (permit.state === 'closed') return refuse(409, 'the permit is closed');
  if (permit.history.length >= (context.maxHistory ?? MAX_HISTORY))
    return refuse(409, "the permit's history is full");
  switch (command.action) {
    case 'approve':
      if (permit.state !== 'requested')
        return refuse(409, `the permit is ${permit.state}: only a requested permit is approved`);
      if (!supervises(actor)) return refuse(403, 'only a supervisor or an admin approves a permit');
      if (actor.id === permit.requestedBy)
        return refuse(403, 'a permit is approved by someone other than its requester');
      return step(
        permit,
        { state: 'approved', approvedBy: actor.id },
        'approve',
        actor,
        now,
        command.note,
      );
    case 'start':
    case 'resume': {
      const from = command.action === 'start' ? 'approved' : 'suspended';
      if (permit.state !== from)
        return refuse(
          409,
          `the permit is ${permit.state}: only an ${from} permit is ${command.action === 'start' ? 'started' : 'resumed'}`,
        );
      if (command.action === 'resume' && !supervises(actor))
        return refuse(403, 'only a supervisor or an admin resumes stopped work');
      if (now < permit.from)
        return refuse(409, `the window opens at ${new Date(permit.from).toISOString()}`);
      if (now >= permit.to)
        return refuse(409, `the window closed at ${new Date(permit.to).toISOString()}`);
      const gasCheck = checkPermitGas(permit.limits, context.gasReadings, now);
      if (!gasCheck.passed)
        return {
          ok: false,
          status: 409,
          message: `gas analysis failed: ${gasCheck.problems.join('; ')}`,
          gasCheck,
        };
      return step(
        permit,
        {
          state: 'active',
          lastGasCheck: gasCheck,
          ...(command.action === 'start' ? { startedAt: now } : {}),
        },
        command.action,
        actor,
        now,
        command.note,
        { gasCheck },
      );
    }
    case 'suspend':
      if (permit.state !== 'active')
        return refuse(409, `the permit is ${permit.state}: only active work is stopped`);
      if (!command.note.trim()) return refuse(400, 'say why the work stops');
      return step(
        permit,
        { state: 'suspended' },
        'suspend',
        actor,
        now,
        command.note,
        command.alarmKey ? { alarmKey: command.alarmKey } : {},
      );
    case 'close':
      if (!supervises(actor) && actor.id !== permit.requestedBy)
        return refuse(403, 'only the requester, a supervisor or an admin closes a permit');
      return step(permit, { state: 'closed', closedAt: now }, 'close', actor, now, command.note);
  }
}

/** The permits the rule engine looks at now: active or suspended, their window open. */
export function permitRuleViews(permits: Iterable<Permit>): PermitRuleView[] {
  const views: PermitRuleView[] = [];
  for (const permit of permits) {
    if (permit.state !== 'active' && permit.state !== 'suspended') continue;
    views.push({
      id: permit.id,
      no: permit.no,
      kind: permit.kind,
      siteId: permit.siteId,
      areaId: permit.areaId,
      from: permit.from,
      to: permit.to,
      workers: permit.workers,
      limits: permit.limits,
      state: permit.state,
    });
  }
  return views;
}

/** The steps `actor` may take now (as for hazards: the reducer is asked, 403/409 left out). */
export function allowedPermitCommands(
  permit: Permit,
  actor: PermitActor,
  now: number,
): PermitCommandName[] {
  const probes: Record<PermitCommandName, PermitCommand> = {
    approve: { action: 'approve' },
    start: { action: 'start' },
    suspend: { action: 'suspend', note: 'n' },
    resume: { action: 'resume' },
    close: { action: 'close' },
  };
  return PERMIT_COMMANDS.filter(name => {
    const result = applyPermitCommand(permit, probes[name], actor, { now, gasReadings: [] });
    // A start refused only for its gas analysis is offered: the analysis is checked on the server.
    return (
      result.ok || result.gasCheck !== undefined || (result.status !== 403 && result.status !== 409)
    );
  });
}
