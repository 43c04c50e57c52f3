import { escapeMarkup } from '@vigil/contracts';

/** One line of a chart: points as [x, y]; a `null` y breaks the line (no data that second). */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number | null])[];
  /** CSS colour; default from the palette by index. */
  readonly colour?: string;
  readonly dashed?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** Horizontal reference lines, e.g. a latency target. */
  readonly guides?: readonly { readonly y: number; readonly label: string }[];
  /** Force the y axis to start at 0 (default true). */
  readonly zeroBased?: boolean;
}

/** Colour-blind-safe palette (Okabe–Ito). */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
] as const;

export const escapeXml = escapeMarkup;

/** 1, 2, 5 × 10^n steps giving about `count` ticks over [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find(factor => factor * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) {
    ticks.push(Number(tick.toPrecision(12)));
  }
  return ticks;
}

export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toFixed(1)}k`;
  if (abs >= 100 || value === Math.round(value)) return String(Math.round(value));
  return String(+value.toPrecision(3));
}

/**
 * A self-contained SVG line chart (no script, no external resources), so that a report is one
 * HTML file that opens on a closed control-room network.
 */
export function svgLineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 260;
  const margin = { left: 62, right: 16, top: 30, bottom: 40 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;

  const xs: number[] = [];
  const ys: number[] = [];
  for (const series of options.series) {
    for (const [x, y] of series.points) {
      xs.push(x);
      if (y !== null && Number.isFinite(y)) ys.push(y);
    }
  }
  for (const guide of options.guides ?? []) ys.push(guide.y);
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  let yMin = ys.length ? Math.min(...ys) : 0;
  let yMax = ys.length ? Math.max(...ys) : 1;
  if (options.zeroBased ?? true) yMin = Math.min(0, yMin);
  if (yMax === yMin) yMax = yMin + 1;
  const yTicks = niceTicks(yMin, yMax);
  yMax = Math.max(yMax, ...yTicks);
  const xSpan = xMax === xMin ? 1 : xMax - xMin;
  const sx = (x: number): number => margin.left + ((x - xMin) / xSpan) * plotWidth;
  const sy = (y: number): number =>
    margin.top + plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight;
  const f = (n: number): string => n.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" font-family="sans-serif" font-size="11">`,
    `<text x="${margin.left}" y="18" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#ccc"/>`,
  ];
  for (const tick of yTicks) {
    const y = sy(tick);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${f(y)}" y2="${f(y)}" stroke="#eee"/>`,
      `<text x="${margin.left - 6}" y="${f(y + 4)}" text-anchor="end">${formatTick(tick)}</text>`,
    );
  }
  for (const tick of niceTicks(xMin, xMax, 8)) {
    const x = sx(tick);
    parts.push(
      `<line x1="${f(x)}" x2="${f(x)}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" stroke="#999"/>`,
      `<text x="${f(x)}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${formatTick(tick)}</text>`,
    );
  }
  if (options.xLabel) {
    parts.push(
      `<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    parts.push(
      `<text transform="translate(12 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    );
  }
  for (const guide of options.guides ?? []) {
    const y = sy(guide.y);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${f(y)}" y2="${f(y)}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${margin.left + plotWidth - 4}" y="${f(y - 4)}" text-anchor="end" fill="#c00">${escapeXml(guide.label)}</text>`,
    );
  }
  options.series.forEach((series, index) => {
    const colour = series.colour ?? PALETTE[index % PALETTE.length];
    // A lone point between gaps draws no line: it gets a dot below instead.
    const segments: string[] = [];
    let current: string[] = [];
    for (const [x, y] of series.points) {
      if (y === null || !Number.isFinite(y)) {
        if (current.length > 1) segments.push(current.join(' '));
        current = [];
        continue;
      }
      current.push(`${current.length ? 'L' : 'M'}${f(sx(x))},${f(sy(y))}`);
    }
    if (current.length > 1) segments.push(current.join(' '));
    const dash = series.dashed ? ' stroke-dasharray="5 3"' : '';
    for (const d of segments) {
      parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"${dash}/>`);
    }
    // Single points would not show as a path: mark them.
    if (series.points.filter(([, y]) => y !== null).length === 1) {
      const [x, y] = series.points.find(([, value]) => value !== null) as [number, number];
      parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" fill="${colour}"/>`);
    }
    const legendX = margin.left + 8 + (index % 4) * 160;
    const legendY = margin.top + 14 + Math.floor(index / 4) * 14;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 18}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 22}" y="${legendY}">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
