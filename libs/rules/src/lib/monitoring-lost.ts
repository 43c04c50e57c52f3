import type { DeviceClass, RuleSignal } from '@vigil/contracts';

import { type RuleContext, signalKey } from './rule-signal';

/**
 * Rule id of the P1 system alarm raised when part of the rule engine stops evaluating: a device
 * whose rules threw, a site whose area rules threw, a site's major-hazard grade, or a whole
 * stream that errored and is being restarted (issue 10, "fail-loud by construction"). An error in
 * one rule or one device isolates that device, never the engine; the operator is told which.
 */
export const MONITORING_LOST_RULE_ID = 'monitoring-lost';

/**
 * What stopped being evaluated; the signal's `level`, and the `scope` label of
 * `vigil_rules_isolated_total`:
 * - `device`: one device's rules (quarantined until its configuration is reloaded);
 * - `area`: the area rules of one area (head-count, crowding, people-present) on the tick;
 * - `site`: the area and site rules of one site (geofences, head-count, crowding, voting, muster);
 * - `grade`: the GB 18218-2018 grade of one site;
 * - `stream`: a whole rule stream errored and is resubscribed (raised on every site).
 */
export const ISOLATION_SCOPES = ['device', 'area', 'site', 'grade', 'stream'] as const;
export type IsolationScope = (typeof ISOLATION_SCOPES)[number];

/** Pseudo device ids of the signals that are about more than one device. */
export const MONITORING_LOST_SUBJECTS = {
  site: 'site-rules',
  grade: 'mhs-grade',
  stream: 'rule-engine',
} as const;

export interface MonitoringLostSource {
  readonly siteId: string;
  /**
   * The device; the area for `area`; for other scopes MONITORING_LOST_SUBJECTS[scope] (plus the
   * stream's name).
   */
  readonly deviceId: string;
  readonly deviceClass: DeviceClass | undefined;
  readonly areaId: string | undefined;
}

/** One line of the error for the message: never the stack, never unbounded. */
export function describeError(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    text = 'unprintable error';
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * The `monitoring-lost` signal (category `system`, P1, not latched). Raised with the error that
 * caused it; cleared when evaluation resumes (a reload of the device, a restarted stream that
 * has run cleanly).
 */
export function monitoringLostSignal(
  scope: IsolationScope,
  source: MonitoringLostSource,
  active: boolean,
  at: number,
  context: RuleContext,
  error?: unknown,
): RuleSignal {
  const what =
    scope === 'device'
      ? `the rules of device ${source.deviceId}`
      : scope === 'area'
        ? `the area rules of area ${source.deviceId} (site ${source.siteId})`
        : scope === 'site'
          ? `the area and site rules of site ${source.siteId}`
          : scope === 'grade'
            ? `the major-hazard grade of site ${source.siteId}`
            : `the rule stream ${source.deviceId}`;
  const message = active
    ? `Monitoring lost: ${what} failed (${describeError(error)}) and ` +
      (scope === 'stream'
        ? 'the stream is being restarted; alarms may be missed until it runs again'
        : 'are no longer evaluated until the configuration is reloaded or Vigil restarts')
    : `Monitoring restored: ${what} are evaluated again`;
  return {
    key: signalKey(source.siteId, source.deviceId, MONITORING_LOST_RULE_ID),
    ruleId: MONITORING_LOST_RULE_ID,
    siteId: source.siteId,
    deviceId: source.deviceId,
    deviceClass: source.deviceClass,
    areaId: source.areaId,
    category: 'system',
    priority: 1,
    level: scope,
    active,
    latched: false,
    metric: undefined,
    value: undefined,
    threshold: undefined,
    message,
    at,
    detectedAt: context.clock(),
  };
}
