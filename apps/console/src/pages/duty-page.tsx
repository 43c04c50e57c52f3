import { allowedShiftCommands, type ShiftCommandName } from '@vigil/alarms';
import {
  dutyItemRef,
  type DutyChanges,
  type DutyItem,
  type DutyRoom,
  type ShiftView,
} from '@vigil/contracts';
import { useState } from 'preact/hooks';

import { apiGet, apiPost, errorMessage } from '../app/api';
import { useConsole, useLoad, useNow } from '../app/context';
import { formatTime } from '../app/format';
import { label } from '../app/i18n';

const REFRESH_MS = 3000;
const HOUR_MS = 3_600_000;
/** Shifts shown in the log per control room. */
const LOG_LENGTH = 20;

/**
 * Duty and shift hand-over (值班记录, docs/interfaces.md §Duty): each control room in the user's
 * scope with the shift on duty, its hand-over (the snapshot of what was open, the changes since,
 * both signatures), the steps the lifecycle allows the user, and the signed log.
 */
export function DutyPage() {
  const { t } = useConsole();
  const rooms = useLoad(() => apiGet<DutyRoom[]>('/api/v1/duty/rooms'), [], REFRESH_MS);
  return (
    <section class="duty-page">
      <div class="filters">
        <h2>{t('dutyTitle')}</h2>
      </div>
      <p class="muted">{t('dutyHint')}</p>
      {rooms.error !== undefined && (
        <p class="error">{t('error', { message: errorMessage(rooms.error) })}</p>
      )}
      {rooms.data && rooms.data.length === 0 && <p class="muted">{t('dutyNoRooms')}</p>}
      {rooms.data?.map(room => (
        <Room key={`${room.siteId}/${room.roomId}`} room={room} reload={rooms.reload} />
      ))}
    </section>
  );
}

const fieldValue = (form: HTMLFormElement, name: string): string =>
  (
    (form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | null)?.value ?? ''
  ).trim();

const userList = (text: string): string[] => text.split(/[,，、\s]+/).filter(Boolean);

function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

