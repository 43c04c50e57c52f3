import { formatDuration } from '../util/duration';
import {
  MAIN_TARGET,
  OPERATOR_ACTIONS,
  type ActionExpect,
  type AlarmAction,
  type HazardAction,
  type OperatorActionKind,
  type PermitAction,
  type ScenarioUser,
  type ShiftAction,
  type UplinkRead,
} from './operator-steps';
import type { Scenario, ScenarioStep } from './scenario-schema';

/** A Vigil instance operator steps act on: `main`, or a scenario target such as `city`. */
export interface ActionTarget {
  /** Its gateway, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
}

export type ActionStatus = 'ok' | 'failed' | 'skipped';

/** One operator step as it went, in the run report. */
export interface ActionResult {
  /** Index in the scenario's `steps`. */
  readonly step: number;
  readonly atMs: number;
  readonly target: string;
  readonly as: string;
  /** `hazard assign leakHazard`, `alarm dispose gc-tf-01 gas-l2`, … */
  readonly what: string;
  readonly status: ActionStatus;
  /** When it ended, ms after the scenario's start. */
  readonly doneAtMs: number | null;
  readonly attempts: number;
  readonly detail: string;
}

/** One answer of the API: status and body. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const RETRY_MS = 250;
const DEFAULT_WITHIN_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/** `${name.path.to.field}` in a string, from the answers saved so far. */
const SUBSTITUTION = /\$\{([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_-]+)*)\}/g;

function lookup(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Replaces `${saved.path}` in every string of a value; an unknown name or path throws. */
export function substitute(value: unknown, saved: ReadonlyMap<string, unknown>): unknown {
  if (typeof value === 'string') {
    return value.replace(SUBSTITUTION, (whole, name: string, path: string) => {
      if (!saved.has(name)) throw new Error(`${whole}: nothing saved as ${name}`);
      const found = lookup(saved.get(name), path.split('.').filter(Boolean));
      if (found === undefined || (typeof found === 'object' && found !== null))
        throw new Error(`${whole}: ${name} has no scalar at ${path || '(root)'}`);
      return String(found);
    });
  }
  if (Array.isArray(value)) return value.map(item => substitute(item, saved));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, saved)]),
    );
  }
  return value;
}

const isOperator = (pattern: unknown, name: string): pattern is Record<string, unknown> =>
  pattern !== null &&
  typeof pattern === 'object' &&
  !Array.isArray(pattern) &&
  Object.keys(pattern).length === 1 &&
  name in pattern;

/**
 * Where `actual` does not match `pattern` (`undefined`: it matches). Objects: each key of the
 * pattern matches (others ignored); arrays: the pattern's items match items of the answer in
 * order (others between ignored); `{contains}` a substring or an array item; `{atLeast}` a number
 * ≥ (a list of strings: a string holding each); anything else: equal. Pure.
 */
export function mismatch(actual: unknown, pattern: unknown, path = ''): string | undefined {
  const at = path || '(root)';
  if (isOperator(pattern, 'contains')) {
    const wanted = pattern['contains'];
    if (typeof actual === 'string' && typeof wanted === 'string')
      return actual.includes(wanted)
        ? undefined
        : `${at}: ${JSON.stringify(actual)} does not contain ${JSON.stringify(wanted)}`;
    if (typeof actual === 'string' && Array.isArray(wanted)) {
      const absent = wanted.filter(part => !actual.includes(String(part)));
      return absent.length === 0
        ? undefined
        : `${at}: ${JSON.stringify(actual)} does not contain ${JSON.stringify(absent)}`;
    }
    if (Array.isArray(actual))
      return actual.some(item => mismatch(item, wanted) === undefined)
        ? undefined
        : `${at}: no item matches ${JSON.stringify(wanted)}`;
    return `${at}: ${JSON.stringify(actual)} is neither a string nor an array`;
  }
  if (isOperator(pattern, 'atLeast')) {
    const wanted = pattern['atLeast'];
    return typeof actual === 'number' && typeof wanted === 'number' && actual >= wanted
      ? undefined
      : `${at}: ${JSON.stringify(actual)} is not at least ${JSON.stringify(wanted)}`;
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual)) return `${at}: ${JSON.stringify(actual)} is not an array`;
    let from = 0;
    for (const [index, item] of pattern.entries()) {
      let found = -1;
      for (let i = from; i < actual.length; i += 1) {
        if (mismatch(actual[i], item) === undefined) {
          found = i;
          break;
        }
      }
      if (found < 0)
        return `${at}[${index}]: no item ${from ? `after #${from - 1} ` : ''}matches ${JSON.stringify(item)}`;
      from = found + 1;
    }
    return undefined;
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return `${at}: ${JSON.stringify(actual)} is not an object`;
    for (const [key, item] of Object.entries(pattern)) {
      const problem = mismatch(
        (actual as Record<string, unknown>)[key],
        item,
        path ? `${path}.${key}` : key,
      );
      if (problem) return problem;
    }
    return undefined;
  }
  return actual === pattern
    ? undefined
    : `${at}: ${JSON.stringify(actual)}, expected ${JSON.stringify(pattern)}`;
}

