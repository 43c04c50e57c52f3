import {
  deviceMetrics,
  type Alarm,
  type DeviceView,
  type DeviceLive,
  type MusterList,
  pointInRing,
  type PositionsResponse,
  type RiskNode,
  type RiskResponse,
  type SiteView,
  type TagPosition,
} from '@vigil/contracts';
import { Fragment } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { apiGet, errorMessage } from '../app/api';
import { useConsole, useLoad, useNow, useTelemetry } from '../app/context';
import { formatAgo, formatQuantity, metricLabel, unitOf } from '../app/format';
import { label } from '../app/i18n';
import { alarmsByDevice } from '../app/plan';
import { areaLevels } from '../app/risk-view';
import { routeHref } from '../app/route';
import { AlarmList } from '../components/alarm-table';
import { SitePlan } from '../components/site-plan';
import { DeviceTrend } from './trends-page';

const POSITIONS_REFRESH_MS = 5000;
const RISK_REFRESH_MS = 10_000;

/** Risk tree, reloaded on a timer and soon after any alarm change. */
export function useRisk(): readonly RiskNode[] {
  const { alarms } = useConsole();
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const timer = setTimeout(() => setVersion(value => value + 1), 300);
    return () => clearTimeout(timer);
  }, [alarms]);
  const { data } = useLoad(() => apiGet<RiskResponse>('/api/v1/risk'), [version], RISK_REFRESH_MS);
  return data?.roots ?? [];
}

