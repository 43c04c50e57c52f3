import type { RaiseEvent } from '../observe/alarm-watcher';
import { latencySummary } from '../report/load-report';
import type { Percentiles } from '../report/percentiles';
import type { ActionResult } from './operator-runner';
import type { Expectation, Forbidden, Scenario } from './scenario-schema';

export type ExpectationStatus = 'met' | 'missed' | 'late' | 'duplicated' | 'pending-rule';

export interface ExpectationResult {
  readonly expectation: Expectation;
  readonly siteId: string;
  readonly deviceId: string;
  readonly status: ExpectationStatus;
  /** Raises of this device and rule (and level, when given) over the whole run. */
  readonly raised: number;
  /** Offset of the first raise from the start (its detection time), ms. */
  readonly firstRaiseAtMs: number | null;
  /** Trigger publish → rule engine decision, ms (when the triggering message is known). */
  readonly detectionMs: number | null;
  /** Trigger publish → WebSocket arrival, ms. */
  readonly webSocketMs: number | null;
  readonly detail: string;
}

export interface ScenarioVerdict {
  readonly results: readonly ExpectationResult[];
  /** Operator steps (users acting through the API), in the order played. */
  readonly actions: readonly ActionResult[];
  /** Raises that match no expectation (reported; fatal only when they break an `expectNone`). */
  readonly unexpected: readonly RaiseEvent[];
  readonly forbiddenRaised: readonly { readonly rule: Forbidden; readonly raise: RaiseEvent }[];
  /** Rules the scenario needs that this Vigil does not have yet. */
  readonly pendingRules: readonly string[];
  readonly latency: { readonly detection: Percentiles; readonly webSocket: Percentiles };
  readonly readings: {
    readonly sent: number;
    readonly expectedStored: number;
    readonly stored: number | null;
    readonly lost: number | null;
  };
  readonly passed: boolean;
  /** Why it failed, one line each. */
  readonly failures: readonly string[];
}

export interface JudgeInput {
  readonly scenario: Scenario;
  readonly raises: readonly RaiseEvent[];
  /** Wall-clock start of the run (epoch ms). */
  readonly startedAt: number;
  /** Rule ids this Vigil knows (device and site rules). */
  readonly knownRules: ReadonlySet<string>;
  /** `siteId/deviceId|ts` → when that message was published: the trigger of an alarm raised with that `raisedAt`. */
  readonly publishedAt: ReadonlyMap<string, number>;
  /** How the operator steps went (none when the scenario has none). */
  readonly actions?: readonly ActionResult[];
  readonly readings: {
    readonly sent: number;
    readonly expectedStored: number;
    readonly stored: number | null;
  };
}

function siteAndDevice(ref: string, site: string): [string, string] {
  const slash = ref.indexOf('/');
  return slash < 0 ? [site, ref] : [ref.slice(0, slash), ref.slice(slash + 1)];
}

/** When the system decided: `detectedAt` when the alarm carries it, else arrival. */
function decidedAt(raise: RaiseEvent): number {
  return raise.detectedAt ?? raise.receivedAt;
}

/**
 * Expected against raised. An expectation is met when its device and rule (and level) were
 * raised exactly `count` times over the run, the first within its window; `late` when raised
 * only outside it; `duplicated` when raised more often. Rules this Vigil lacks are `pending-rule`:
 * reported, never a silent pass or a failure. Any miss, late or duplicated alarm, forbidden raise
 * or lost reading fails the run (the runner then exits 1). Pure.
 */
