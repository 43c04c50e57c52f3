import { htmlPage, htmlTable, percentileRow } from '../report/html-report';
import { escapeXml } from '../report/svg-chart';
import type { ActionResult } from './operator-runner';
import type { ScenarioReport } from './run-scenario';

const STATUS_MARK: Record<string, string> = {
  met: 'ok',
  missed: 'MISSED',
  late: 'LATE',
  duplicated: 'DUPLICATED',
  'pending-rule': 'pending rule',
};

const ACTION_MARK: Record<ActionResult['status'], string> = {
  ok: 'ok',
  failed: 'FAILED',
  skipped: 'SKIPPED',
};

/** `  ok           12.3s  wang@main   hazard assign leakHazard → li: HTTP 200, No. 1 assigned` */
export function formatActionLine(action: ActionResult): string {
  const when = action.doneAtMs === null ? '–' : `${(action.doneAtMs / 1000).toFixed(1)}s`;
  const who = action.target === 'main' ? action.as : `${action.as}@${action.target}`;
  return `  ${ACTION_MARK[action.status].padEnd(12)} ${when.padStart(6)}  ${who.padEnd(8)} ${action.what}: ${action.detail}`;
}

/**
 * The terminal summary of a scenario run: one line per operator step (in the order played), one
 * per expectation, then the totals.
 */
export function formatScenarioSummary(report: ScenarioReport): string {
  const v = report.verdict;
  const lines = [`scenario ${report.name}: ${report.title}`];
  for (const action of v.actions ?? []) lines.push(formatActionLine(action));
  for (const result of v.results) {
    const e = result.expectation;
    const latency = result.webSocketMs !== null ? `  ws ${Math.round(result.webSocketMs)} ms` : '';
    lines.push(
      `  ${(STATUS_MARK[result.status] ?? result.status).padEnd(12)} ${result.siteId}/${result.deviceId} ${e.rule}${e.level ? ` ${e.level}` : ''} ×${e.count} within ${e.within / 1000}s: ${result.detail}${latency}`,
    );
  }
  for (const { raise } of v.forbiddenRaised) {
    lines.push(
      `  FORBIDDEN    ${raise.siteId}/${raise.deviceId} ${raise.ruleId} ${raise.level ?? ''}`,
    );
  }
  if (v.unexpected.length) {
    const byRule = new Map<string, number>();
    for (const raise of v.unexpected) byRule.set(raise.ruleId, (byRule.get(raise.ruleId) ?? 0) + 1);
    lines.push(
      `  unexpected raises (not failing): ${[...byRule].map(([rule, n]) => `${rule} ×${n}`).join(', ')}`,
    );
  }
  if (v.pendingRules.length)
    lines.push(
      `  PENDING RULE: ${v.pendingRules.join(', ')} (not in this Vigil yet; those expectations were not judged)`,
    );
  const l = v.latency;
  lines.push(
    `  latency (publish → detection) p50 ${l.detection.p50 ?? '–'} p95 ${l.detection.p95 ?? '–'} p99 ${l.detection.p99 ?? '–'} ms;` +
      ` (publish → WebSocket) p50 ${l.webSocket.p50 ?? '–'} p95 ${l.webSocket.p95 ?? '–'} p99 ${l.webSocket.p99 ?? '–'} ms`,
  );
  const r = v.readings;
  lines.push(
    `  readings sent ${r.sent}, expected stored ${r.expectedStored}, stored ${r.stored ?? 'not checked'}${r.lost ? `, LOST ${r.lost}` : ''}`,
  );
  for (const note of report.notes) lines.push(`  note: ${note}`);
  lines.push(
    v.passed
      ? `PASSED${v.pendingRules.length ? ' (with pending rules)' : ''}`
      : `FAILED: ${v.failures.length} problem(s)`,
  );
  return lines.join('\n');
}

/** A self-contained HTML page for one or more scenario runs. */
export function renderScenarioHtml(title: string, reports: readonly ScenarioReport[]): string {
  return htmlPage(
    title,
    reports.map(report => {
      const v = report.verdict;
      return [
        `<h2>${escapeXml(`${report.name}: ${report.title}`)}</h2>`,
        `<p class="${v.passed ? 'ok' : 'fail'}">${v.passed ? 'Passed' : `Failed: ${escapeXml(v.failures.join('; '))}`}${v.pendingRules.length ? escapeXml(` — pending rules: ${v.pendingRules.join(', ')}`) : ''}</p>`,
        v.actions?.length
          ? htmlTable([
              ['step', 'at', 'done at', 'target', 'user', 'action', 'status', 'detail'],
              ...v.actions.map(action => [
                action.step,
                `${action.atMs / 1000} s`,
                action.doneAtMs === null ? null : `${(action.doneAtMs / 1000).toFixed(1)} s`,
                action.target,
                action.as,
                action.what,
                ACTION_MARK[action.status],
                action.detail,
              ]),
            ])
          : '',
        htmlTable([
          [
            'device',
            'rule',
            'level',
            'count',
            'within',
            'status',
            'raised',
            'first at',
            'ws latency',
          ],
          ...v.results.map(result => [
            `${result.siteId}/${result.deviceId}`,
            result.expectation.rule,
            result.expectation.level ?? '',
            result.expectation.count,
            `${result.expectation.within / 1000} s`,
            STATUS_MARK[result.status] ?? result.status,
            result.raised,
            result.firstRaiseAtMs === null
              ? null
              : `${(result.firstRaiseAtMs / 1000).toFixed(1)} s`,
            result.webSocketMs === null ? null : `${Math.round(result.webSocketMs)} ms`,
          ]),
        ]),
        htmlTable([
          ['latency', 'alarms', 'p50', 'p95', 'p99', 'max'],
          percentileRow('publish → detection', v.latency.detection),
          percentileRow('publish → WebSocket', v.latency.webSocket),
        ]),
        htmlTable([
          ['readings', 'sent', 'expected stored', 'stored', 'lost'],
          ['', v.readings.sent, v.readings.expectedStored, v.readings.stored, v.readings.lost],
        ]),
        v.unexpected.length
          ? htmlTable([
              ['unexpected raise', 'rule', 'level'],
              ...v.unexpected.map(raise => [
                `${raise.siteId}/${raise.deviceId}`,
                raise.ruleId,
                raise.level ?? '',
              ]),
            ])
          : '',
        report.notes.length
          ? `<ul class="note">${report.notes.map(note => `<li>${escapeXml(note)}</li>`).join('')}</ul>`
          : '',
      ].join('\n');
    }),
  );
}
