import type { AlarmHistoryResponse } from '@vigil/contracts';
import { useState } from 'preact/hooks';

import { ApiError, apiGet, errorMessage } from '../app/api';
import { useConsole, useLoad } from '../app/context';
import { formatQuantity, formatTime, unitOf } from '../app/format';
import { label } from '../app/i18n';

const HOUR = 3_600_000;

interface Query {
  readonly from: number;
  readonly to: number;
  readonly site: string;
  readonly device: string;
  readonly rule: string;
  readonly category: string;
  readonly priority: string;
  readonly limit: number;
}

/** `datetime-local` works in local time without seconds. */
function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

export function HistoryPage(props: { params: Readonly<Record<string, string>> }) {
  const { t, lang, sites, devices, device, areaName, describe } = useConsole();
  const [draft, setDraft] = useState<Query>(() => {
    const now = Date.now();
    return {
      from: now - 24 * HOUR,
      to: now + 60_000,
      site: props.params['site'] ?? '',
      device: props.params['device'] ?? '',
      rule: '',
      category: '',
      priority: '',
      limit: 500,
    };
  });
  const [query, setQuery] = useState<Query>(draft);
  const { data, error, loading } = useLoad(
    () =>
      apiGet<AlarmHistoryResponse>('/api/v1/history/alarms', {
        from: query.from,
        to: query.to,
        site: query.site,
        device: query.device,
        rule: query.rule.trim(),
        category: query.category,
        priority: query.priority,
        limit: query.limit,
      }),
    [query],
  );
  const set = (changes: Partial<Query>) => setDraft(current => ({ ...current, ...changes }));
  const quick = (hours: number) => {
    const now = Date.now();
    const next = { ...draft, from: now - hours * HOUR, to: now + 60_000 };
    setDraft(next);
    setQuery(next);
  };
  const siteDevices = devices.filter(entry => !draft.site || entry.siteId === draft.site);

  return (
    <section class="history-page">
      <form
        class="filters"
        id="history-form"
        onSubmit={event => {
          event.preventDefault();
          setQuery(draft);
        }}
      >
        <label>
          {t('from')}
          <input
            type="datetime-local"
            name="from"
            value={toLocalInput(draft.from)}
            onChange={event => set({ from: new Date(event.currentTarget.value).getTime() })}
          />
        </label>
        <label>
          {t('to')}
          <input
            type="datetime-local"
            name="to"
            value={toLocalInput(draft.to)}
            onChange={event => set({ to: new Date(event.currentTarget.value).getTime() })}
          />
        </label>
        {sites.length > 1 && (
          <label>
            {t('site')}
            <select
              value={draft.site}
              onChange={event => set({ site: event.currentTarget.value, device: '' })}
            >
              <option value="">{t('all')}</option>
              {sites.map(site => (
                <option key={site.id} value={site.id}>
                  {site.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('device')}
          <select
            name="device"
            value={draft.device}
            onChange={event => set({ device: event.currentTarget.value })}
          >
            <option value="">{t('all')}</option>
            {siteDevices.map(entry => (
              <option key={`${entry.siteId}/${entry.deviceId}`} value={entry.deviceId}>
                {entry.name} ({entry.deviceId})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('rule')}
          <input
            name="rule"
            size={10}
            value={draft.rule}
            onInput={event => set({ rule: event.currentTarget.value })}
          />
        </label>
        <label>
          {t('category')}
          <select
            name="category"
            value={draft.category}
            onChange={event => set({ category: event.currentTarget.value })}
          >
            <option value="">{t('all')}</option>
            {['process', 'warning', 'quality', 'system'].map(category => (
              <option key={category} value={category}>
                {label(lang, 'category', category)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('priority')}
          <select
            name="priority"
            value={draft.priority}
            onChange={event => set({ priority: event.currentTarget.value })}
          >
            <option value="">{t('all')}</option>
            {[1, 2, 3, 4].map(priority => (
              <option key={priority} value={priority}>
                P{priority}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          {t('apply')}
        </button>
        <div class="segmented" role="group">
          <button type="button" onClick={() => quick(1)}>
            {t('lastHours', { hours: 1 })}
          </button>
          <button type="button" onClick={() => quick(24)}>
            {t('lastHours', { hours: 24 })}
          </button>
          <button type="button" onClick={() => quick(24 * 7)}>
            {t('lastDays', { days: 7 })}
          </button>
        </div>
      </form>
      {error !== undefined && (
        <p
          class="error"
          role="alert"
          id="history-error"
          data-status={error instanceof ApiError ? error.status : undefined}
        >
          {t('historyUnavailable', { message: errorMessage(error) })}
        </p>
      )}
      {loading && !data && <p class="muted">{t('loading')}</p>}
      {data && (
        <>
          {data.truncated && <p class="notice">{t('historyTruncated', { limit: data.limit })}</p>}
          {data.events.length === 0 ? (
            <p class="empty">{t('noData')}</p>
          ) : (
            <table class="history-table" id="history">
              <thead>
                <tr>
                  <th>{t('time')}</th>
                  <th>{t('action')}</th>
                  <th>{t('priority')}</th>
                  <th>{t('area')}</th>
                  <th>{t('device')}</th>
                  <th>{t('alarm')}</th>
                  <th class="num">{t('value')}</th>
                  <th>{t('by')}</th>
                  <th>{t('note')}</th>
                </tr>
              </thead>
              <tbody>
                {data.events.map((event, index) => {
                  const entry = device(event.siteId, event.deviceId);
                  return (
                    <tr
                      key={`${event.alarmId}-${event.time}-${index}`}
                      class={`p${event.priority}`}
                      data-alarm-id={event.alarmId}
                      data-action={event.action}
                      data-device={`${event.siteId}/${event.deviceId}`}
                    >
                      <td class="time">{formatTime(lang, event.time)}</td>
                      <td>{label(lang, 'action', event.action)}</td>
                      <td>
                        <span class={`prio-badge p${event.priority}`}>P{event.priority}</span>
                      </td>
                      {/* An area rule's source is the area itself: its name, not its id. */}
                      <td>{areaName(event.siteId, entry ? entry.areaId : event.deviceId)}</td>
                      <td>{entry?.name ?? areaName(event.siteId, event.deviceId)}</td>
                      <td>
                        {describe({
                          siteId: event.siteId,
                          deviceId: event.deviceId,
                          ruleId: event.ruleId,
                          deviceClass: entry?.deviceClass,
                          metric: event.metric,
                          value: event.value,
                          threshold: event.threshold,
                          members: undefined,
                          message: event.message,
                        })}
                      </td>
                      <td class="num">
                        {formatQuantity(event.value, unitOf(entry?.deviceClass, event.metric))}
                      </td>
                      <td>{event.by ?? ''}</td>
                      {/* Notes of operators; the rule's own English text is not repeated here. */}
                      <td>{event.by ? (event.note ?? '') : ''}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