function useStep() {
  const { t, lang, notify } = useConsole();
  const [busy, setBusy] = useState(false);
  const run = async (step: string, path: string, body: unknown): Promise<boolean> => {
    setBusy(true);
    try {
      await apiPost<ShiftView>(path, body);
      notify(t('dutyStepDone', { step: label(lang, 'shiftAction', step) }));
      return true;
    } catch (error) {
      const status = (error as { status?: number }).status ?? '—';
      notify(t('dutyStepFailed', { status, message: errorMessage(error) }), 'error');
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, run };
}

function Room(props: { room: DutyRoom; reload: () => void }) {
  const { t, lang, session, siteName } = useConsole();
  const { room } = props;
  const now = useNow(REFRESH_MS);
  const shift = room.onDuty;
  const log = useLoad(
    () => apiGet<ShiftView[]>('/api/v1/duty/shifts', { site: room.siteId, room: room.roomId }),
    [room.siteId, room.roomId, shift?.updatedAt],
    REFRESH_MS * 5,
  );
  const { user } = session;
  const allowed = shift
    ? allowedShiftCommands(shift, { id: user.id, role: user.role, scope: user.scope }, now)
    : [];
  return (
    <article
      class="duty-room"
      data-room={`${room.siteId}/${room.roomId}`}
      data-state={shift ? shift.state : 'nobody'}
    >
      <h3>
        {siteName(room.siteId)} · {room.name}
      </h3>
      {shift?.unmanned && (
        <p class="error duty-unmanned" role="alert">
          {t('dutyUnmanned', { reason: shift.unmanned.reason })}
        </p>
      )}
      {shift ? (
        <OnDuty shift={shift} />
      ) : (
        <>
          <p class="warn duty-nobody">{t('dutyNobody')}</p>
          <StartForm room={room} onDone={props.reload} />
        </>
      )}
      {shift?.handOver && <HandOverView shift={shift} />}
      {shift && (
        <div class="hazard-steps duty-steps">
          {allowed.map(step => (
            <StepForm key={step} shift={shift} step={step} onDone={props.reload} />
          ))}
        </div>
      )}
      <h4>{t('dutyHistory')}</h4>
      {log.data && log.data.length === 0 && <p class="muted">{t('dutyNoHistory')}</p>}
      <ol class="history duty-log">
        {log.data?.slice(0, LOG_LENGTH).flatMap(past =>
          past.history.map((step, index) => (
            <li
              key={`${past.id}/${index}`}
              data-shift={past.no}
              data-action={step.action}
              data-by={step.by}
            >
              <span class="muted">{formatTime(lang, step.at)}</span>{' '}
              {t('dutyShiftNo', { no: past.no })} {label(lang, 'shiftAction', step.action)}{' '}
              <strong>{step.by}</strong>
              {step.note && <span class="note"> — {step.note}</span>}
            </li>
          )),
        )}
      </ol>
    </article>
  );
}

function OnDuty(props: { shift: ShiftView }) {
  const { t, lang, siteName } = useConsole();
  const { shift } = props;
  return (
    <dl class="duty-shift" id="duty-shift" data-no={shift.no}>
      <dt>{t('dutyShiftNo', { no: shift.no })}</dt>
      <dd>
        <span class={`tag shift-state-${shift.state}`}>
          {label(lang, 'shiftState', shift.state)}
        </span>
      </dd>
      <dt>{t('dutyLead')}</dt>
      <dd id="duty-lead">{shift.lead}</dd>
      <dt>{t('dutyCrew')}</dt>
      <dd id="duty-operators">{shift.operators.join('、') || '—'}</dd>
      <dt>{t('dutyStarted')}</dt>
      <dd>{formatTime(lang, shift.startedAt)}</dd>
      <dt>{t('dutyPlannedEnd')}</dt>
      <dd>{formatTime(lang, shift.plannedEnd)}</dd>
      <dt>{t('dutySites')}</dt>
      <dd>{shift.sites.map(siteName).join('、')}</dd>
    </dl>
  );
}

function ItemRow(props: { item: DutyItem; note?: string; kind?: string }) {
  const { lang } = useConsole();
  const { item } = props;
  return (
    <li
      class={`duty-item duty-item-${item.kind}${props.kind ? ` duty-${props.kind}` : ''}`}
      data-ref={dutyItemRef(item)}
    >
      {props.note && <span class="tag tag-warn">{props.note}</span>}{' '}
      <span class="tag">{label(lang, 'dutyItem', item.kind)}</span> {item.summary}{' '}
      <span class="muted">({item.state})</span>
    </li>
  );
}

function Changes(props: { changes: DutyChanges }) {
  const { t } = useConsole();
  const { added, changed, removed } = props.changes;
  if (added.length + changed.length + removed.length === 0)
    return <p class="muted">{t('dutyChangesNone')}</p>;
  return (
    <ul class="duty-changes" id="duty-changes">
      {added.map(item => (
        <ItemRow key={dutyItemRef(item)} item={item} note={t('dutyAdded')} kind="added" />
      ))}
      {changed.map(item => (
        <ItemRow
          key={dutyItemRef(item)}
          item={item}
          note={`${t('dutyChanged')}: ${item.was} →`}
          kind="changed"
        />
      ))}
      {removed.map(item => (
        <ItemRow key={dutyItemRef(item)} item={item} note={t('dutyRemoved')} kind="removed" />
      ))}
    </ul>
  );
}

function HandOverView(props: { shift: ShiftView }) {
  const { t, lang } = useConsole();
  const handOver = props.shift.handOver;
  if (!handOver) return null;
  const omitted = Object.values(handOver.snapshot.omitted ?? {}).reduce((a, b) => a + b, 0);
  return (
    <div class="duty-hand-over" id="duty-hand-over">
      <h4>{t('dutyHandOverOpen')}</h4>
      <div class="detail-grid">
        <dl>
          <dt>{t('dutyIncoming')}</dt>
          <dd id="duty-incoming">
            {handOver.incoming.lead}
            {handOver.incoming.operators.length > 0 &&
              ` + ${handOver.incoming.operators.join('、')}`}{' '}
            <span class="muted">→ {formatTime(lang, handOver.incoming.plannedEnd)}</span>
          </dd>
          <dt>{t('dutyNotes')}</dt>
          <dd id="duty-notes" class="note">
            {handOver.notes || '—'}
          </dd>
          <dt>{t('dutySignedOut')}</dt>
          <dd id="duty-signed-out" data-signed={String(Boolean(handOver.signedOutBy))}>
            {handOver.signedOutBy ? (
              <>
                ✓ <strong>{handOver.signedOutBy}</strong>{' '}
                <span class="muted">{formatTime(lang, handOver.signedOutAt ?? 0)}</span>
              </>
            ) : (
              <span class="tag tag-warn">{t('dutyNotSigned')}</span>
            )}
          </dd>
          <dt>{t('dutyAccepted')}</dt>
          <dd id="duty-accepted">
            {handOver.acceptedBy ? (
              <>
                ✓ <strong>{handOver.acceptedBy}</strong>
              </>
            ) : (
              <span class="tag tag-warn">{t('dutyNotSigned')}</span>
            )}
          </dd>
        </dl>
        <div>
          <h4>{t('dutySnapshot', { at: formatTime(lang, handOver.snapshot.at) })}</h4>
          {handOver.snapshot.items.length === 0 ? (
            <p class="muted">{t('dutySnapshotEmpty')}</p>
          ) : (
            <ul class="duty-snapshot" id="duty-snapshot">
              {handOver.snapshot.items.map(item => (
                <ItemRow key={dutyItemRef(item)} item={item} />
              ))}
            </ul>
          )}
          {omitted > 0 && <p class="warn">{t('dutyOmitted', { count: omitted })}</p>}
          <h4>{t('dutyChanges')}</h4>
          {props.shift.changes && <Changes changes={props.shift.changes} />}
        </div>
      </div>
    </div>
  );
}

function StartForm(props: { room: DutyRoom; onDone: () => void }) {
  const { t, session, notify } = useConsole();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    try {
      const shift = await apiPost<ShiftView>('/api/v1/duty/shifts', {
        siteId: props.room.siteId,
        roomId: props.room.roomId,
        lead: session.user.id,
        operators: userList(fieldValue(form, 'operators')),
        plannedEnd: new Date(fieldValue(form, 'plannedEnd')).getTime(),
      });
      notify(t('dutyShiftStarted', { no: shift.no }));
      props.onDone();
    } catch (error) {
      const status = (error as { status?: number }).status ?? '—';
      notify(t('dutyStepFailed', { status, message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="hazard-form duty-start" id="duty-start" onSubmit={event => void submit(event)}>
      <label>
        {t('dutyOperators')}
        <input name="operators" />
      </label>
      <label>
        {t('dutyPlannedEnd')}
        <input
          name="plannedEnd"
          type="datetime-local"
          defaultValue={toLocalInput(Date.now() + 8 * HOUR_MS)}
          required
        />
      </label>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {t('dutyStart')}
        </button>
      </div>
    </form>
  );
}

function StepForm(props: { shift: ShiftView; step: ShiftCommandName; onDone: () => void }) {
  const { t } = useConsole();
  const { shift, step } = props;
  const { busy, run } = useStep();
  const path = `/api/v1/duty/shifts/${encodeURIComponent(shift.id)}/${step}`;
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    let body: unknown;
    let name: string = step;
    if (step === 'hand-over') {
      name = 'open-hand-over';
      body = {
        notes: fieldValue(form, 'notes'),
        incoming: {
          lead: fieldValue(form, 'lead'),
          operators: userList(fieldValue(form, 'operators')),
          plannedEnd: new Date(fieldValue(form, 'plannedEnd')).getTime(),
        },
      };
    } else if (step === 'accept') {
      // What the incoming lead was shown: every item opened or changed since the snapshot.
      const changes = shift.changes;
      body = {
        seen: changes ? [...changes.added, ...changes.changed].map(dutyItemRef) : [],
      };
    } else body = {};
    if (await run(name, path, body)) props.onDone();
  };
  if (step === 'hand-over')
    return (
      <form
        class="hazard-form step-form duty-hand-over-form"
        data-step={step}
        onSubmit={event => void submit(event)}
      >
        <h4>{t('dutyHandOver')}</h4>
        <label>
          {t('dutyIncomingLead')}
          <input name="lead" required defaultValue={shift.handOver?.incoming.lead ?? ''} />
        </label>
        <label>
          {t('dutyOperators')}
          <input
            name="operators"
            defaultValue={shift.handOver?.incoming.operators.join(', ') ?? ''}
          />
        </label>
        <label>
          {t('dutyPlannedEnd')}
          <input
            name="plannedEnd"
            type="datetime-local"
            defaultValue={toLocalInput(Math.max(shift.plannedEnd, Date.now()) + 8 * HOUR_MS)}
            required
          />
        </label>
        <label>
          {t('dutyNotes')}
          <textarea name="notes" maxLength={4000} defaultValue={shift.handOver?.notes ?? ''} />
        </label>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {t('dutyHandOver')}
          </button>
        </div>
      </form>
    );
  return (
    <form class="step-form" data-step={step} onSubmit={event => void submit(event)}>
      <button type="submit" class="primary" disabled={busy}>
        {step === 'sign' ? t('dutySign') : t('dutyAccept')}
      </button>
    </form>
  );
}
