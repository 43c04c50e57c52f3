import { MONTHLY_SCORING } from '@vigil/alarms';
import {
  escapeMarkup,
  type MonthlyReport,
  type MonthlyReportRow,
  type ReportLanguage,
  type ScoreDeduction,
} from '@vigil/contracts';

/**
 * The monthly report as one self-contained HTML page: inline CSS and inline SVG charts, no
 * script, no font, image or style sheet from anywhere (control rooms are on closed networks, and
 * Chromium prints this very page to PDF). Chinese first, English with `lang=en`. Every name from
 * the registry is escaped.
 */

const TEXT = {
  zh: {
    title: '月度安全运行报告',
    period: '统计期间',
    timeZone: '时区',
    generated: '生成时间',
    scope: '报告范围',
    source: '报警数据来源',
    influxdb: '历史库 (InfluxDB)',
    memory: '网关内存 (最近的报警,不完整)',
    partial: '本月尚未结束:数据截至生成时间。',
    summary: '总览',
    alarms: '报警数',
    per10Min: '平均报警/10分钟',
    perHour: '报警/操作员·小时',
    peak: '10分钟峰值',
    floods: '报警泛滥次数',
    floodTime: '泛滥时间占比',
    chattering: '振荡报警点',
    standing: '长期报警(>24小时)',
    mtta: '平均确认时间',
    mttd: '平均处置时间',
    unacked: '未确认报警',
    opened: '新增隐患',
    closed: '销号隐患',
    openAtEnd: '月末未销号',
    overdue: '月末逾期',
    major: '重大',
    general: '一般',
    missed: '漏检次数',
    madeUp: '已补检',
    score: '评分',
    rank: '排名',
    enterprise: '企业',
    region: '区域',
    daily: '每日报警数',
    ranking: '企业排名(评分)',
    byPriority: '各企业报警(按优先级)',
    hazards: '各企业隐患(新增 / 销号 / 逾期)',
    rankingTable: '企业排名明细',
    regions: '区域汇总',
    byCategory: '报警类别',
    deductions: '扣分项',
    method: '评分方法',
    methodNote:
      '依据 HAZ-04「隐患不排查,系统有觉察;整改不及时,系统有警示;工作不落实,系统有评分」。政策要求评分,未给出公式;以下公式为 Vigil 的建议(待主管部门确认)。满分 100,扣分各有上限,合计上限 100。',
    none: '无',
    notices: '注意',
    kinds: { city: '市', county: '县/区', park: '园区', enterprise: '企业' },
    categories: {
      process: '工艺',
      warning: '预警',
      quality: '质量',
      system: '系统',
      unknown: '未知',
    },
    reasons: {
      'major-overdue': '重大隐患逾期',
      'general-overdue': '一般隐患逾期',
      'missed-inspection': '漏检',
      'alarm-load': '报警负荷',
      floods: '报警泛滥',
      standing: '长期报警',
    },
    rules: [
      `重大隐患逾期每项 −${MONTHLY_SCORING.majorOverdue.points}(最多 −${MONTHLY_SCORING.majorOverdue.cap})`,
      `一般隐患逾期每项 −${MONTHLY_SCORING.generalOverdue.points}(最多 −${MONTHLY_SCORING.generalOverdue.cap})`,
      `漏检每次 −${MONTHLY_SCORING.missedInspection.points}(最多 −${MONTHLY_SCORING.missedInspection.cap})`,
      `平均报警 >2 次/10分钟 −${MONTHLY_SCORING.alarmLoad.above2Per10Min},>1 次 −${MONTHLY_SCORING.alarmLoad.above1Per10Min}(EEMUA 191)`,
      `报警泛滥每次 −${MONTHLY_SCORING.floods.points}(最多 −${MONTHLY_SCORING.floods.cap})`,
      `长期报警每个 −${MONTHLY_SCORING.standing.points}(最多 −${MONTHLY_SCORING.standing.cap},仅当月)`,
    ],
    minutes: '分钟',
    bracketMajor: '隐患列括号内为其中重大隐患数;P1–P4 为报警优先级。',
    footer: 'Vigil 月度报告 · 隐患数据来自隐患排查治理台账,报警数据不含测试报警',
  },
  en: {
    title: 'Monthly safety report',
    period: 'Period',
    timeZone: 'Time zone',
    generated: 'Generated',
    scope: 'Scope',
    source: 'Alarm data',
    influxdb: 'history (InfluxDB)',
    memory: 'gateway memory (recent alarms only, incomplete)',
    partial: 'The month is not over: figures up to the time the report was generated.',
    summary: 'Summary',
    alarms: 'Alarms',
    per10Min: 'Alarms per 10 min (avg)',
    perHour: 'Alarms per operator-hour',
    peak: 'Peak per 10 min',
    floods: 'Alarm floods',
    floodTime: 'Time in flood',
    chattering: 'Chattering points',
    standing: 'Standing alarms (> 24 h)',
    mtta: 'Mean time to acknowledge',
    mttd: 'Mean time to dispose',
    unacked: 'Unacknowledged alarms',
    opened: 'Hazards opened',
    closed: 'Hazards closed',
    openAtEnd: 'Open at month end',
    overdue: 'Overdue at month end',
    major: 'major',
    general: 'general',
    missed: 'Missed inspections',
    madeUp: 'made up',
    score: 'Score',
    rank: 'Rank',
    enterprise: 'Enterprise',
    region: 'Region',
    daily: 'Alarms per day',
    ranking: 'Enterprise ranking (score)',
    byPriority: 'Alarms per enterprise, by priority',
    hazards: 'Hazards per enterprise (opened / closed / overdue)',
    rankingTable: 'Ranking in detail',
    regions: 'Regions',
    byCategory: 'Alarm classes',
    deductions: 'Deductions',
    method: 'Scoring',
    methodNote:
      'After HAZ-04 (the system notices missed checks, warns of late rectification, scores work not done). The policy asks for a score but gives no formula: the one below is a Vigil proposal, to be confirmed by the regulator. 100 points less capped deductions; the caps add up to 100.',
    none: 'none',
    notices: 'Note',
    kinds: { city: 'city', county: 'county', park: 'park', enterprise: 'enterprise' },
    categories: {
      process: 'process',
      warning: 'warning',
      quality: 'quality',
      system: 'system',
      unknown: 'unknown',
    },
    reasons: {
      'major-overdue': 'major hazards overdue',
      'general-overdue': 'general hazards overdue',
      'missed-inspection': 'missed inspections',
      'alarm-load': 'alarm load',
      floods: 'alarm floods',
      standing: 'standing alarms',
    },
    rules: [
      `each major hazard overdue −${MONTHLY_SCORING.majorOverdue.points} (at most −${MONTHLY_SCORING.majorOverdue.cap})`,
      `each general hazard overdue −${MONTHLY_SCORING.generalOverdue.points} (at most −${MONTHLY_SCORING.generalOverdue.cap})`,
      `each missed inspection −${MONTHLY_SCORING.missedInspection.points} (at most −${MONTHLY_SCORING.missedInspection.cap})`,
      `average above 2 alarms per 10 min −${MONTHLY_SCORING.alarmLoad.above2Per10Min}, above 1 −${MONTHLY_SCORING.alarmLoad.above1Per10Min} (EEMUA 191)`,
      `each alarm flood −${MONTHLY_SCORING.floods.points} (at most −${MONTHLY_SCORING.floods.cap})`,
      `each standing alarm −${MONTHLY_SCORING.standing.points} (at most −${MONTHLY_SCORING.standing.cap}, running month only)`,
    ],
    minutes: 'min',
    bracketMajor: 'Hazard columns: (of which major); P1–P4: alarm priorities.',
    footer:
      'Vigil monthly report · hazards from the hazard ledger; alarms disposed as test are left out',
  },
} as const;