/** The kind of operator step a scenario step is, or `undefined` for a device step. */
export function operatorKind(step: ScenarioStep): OperatorActionKind | undefined {
  return OPERATOR_ACTIONS.find(kind => step[kind] !== undefined);
}

/** How a step is shown in the report: `hazard assign leakHazard`. */
export function describeAction(step: ScenarioStep): string {
  if (step.alarm) {
    const a = step.alarm;
    const which = a.ref ?? a.key ?? [a.device, a.rule, a.level].filter(Boolean).join(' ');
    return `alarm ${a.do ?? 'read'} ${which}${a.disposition ? ` (${a.disposition})` : ''}`;
  }
  if (step.hazard) {
    const h = step.hazard;
    return `hazard ${h.do ?? 'read'} ${h.id ?? h.title ?? ''}${h.assignee ? ` → ${h.assignee}` : ''}`;
  }
  if (step.permit) {
    const p = step.permit;
    return `permit ${p.do ?? 'read'} ${p.id ?? `${p.kind} ${p.area}`}${p.workers ? ` (${p.workers.join(', ')})` : ''}`;
  }
  if (step.shift) {
    const s = step.shift;
    return `shift ${s.do ?? 'read'} ${s.id ?? s.room ?? ''}${s.incoming ? ` → ${s.incoming.lead}` : ''}`;
  }
  if (step.uplink) {
    const u = step.uplink;
    const which = u.alarm
      ? ` alarm ${u.alarm}`
      : u.hazard
        ? ` hazard ${u.hazard}`
        : u.realtime
          ? ` realtime ${u.realtime}`
          : '';
    return `uplink read ${u.enterprise}${which}`;
  }
  return 'device step';
}

interface Request {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  /** Narrows a 200 answer to the part the step means (`uplink`); 404 when it is not there yet. */
  readonly select?: (body: unknown) => Answer;
}

export interface OperatorRunnerOptions {
  readonly scenario: Scenario;
  /** `main` and every name in the scenario's `targets`. */
  readonly targets: ReadonlyMap<string, ActionTarget>;
  /**
   * Targets deliberately left out of this run (`--without city`: a site without an upper Vigil):
   * their steps are reported `skipped`, said so, and nothing is asked of them.
   */
  readonly without?: readonly string[];
  /**
   * Called with each step's result as it ends, and awaited before the next step: a test's hook
   * into the story (the uplink system test cuts the link to the city there).
   */
  readonly onAction?: (result: ActionResult) => void | Promise<void>;
  /** Epoch ms the scenario started (offsets `at` count from it). */
  readonly startedAt: number;
  /** Reads `passwordEnv`; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log?: (line: string) => void;
}

/** The targets a scenario needs that the runner was not given (a ScenarioError for the caller). */
export function missingTargets(
  scenario: Scenario,
  targets: ReadonlyMap<string, ActionTarget>,
  without: readonly string[] = [],
): string[] {
  const unknown = without
    .filter(name => !scenario.targets.includes(name))
    .map(
      name =>
        `--without ${name}: not a target of ${scenario.name} (${scenario.targets.join(', ') || 'none'})`,
    );
  return [MAIN_TARGET, ...scenario.targets]
    .filter(name => !targets.has(name) && !without.includes(name))
    .map(name => `target ${name}: no URL given (--target ${name}=http://…)`)
    .concat(unknown);
}

/**
 * Plays a scenario's operator steps in their order, each not before its `at`, as its user on its
 * target through the HTTP API, until its expectation holds or `within` passes; a step that fails
 * stops the story (the rest are `skipped`: they build on what failed).
 */
export class OperatorRunner {
  private readonly saved = new Map<string, unknown>();
  private readonly tokens = new Map<string, string>();
  readonly results: ActionResult[] = [];

