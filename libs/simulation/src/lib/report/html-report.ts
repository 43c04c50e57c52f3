import type { Percentiles } from './percentiles';
import type { LoadRunReport } from './load-report';
import { escapeXml, svgLineChart, type ChartSeries } from './svg-chart';

const STYLE = `
body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.ok{color:#070;font-weight:bold}.fail{color:#b00;font-weight:bold}.note{color:#555;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:8px}
`;

/** A whole HTML page: no script, no external resource (it must open on a closed network). */
export function htmlPage(title: string, sections: readonly string[], subtitle = ''): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeXml(title)}</h1>`,
    subtitle ? `<p class="note">${escapeXml(subtitle)}</p>` : '',
    ...sections,
    '</body></html>',
  ].join('\n');
}

/** A table from rows of cells; the first row is the header. Cells are escaped. */
export function htmlTable(
  rows: readonly (readonly (string | number | null | undefined)[])[],
): string {
  const [header, ...body] = rows;
  const cell = (value: string | number | null | undefined): string =>
    escapeXml(value === null || value === undefined ? '–' : String(value));
  return [
    '<table>',
    header ? `<tr>${header.map(value => `<th>${cell(value)}</th>`).join('')}</tr>` : '',
    ...body.map(row => `<tr>${row.map(value => `<td>${cell(value)}</td>`).join('')}</tr>`),
    '</table>',
  ].join('');
}

function ms(value: number | null): string {
  return value === null ? '–' : `${value} ms`;
}

export function percentileRow(name: string, p: Percentiles): (string | number)[] {
  return [name, p.count, ms(p.p50), ms(p.p95), ms(p.p99), ms(p.max)];
}

/** One load run: verdict, totals, alarms, latency, processes, and the charts over time. */
export function loadRunSection(report: LoadRunReport): string {
  const t = report.totals;
  const a = report.alarms;
  const verdict = report.sustained.ok
    ? '<p class="ok">Sustained.</p>'
    : `<p class="fail">Not sustained:</p><ul>${report.sustained.reasons.map(reason => `<li>${escapeXml(reason)}</li>`).join('')}</ul>`;
  const processes = Object.entries(report.processes);
  const series = report.series;
  const x = (sample: { t: number }): number => sample.t;

  const throughput: ChartSeries[] = [
    { name: 'offered/s', points: series.map(s => [x(s), s.offered]), dashed: true },
    { name: 'sent/s', points: series.map(s => [x(s), s.sent]) },
  ];
  if (series.some(s => s.ingested !== null))
    throughput.push({ name: 'ingested/s', points: series.map(s => [x(s), s.ingested]) });
  if (series.some(s => s.stored !== null))
    throughput.push({ name: 'written to InfluxDB/s', points: series.map(s => [x(s), s.stored]) });
  if (report.storedBySecond.length) {
    throughput.push({
      name: 'stored/s (by reading time)',
      points: report.storedBySecond.map(([second, count]) => [second, count]),
    });
  }
  // Loss by second of the generator's clock: what it sent minus what InfluxDB holds with reading
  // times in that second, accumulated. It ends at the readings never stored.
  const storedAt = new Map(report.storedBySecond.map(([second, count]) => [second, count]));
  let cumulativeSent = 0;
  let cumulativeStored = 0;
  const loss = report.sentBySecond.map(([second, sent]) => {
    cumulativeSent += sent;
    cumulativeStored += storedAt.get(second) ?? 0;
    return [second, report.storedBySecond.length ? cumulativeSent - cumulativeStored : null] as [
      number,
      number | null,
    ];
  });
  const charts = [
    svgLineChart({ title: 'Throughput (readings/s)', series: throughput, xLabel: 's' }),
    svgLineChart({
      title: 'Publish → WebSocket alarm latency per second (ms)',
      series: (['p50', 'p95', 'p99'] as const).map(p => ({
        name: p,
        points: series.map(s => [x(s), s.latency ? s.latency[p] : null] as [number, number | null]),
      })),
      guides: [{ y: 50, label: '50 ms target' }],
      xLabel: 's',
    }),
    svgLineChart({
      title: 'Loss: readings sent but not (yet) stored, cumulative by reading time',
      series: [
        { name: 'sent − stored', points: loss },
        ...(series.some(s => s.backlog !== null)
          ? [
              {
                name: 'write buffer (lines)',
                points: series.map(s => [x(s), s.backlog] as [number, number | null]),
              },
            ]
          : []),
      ],
      xLabel: 's',
    }),
    svgLineChart({
      title: 'CPU (% of one core)',
      series: processes.map(([name]) => ({
        name,
        points: series
          .slice(1)
          .map(s => [x(s), s.processes[name]?.cpuPct ?? null] as [number, number | null]),
      })),
      xLabel: 's',
    }),
    svgLineChart({
      title: 'Resident memory (MB)',
      series: processes.map(([name]) => ({
        name,
        points: series.map(
          s => [x(s), s.processes[name]?.rssMb ?? null] as [number, number | null],
        ),
      })),
      xLabel: 's',
    }),
  ];
  if (series.some(s => s.eventLoopLagMs !== null)) {
    charts.push(
      svgLineChart({
        title: 'Target event-loop lag p99 (ms)',
        series: [{ name: 'lag p99', points: series.map(s => [x(s), s.eventLoopLagMs]) }],
        xLabel: 's',
      }),
    );
  }
  return [
    `<h2>${escapeXml(report.title)}</h2>`,
    `<p class="note">${escapeXml(`${report.target} · ${report.startedAt} · ${report.profile} · QoS ${report.qos} · ${report.batch > 1 ? `batches of ${report.batch}` : 'one reading per message'} · fleet ${report.fleet.name} (${report.fleet.devices} devices)`)}</p>`,
    verdict,
    htmlTable([
      ['readings', 'value'],
      ['offered', t.offered],
      ['sent', t.sent],
      ['achieved rate /s', t.achievedRate],
      ['stored in InfluxDB', t.stored],
      ['lost', t.lost === null ? null : `${t.lost} (${t.lossPct} %)`],
      ['generator could not send', t.generatorMissed],
      ['dead letters', t.deadLetters],
      ['persister rejected (buffer full)', t.persisterRejected],
      ['counted missing by the target (seq gaps)', t.missingSamples],
    ]),
    htmlTable([
      ['alarms', 'expected', 'exactly once', 'missed', 'duplicated', 'unexpected', 'REST only'],
      [
        'provoked',
        a.expected,
        a.exactlyOnce,
        a.missed,
        a.duplicated,
        a.unexpected,
        a.missedOnWebSocket,
      ],
    ]),
    htmlTable([
      ['latency', 'alarms', 'p50', 'p95', 'p99', 'max'],
      percentileRow('publish → WebSocket', report.latencyMs.publishToWebSocket),
      percentileRow('publish → detection', report.latencyMs.publishToDetection),
    ]),
    htmlTable([
      ['process', 'CPU avg %', 'CPU max %', 'RSS start MB', 'RSS max MB', 'RSS end MB'],
      ...processes.map(([name, p]) => [
        name,
        p.cpuAvgPct,
        p.cpuMaxPct,
        p.rssStartMb,
        p.rssMaxMb,
        p.rssEndMb,
      ]),
    ]),
    report.notes.length
      ? `<ul class="note">${report.notes.map(note => `<li>${escapeXml(note)}</li>`).join('')}</ul>`
      : '',
    `<div class="charts">${charts.join('\n')}</div>`,
  ].join('\n');
}

/** A self-contained page for one or more load runs. */
export function renderLoadReportHtml(
  title: string,
  reports: readonly LoadRunReport[],
  subtitle = '',
): string {
  return htmlPage(title, reports.map(loadRunSection), subtitle);
}