export function judgeScenario(input: JudgeInput): ScenarioVerdict {
  const { scenario, raises, startedAt, knownRules, publishedAt } = input;
  const matched = new Set<RaiseEvent>();
  const detection: number[] = [];
  const webSocket: number[] = [];
  const results = scenario.expect.map((expectation): ExpectationResult => {
    const [siteId, deviceId] = siteAndDevice(expectation.device, scenario.site);
    const mine = raises
      .filter(
        raise =>
          raise.siteId === siteId &&
          raise.deviceId === deviceId &&
          raise.ruleId === expectation.rule &&
          (expectation.level === undefined || raise.level === expectation.level) &&
          (expectation.area === undefined || raise.areaId === expectation.area),
      )
      .sort((a, b) => decidedAt(a) - decidedAt(b));
    for (const raise of mine) matched.add(raise);
    const base = { expectation, siteId, deviceId, raised: mine.length };
    if (!knownRules.has(expectation.rule)) {
      return {
        ...base,
        status: 'pending-rule',
        firstRaiseAtMs: null,
        detectionMs: null,
        webSocketMs: null,
        detail: `rule ${expectation.rule} does not exist in this Vigil yet`,
      };
    }
    const first = mine[0];
    const firstAt = first ? decidedAt(first) - startedAt : null;
    const trigger =
      first?.raisedAt !== undefined
        ? publishedAt.get(`${siteId}/${deviceId}|${first.raisedAt}`)
        : undefined;
    const detectionMs =
      first && trigger !== undefined && first.detectedAt !== undefined
        ? first.detectedAt - trigger
        : null;
    const webSocketMs =
      first && trigger !== undefined && first.via === 'ws' ? first.receivedAt - trigger : null;
    if (detectionMs !== null) detection.push(detectionMs);
    if (webSocketMs !== null) webSocket.push(webSocketMs);
    const windowEnd = expectation.after + expectation.within;
    let status: ExpectationStatus;
    let detail: string;
    if (mine.length === 0) {
      status = 'missed';
      detail = 'never raised';
    } else if (mine.length > expectation.count) {
      status = 'duplicated';
      detail = `raised ${mine.length} times, expected ${expectation.count}`;
    } else if (mine.length < expectation.count) {
      status = 'missed';
      detail = `raised ${mine.length} of ${expectation.count} times`;
    } else if ((firstAt as number) < expectation.after - 1000 || (firstAt as number) > windowEnd) {
      status = 'late';
      detail = `raised at ${Math.round((firstAt as number) / 100) / 10} s, outside ${expectation.after / 1000}–${windowEnd / 1000} s`;
    } else {
      status = 'met';
      detail = `raised at ${Math.round((firstAt as number) / 100) / 10} s`;
    }
    return { ...base, status, firstRaiseAtMs: firstAt, detectionMs, webSocketMs, detail };
  });

  const forbiddenRaised: { rule: Forbidden; raise: RaiseEvent }[] = [];
  for (const rule of scenario.expectNone) {
    const [siteId, deviceId] = rule.device
      ? siteAndDevice(rule.device, scenario.site)
      : [undefined, undefined];
    for (const raise of raises) {
      if (siteId !== undefined && (raise.siteId !== siteId || raise.deviceId !== deviceId))
        continue;
      if (rule.rule !== undefined && raise.ruleId !== rule.rule) continue;
      if (rule.level !== undefined && raise.level !== rule.level) continue;
      forbiddenRaised.push({ rule, raise });
    }
  }

  const pendingRules = [
    ...new Set([
      ...scenario.requires,
      ...scenario.expect.map(expectation => expectation.rule),
      ...scenario.expectNone.flatMap(rule => (rule.rule ? [rule.rule] : [])),
    ]),
  ].filter(rule => !knownRules.has(rule));

  const { sent, expectedStored, stored } = input.readings;
  const lost = stored === null ? null : Math.max(0, expectedStored - stored);
  const failures: string[] = [];
  for (const result of results) {
    if (result.status === 'met' || result.status === 'pending-rule') continue;
    failures.push(
      `${result.status}: ${result.siteId}/${result.deviceId} ${result.expectation.rule}${result.expectation.level ? ` ${result.expectation.level}` : ''} (${result.detail})`,
    );
  }
  for (const { rule, raise } of forbiddenRaised) {
    const what = [`${raise.siteId}/${raise.deviceId}`, raise.ruleId, raise.level]
      .filter(Boolean)
      .join(' ');
    failures.push(`forbidden: ${what} raised (expectNone ${JSON.stringify(rule)})`);
  }
  if (lost !== null && lost > 0)
    failures.push(`lost: ${lost} of ${expectedStored} readings not stored`);
  const actions = input.actions ?? [];
  for (const action of actions) {
    // A skipped step follows a failed one, which is the failure to report.
    if (action.status !== 'failed') continue;
    failures.push(
      `${action.status}: step ${action.step} ${action.what} as ${action.as}${action.target === 'main' ? '' : ` on ${action.target}`} (${action.detail})`,
    );
  }
  return {
    results,
    actions,
    unexpected: raises.filter(raise => !matched.has(raise)),
    forbiddenRaised,
    pendingRules,
    latency: { detection: latencySummary(detection), webSocket: latencySummary(webSocket) },
    readings: { sent, expectedStored, stored, lost },
    passed: failures.length === 0,
    failures,
  };
}