  constructor(private readonly options: OperatorRunnerOptions) {}

  /** The steps this runner plays. */
  static stepsOf(scenario: Scenario): { step: ScenarioStep; index: number }[] {
    return scenario.steps
      .map((step, index) => ({ step, index }))
      .filter(({ step }) => operatorKind(step) !== undefined);
  }

  async run(): Promise<readonly ActionResult[]> {
    const { scenario, startedAt } = this.options;
    let failed = false;
    for (const { step, index } of OperatorRunner.stepsOf(scenario)) {
      const base = {
        step: index,
        atMs: step.at,
        target: step.target ?? MAIN_TARGET,
        as: step.as ?? '',
        what: this.describe(step),
      };
      if (this.options.without?.includes(base.target)) {
        this.results.push({
          ...base,
          status: 'skipped',
          doneAtMs: null,
          attempts: 0,
          detail: `target ${base.target} left out (--without ${base.target})`,
        });
        continue;
      }
      if (failed) {
        this.results.push({
          ...base,
          status: 'skipped',
          doneAtMs: null,
          attempts: 0,
          detail: 'an earlier step failed',
        });
        continue;
      }
      const wait = startedAt + step.at - Date.now();
      if (wait > 0) await sleep(wait);
      const result = await this.play(step, base);
      this.results.push(result);
      this.options.log?.(`${result.status} ${result.what}: ${result.detail}`);
      if (result.status !== 'ok') failed = true;
      await this.options.onAction?.(result);
    }
    return this.results;
  }

  /** The step as shown, with what has been saved so far filled in (`${hotWork.id}`). */
  private describe(step: ScenarioStep): string {
    const what = describeAction(step);
    try {
      return substitute(what, this.saved) as string;
    } catch {
      return what;
    }
  }

