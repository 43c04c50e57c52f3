import {
  DEVICE_HEALTH_STATUSES,
  type DeviceHealthResponse,
  type DeviceHealthStatus,
} from '@vigil/contracts';
import { useState } from 'preact/hooks';

import { apiGet, errorMessage } from '../app/api';
import { useConsole, useLoad } from '../app/context';
import { formatAgo, formatDuration } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';

const REFRESH_MS = 5000;

export function HealthPage() {
  const { t, lang, areaName } = useConsole();
  const [status, setStatus] = useState<DeviceHealthStatus | 'lowBattery' | ''>('');
  const { data, error } = useLoad(
    () => apiGet<DeviceHealthResponse>('/api/v1/devices/health'),
    [],
    REFRESH_MS,
  );
  if (!data)
    return (
      <p class={error ? 'error' : 'muted'}>
        {error ? t('error', { message: errorMessage(error) }) : t('loading')}
      </p>
    );
  const rows = data.devices.filter(device =>
    status === '' ? true : status === 'lowBattery' ? device.lowBattery : device.status === status,
  );
  return (
    <section class="health-page">
      <div class="summary-chips" role="group">
        <button
          type="button"
          class={`chip${status === '' ? ' on' : ''}`}
          onClick={() => setStatus('')}
        >
          {t('all')} {data.devices.length}
        </button>
        {[...DEVICE_HEALTH_STATUSES, 'lowBattery' as const].map(name => (
          <button
            key={name}
            type="button"
            class={`chip health-${name}${status === name ? ' on' : ''}`}
            data-status={name}
            onClick={() => setStatus(name)}
          >
            {name === 'lowBattery' ? t('lowBattery') : t(`health.${name}`)}{' '}
            <strong>{data.summary[name]}</strong>
          </button>
        ))}
      </div>
      <table class="health" id="health">
        <thead>
          <tr>
            <th>{t('status')}</th>
            <th>{t('device')}</th>
            <th>{t('area')}</th>
            <th>{t('lastSeen')}</th>
            <th>{t('interval')}</th>
            <th>{t('battery')}</th>
            <th>{t('clockSkew')}</th>
            <th>{t('qualityAlarms')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(device => (
            <tr
              key={`${device.siteId}/${device.deviceId}`}
              data-device={`${device.siteId}/${device.deviceId}`}
              data-status={device.status}
            >
              <td>
                <span class={`status status-${device.status}`}>{t(`health.${device.status}`)}</span>
              </td>
              <td>
                <a href={routeHref('plan', { site: device.siteId, device: device.deviceId })}>
                  {device.name}
                </a>
                <div class="muted small">
                  {device.deviceId} · {label(lang, 'class', device.deviceClass)}
                </div>
              </td>
              <td>{areaName(device.siteId, device.areaId)}</td>
              <td>{formatAgo(lang, device.silentMs)}</td>
              <td>{device.intervalSeconds} s</td>
              <td class={device.lowBattery ? 'over' : ''}>
                {device.battery === undefined ? '—' : `${Math.round(device.battery)} %`}
              </td>
              <td>
                {device.clockSkewMs === undefined
                  ? '—'
                  : formatDuration(Math.abs(device.clockSkewMs))}
              </td>
              <td>
                {device.qualityAlarms.map(alarm => (
                  <span key={alarm.id} class={`tag prio-p${alarm.priority}`}>
                    {label(lang, 'rule', alarm.ruleId)}
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
