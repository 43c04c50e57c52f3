import { DISPOSITIONS, HAZARD_DISPOSITIONS, type Alarm } from '@vigil/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';

import {
  groupRows,
  isUnacknowledged,
  needsDisposal,
  needsReset,
  type AlarmRow,
} from '../app/alarms';
import { useConsole, type AlarmActionName } from '../app/context';
import { formatLocation, formatQuantity, formatTime, unitOf } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';
import { GuarantorsOf } from './guarantors';

const SHELVE_MINUTES = [15, 30, 60, 120, 240, 480];

/**
 * The live alarm list. Rows are keyed by alarm id, so an update changes a row in place: the slow
 * blink of an unacknowledged alarm never restarts, and nothing flickers when it returns to normal.
 */
export function AlarmTable(props: {
  alarms: readonly Alarm[];
  emptyText: string;
  /** An alarm to open and scroll to once it is listed (a notification's link). */
  focus?: string | undefined;
}) {
  const { t } = useConsole();
  const [expandedGroups, setExpandedGroups] = useState<ReadonlySet<string>>(new Set());
  const [open, setOpen] = useState<string | undefined>();
  const rows = groupRows(props.alarms, expandedGroups);
  const focusAlarm = props.focus ? props.alarms.find(a => a.id === props.focus) : undefined;
  const focused = useRef<string | undefined>();
  useEffect(() => {
    // Once per link: afterwards the operator may close the row or open another.
    if (!focusAlarm || focused.current === focusAlarm.id) return;
    focused.current = focusAlarm.id;
    const groupId = focusAlarm.groupId;
    if (groupId && groupId !== focusAlarm.id)
      setExpandedGroups(current => new Set([...current, groupId]));
    setOpen(focusAlarm.id);
  }, [focusAlarm]);
  useEffect(() => {
    if (!open || open !== focused.current) return;
    document
      .querySelector(`tr.alarm-row[data-alarm-id="${CSS.escape(open)}"]`)
      ?.scrollIntoView({ block: 'center' });
  }, [open]);
  const toggleGroup = (groupId: string) =>
    setExpandedGroups(current => {
      const next = new Set(current);
      if (next.has(groupId)) next.delete(groupId);
      else next.add(groupId);
      return next;
    });

  if (rows.length === 0)
    return (
      <p class="empty" id="empty">
        {props.emptyText}
      </p>
    );
  return (
    <table class="alarms" id="alarms">
      <thead>
        <tr>
          <th>{t('priority')}</th>
          <th>{t('state')}</th>
          <th>{t('raisedAt')}</th>
          <th>{t('area')}</th>
          <th>{t('device')}</th>
          <th>{t('alarm')}</th>
          <th class="num">{t('value')}</th>
          <th>{t('actions')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.flatMap(row => {
          const groupId = row.alarm.groupId ?? row.alarm.id;
          const result = [
            <AlarmRowView
              key={row.alarm.id}
              row={row}
              open={open === row.alarm.id}
              expanded={expandedGroups.has(groupId)}
              onToggle={() =>
                setOpen(current => (current === row.alarm.id ? undefined : row.alarm.id))
              }
              onToggleGroup={() => toggleGroup(groupId)}
            />,
          ];
          if (open === row.alarm.id)
            result.push(
              <tr key={`${row.alarm.id}-detail`} class="detail-row">
                <td colSpan={8}>
                  <AlarmDetail alarm={row.alarm} />
                </td>
              </tr>,
            );
          return result;
        })}
      </tbody>
    </table>
  );
}