export function PlanPage(props: { params: Readonly<Record<string, string>> }) {
  const { t, sites, devices, alarms } = useConsole();
  const site = sites.find(entry => entry.id === props.params['site']) ?? sites[0];
  const selectedDevice = props.params['device'];
  const selectedArea = props.params['area'];
  const go = (params: Record<string, string | undefined>) => {
    location.hash = routeHref('plan', { site: site?.id, ...params });
  };

  const risk = useRisk();
  const positions = usePositions(site, devices);
  const siteDevices = useMemo(
    () => devices.filter(device => device.siteId === site?.id),
    [devices, site],
  );
  const byDevice = useMemo(
    () => (site ? alarmsByDevice(alarms.values(), site.id) : new Map<string, Alarm[]>()),
    [alarms, site],
  );
  const headCount = useMemo(() => {
    const counts = new Map<string, number>();
    for (const tag of positions.values())
      if (tag.areaId && !tag.stale) counts.set(tag.areaId, (counts.get(tag.areaId) ?? 0) + 1);
    return counts;
  }, [positions]);

  if (!site) return <p class="muted">{t('loading')}</p>;
  const device = siteDevices.find(entry => entry.deviceId === selectedDevice);
  const area = site.areas.find(entry => entry.id === selectedArea);
  return (
    <section class="plan-page">
      <div class="plan-main">
        <div class="filters">
          {sites.length > 1 && (
            <label>
              {t('site')}
              <select value={site.id} onChange={event => go({ site: event.currentTarget.value })}>
                {sites.map(entry => (
                  <option key={entry.id} value={entry.id}>
                    {entry.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <h2>{site.name}</h2>
          <span class="muted small">{t('clickHint')}</span>
        </div>
        <SitePlan
          site={site}
          devices={siteDevices}
          alarmsByDevice={byDevice}
          alarms={alarms.values()}
          positions={positions}
          risk={areaLevels(risk, site.id)}
          selectedArea={selectedArea}
          selectedDevice={selectedDevice}
          headCount={headCount}
          headCountLabel={(count, max) => t('headCount', { count, max })}
          onArea={areaId => go({ area: areaId })}
          onDevice={deviceId => go({ device: deviceId })}
        />
        <PlanLegend />
      </div>
      <aside class="plan-side">
        {area ? (
          <MusterPanel key={area.id} site={site} areaId={area.id} onClose={() => go({})} />
        ) : device ? (
          <DevicePanel
            key={device.deviceId}
            device={device}
            alarms={byDevice.get(device.deviceId) ?? []}
            position={positions.get(device.deviceId)}
            onClose={() => go({})}
          />
        ) : (
          <PeopleList positions={positions} site={site} onArea={areaId => go({ area: areaId })} />
        )}
      </aside>
    </section>
  );
}

/** Tag positions: polled from /api/v1/positions (stale flags) and moved live by WebSocket telemetry. */
function usePositions(
  site: SiteView | undefined,
  devices: readonly DeviceView[],
): ReadonlyMap<string, TagPosition> {
  const [positions, setPositions] = useState<ReadonlyMap<string, TagPosition>>(new Map());
  const { data } = useLoad<Pick<PositionsResponse, 'sites'>>(
    () =>
      site
        ? apiGet<PositionsResponse>('/api/v1/positions', { site: site.id })
        : Promise.resolve({ sites: [] }),
    [site?.id],
    POSITIONS_REFRESH_MS,
  );
  useEffect(() => {
    const tags = data?.sites.find(entry => entry.siteId === site?.id)?.tags ?? [];
    setPositions(current => {
      const next = new Map<string, TagPosition>();
      for (const tag of tags) {
        const live = current.get(tag.deviceId);
        const name =
          devices.find(entry => entry.siteId === tag.siteId && entry.deviceId === tag.deviceId)
            ?.name ?? tag.name;
        next.set(
          tag.deviceId,
          live && live.ts > tag.ts ? { ...live, stale: tag.stale } : { ...tag, name },
        );
      }
      return next;
    });
  }, [data, site?.id, devices]);
  const tagKeys = useMemo(
    () =>
      devices
        .filter(device => device.siteId === site?.id && device.deviceClass === 'tag')
        .map(device => `${device.siteId}/${device.deviceId}`),
    [devices, site?.id],
  );
  useTelemetry(tagKeys, update => {
    const { x, y } = update.values;
    if (typeof x !== 'number' || typeof y !== 'number') return;
    setPositions(current => {
      const previous = current.get(update.deviceId);
      if (previous && previous.ts >= update.ts) return current;
      const area = site?.areas.find(entry => pointInRing([x, y], entry.polygon));
      const device = devices.find(
        entry => entry.siteId === update.siteId && entry.deviceId === update.deviceId,
      );
      const battery = update.values['battery_pct'];
      const next = new Map(current);
      next.set(update.deviceId, {
        siteId: update.siteId,
        deviceId: update.deviceId,
        name: device?.name ?? update.deviceId,
        x,
        y,
        ts: update.ts,
        lastSeenAt: Date.now(),
        stale: false,
        ...(area ? { areaId: area.id } : {}),
        ...(typeof battery === 'number'
          ? { battery }
          : previous?.battery !== undefined
            ? { battery: previous.battery }
            : {}),
      });
      return next;
    });
  });
  return positions;
}

function PlanLegend() {
  const { t } = useConsole();
  const item = (className: string, text: string) => (
    <span class="legend-item">
      <span class={`swatch ${className}`} />
      {text}
    </span>
  );
  return (
    <div class="legend" aria-label={t('legend')}>
      {item('state-normal', t('deviceState.normal'))}
      {item('p1', `${t('deviceState.alarm')} P1`)}
      {item('p2', 'P2')}
      {item('p3', 'P3')}
      {item('state-fault', t('deviceState.fault'))}
      {item('state-offline', t('deviceState.offline'))}
      {item('tag', t('personnel'))}
      {item('crowd', t('crowding'))}
      {item('hatch', t('restrictedZone'))}
      {item('dashed', t('warningZone'))}
    </div>
  );
}

function MusterPanel(props: { site: SiteView; areaId: string; onClose: () => void }) {
  const { t, lang } = useConsole();
  const { data, error } = useLoad(
    () => apiGet<MusterList>(`/api/v1/areas/${props.site.id}/${props.areaId}/muster`),
    [props.site.id, props.areaId],
    POSITIONS_REFRESH_MS,
  );
  const area = props.site.areas.find(entry => entry.id === props.areaId);
  return (
    <div class="panel" id="muster" data-area={props.areaId}>
      <div class="panel-head">
        <h3>{t('musterList', { area: area?.name ?? props.areaId })}</h3>
        <button type="button" class="ghost" onClick={props.onClose}>
          {t('close')}
        </button>
      </div>
      {area && (
        <p class="muted small">
          {label(lang, 'areaKind', area.kind)} · {label(lang, 'risk', area.risk)}
        </p>
      )}
      {error !== undefined && <p class="error">{t('error', { message: errorMessage(error) })}</p>}
      {data && (
        <>
          <p>
            <strong
              class={area?.maxPeople !== undefined && data.inside > area.maxPeople ? 'over' : ''}
            >
              {t('musterInside', { inside: data.inside })}
              {area?.maxPeople !== undefined ? ` / ${area.maxPeople}` : ''}
            </strong>{' '}
            <span class="muted small">{t('musterRadius', { radius: data.radiusM })}</span>
          </p>
          {data.people.length === 0 ? (
            <p class="muted">{t('musterNone')}</p>
          ) : (
            <table class="compact">
              <thead>
                <tr>
                  <th>{t('personnel')}</th>
                  <th>{t('distance')}</th>
                  <th>{t('battery')}</th>
                  <th>{t('lastSeen')}</th>
                </tr>
              </thead>
              <tbody>
                {data.people.map(person => (
                  <tr
                    key={person.deviceId}
                    data-tag={person.deviceId}
                    class={person.stale ? 'stale' : ''}
                  >
                    <td>
                      {person.name} <span class="muted small">{person.deviceId}</span>
                    </td>
                    <td>{person.inside ? t('inside') : `${person.distanceM} m`}</td>
                    <td>
                      {person.battery === undefined ? '—' : `${Math.round(person.battery)} %`}
                    </td>
                    <td>
                      {formatAgo(lang, data.at - person.lastSeenAt)}
                      {person.stale && <span class="tag tag-warn">{t('stale')}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

function DevicePanel(props: {
  device: DeviceView;
  alarms: readonly Alarm[];
  position: TagPosition | undefined;
  onClose: () => void;
}) {
  const { t, lang, areaName } = useConsole();
  const { device } = props;
  const [values, setValues] = useState<Readonly<Record<string, number | boolean>>>({});
  // The last values the gateway has, then every new reading live.
  useEffect(() => {
    let live = true;
    apiGet<DeviceLive>(`/api/v1/devices/${device.siteId}/${device.deviceId}/live`).then(
      answer => live && setValues(current => ({ ...answer.values, ...current })),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [device.siteId, device.deviceId]);
  useTelemetry([`${device.siteId}/${device.deviceId}`], update =>
    setValues(current => ({ ...current, ...update.values })),
  );
  const metrics = deviceMetrics(device).names;
  const gas = typeof device.attributes['gas'] === 'string' ? device.attributes['gas'] : undefined;
  const trendMetric = metrics.find(metric => !['x', 'y', 'floor', 'still'].includes(metric));
  return (
    <div class="panel" id="device-panel" data-device={device.deviceId}>
      <div class="panel-head">
        <h3>{device.name}</h3>
        <button type="button" class="ghost" onClick={props.onClose}>
          {t('close')}
        </button>
      </div>
      <dl class="facts">
        <dt>{t('device')}</dt>
        <dd>
          {device.deviceId} · {label(lang, 'class', device.deviceClass)}
          {gas ? ` · ${gas}` : ''}
        </dd>
        {device.areaId && (
          <>
            <dt>{t('area')}</dt>
            <dd>{areaName(device.siteId, device.areaId)}</dd>
          </>
        )}
        <dt>{t('position')}</dt>
        <dd>
          {device.position
            ? `${device.position[0]}, ${device.position[1]} m`
            : props.position
              ? `${Math.round(props.position.x)}, ${Math.round(props.position.y)} m`
              : '—'}
        </dd>
        <dt>{t('interval')}</dt>
        <dd>{device.intervalSeconds} s</dd>
      </dl>
      {metrics.length > 0 && (
        <>
          <h4>{t('latestValues')}</h4>
          <dl class="facts" id="latest-values">
            {metrics.map(metric => (
              <Fragment key={metric}>
                <dt>{metricLabel(lang, metric, gas)}</dt>
                <dd>
                  {values[metric] === undefined
                    ? '—'
                    : formatQuantity(values[metric], unitOf(device.deviceClass, metric))}
                </dd>
              </Fragment>
            ))}
          </dl>
        </>
      )}
      <h4>{t('openAlarms')}</h4>
      <AlarmList alarms={props.alarms} emptyText={t('noAlarms')} />
      {trendMetric && (
        <>
          <h4>
            {metricLabel(lang, trendMetric, gas)}{' '}
            <a
              class="small"
              href={routeHref('trends', {
                site: device.siteId,
                device: device.deviceId,
                metric: trendMetric,
              })}
            >
              {t('openTrend')}
            </a>
          </h4>
          <DeviceTrend
            device={device}
            metric={trendMetric}
            rangeMs={3_600_000}
            height={200}
            compact
          />
        </>
      )}
    </div>
  );
}

function PeopleList(props: {
  positions: ReadonlyMap<string, TagPosition>;
  site: SiteView;
  onArea: (areaId: string) => void;
}) {
  const { t, lang, areaName } = useConsole();
  const now = useNow(5000);
  const people = [...props.positions.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div class="panel" id="people">
      <h3>
        {t('personnel')} <span class="count">{people.length}</span>
      </h3>
      {people.length === 0 ? (
        <p class="muted">{t('noData')}</p>
      ) : (
        <table class="compact">
          <tbody>
            {people.map(person => (
              <tr
                key={person.deviceId}
                data-tag={person.deviceId}
                class={person.stale ? 'stale' : ''}
              >
                <td>{person.name}</td>
                <td>
                  {person.areaId ? (
                    <button
                      type="button"
                      class="link"
                      onClick={() => props.onArea(person.areaId as string)}
                    >
                      {areaName(props.site.id, person.areaId)}
                    </button>
                  ) : (
                    '—'
                  )}
                </td>
                <td class="muted small">{formatAgo(lang, now - person.lastSeenAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="muted small">{t('clickHint')}</p>
    </div>
  );
}
