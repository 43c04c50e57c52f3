import { HIDDEN_CAUSES, countHidden, type AlarmPriority, type AlarmState } from '@vigil/contracts';
import { useMemo, useState } from 'preact/hooks';

import { ALARM_TABS, filterAlarms, summariseTabs, tabOf, type AlarmTab } from '../app/alarms';
import { useConsole, useNow } from '../app/context';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';
import { AlarmTable } from '../components/alarm-table';

const PRIORITIES: readonly AlarmPriority[] = [1, 2, 3, 4];
const STATES = [
  'unacknowledged',
  'active-unacknowledged',
  'active-acknowledged',
  'returned-unacknowledged',
] as const;

export function AlarmsPage(props: { params: Readonly<Record<string, string>> }) {
  const { t, lang, alarms, sites, describe, device, connected } = useConsole();
  // Shelving expires on the clock: re-evaluate which tab an alarm belongs to every few seconds.
  const now = useNow(5000);
  // `?alarm=<id>`: the link a notification carries (docs/notifications.md). Its tab is shown
  // and its row opened, also when the link was followed through the login page.
  const linkedId = props.params['alarm'];
  const linked = linkedId ? alarms.get(linkedId) : undefined;
  const tab: AlarmTab = (ALARM_TABS as readonly string[]).includes(props.params['tab'] ?? '')
    ? (props.params['tab'] as AlarmTab)
    : linked
      ? tabOf(linked, now)
      : 'process';
  const [siteId, setSiteId] = useState<string>('');
  const [areaId, setAreaId] = useState<string>('');
  const [priorities, setPriorities] = useState<ReadonlySet<AlarmPriority>>(new Set());
  const [state, setState] = useState<(typeof STATES)[number] | ''>('');
  const [text, setText] = useState('');

  const summaries = useMemo(() => summariseTabs(alarms.values(), now), [alarms, now]);
  const hidden = useMemo(() => countHidden(alarms.values(), now), [alarms, now]);
  const visible = useMemo(
    () =>
      filterAlarms(
        alarms.values(),
        {
          tab,
          siteId: siteId || undefined,
          areaId: areaId || undefined,
          priorities,
          state: (state || undefined) as AlarmState | 'unacknowledged' | undefined,
          text,
        },
        now,
        alarm =>
          `${alarm.deviceId} ${device(alarm.siteId, alarm.deviceId)?.name ?? ''} ${alarm.ruleId} ${describe(alarm)}`,
      ),
    [alarms, tab, siteId, areaId, priorities, state, text, now, describe, device],
  );
  const areas = sites.filter(site => !siteId || site.id === siteId).flatMap(site => site.areas);
  const filtered = Boolean(siteId || areaId || priorities.size > 0 || state || text);

  return (
    <section class="alarms-page">
      {/* Always shown, zeros included: an operator must see what the list is not showing. */}
      <p class="hidden-strip" data-testid="hidden-strip" title={t('hiddenStripTitle')}>
        <a href={routeHref('alarms', { tab: 'shelved' })}>{t('hiddenStrip')}</a>
        {HIDDEN_CAUSES.map(cause => (
          <span
            key={cause}
            class={`hidden-cause${hidden[cause] > 0 ? ' some' : ''}`}
            data-cause={cause}
            data-count={hidden[cause]}
          >
            {label(lang, 'hidden', cause)} {hidden[cause]}
          </span>
        ))}
      </p>
      {linkedId && !linked && connected && (
        <p class="notice" data-testid="linked-alarm-gone">
          {t('linkedAlarmGone', { id: linkedId })}{' '}
          <a href={routeHref('history')}>{t('nav.history')}</a>
        </p>
      )}
      <div class="tabs" role="tablist">
        {ALARM_TABS.map(name => {
          const summary = summaries[name];
          return (
            <a
              key={name}
              role="tab"
              href={routeHref('alarms', { tab: name })}
              class={`tab${name === tab ? ' active' : ''}`}
              aria-selected={name === tab}
              data-tab={name}
            >
              {t(`tab.${name}`)}
              <span class="count" data-count={summary.total}>
                {summary.total}
              </span>
              {summary.unacknowledged > 0 && (
                <span
                  class={`count count-p${summary.worstUnacknowledged ?? 4}`}
                  title={t('unacknowledged')}
                >
                  {summary.unacknowledged} {t('unacknowledged')}
                </span>
              )}
            </a>
          );
        })}
      </div>
      <div class="filters">
        {sites.length > 1 && (
          <label>
            {t('filterSite')}
            <select
              value={siteId}
              onChange={event => {
                setSiteId(event.currentTarget.value);
                setAreaId('');
              }}
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
          {t('filterArea')}
          <select
            name="area"
            value={areaId}
            onChange={event => setAreaId(event.currentTarget.value)}
          >
            <option value="">{t('all')}</option>
            {areas.map(area => (
              <option key={area.id} value={area.id}>
                {area.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="chips">
          <legend>{t('filterPriority')}</legend>
          {PRIORITIES.map(priority => (
            <label
              key={priority}
              class={`chip p${priority}${priorities.has(priority) ? ' on' : ''}`}
            >
              <input
                type="checkbox"
                checked={priorities.has(priority)}
                onChange={() =>
                  setPriorities(current => {
                    const next = new Set(current);
                    if (next.has(priority)) next.delete(priority);
                    else next.add(priority);
                    return next;
                  })
                }
              />
              P{priority}
            </label>
          ))}
        </fieldset>
        <label>
          {t('filterState')}
          <select
            name="state"
            value={state}
            onChange={event => setState(event.currentTarget.value as typeof state)}
          >
            <option value="">{t('all')}</option>
            {STATES.map(value => (
              <option key={value} value={value}>
                {value === 'unacknowledged' ? t('unacknowledged') : label(lang, 'state', value)}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          {t('filterSearch')}
          <input
            type="search"
            name="search"
            value={text}
            onInput={event => setText(event.currentTarget.value)}
          />
        </label>
      </div>
      <AlarmTable
        alarms={visible}
        emptyText={filtered ? t('noAlarmsFiltered') : t('noAlarms')}
        focus={linked?.id}
      />
    </section>
  );
}