/** A narrow list of alarms for side panels: priority, text, state, and acknowledge in place. */
export function AlarmList(props: { alarms: readonly Alarm[]; emptyText: string }) {
  const { t, lang, act, describe } = useConsole();
  const rows = groupRows(
    props.alarms,
    new Set(props.alarms.map(alarm => alarm.groupId ?? alarm.id)),
  );
  if (rows.length === 0) return <p class="empty">{props.emptyText}</p>;
  return (
    <ul class="alarm-list">
      {rows.map(({ alarm }) => (
        <li
          key={alarm.id}
          class={`alarm-row p${alarm.priority}${alarm.state === 'active-unacknowledged' ? ' unack' : ''}`}
          data-alarm-id={alarm.id}
          data-state={alarm.state}
        >
          <span class={`prio-badge p${alarm.priority}`}>P{alarm.priority}</span>
          <span class="grow">
            {describe(alarm)}
            <span class="muted small"> · {label(lang, 'state', alarm.state)}</span>
          </span>
          {isUnacknowledged(alarm) && (
            <button type="button" class="primary" onClick={() => void act(alarm, 'acknowledge')}>
              {t('acknowledge')}
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}

function AlarmRowView(props: {
  row: AlarmRow;
  open: boolean;
  expanded: boolean;
  onToggle: () => void;
  onToggleGroup: () => void;
}) {
  const { t, lang, act, describe, device, areaName, orgName, alarms } = useConsole();
  const { alarm, role, hiddenCount, groupSize } = props.row;
  // A group's first-out alarm may sit in another tab (an early warning before the process alarm).
  const firstOutElsewhere =
    role === 'head' && alarm.groupId ? alarms.get(alarm.groupId) : undefined;
  const [busy, setBusy] = useState(false);
  const unack = isUnacknowledged(alarm);
  // Site rules (crowding, people present …) are about an area: their subject is the area id.
  const name = device(alarm.siteId, alarm.deviceId)?.name ?? areaName(alarm.siteId, alarm.deviceId);
  const unit = unitOf(alarm.deviceClass, alarm.metric);
  const classes = [
    'alarm-row',
    `p${alarm.priority}`,
    alarm.state === 'active-unacknowledged' ? 'unack' : '',
    alarm.state === 'returned-unacknowledged' ? 'returned' : '',
    role === 'member' ? 'member' : '',
    role === 'first-out' ? 'first-out' : '',
    props.open ? 'open' : '',
  ].filter(Boolean);
  const run = async (action: AlarmActionName) => {
    setBusy(true);
    await act(alarm, action);
    setBusy(false);
  };
  return (
    <tr
      class={classes.join(' ')}
      data-alarm-id={alarm.id}
      data-device={`${alarm.siteId}/${alarm.deviceId}`}
      data-rule={alarm.ruleId}
      data-level={alarm.level}
      data-state={alarm.state}
      data-priority={alarm.priority}
      data-category={alarm.category}
      data-first-out={role === 'first-out' ? 'true' : undefined}
    >
      <td class="prio">
        <span class={`prio-badge p${alarm.priority}`}>P{alarm.priority}</span>
      </td>
      <td class="state">
        {label(lang, 'state', alarm.state)}
        {needsReset(alarm) && <span class="tag tag-warn">{t('needsReset')}</span>}
      </td>
      <td class="time">{formatTime(lang, alarm.raisedAt)}</td>
      <td class="area">
        {alarm.location && alarm.areaId !== undefined ? (
          // A located alarm (fire-panel point): the area opens the plan with its muster list.
          <a href={routeHref('plan', { site: alarm.siteId, area: alarm.areaId })}>
            {areaName(alarm.siteId, alarm.areaId)}
          </a>
        ) : (
          areaName(alarm.siteId, alarm.areaId)
        )}
        {alarm.location && (
          <div class="muted small location" title={t('locationTitle')} data-location="">
            {formatLocation(lang, alarm.location)}
          </div>
        )}
      </td>
      <td class="device">
        <a href={routeHref('plan', { site: alarm.siteId, device: alarm.deviceId })}>
          {name ?? alarm.deviceId}
        </a>
        {device(alarm.siteId, alarm.deviceId) && name !== alarm.deviceId && (
          <span class="muted small"> {alarm.deviceId}</span>
        )}
      </td>
      <td class="text">
        {role === 'member' && (
          <span class="indent" aria-hidden="true">
            ↳{' '}
          </span>
        )}
        {role === 'first-out' && (
          <span class="tag tag-first-out" title={t('firstOutHint')}>
            {t('firstOut')}
          </span>
        )}
        <span class="description">{describe(alarm)}</span>
        {firstOutElsewhere && (
          <div class="muted small first-out-elsewhere" title={t('firstOutHint')}>
            {t('firstOut')}: {describe(firstOutElsewhere)} (
            {label(lang, 'category', firstOutElsewhere.category)})
          </div>
        )}
        {(role === 'first-out' || role === 'head') && groupSize > 1 && (
          <button type="button" class="link small" onClick={props.onToggleGroup}>
            {hiddenCount > 0
              ? t('related', { count: hiddenCount })
              : props.expanded
                ? t('hideRelated')
                : ''}
          </button>
        )}
        {needsDisposal(alarm) && <span class="tag">{t('needsDisposal')}</span>}
        {alarm.overdue && <span class="tag tag-error">{t('overdue')}</span>}
        {alarm.escalation && alarm.escalation.level > 0 && (
          <span class="tag tag-warn">
            {t('escalated', { node: orgName(alarm.escalation.nodeId) })}
          </span>
        )}
        {alarm.owner && <span class="tag tag-owner">{alarm.owner}</span>}
      </td>
      <td class="num">{formatQuantity(alarm.value, unit)}</td>
      <td class="actions">
        {unack && (
          <button
            type="button"
            class="primary"
            disabled={busy}
            onClick={() => void run('acknowledge')}
          >
            {t('acknowledge')}
          </button>
        )}
        {needsReset(alarm) && (
          <button type="button" disabled={busy} onClick={() => void run('reset')}>
            {t('reset')}
          </button>
        )}
        <button type="button" class="ghost" aria-expanded={props.open} onClick={props.onToggle}>
          {t('details')} {props.open ? '▴' : '▾'}
        </button>
      </td>
    </tr>
  );
}

type FormKind = 'shelve' | 'comment' | 'dispose';

function AlarmDetail(props: { alarm: Alarm }) {
  const { t, lang, act, device, siteName, orgName } = useConsole();
  const { alarm } = props;
  const [form, setForm] = useState<FormKind | undefined>(
    needsDisposal(alarm) ? 'dispose' : undefined,
  );
  const unit = unitOf(alarm.deviceClass, alarm.metric);
  const canShelve = alarm.priority !== 1;
  return (
    <div class="alarm-detail" data-alarm-id={alarm.id}>
      <div class="detail-grid">
        <dl>
          <dt>{t('site')}</dt>
          <dd>{siteName(alarm.siteId)}</dd>
          <GuarantorsOf path={`/api/v1/guarantors/alarm/${encodeURIComponent(alarm.id)}`} />
          <dt>{t('rule')}</dt>
          <dd>
            {alarm.ruleId} · {alarm.level} · {label(lang, 'category', alarm.category)}
            {alarm.latched && <span class="tag">{t('latched')}</span>}
            {!alarm.conditionActive && <span class="tag">{t('conditionCleared')}</span>}
          </dd>
          {alarm.threshold !== undefined && (
            <>
              <dt>{t('threshold')}</dt>
              <dd>{formatQuantity(alarm.threshold, unit)}</dd>
            </>
          )}
          {alarm.acknowledgedAt !== undefined && (
            <>
              <dt>{t('acknowledge')}</dt>
              <dd>
                {t('acknowledgedBy', {
                  by: alarm.acknowledgedBy ?? '—',
                  time: formatTime(lang, alarm.acknowledgedAt),
                })}
              </dd>
            </>
          )}
          {alarm.shelved && (
            <>
              <dt>{t('shelve')}</dt>
              <dd>
                {t('shelvedUntil', {
                  time: formatTime(lang, alarm.shelved.until),
                  by: alarm.shelved.by,
                  reason: alarm.shelved.reason,
                })}
              </dd>
            </>
          )}
          {alarm.suppressed && (
            <>
              <dt>{t('state')}</dt>
              <dd>{t('suppressedBy', { reason: label(lang, 'suppressed', alarm.suppressed) })}</dd>
              {(alarm.suppressedBy ?? []).map(cause => (
                <dd key={`${cause.kind}-${cause.since}`} class="suppressed-cause">
                  {cause.kind === 'parent-offline'
                    ? t('suppressedGateway', {
                        gateway: cause.gatewayId ?? '—',
                        time: formatTime(lang, cause.since),
                      })
                    : t('suppressedCause', {
                        cause: label(lang, 'suppressed', cause.kind),
                        by: cause.by ?? '—',
                        reason: cause.reason ?? '—',
                        time: formatTime(lang, cause.since),
                      })}
                </dd>
              ))}
            </>
          )}
          {alarm.escalation && (
            <>
              <dt>{t('escalated', { node: '' })}</dt>
              <dd>
                {orgName(alarm.escalation.nodeId)} · {formatTime(lang, alarm.escalation.at)}
              </dd>
            </>
          )}
          {alarm.disposition && (
            <>
              <dt>{t('disposition')}</dt>
              <dd>
                {t('disposedAs', {
                  kind: label(lang, 'disposition', alarm.disposition.kind),
                  by: alarm.disposition.by,
                })}
                {' — '}
                {alarm.disposition.note}
              </dd>
              {(HAZARD_DISPOSITIONS as readonly string[]).includes(alarm.disposition.kind) && (
                <dd>
                  <a
                    class="create-hazard"
                    data-alarm-id={alarm.id}
                    href={routeHref('hazards', { alarm: alarm.id })}
                  >
                    {t('hazardCreateFromAlarm')}
                  </a>
                </dd>
              )}
            </>
          )}
          {alarm.members && alarm.members.length > 0 && (
            <>
              <dt>{t('members')}</dt>
              <dd class="members">
                {alarm.members.map(id => (
                  <span key={id} class="tag">
                    {device(alarm.siteId, id)?.name ?? id}
                  </span>
                ))}
              </dd>
            </>
          )}
          {alarm.metric && (
            <>
              <dt>{t('metric')}</dt>
              <dd>
                <a
                  href={routeHref('trends', {
                    site: alarm.siteId,
                    device: alarm.deviceId,
                    metric: alarm.metric,
                  })}
                >
                  {t('openTrend')}
                </a>
              </dd>
            </>
          )}
        </dl>
        <div>
          <h4>{t('history')}</h4>
          <ol class="history">
            {[...alarm.history].reverse().map((entry, index) => (
              <li key={index}>
                <span class="muted">{formatTime(lang, entry.at)}</span>{' '}
                {label(lang, 'action', entry.action)}
                {entry.by && <strong> {entry.by}</strong>}
                {entry.note && <span class="note"> — {entry.note}</span>}
              </li>
            ))}
          </ol>
        </div>
      </div>
      <div class="detail-actions">
        {alarm.shelved ? (
          <button type="button" onClick={() => void act(alarm, 'unshelve')}>
            {t('unshelve')}
          </button>
        ) : (
          <button
            type="button"
            class={form === 'shelve' ? 'active' : ''}
            disabled={!canShelve}
            title={canShelve ? undefined : t('cannotShelveP1')}
            data-form="shelve"
            onClick={() => setForm('shelve')}
          >
            {t('shelve')}
          </button>
        )}
        <button
          type="button"
          class={form === 'comment' ? 'active' : ''}
          data-form="comment"
          onClick={() => setForm('comment')}
        >
          {t('comment')}
        </button>
        <button
          type="button"
          class={form === 'dispose' ? 'active' : ''}
          data-form="dispose"
          onClick={() => setForm('dispose')}
        >
          {t('dispose')}
        </button>
      </div>
      {form && (
        <ActionForm key={form} alarm={alarm} kind={form} onDone={() => setForm(undefined)} />
      )}
    </div>
  );
}

function ActionForm(props: { alarm: Alarm; kind: FormKind; onDone: () => void }) {
  const { t, lang, act } = useConsole();
  const [note, setNote] = useState('');
  const [minutes, setMinutes] = useState(60);
  const [disposition, setDisposition] = useState<(typeof DISPOSITIONS)[number]>('real-event');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const body =
      props.kind === 'shelve'
        ? { reason: note.trim(), minutes }
        : props.kind === 'dispose'
          ? { disposition, note: note.trim() }
          : { note: note.trim() };
    const ok = await act(props.alarm, props.kind, body);
    setBusy(false);
    if (ok) props.onDone();
  };
  return (
    <form class="action-form" data-action={props.kind} onSubmit={event => void submit(event)}>
      {props.kind === 'shelve' && (
        <label>
          {t('minutes')}
          <select value={minutes} onChange={event => setMinutes(Number(event.currentTarget.value))}>
            {SHELVE_MINUTES.map(value => (
              <option key={value} value={value}>
                {t('minutesValue', { minutes: value })}
              </option>
            ))}
          </select>
        </label>
      )}
      {props.kind === 'dispose' && (
        <label>
          {t('disposition')}
          <select
            name="disposition"
            value={disposition}
            onChange={event => setDisposition(event.currentTarget.value as typeof disposition)}
          >
            {DISPOSITIONS.map(kind => (
              <option key={kind} value={kind}>
                {label(lang, 'disposition', kind)}
              </option>
            ))}
          </select>
        </label>
      )}
      <label class="grow">
        {props.kind === 'shelve' ? t('reason') : t('note')}
        <input
          name="note"
          required
          maxLength={2000}
          value={note}
          onInput={event => setNote(event.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary" disabled={busy || note.trim() === ''}>
        {t(props.kind)}
      </button>
      <button type="button" class="ghost" onClick={props.onDone}>
        {t('cancel')}
      </button>
    </form>
  );
}
