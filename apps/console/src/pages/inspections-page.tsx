import {
  DEFAULT_SITE_TIME_ZONE,
  INSPECTION_ANSWERS,
  type InspectionAnswer,
  type InspectionMiss,
  type InspectionRecord,
  type InspectionScheduleView,
} from '@vigil/contracts';
import { useState } from 'preact/hooks';

import { apiGet, apiPost, errorMessage } from '../app/api';
import { useConsole, useLoad } from '../app/context';
import { formatTime } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';
import { GuarantorsSection } from '../components/guarantors';

const REFRESH_MS = 5000;

/**
 * Inspection schedules (巡检 / 隐患排查计划, docs/interfaces.md §Inspections): the schedules with
 * their window, due time and missed windows, a form to record a signed inspection, the records and
 * the missed windows. `#/inspections?schedule=plant-1/tf-team-daily` opens the form.
 */
export function InspectionsPage(props: { params: Readonly<Record<string, string>> }) {
  const { t, lang, sites } = useConsole();
  const [recording, setRecording] = useState<string | undefined>(props.params['schedule']);
  const schedules = useLoad(
    () => apiGet<InspectionScheduleView[]>('/api/v1/inspections/schedules'),
    [],
    REFRESH_MS,
  );
  const records = useLoad(
    () => apiGet<InspectionRecord[]>('/api/v1/inspections/records', { limit: '50' }),
    [],
    REFRESH_MS,
  );
  const missed = useLoad(
    () => apiGet<InspectionMiss[]>('/api/v1/inspections/missed', { limit: '50' }),
    [],
    REFRESH_MS,
  );
  const zones = [...new Set(schedules.data?.map(schedule => schedule.timeZone) ?? [])];
  const names = new Map(
    (schedules.data ?? []).map(schedule => [`${schedule.siteId}/${schedule.id}`, schedule.name]),
  );
  const open = schedules.data?.find(schedule => `${schedule.siteId}/${schedule.id}` === recording);
  return (
    <section class="inspections-page">
      <div class="filters">
        <h2>{t('inspectionTitle')}</h2>
      </div>
      <p class="muted">
        {t('inspectionHint', {
          zone: zones.length > 0 ? zones.join(', ') : DEFAULT_SITE_TIME_ZONE,
        })}
      </p>
      {schedules.error !== undefined && (
        <p class="error">{t('error', { message: errorMessage(schedules.error) })}</p>
      )}
      {open && (
        <RecordForm
          key={recording}
          schedule={open}
          onCancel={() => setRecording(undefined)}
          onRecorded={() => {
            setRecording(undefined);
            schedules.reload();
            records.reload();
            missed.reload();
          }}
        />
      )}
      <h3>{t('inspectionSchedules')}</h3>
      {schedules.data && schedules.data.length === 0 && <p class="muted">{t('inspectionEmpty')}</p>}
      {schedules.data && schedules.data.length > 0 && (
        <table id="inspection-schedules">
          <thead>
            <tr>
              <th>{t('inspectionName')}</th>
              <th>{t('inspectionLevel')}</th>
              <th>{t('inspectionTarget')}</th>
              <th>{t('inspectionResponsible')}</th>
              <th>{t('inspectionCurrent')}</th>
              <th>{t('inspectionDue')}</th>
              <th>{t('inspectionStatus')}</th>
              <th>{t('inspectionLast')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {schedules.data.map(schedule => (
              <ScheduleRow
                key={`${schedule.siteId}/${schedule.id}`}
                schedule={schedule}
                multiSite={sites.length > 1}
                onRecord={() => setRecording(`${schedule.siteId}/${schedule.id}`)}
              />
            ))}
          </tbody>
        </table>
      )}
      <GuarantorsSection />
      <h3>{t('inspectionHistory')}</h3>
      {records.data && records.data.length === 0 && <p class="muted">{t('inspectionNoRecords')}</p>}
      {records.data && records.data.length > 0 && (
        <table id="inspection-records">
          <thead>
            <tr>
              <th>{t('inspectionNo')}</th>
              <th>{t('inspectionName')}</th>
              <th>{t('inspectionWindow')}</th>
              <th>{t('inspectionBy')}</th>
              <th>{t('inspectionAt')}</th>
              <th>{t('inspectionResult')}</th>
            </tr>
          </thead>
          <tbody>
            {records.data.map(record => {
              const fails = record.answers.filter(answer => answer.answer === 'fail');
              return (
                <tr key={record.id} class="inspection-record" data-record-id={record.id}>
                  <td>{record.no}</td>
                  <td>{names.get(`${record.siteId}/${record.scheduleId}`) ?? record.scheduleId}</td>
                  <td>{record.windowId}</td>
                  <td>
                    {record.by} <span class="muted">({label(lang, 'role', record.role)})</span>
                  </td>
                  <td>{formatTime(lang, record.at)}</td>
                  <td>
                    {fails.length === 0 ? (
                      <span class="tag">{t('inspectionAllPass')}</span>
                    ) : (
                      <span class="tag tag-warn">
                        {t('inspectionFails', { count: fails.length })}
                      </span>
                    )}{' '}
                    {fails.map(answer =>
                      answer.hazardId ? (
                        <a
                          key={answer.itemId}
                          class="inspection-hazard"
                          href={routeHref('hazards', { id: answer.hazardId })}
                        >
                          {t('inspectionHazard', { no: answer.hazardNo ?? '?' })}{' '}
                        </a>
                      ) : null,
                    )}
                    {record.resolvedWindows && record.resolvedWindows.length > 0 && (
                      <span class="muted">
                        {' '}
                        {t('inspectionMadeUp', { windows: record.resolvedWindows.join('、') })}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h3>{t('inspectionMissedTitle')}</h3>
      {missed.data && missed.data.length === 0 && <p class="muted">{t('inspectionNoMissed')}</p>}
      {missed.data && missed.data.length > 0 && (
        <table id="inspection-missed">
          <thead>
            <tr>
              <th>{t('inspectionName')}</th>
              <th>{t('inspectionMissedWindow')}</th>
              <th>{t('inspectionMissedAt')}</th>
              <th>{t('inspectionStatus')}</th>
            </tr>
          </thead>
          <tbody>
            {missed.data.map(miss => (
              <tr
                key={`${miss.siteId}/${miss.scheduleId}/${miss.window.id}`}
                class="inspection-miss"
                data-open={String(miss.resolvedAt === undefined)}
              >
                <td>{names.get(`${miss.siteId}/${miss.scheduleId}`) ?? miss.scheduleId}</td>
                <td>{miss.window.id}</td>
                <td>{formatTime(lang, miss.at)}</td>
                <td>
                  {miss.resolvedAt === undefined ? (
                    <span class="tag tag-error">{t('inspectionMissedOpen')}</span>
                  ) : (
                    <span class="tag">
                      {t('inspectionMissedResolved')} {formatTime(lang, miss.resolvedAt)}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A time in the plant's own zone (the windows are its local days), not the browser's. */
function plantTime(lang: string, at: number, timeZone: string): string {
  return new Intl.DateTimeFormat(lang, {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}

function ScheduleRow(props: {
  schedule: InspectionScheduleView;
  multiSite: boolean;
  onRecord: () => void;
}) {
  const { t, lang, siteName, areaName } = useConsole();
  const { schedule } = props;
  const target = [
    schedule.area ? areaName(schedule.siteId, schedule.area) : undefined,
    schedule.devices && schedule.devices.length > 0 ? schedule.devices.join('、') : undefined,
    schedule.equipment,
  ].filter(Boolean);
  const status = schedule.overdue ? 'overdue' : schedule.doneInCurrent ? 'done' : 'pending';
  return (
    <tr
      class={`inspection-schedule inspection-${status}`}
      data-schedule-id={schedule.id}
      data-status={status}
    >
      <td>
        {schedule.name}
        {props.multiSite && <span class="muted"> · {siteName(schedule.siteId)}</span>}
      </td>
      <td>
        {label(lang, 'inspectionLevel', schedule.level)}
        <span class="muted"> · {label(lang, 'inspectionCadence', schedule.cadence)}</span>
      </td>
      <td>{target.join(' · ')}</td>
      <td>{schedule.responsible}</td>
      <td>{schedule.current.id}</td>
      <td title={schedule.timeZone}>{plantTime(lang, schedule.dueAt, schedule.timeZone)}</td>
      <td>
        {schedule.overdue && (
          <span class="tag tag-error inspection-overdue">
            {t('inspectionOverdue', { count: schedule.missed.length })}
          </span>
        )}{' '}
        {schedule.doneInCurrent ? (
          <span class="tag">{t('inspectionDone')}</span>
        ) : (
          <span class="tag tag-warn">{t('inspectionPending')}</span>
        )}
      </td>
      <td>
        {schedule.lastRecord
          ? `${formatTime(lang, schedule.lastRecord.at)} ${schedule.lastRecord.by}`
          : '—'}
      </td>
      <td>
        <button type="button" class="primary inspection-record-open" onClick={props.onRecord}>
          {t('inspectionRecord')}
        </button>
      </td>
    </tr>
  );
}

function RecordForm(props: {
  schedule: InspectionScheduleView;
  onCancel: () => void;
  onRecorded: (record: InspectionRecord) => void;
}) {
  const { t, lang, session, notify } = useConsole();
  const { schedule } = props;
  const [answers, setAnswers] = useState<Record<string, InspectionAnswer>>(
    Object.fromEntries(schedule.items.map(item => [item.id, 'pass' as InspectionAnswer])),
  );
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const text = (name: string) =>
      ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();
    const body = {
      siteId: schedule.siteId,
      scheduleId: schedule.id,
      answers: schedule.items.map(item => {
        const note = text(`note-${item.id}`);
        return { itemId: item.id, answer: answers[item.id] ?? 'pass', ...(note ? { note } : {}) };
      }),
      ...(text('note') ? { note: text('note') } : {}),
    };
    setBusy(true);
    try {
      const record = await apiPost<InspectionRecord>('/api/v1/inspections/records', body);
      const hazards = record.answers.filter(answer => answer.hazardId).length;
      notify(
        hazards > 0
          ? t('inspectionRecordedHazards', { no: record.no, count: hazards })
          : t('inspectionRecorded', { no: record.no }),
      );
      props.onRecorded(record);
    } catch (error) {
      const status = (error as { status?: number }).status ?? '—';
      notify(t('inspectionFailed', { status, message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form id="inspection-record" class="hazard-form" onSubmit={event => void submit(event)}>
      <h3>{t('inspectionRecordTitle', { name: schedule.name })}</h3>
      <p class="muted">
        {label(lang, 'inspectionLevel', schedule.level)} ·{' '}
        {label(lang, 'inspectionCadence', schedule.cadence)} · {t('inspectionCurrent')}{' '}
        {schedule.current.id} · {t('inspectionResponsible')} {schedule.responsible}
      </p>
      <table class="inspection-items">
        <thead>
          <tr>
            <th>{t('inspectionItem')}</th>
            <th>{t('inspectionAnswer')}</th>
            <th>{t('inspectionItemNote')}</th>
          </tr>
        </thead>
        <tbody>
          {schedule.items.map(item => (
            <tr key={item.id} data-item-id={item.id} data-answer={answers[item.id]}>
              <td>
                {item.text}
                {item.hazardLevel === 'major' && (
                  <span class="tag hazard-level-major"> {label(lang, 'hazardLevel', 'major')}</span>
                )}
              </td>
              <td>
                {INSPECTION_ANSWERS.map(answer => (
                  <label key={answer} class="inline">
                    <input
                      type="radio"
                      name={`answer-${item.id}`}
                      value={answer}
                      checked={answers[item.id] === answer}
                      onChange={() => setAnswers({ ...answers, [item.id]: answer })}
                    />{' '}
                    {label(lang, 'inspectionAnswer', answer)}
                  </label>
                ))}
              </td>
              <td>
                <input
                  name={`note-${item.id}`}
                  maxLength={2000}
                  required={answers[item.id] === 'fail'}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <label>
        {t('inspectionNote')}
        <input name="note" maxLength={2000} />
      </label>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {t('inspectionSign', { user: session.user.name })}
        </button>
        <button type="button" class="ghost" onClick={props.onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
