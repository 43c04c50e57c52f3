import {
  deviceMetrics,
  type DeviceView,
  type SetPoint,
  type TelemetrySeries,
} from '@vigil/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { apiGet, errorMessage } from '../app/api';
import { useConsole, useTelemetry } from '../app/context';
import { formatDuration, metricLabel } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';
import { TrendChart, type TrendData } from '../components/trend-chart';

const RANGES = [
  { key: '1h', ms: 3_600_000 },
  { key: '6h', ms: 6 * 3_600_000 },
  { key: '24h', ms: 24 * 3_600_000 },
  { key: '7d', ms: 7 * 24 * 3_600_000 },
  { key: '30d', ms: 30 * 24 * 3_600_000 },
] as const;

export function TrendsPage(props: { params: Readonly<Record<string, string>> }) {
  const { t, lang, devices } = useConsole();
  const trendable = devices.filter(device => deviceMetrics(device).names.length > 0);
  const siteId = props.params['site'] ?? trendable[0]?.siteId;
  const deviceId =
    props.params['device'] ?? trendable.find(device => device.siteId === siteId)?.deviceId;
  const device = trendable.find(entry => entry.siteId === siteId && entry.deviceId === deviceId);
  const metrics = device ? deviceMetrics(device).names : [];
  const metric =
    props.params['metric'] && metrics.includes(props.params['metric'])
      ? props.params['metric']
      : metrics[0];
  const range = RANGES.find(entry => entry.key === props.params['range']) ?? RANGES[0];
  const go = (changes: Record<string, string | undefined>) => {
    location.hash = routeHref('trends', {
      site: siteId,
      device: deviceId,
      metric,
      range: range.key,
      ...changes,
    });
  };

  return (
    <section class="trends-page">
      <div class="filters">
        <label>
          {t('device')}
          <select
            name="device"
            value={device ? `${device.siteId}/${device.deviceId}` : ''}
            onChange={event => {
              const [site, id] = event.currentTarget.value.split('/');
              go({ site, device: id, metric: undefined });
            }}
          >
            {!device && <option value="">{t('chooseDevice')}</option>}
            {trendable.map(entry => (
              <option
                key={`${entry.siteId}/${entry.deviceId}`}
                value={`${entry.siteId}/${entry.deviceId}`}
              >
                {entry.name} ({entry.deviceId})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('metric')}
          <select
            name="metric"
            value={metric}
            onChange={event => go({ metric: event.currentTarget.value })}
          >
            {metrics.map(name => (
              <option key={name} value={name}>
                {metricLabel(lang, name)} ({name})
              </option>
            ))}
          </select>
        </label>
        <div class="segmented" role="group" aria-label={t('range')}>
          {RANGES.map(entry => (
            <button
              key={entry.key}
              type="button"
              class={entry.key === range.key ? 'active' : ''}
              onClick={() => go({ range: entry.key })}
            >
              {entry.key}
            </button>
          ))}
        </div>
      </div>
      {device && metric ? (
        <DeviceTrend
          key={`${device.siteId}/${device.deviceId}/${metric}/${range.key}`}
          device={device}
          metric={metric}
          rangeMs={range.ms}
        />
      ) : (
        <p class="empty">{t('chooseDevice')}</p>
      )}
    </section>
  );
}

/** Keep at most this many live points appended to a raw series before trimming the oldest. */
const MAX_LIVE_POINTS = 20_000;

/** A device metric's trend for the last `rangeMs`, extended live from WebSocket telemetry. */
export function DeviceTrend(props: {
  device: DeviceView;
  metric: string;
  rangeMs: number;
  height?: number;
  compact?: boolean;
}) {
  const { t, lang } = useConsole();
  const { device, metric, rangeMs } = props;
  const [series, setSeries] = useState<TelemetrySeries | undefined>();
  const [data, setData] = useState<TrendData>({ t: [], value: [] });
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    const to = Date.now();
    apiGet<TelemetrySeries>(`/api/v1/telemetry/${device.siteId}/${device.deviceId}`, {
      metric,
      from: to - rangeMs,
      to: to + 60_000,
      points: 1000,
    }).then(
      loaded => {
        if (!live) return;
        setSeries(loaded);
        setData(loaded);
        setError(undefined);
      },
      (caught: unknown) => live && setError(errorMessage(caught)),
    );
    return () => {
      live = false;
    };
  }, [device.siteId, device.deviceId, metric, rangeMs]);

  // Live: raw series get every reading; aggregated ones get the reading as its own point (a long
  // range is read for its shape, and min/max keep the peaks).
  useTelemetry([`${device.siteId}/${device.deviceId}`], update => {
    const value = update.values[metric];
    if (value === undefined) return;
    const numeric = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    setData(current => {
      const last = current.t.at(-1);
      if (last !== undefined && update.ts <= last) return current;
      const cutoff = Date.now() - rangeMs;
      let start = 0;
      while (start < current.t.length && (current.t[start] as number) < cutoff) start += 1;
      start = Math.max(start, current.t.length + 1 - MAX_LIVE_POINTS);
      return {
        t: [...current.t.slice(start), update.ts],
        value: [...current.value.slice(start), numeric],
        ...(current.min && current.max
          ? {
              min: [...current.min.slice(start), numeric],
              max: [...current.max.slice(start), numeric],
            }
          : {}),
      };
    });
  });

  const labels = useMemo(
    () => ({
      time: t('time'),
      mean: t('mean'),
      min: t('min'),
      max: t('max'),
      // `L1`/`L2`/`HH` read as they are; other levels by their rule's name (超量程 …).
      setpoint: (setpoint: SetPoint) =>
        t('setpoint', {
          level: /^(L\d|H{1,2}|L{1,2})$/.test(setpoint.level)
            ? setpoint.level
            : label(lang, 'rule', setpoint.ruleId),
        }),
    }),
    [t, lang],
  );
  const gas = device.attributes['gas'];
  const name = metricLabel(lang, metric, typeof gas === 'string' ? gas : undefined);
  if (error) return <p class="error">{t('historyUnavailable', { message: error })}</p>;
  if (!series) return <p class="muted">{t('loading')}</p>;
  return (
    <div
      class="device-trend"
      data-device={`${device.siteId}/${device.deviceId}`}
      data-metric={metric}
    >
      {!props.compact && (
        <h3>
          {device.name} · {name}
          {series.unit && <span class="muted"> ({series.unit})</span>}
          <span class="muted small">{label(lang, 'class', device.deviceClass)}</span>
          <span class="pill pill-on small live">{t('live')}</span>
        </h3>
      )}
      <TrendChart
        data={data}
        setpoints={series.setpoints}
        unit={series.unit}
        label={name}
        lang={lang}
        height={props.height ?? 360}
        labels={labels}
      />
      {series.bucketMs > 0 && (
        <p class="muted small">{t('downsampled', { bucket: formatDuration(series.bucketMs) })}</p>
      )}
      {data.t.length === 0 && <p class="muted">{t('noTelemetry')}</p>}
    </div>
  );
}