type Text = (typeof TEXT)[ReportLanguage];

const PRIORITY_COLOURS = { 1: '#c62828', 2: '#ef6c00', 3: '#f9a825', 4: '#1565c0' } as const;
const HAZARD_COLOURS = { opened: '#1565c0', closed: '#2e7d32', overdue: '#c62828' } as const;

export const escapeHtml = escapeMarkup;

const e = escapeHtml;

export function renderMonthlyReportHtml(report: MonthlyReport, lang: ReportLanguage): string {
  const t = TEXT[lang];
  const locale = lang === 'zh' ? 'zh-CN' : 'en-GB';
  const dateTime = new Intl.DateTimeFormat(locale, {
    timeZone: report.timeZone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const date = new Intl.DateTimeFormat(locale, { timeZone: report.timeZone, dateStyle: 'medium' });
  const total = report.total;
  const title = `${t.title} ${report.month} · ${report.node.name}`;
  const notices = [
    ...(report.complete ? [] : [t.partial]),
    ...(report.source === 'memory' ? [`${t.source}: ${t.memory}`] : []),
    ...report.notices,
  ];
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${e(title)}</h1>
<dl class="meta">
<dt>${t.scope}</dt><dd>${e(report.node.name)} (${t.kinds[report.node.kind]} ${e(report.node.id)})</dd>
<dt>${t.period}</dt><dd>${e(date.format(report.from))} – ${e(date.format(report.to - 1))}</dd>
<dt>${t.timeZone}</dt><dd>${e(report.timeZone)}</dd>
<dt>${t.generated}</dt><dd>${e(dateTime.format(report.generatedAt))}</dd>
<dt>${t.source}</dt><dd>${report.source === 'influxdb' ? t.influxdb : t.memory}</dd>
</dl>
${notices.length > 0 ? `<div class="notice"><strong>${t.notices}:</strong> ${notices.map(e).join(' ')}</div>` : ''}
</header>
<section>
<h2>${t.summary}</h2>
<div class="cards">
${card(t.alarms, String(total.alarms.alarms))}
${card(t.per10Min, String(total.alarms.per10MinAverage))}
${card(t.perHour, String(total.alarms.perHourAverage))}
${card(t.mtta, minutes(total.alarms.meanAckMs, t))}
${card(t.mttd, minutes(total.alarms.meanDisposeMs, t))}
${card(t.unacked, String(total.alarms.unacknowledged))}
${card(t.opened, hazardCount(total.hazards.opened, t))}
${card(t.closed, hazardCount(total.hazards.closed, t))}
${card(t.overdue, hazardCount(total.hazards.overdueAtEnd, t), total.hazards.overdueAtEnd.total > 0)}
${card(t.missed, `${total.inspections.missed} (${t.madeUp} ${total.inspections.madeUp})`, total.inspections.missed > 0)}
${card(t.floods, `${total.alarms.floods} · ${total.alarms.timeInFloodPercent}%`)}
${card(t.score, String(total.score))}
</div>
<p class="classes">${t.byCategory}: ${categories(total, t)}</p>
</section>
<section class="charts">
<figure><figcaption>${t.daily}</figcaption>${dailyChart(report)}</figure>
<figure><figcaption>${t.ranking}</figcaption>${rankingChart(report.enterprises)}</figure>
<figure><figcaption>${t.byPriority}</figcaption>${priorityChart(report.enterprises)}</figure>
<figure><figcaption>${t.hazards}</figcaption>${hazardChart(report.enterprises, t)}</figure>
</section>
<section>
<h2>${t.rankingTable}</h2>
${table(report.enterprises, t, true)}
</section>
${
  report.regions.length > 0
    ? `<section>
<h2>${t.regions}</h2>
${table(report.regions, t, false)}
</section>`
    : ''
}
<section class="method">
<h2>${t.method}</h2>
<p>${t.methodNote}</p>
<ul>${t.rules.map(rule => `<li>${e(rule)}</li>`).join('')}</ul>
</section>
<footer>${t.footer}</footer>
</body>
</html>
`;
}

function card(label: string, value: string, warn = false): string {
  return `<div class="card${warn ? ' warn' : ''}"><div class="label">${e(label)}</div><div class="value">${e(value)}</div></div>`;
}

function minutes(ms: number | null, t: Text): string {
  return ms === null ? '—' : `${(ms / 60_000).toFixed(1)} ${t.minutes}`;
}

function hazardCount(counts: { general: number; major: number; total: number }, t: Text): string {
  return `${counts.total} (${t.major} ${counts.major})`;
}

function categories(row: MonthlyReportRow, t: Text): string {
  const entries = Object.entries(row.alarms.byCategory).filter(([, count]) => count > 0);
  if (entries.length === 0) return t.none;
  return entries
    .map(([category, count]) => {
      const name = (t.categories as Record<string, string>)[category] ?? category;
      return `${e(name)} ${count}`;
    })
    .join(' · ');
}

function deductions(list: readonly ScoreDeduction[], t: Text): string {
  if (list.length === 0) return '—';
  return list.map(d => `${e(t.reasons[d.reason])} −${d.points}`).join('<br>');
}

function table(rows: readonly MonthlyReportRow[], t: Text, ranked: boolean): string {
  const head = [
    ...(ranked ? [t.rank] : []),
    ranked ? t.enterprise : t.region,
    t.score,
    t.alarms,
    'P1/P2/P3/P4',
    t.per10Min,
    t.floods,
    t.standing,
    t.mtta,
    t.unacked,
    t.opened,
    t.closed,
    t.openAtEnd,
    t.overdue,
    t.missed,
    ...(ranked ? [t.deductions] : []),
  ];
  const body = rows.map(row => {
    const a = row.alarms;
    const h = row.hazards;
    const cells = [
      ...(ranked ? [String(row.rank ?? '')] : []),
      `${e(row.name)}<div class="id">${e(row.nodeId)}${ranked ? '' : ` · ${t.kinds[row.kind]}`}</div>`,
      `<strong>${row.score}</strong>`,
      String(a.alarms),
      `${a.byPriority[1]}/${a.byPriority[2]}/${a.byPriority[3]}/${a.byPriority[4]}`,
      String(a.per10MinAverage),
      String(a.floods),
      a.standing === null ? '—' : String(a.standing),
      e(minutes(a.meanAckMs, t)),
      String(a.unacknowledged),
      `${h.opened.total} (${h.opened.major})`,
      `${h.closed.total} (${h.closed.major})`,
      `${h.openAtEnd.total} (${h.openAtEnd.major})`,
      h.overdueAtEnd.total > 0
        ? `<span class="bad">${h.overdueAtEnd.total} (${h.overdueAtEnd.major})</span>`
        : '0',
      `${row.inspections.missed}`,
      ...(ranked ? [deductions(row.deductions, t)] : []),
    ];
    return `<tr>${cells.map(cell => `<td>${cell}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map(h => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${
    body.join('') || `<tr><td colspan="${head.length}">${t.none}</td></tr>`
  }</tbody></table><p class="hint">${e(t.bracketMajor)}</p>`;
}

// ---- inline SVG charts -------------------------------------------------------------------------

const W = 640;

function dailyChart(report: MonthlyReport): string {
  const days = report.daily;
  const height = 180;
  const left = 36;
  const bottom = 24;
  const max = niceMax(Math.max(0, ...days.map(day => day.alarms)));
  const step = (W - left - 8) / Math.max(1, days.length);
  const y = (value: number) => height - bottom - ((height - bottom - 10) * value) / max;
  const bars = days
    .map((day, i) => {
      const x = left + i * step;
      const top = y(day.alarms);
      const label =
        i % 5 === 0 || i === days.length - 1
          ? `<text x="${x + step / 2}" y="${height - 8}" class="tick" text-anchor="middle">${Number(day.date.slice(8))}</text>`
          : '';
      return `<rect x="${(x + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, step - 2).toFixed(1)}" height="${(height - bottom - top).toFixed(1)}" fill="#1565c0"><title>${e(day.date)}: ${day.alarms}</title></rect>${label}`;
    })
    .join('');
  const axis = [0, max / 2, max]
    .map(
      value =>
        `<line x1="${left}" x2="${W - 8}" y1="${y(value)}" y2="${y(value)}" class="grid"/><text x="${left - 4}" y="${y(value) + 4}" class="tick" text-anchor="end">${round(value)}</text>`,
    )
    .join('');
  return svg(height, axis + bars);
}

function rankingChart(rows: readonly MonthlyReportRow[]): string {
  return horizontal(
    rows.map(row => ({
      label: `${row.rank ?? ''}. ${row.name}`,
      segments: [{ value: row.score, colour: scoreColour(row.score) }],
      text: String(row.score),
    })),
    100,
  );
}

function priorityChart(rows: readonly MonthlyReportRow[]): string {
  const max = niceMax(Math.max(0, ...rows.map(row => row.alarms.alarms)));
  return horizontal(
    rows.map(row => ({
      label: row.name,
      segments: ([1, 2, 3, 4] as const).map(priority => ({
        value: row.alarms.byPriority[priority],
        colour: PRIORITY_COLOURS[priority],
      })),
      text: String(row.alarms.alarms),
    })),
    max,
    ([1, 2, 3, 4] as const).map(priority => ({
      label: `P${priority}`,
      colour: PRIORITY_COLOURS[priority],
    })),
  );
}

function hazardChart(rows: readonly MonthlyReportRow[], t: Text): string {
  const max = niceMax(
    Math.max(
      0,
      ...rows.flatMap(row => [
        row.hazards.opened.total,
        row.hazards.closed.total,
        row.hazards.overdueAtEnd.total,
      ]),
    ),
  );
  const bar = 8;
  const group = 3 * bar + 10;
  const labelWidth = 170;
  const height = Math.max(40, rows.length * group + 30);
  const scale = (value: number) => ((W - labelWidth - 40) * value) / max;
  const body = rows
    .map((row, i) => {
      const top = 6 + i * group;
      const bars = (
        [
          ['opened', row.hazards.opened.total],
          ['closed', row.hazards.closed.total],
          ['overdue', row.hazards.overdueAtEnd.total],
        ] as const
      )
        .map(
          ([kind, value], j) =>
            `<rect x="${labelWidth}" y="${top + j * bar}" width="${scale(value).toFixed(1)}" height="${bar - 1}" fill="${HAZARD_COLOURS[kind]}"/><text x="${labelWidth + scale(value) + 4}" y="${top + j * bar + bar - 1}" class="tick">${value}</text>`,
        )
        .join('');
      return `<text x="${labelWidth - 6}" y="${top + 1.5 * bar + 4}" class="label" text-anchor="end">${e(clip(row.name))}</text>${bars}`;
    })
    .join('');
  const legend = legendOf(
    [
      { label: t.opened, colour: HAZARD_COLOURS.opened },
      { label: t.closed, colour: HAZARD_COLOURS.closed },
      { label: t.overdue, colour: HAZARD_COLOURS.overdue },
    ],
    height - 8,
  );
  return svg(height, body + legend);
}

interface HorizontalRow {
  readonly label: string;
  readonly segments: readonly { readonly value: number; readonly colour: string }[];
  readonly text: string;
}

function horizontal(
  rows: readonly HorizontalRow[],
  max: number,
  legend: readonly { label: string; colour: string }[] = [],
): string {
  const row = 20;
  const labelWidth = 170;
  const height = Math.max(40, rows.length * row + (legend.length > 0 ? 30 : 10));
  const scale = (value: number) => ((W - labelWidth - 40) * value) / Math.max(1, max);
  const body = rows
    .map((entry, i) => {
      const top = 6 + i * row;
      let x = labelWidth;
      const segments = entry.segments
        .map(segment => {
          const width = scale(segment.value);
          const rect = `<rect x="${x.toFixed(1)}" y="${top}" width="${width.toFixed(1)}" height="${row - 6}" fill="${segment.colour}"/>`;
          x += width;
          return rect;
        })
        .join('');
      return `<text x="${labelWidth - 6}" y="${top + row - 9}" class="label" text-anchor="end">${e(clip(entry.label))}</text>${segments}<text x="${(x + 4).toFixed(1)}" y="${top + row - 9}" class="tick">${e(entry.text)}</text>`;
    })
    .join('');
  return svg(height, body + (legend.length > 0 ? legendOf(legend, height - 8) : ''));
}

function legendOf(items: readonly { label: string; colour: string }[], y: number): string {
  return items
    .map(
      (item, i) =>
        `<rect x="${170 + i * 110}" y="${y - 9}" width="10" height="10" fill="${item.colour}"/><text x="${184 + i * 110}" y="${y}" class="tick">${e(item.label)}</text>`,
    )
    .join('');
}

function svg(height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="100%" role="img">${body}</svg>`;
}

function scoreColour(score: number): string {
  return score >= 90 ? '#2e7d32' : score >= 75 ? '#f9a825' : score >= 60 ? '#ef6c00' : '#c62828';
}

/** 1, 2, 5 × 10ⁿ at or above `value` (an axis maximum). */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) if (factor * magnitude >= value) return factor * magnitude;
  return 10 * magnitude;
}

function clip(text: string, max = 18): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

const CSS = `
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; color: #1b1f24; margin: 0 auto; max-width: 1100px; padding: 16px; font-size: 13px; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 15px; margin: 18px 0 8px; border-bottom: 2px solid #1565c0; padding-bottom: 2px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.meta dt { color: #57606a; }
.meta dd { margin: 0; }
.notice { margin-top: 8px; padding: 6px 10px; background: #fff4e5; border-left: 4px solid #ef6c00; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }
.card { border: 1px solid #d0d7de; border-radius: 4px; padding: 6px 8px; break-inside: avoid; }
.card .label { color: #57606a; font-size: 11px; }
.card .value { font-size: 17px; font-weight: 600; }
.card.warn { border-color: #c62828; }
.card.warn .value, .bad { color: #c62828; font-weight: 600; }
.classes { color: #57606a; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-top: 12px; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 4px; padding: 6px; break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg .tick { font-size: 10px; fill: #57606a; }
svg .label { font-size: 11px; fill: #1b1f24; }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
table { border-collapse: collapse; width: 100%; font-size: 11px; }
th, td { border: 1px solid #d0d7de; padding: 3px 5px; text-align: right; vertical-align: top; }
th { background: #f6f8fa; }
td:nth-child(-n+2), th:nth-child(-n+2) { text-align: left; }
tr { break-inside: avoid; }
.id { color: #57606a; font-size: 10px; }
.hint { color: #57606a; font-size: 10px; margin: 2px 0 0; }
.method ul { margin: 4px 0; padding-left: 20px; }
footer { margin-top: 16px; color: #57606a; font-size: 10px; border-top: 1px solid #d0d7de; padding-top: 4px; }
@media print { body { padding: 0; max-width: none; } .charts { grid-template-columns: 1fr 1fr; } }
`;
