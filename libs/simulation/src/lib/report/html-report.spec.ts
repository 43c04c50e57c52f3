import { renderLoadReportHtml } from './html-report';
import type { LoadRunReport, SecondSample } from './load-report';
import { escapeXml, niceTicks, svgLineChart } from './svg-chart';

const second = (t: number, extra: Partial<SecondSample> = {}): SecondSample => ({
  t,
  offered: 1000,
  sent: 1000,
  ingested: 1000,
  stored: t === 0 ? null : 990,
  backlog: 10,
  raises: 2,
  latency: t === 2 ? null : { p50: 5, p95: 9, p99: 12 },
  eventLoopLagMs: 3,
  processes: { vigil: { cpuPct: 40, rssMb: 200 }, 'load-generator': { cpuPct: 5, rssMb: 80 } },
  ...extra,
});

export const sampleReport: LoadRunReport = {
  kind: 'load-run',
  title: 'vigil <steady> & "co"',
  target: 'vigil',
  startedAt: '2026-11-23T12:00:00.000Z',
  durationMs: 5000,
  profile: 'steady 1000/s for 5s',
  offeredPeakRate: 1000,
  qos: 0,
  batch: 1,
  fleet: { name: 'f', devices: 10 },
  totals: {
    offered: 5000,
    sent: 5000,
    stored: 4990,
    lost: 10,
    lossPct: 0.2,
    achievedRate: 1000,
    storedRate: 998,
    generatorMissed: 0,
    generatorDeferredTicks: 0,
    deadLetters: 0,
    persisterRejected: 0,
    missingSamples: 0,
  },
  alarms: {
    expected: 10,
    exactlyOnce: 9,
    missed: 1,
    duplicated: 0,
    unexpected: 0,
    missedOnWebSocket: 0,
    unexpectedByRule: {},
  },
  latencyMs: {
    publishToWebSocket: { count: 9, min: 3, p50: 5, p95: 9, p99: 12, max: 12, mean: 6 },
    publishToDetection: { count: 9, min: 2, p50: 4, p95: 8, p99: 11, max: 11, mean: 5 },
  },
  processes: {
    vigil: { cpuAvgPct: 40, cpuMaxPct: 40, rssStartMb: 200, rssMaxMb: 200, rssEndMb: 200 },
  },
  sustained: { ok: false, reasons: ['1 of 10 expected alarms missed <b>'] },
  series: [0, 1, 2, 3, 4].map(t => second(t)),
  sentBySecond: [
    [0, 1000],
    [1, 1000],
  ],
  storedBySecond: [
    [0, 990],
    [1, 1000],
  ],
  notes: ['a note'],
};

describe('HTML report', () => {
  it('is one self-contained page: no script, no external resource', () => {
    const html = renderLoadReportHtml('Report', [sampleReport]);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(
      /https?:\/\//,
    );
    expect(html).not.toMatch(/<link|@import|url\(/i);
    expect((html.match(/<svg /g) ?? []).length).toBe(6);
  });

  it('escapes what it did not write itself', () => {
    const html = renderLoadReportHtml('Report', [sampleReport]);
    expect(html).toContain('vigil &lt;steady&gt; &amp; &quot;co&quot;');
    expect(html).toContain('missed &lt;b&gt;');
    expect(html).not.toContain('<b>');
  });

  it('says what failed and shows the figures', () => {
    const html = renderLoadReportHtml('Report', [sampleReport]);
    expect(html).toContain('Not sustained');
    expect(html).toContain('12 ms');
    expect(html).toContain('50 ms target');
  });
});

describe('SVG line chart', () => {
  it('breaks lines at missing values and marks lone points', () => {
    const svg = svgLineChart({
      title: 't',
      series: [
        {
          name: 'a',
          points: [
            [0, 1],
            [1, 2],
            [2, null],
            [3, 4],
            [4, 5],
          ],
        },
        {
          name: 'b',
          points: [
            [0, null],
            [1, 3],
          ],
        },
      ],
    });
    expect((svg.match(/<path /g) ?? []).length).toBe(2);
    expect(svg).toContain('<circle');
  });

  it('has nice ticks', () => {
    expect(niceTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 0.9, 3)).toEqual([0, 0.5]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it('escapes XML', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});