  private async play(
    step: ScenarioStep,
    base: Omit<ActionResult, 'status' | 'doneAtMs' | 'attempts' | 'detail'>,
  ): Promise<ActionResult> {
    const deadline = Date.now() + (step.within ?? DEFAULT_WITHIN_MS);
    const expectation: ActionExpect = step.expect ?? {};
    let attempts = 0;
    let last = '';
    const done = (status: ActionStatus, detail: string): ActionResult => ({
      ...base,
      status,
      doneAtMs: Date.now() - this.options.startedAt,
      attempts,
      detail,
    });
    for (;;) {
      attempts += 1;
      try {
        const token = await this.tokenFor(base.target, base.as);
        const request = await this.requestFor(step, token);
        const raw = await this.call(base.target, token, request);
        if (raw.status === 401 && expectation.status !== 401) {
          // The session is gone (that Vigil restarted, or the token expired): log in again on
          // the next try, as the person would.
          this.tokens.delete(`${base.target}|${base.as}`);
          last = `HTTP 401: ${messageOf(raw.body)} (logging in again)`;
          if (Date.now() + RETRY_MS > deadline) return done('failed', last);
          await sleep(RETRY_MS);
          continue;
        }
        const answer = request.select && raw.status === 200 ? request.select(raw.body) : raw;
        const statusOk =
          expectation.status === undefined
            ? answer.status >= 200 && answer.status < 300
            : answer.status === expectation.status;
        // A read waits for its resource to match; an action whose answer came with the expected
        // status but the wrong body has had its effect: that is the outcome, not a retry.
        const isRead = request.method === 'GET';
        if (statusOk) {
          const problem =
            expectation.match === undefined
              ? undefined
              : mismatch(answer.body, substitute(expectation.match, this.saved));
          if (problem === undefined) {
            if (step.save !== undefined) this.saved.set(step.save, answer.body);
            return done('ok', `HTTP ${answer.status}${summarise(answer.body)}`);
          }
          last = `HTTP ${answer.status}, ${problem}`;
          if (!isRead) return done('failed', last);
        } else {
          last = `HTTP ${answer.status}${expectation.status ? ` (expected ${expectation.status})` : ''}: ${messageOf(answer.body)}`;
          // An action that was expected to be refused but went through has had its effect.
          if (!isRead && answer.status >= 200 && answer.status < 300) return done('failed', last);
        }
      } catch (error) {
        last = (error as Error).message;
        if (error instanceof StepError) return done('failed', last);
      }
      if (Date.now() + RETRY_MS > deadline)
        return done(
          'failed',
          `${last} (after ${attempts} attempt(s) in ${formatDuration(step.within ?? DEFAULT_WITHIN_MS)})`,
        );
      await sleep(RETRY_MS);
    }
  }

  /** Logs in once per target and user (`POST /api/v1/auth/login`). */
  private async tokenFor(target: string, user: string): Promise<string> {
    const key = `${target}|${user}`;
    const known = this.tokens.get(key);
    if (known !== undefined) return known;
    const password = this.passwordOf(user, this.options.scenario.users[user]);
    const answer = await this.call(target, undefined, {
      method: 'POST',
      path: '/api/v1/auth/login',
      body: { username: user, password },
    });
    if (answer.status !== 200)
      throw new StepError(
        `login as ${user} on ${target}: HTTP ${answer.status} ${messageOf(answer.body)}`,
      );
    const token = (answer.body as { token?: unknown }).token;
    if (typeof token !== 'string') throw new StepError(`login as ${user}: no token in the answer`);
    this.tokens.set(key, token);
    return token;
  }

  private passwordOf(user: string, entry: ScenarioUser | undefined): string {
    if (entry?.password !== undefined) return entry.password;
    const name = entry?.passwordEnv;
    const value = name === undefined ? undefined : (this.options.env ?? process.env)[name];
    if (value === undefined || value === '')
      throw new StepError(`user ${user}: ${name ?? 'passwordEnv'} is not set`);
    return value;
  }

