import type { SetPoint } from '@vigil/contracts';
import { useEffect, useRef } from 'preact/hooks';
import uPlot, { type AlignedData, type Options } from 'uplot';

import { formatTime } from '../app/format';
import type { Lang } from '../app/i18n';

export interface TrendData {
  readonly t: readonly number[];
  readonly value: ReadonlyArray<number | null>;
  readonly min?: ReadonlyArray<number | null>;
  readonly max?: ReadonlyArray<number | null>;
}

/** Set-point lines in the priority colours of the alarm list (GB 15322 / GB 16808 conventions). */
const PRIORITY_COLOURS: Readonly<Record<number, string>> = {
  1: '#e5484d',
  2: '#f5891f',
  3: '#f2c94c',
  4: '#3b82f6',
};

function formatAxisTime(lang: Lang, ms: number, withDate: boolean, withSeconds: boolean): string {
  const date = new Date(ms);
  const time = date.toLocaleTimeString(lang, {
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
    ...(withSeconds ? { second: '2-digit' } : {}),
  });
  return withDate
    ? `${date.toLocaleDateString(lang, { month: '2-digit', day: '2-digit' })} ${time}`
    : time;
}

function toAligned(data: TrendData): AlignedData {
  const seconds = data.t.map(ms => ms / 1000);
  const columns: AlignedData = [seconds, data.value as (number | null)[]];
  if (data.min && data.max)
    columns.push(data.min as (number | null)[], data.max as (number | null)[]);
  return columns;
}

/**
 * One metric's history with its alarm set-points drawn as horizontal lines (uPlot, bundled). The
 * y range always includes the set-points, so the operator sees how far the value is from them.
 */
export function TrendChart(props: {
  data: TrendData;
  setpoints: readonly SetPoint[];
  unit: string;
  label: string;
  lang: Lang;
  height?: number;
  labels: {
    time: string;
    mean: string;
    min: string;
    max: string;
    setpoint: (setpoint: SetPoint) => string;
  };
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const aggregated = props.data.min !== undefined;
  const setpointKey = props.setpoints.map(sp => `${sp.ruleId}:${sp.value}`).join('|');

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const setpoints = props.setpoints;
    const stroke = '#4aa3ff';
    const options: Options = {
      width: element.clientWidth || 800,
      height: props.height ?? 320,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            const values = [min, max, ...setpoints.map(sp => sp.value)].filter(Number.isFinite);
            if (values.length === 0) return [0, 1];
            const low = Math.min(...values);
            const high = Math.max(...values);
            const pad = (high - low || Math.abs(high) || 1) * 0.08;
            return [low - pad, high + pad];
          },
        },
      },
      axes: [
        {
          stroke: '#9aa4b2',
          grid: { stroke: '#2a3342' },
          ticks: { stroke: '#2a3342' },
          // 24-hour clock, with the date when the range spans days (control-room convention).
          values: (u, splits) => {
            const span = (u.scales['x']?.max ?? 0) - (u.scales['x']?.min ?? 0);
            const step = splits.length > 1 ? (splits[1] as number) - (splits[0] as number) : span;
            return splits.map(split =>
              formatAxisTime(props.lang, split * 1000, span > 86_400, step < 60),
            );
          },
        },
        { stroke: '#9aa4b2', grid: { stroke: '#2a3342' }, ticks: { stroke: '#2a3342' }, size: 56 },
      ],
      series: [
        {
          label: props.labels.time,
          value: (_u, v) => (v == null ? '—' : formatTime(props.lang, v * 1000)),
        },
        {
          label: aggregated ? props.labels.mean : props.label,
          stroke,
          width: 2,
          spanGaps: false,
          points: { show: false },
        },
        ...(aggregated
          ? [
              {
                label: props.labels.min,
                stroke: '#7d8796',
                width: 1,
                dash: [4, 4],
                points: { show: false },
              },
              {
                label: props.labels.max,
                stroke: '#c9d1d9',
                width: 1,
                dash: [4, 4],
                points: { show: false },
              },
            ]
          : []),
      ],
      hooks: {
        draw: [
          u => {
            const { ctx, bbox } = u;
            ctx.save();
            ctx.font = `${Math.round(12 * devicePixelRatio)}px sans-serif`;
            ctx.textAlign = 'left';
            ctx.textBaseline = 'bottom';
            for (const sp of setpoints) {
              const y = Math.round(u.valToPos(sp.value, 'y', true));
              if (y < bbox.top || y > bbox.top + bbox.height) continue;
              const colour = PRIORITY_COLOURS[sp.priority] ?? '#e5484d';
              ctx.strokeStyle = colour;
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.setLineDash([10 * devicePixelRatio, 6 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(bbox.left, y);
              ctx.lineTo(bbox.left + bbox.width, y);
              ctx.stroke();
              ctx.fillStyle = colour;
              const text = `${props.labels.setpoint(sp)} ${sp.value}${props.unit ? ` ${props.unit}` : ''}`;
              ctx.fillText(text, bbox.left + 6 * devicePixelRatio, y - 3 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    const chart = new uPlot(options, toAligned(props.data), element);
    plot.current = chart;
    const observer = new ResizeObserver(() =>
      chart.setSize({ width: element.clientWidth, height: props.height ?? 320 }),
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
    // Rebuilt when the shape changes; data updates go through setData below.
  }, [setpointKey, aggregated, props.unit, props.label, props.lang, props.height]);

  useEffect(() => {
    plot.current?.setData(toAligned(props.data));
  }, [props.data]);

  return <div class="trend-chart" ref={container} />;
}
