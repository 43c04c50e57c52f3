import type { AlarmPerformanceReport } from '@vigil/contracts';
import { useState } from 'preact/hooks';

import { ApiError, apiGet, errorMessage } from '../app/api';
import { useConsole, useLoad } from '../app/context';
import { formatDuration, formatNumber, formatTime } from '../app/format';
import { label } from '../app/i18n';
import { MonthlyReportPanel } from '../components/monthly-report';

const HOUR = 3_600_000;
const RANGES = [1, 24, 24 * 7, 24 * 30];
const KNOWN = new Set([
  'from',
  'to',
  'source',
  'scope',
  'alarms',
  'per10MinAverage',
  'per10MinPeak',
  'floods',
  'timeInFloodPercent',
  'standing',
  'chattering',
  'mostFrequent',
  'byPriority',
]);

export function PerformancePage() {
  const { t, lang, orgName, device, areaName } = useConsole();
  /** `plant-1/gc-tf-01/gas-l1` → 罐区可燃气 1 · 一级报警. */
  const pointName = (key: string) => {
    const [siteId = '', deviceId = '', ...rule] = key.split('/');
    const ruleId = rule.join('/');
    // Area rules (crowding, head-count…) have the area as their source: its name, not its id.
    const source = device(siteId, deviceId)?.name ?? areaName(siteId, deviceId);
    return `${source} · ${label(lang, 'rule', ruleId)}`;
  };
  const [hours, setHours] = useState(24);
  const { data, error } = useLoad(() => {
    const to = Date.now();
    return apiGet<AlarmPerformanceReport>('/api/v1/reports/alarm-performance', {
      from: to - hours * HOUR,
      to,
    });
  }, [hours]);

  const ranges = (
    <div class="segmented" role="group">
      {RANGES.map(value => (
        <button
          key={value}
          type="button"
          class={value === hours ? 'active' : ''}
          onClick={() => setHours(value)}
        >
          {value < 48 ? t('lastHours', { hours: value }) : t('lastDays', { days: value / 24 })}
        </button>
      ))}
    </div>
  );
  if (error instanceof ApiError && error.status === 404)
    return (
      <section class="performance-page">
        <p class="notice" id="performance-unavailable">
          {t('performanceUnavailable')}
        </p>
        <MonthlyReportPanel />
      </section>
    );
  if (!data)
    return (
      <p class={error ? 'error' : 'muted'}>
        {error ? t('error', { message: errorMessage(error) }) : t('loading')}
      </p>
    );

  const average = data.per10MinAverage;
  const total = Object.values(data.byPriority ?? {}).reduce((sum, value) => sum + value, 0);
  const extra = Object.entries(data).filter(([key]) => !KNOWN.has(key));
  return (
    <section class="performance-page" id="performance">
      <div class="filters">
        {ranges}
        <span class="muted small">
          {formatTime(lang, data.from)} – {formatTime(lang, data.to)}
          {data.scope && ` · ${orgName(data.scope)}`}
          {data.source && ` · ${t('perfSource', { source: label(lang, 'source', data.source) })}`}
        </span>
      </div>
      <div class="kpis">
        <Kpi title={t('perfAlarms')} value={data.alarms} />
        <Kpi
          title={t('perfAverage')}
          value={average}
          note={t('perfTarget', { target: 1 })}
          level={
            average === undefined ? undefined : average > 2 ? 'bad' : average > 1 ? 'warn' : 'good'
          }
        />
        <Kpi
          title={t('perfPeak')}
          value={data.per10MinPeak}
          level={(data.per10MinPeak ?? 0) > 10 ? 'bad' : undefined}
        />
        <Kpi
          title={t('perfFloodTime')}
          value={data.timeInFloodPercent}
          unit="%"
          note={t('perfTarget', { target: '1 %' })}
          level={(data.timeInFloodPercent ?? 0) >= 1 ? 'bad' : 'good'}
        />
      </div>
      {data.byPriority && (
        <div class="panel">
          <h3>{t('perfByPriority')}</h3>
          <div class="meters">
            {Object.entries(data.byPriority).map(([priority, count]) => (
              <div key={priority} class="meter-row">
                <span class={`prio-badge p${priority}`}>P{priority}</span>
                <span class="meter">
                  <span
                    class={`meter-fill p${priority}`}
                    style={{ width: `${total ? (count / total) * 100 : 0}%` }}
                  />
                </span>
                <span class="num">
                  {count} · {total ? Math.round((count / total) * 100) : 0} %
                </span>
              </div>
            ))}
          </div>
          <p class="muted small">{t('perfPriorityTarget')}</p>
        </div>
      )}
      <div class="report-tables">
        <ReportTable
          title={t('perfFrequent')}
          headers={[t('key'), t('count'), t('share')]}
          rows={(data.mostFrequent ?? []).map(row => [
            pointName(row.key),
            row.count,
            `${formatNumber(row.percent)} %`,
          ])}
        />
        <ReportTable
          title={t('perfFloods')}
          headers={[t('windowStart'), t('perfAlarms')]}
          rows={(data.floods ?? []).map(row => [formatTime(lang, row.start), row.alarms])}
        />
        <ReportTable
          title={t('perfStanding')}
          headers={[t('key'), t('since')]}
          rows={(data.standing ?? []).map(row => [pointName(row.key), formatDuration(row.sinceMs)])}
        />
        <ReportTable
          title={t('perfChattering')}
          headers={[t('key'), t('bursts')]}
          rows={(data.chattering ?? []).map(row => [pointName(row.key), row.bursts])}
        />
      </div>
      <MonthlyReportPanel />
      {extra.length > 0 && (
        <details class="panel">
          <summary>…</summary>
          <pre class="mono">{JSON.stringify(Object.fromEntries(extra), null, 2)}</pre>
        </details>
      )}
    </section>
  );
}

function Kpi(props: {
  title: string;
  value: number | undefined;
  unit?: string;
  note?: string;
  level?: 'good' | 'warn' | 'bad' | undefined;
}) {
  return (
    <div class={`kpi${props.level ? ` kpi-${props.level}` : ''}`}>
      <div class="muted small">{props.title}</div>
      <div class="kpi-value">
        {props.value === undefined ? '—' : formatNumber(props.value)}
        {props.unit && props.value !== undefined ? ` ${props.unit}` : ''}
      </div>
      {props.note && <div class="muted small">{props.note}</div>}
    </div>
  );
}

function ReportTable(props: {
  title: string;
  headers: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<string | number>>;
}) {
  const { t } = useConsole();
  return (
    <div class="panel">
      <h3>{props.title}</h3>
      {props.rows.length === 0 ? (
        <p class="muted">{t('none')}</p>
      ) : (
        <table class="compact">
          <thead>
            <tr>
              {props.headers.map(header => (
                <th key={header}>{header}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row, index) => (
              <tr key={index}>
                {row.map((cell, column) => (
                  <td key={column}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