  private async call(target: string, token: string | undefined, request: Request): Promise<Answer> {
    const where = this.options.targets.get(target);
    if (!where) throw new StepError(`target ${target}: no URL given`);
    const response = await fetch(new URL(request.path, where.url), {
      method: request.method,
      headers: {
        ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: kept as text for the report.
    }
    return { status: response.status, body };
  }

  private ref(name: string): { id: string } {
    const value = this.saved.get(name) as { id?: unknown } | undefined;
    if (typeof value?.id !== 'string') throw new StepError(`${name}: nothing with an id saved`);
    return { id: value.id };
  }

  private async requestFor(step: ScenarioStep, token: string): Promise<Request> {
    if (step.alarm) return this.alarmRequest(step, step.alarm, token);
    if (step.hazard) return this.hazardRequest(step.hazard);
    if (step.permit) return this.permitRequest(step.permit);
    if (step.shift) return this.shiftRequest(step, step.shift, token);
    if (step.uplink) return this.uplinkRequest(step.uplink);
    throw new StepError('not an operator step');
  }

  /** The alarm the step means: a saved one, or the newest of this run matching its fields. */
  private async alarmRequest(
    step: ScenarioStep,
    action: AlarmAction,
    token: string,
  ): Promise<Request> {
    const target = step.target ?? MAIN_TARGET;
    let id: string;
    if (action.ref !== undefined) {
      id = this.ref(action.ref).id;
    } else {
      const { scenario, startedAt } = this.options;
      const key =
        action.key === undefined ? undefined : (substitute(action.key, this.saved) as string);
      const answer = await this.call(target, token, {
        method: 'GET',
        path: `/api/v1/alarms?since=${startedAt - 1000}`,
      });
      if (answer.status !== 200 || !Array.isArray(answer.body))
        throw new Error(`GET /api/v1/alarms: HTTP ${answer.status} ${messageOf(answer.body)}`);
      const found = (answer.body as Record<string, unknown>[])
        .filter(
          alarm =>
            // Decided during this run: an alarm raised before the start belongs to someone else.
            Number(alarm['detectedAt'] ?? 0) >= startedAt - 500 &&
            (key === undefined || alarm['key'] === key) &&
            (action.device === undefined ||
              (alarm['siteId'] === scenario.site && alarm['deviceId'] === action.device)) &&
            (action.rule === undefined || alarm['ruleId'] === action.rule) &&
            (action.level === undefined || alarm['level'] === action.level),
        )
        .sort((a, b) => Number(b['detectedAt']) - Number(a['detectedAt']))[0];
      if (found === undefined || typeof found['id'] !== 'string')
        throw new Error(`no alarm ${describeAction(step).replace(/^alarm \S+ /, '')} raised yet`);
      id = found['id'];
    }
    if (action.do === undefined) return { method: 'GET', path: `/api/v1/alarms/${id}` };
    const body = pick(action, ['note', 'disposition', 'to', 'reason', 'minutes']);
    return { method: 'POST', path: `/api/v1/alarms/${id}/${action.do}`, body };
  }

  /**
   * What the upper holds of an enterprise: its entry of `GET /api/v1/uplink/enterprises`, or one
   * alarm, hazard or hazard source's sample in it. Absent (not received yet, or not visible to
   * this user): a 404 the step waits out.
   */
  private uplinkRequest(read: UplinkRead): Request {
    const alarmId = read.alarm === undefined ? undefined : this.ref(read.alarm).id;
    const hazardId = read.hazard === undefined ? undefined : this.ref(read.hazard).id;
    const absent = (what: string): Answer => ({
      status: 404,
      body: { message: `${what} not at this Vigil (yet)` },
    });
    const select = (body: unknown): Answer => {
      if (!Array.isArray(body)) return { status: 502, body: { message: 'not a list' } };
      const entry = (body as Record<string, unknown>[]).find(
        item => item['enterpriseCode'] === read.enterprise,
      );
      if (entry === undefined) return absent(`enterprise ${read.enterprise}`);
      const within = (list: string, key: string, value: string): Answer => {
        const found = (entry[list] as Record<string, unknown>[] | undefined)?.find(
          item => item[key] === value,
        );
        return found === undefined
          ? absent(`${list} ${value} of ${read.enterprise}`)
          : { status: 200, body: found };
      };
      if (alarmId !== undefined) return within('alarms', 'alarmId', alarmId);
      if (hazardId !== undefined) return within('hazards', 'hazardId', hazardId);
      if (read.realtime !== undefined) return within('realtime', 'hazardSourceCode', read.realtime);
      return { status: 200, body: entry };
    };
    return { method: 'GET', path: '/api/v1/uplink/enterprises', select };
  }

  private hazardRequest(action: HazardAction): Request {
    const now = Date.now();
    if (action.do === 'report') {
      const body = {
        ...pick(action, [
          'title',
          'level',
          'description',
          'source',
          'photos',
          'interimMeasures',
          'note',
        ]),
        ...(action.alarm !== undefined
          ? { alarmId: this.ref(action.alarm).id }
          : { siteId: this.options.scenario.site }),
        ...(action.area !== undefined ? { areaId: action.area } : {}),
        ...(action.devices !== undefined ? { deviceIds: action.devices } : {}),
      };
      return { method: 'POST', path: '/api/v1/hazards', body };
    }
    const { id } = this.ref(action.id as string);
    if (action.do === undefined) return { method: 'GET', path: `/api/v1/hazards/${id}` };
    const body = {
      ...pick(action, ['assignee', 'measures', 'note']),
      ...(action.plan ? { plan: { ...action.plan, deadline: now + action.plan.deadline } } : {}),
    };
    return { method: 'POST', path: `/api/v1/hazards/${id}/${action.do}`, body };
  }

  private permitRequest(action: PermitAction): Request {
    if (action.do === 'request') {
      const from = Date.now() + action.from;
      const body = {
        ...pick(action, ['kind', 'title', 'workers', 'guardian', 'limits', 'note']),
        siteId: this.options.scenario.site,
        areaId: action.area,
        from,
        to: from + (action.for as number),
      };
      return { method: 'POST', path: '/api/v1/permits', body };
    }
    const { id } = this.ref(action.id as string);
    if (action.do === undefined) return { method: 'GET', path: `/api/v1/permits/${id}` };
    return {
      method: 'POST',
      path: `/api/v1/permits/${id}/${action.do}`,
      body: pick(action, ['note']),
    };
  }

  private async shiftRequest(
    step: ScenarioStep,
    action: ShiftAction,
    token: string,
  ): Promise<Request> {
    const now = Date.now();
    if (action.do === 'start') {
      const body = {
        ...pick(action, ['lead', 'operators', 'note']),
        siteId: this.options.scenario.site,
        roomId: action.room,
        plannedEnd: now + (action.plannedEnd as number),
      };
      return { method: 'POST', path: '/api/v1/duty/shifts', body };
    }
    const { id } = this.ref(action.id as string);
    const path = `/api/v1/duty/shifts/${id}`;
    if (action.do === undefined) return { method: 'GET', path };
    if (action.do === 'hand-over') {
      const incoming = action.incoming as NonNullable<ShiftAction['incoming']>;
      return {
        method: 'POST',
        path: `${path}/hand-over`,
        body: {
          notes: action.notes,
          incoming: { ...incoming, plannedEnd: now + incoming.plannedEnd },
        },
      };
    }
    if (action.do === 'accept') {
      let seen = action.seen === 'changes' ? [] : (action.seen ?? []);
      if (action.seen === 'changes') {
        // What the incoming lead is shown now: every item added or changed since the snapshot.
        const answer = await this.call(step.target ?? MAIN_TARGET, token, { method: 'GET', path });
        const changes = (answer.body as { changes?: { added?: Ref[]; changed?: Ref[] } }).changes;
        seen = [...(changes?.added ?? []), ...(changes?.changed ?? [])].map(
          item => `${item.kind}:${item.id}`,
        );
      }
      return { method: 'POST', path: `${path}/accept`, body: { seen, ...pick(action, ['note']) } };
    }
    return { method: 'POST', path: `${path}/${action.do}`, body: pick(action, ['note']) };
  }
}

interface Ref {
  readonly kind: string;
  readonly id: string;
}

/** A problem with the scenario or the environment that retrying cannot fix. */
class StepError extends Error {}

function pick<T extends object, K extends keyof T>(
  value: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out;
}

function messageOf(body: unknown): string {
  if (body !== null && typeof body === 'object' && 'message' in body) {
    const message = (body as { message: unknown }).message;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return typeof body === 'string'
    ? body.slice(0, 200)
    : (JSON.stringify(body)?.slice(0, 200) ?? '');
}

/** A few words on what came back: `, hazard No. 1 rectified by li`. */
function summarise(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return '';
  const b = body as Record<string, unknown>;
  const parts = [
    b['no'] !== undefined ? `No. ${String(b['no'])}` : undefined,
    typeof b['ruleId'] === 'string'
      ? `${String(b['ruleId'])} P${String(b['priority'])}`
      : undefined,
    typeof b['state'] === 'string' ? b['state'] : undefined,
  ].filter(Boolean);
  return parts.length ? `, ${parts.join(' ')}` : '';
}
