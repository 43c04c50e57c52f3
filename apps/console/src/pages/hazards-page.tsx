import { allowedHazardCommands } from '@vigil/alarms';
import {
  HAZARD_LEVELS,
  HAZARD_PHOTO_TYPES,
  HAZARD_STATES,
  hazardOverdue,
  type Hazard,
  type HazardCommandName,
  type HazardLevel,
  type HazardPhoto,
  type HazardPhotoStep,
  type HazardPhotoUpload,
  type HazardStats,
} from '@vigil/contracts';
import { useEffect, useState } from 'preact/hooks';

import { apiBlob, apiGet, apiPost, apiUpload, errorMessage } from '../app/api';
import { GuarantorsOf } from '../components/guarantors';
import { useConsole, useLoad, useNow } from '../app/context';
import { formatTime } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';

const REFRESH_MS = 5000;
const DAY_MS = 86_400_000;

/**
 * The hazard ledger (隐患台账, docs/interfaces.md §Hazards): statistics, the list with filters, one
 * hazard with its five fields and signed history, and the steps the lifecycle allows this user.
 * `#/hazards?id=…` opens one hazard; `#/hazards?alarm=…` reports one from a disposed alarm.
 */
export function HazardsPage(props: { params: Readonly<Record<string, string>> }) {
  const { id, alarm } = props.params;
  if (id) return <HazardDetail key={id} id={id} />;
  return <HazardLedger fromAlarm={alarm} />;
}

function HazardLedger(props: { fromAlarm: string | undefined }) {
  const { t, lang, orgName, siteName, areaName } = useConsole();
  const now = useNow(REFRESH_MS);
  const [state, setState] = useState('open');
  const [level, setLevel] = useState('');
  const [overdue, setOverdue] = useState(false);
  const [reporting, setReporting] = useState(props.fromAlarm !== undefined);
  const list = useLoad(
    () =>
      apiGet<Hazard[]>('/api/v1/hazards', {
        state: state || undefined,
        level: level || undefined,
        overdue: overdue ? 'true' : undefined,
      }),
    [state, level, overdue],
    REFRESH_MS,
  );
  const stats = useLoad(
    () => apiGet<HazardStats>('/api/v1/hazards/stats', { by: 'enterprise' }),
    [],
    REFRESH_MS,
  );
  return (
    <section class="hazards-page">
      <div class="filters">
        <h2>{t('hazardLedger')}</h2>
        <select
          name="state"
          aria-label={t('hazardState')}
          value={state}
          onChange={event => setState((event.target as HTMLSelectElement).value)}
        >
          <option value="">{t('all')}</option>
          <option value="open">{t('hazardOpenOnly')}</option>
          {HAZARD_STATES.map(name => (
            <option key={name} value={name}>
              {label(lang, 'hazardState', name)}
            </option>
          ))}
        </select>
        <select
          name="level"
          aria-label={t('hazardLevel')}
          value={level}
          onChange={event => setLevel((event.target as HTMLSelectElement).value)}
        >
          <option value="">{t('all')}</option>
          {HAZARD_LEVELS.map(name => (
            <option key={name} value={name}>
              {label(lang, 'hazardLevel', name)}
            </option>
          ))}
        </select>
        <label class="chip">
          <input
            type="checkbox"
            name="overdue"
            checked={overdue}
            onChange={event => setOverdue((event.target as HTMLInputElement).checked)}
          />
          {t('hazardOverdueOnly')}
        </label>
        <button
          type="button"
          id="hazard-report-open"
          class="primary"
          onClick={() => setReporting(true)}
        >
          {t('hazardReport')}
        </button>
      </div>
      {stats.data && (
        <div class="summary-chips" id="hazard-stats" role="group" aria-label={t('hazardStats')}>
          {stats.data.rows.map(row => (
            <span key={row.enterprise} class="chip" data-enterprise={row.enterprise}>
              <strong>{orgName(row.enterprise ?? '')}</strong>{' '}
              {HAZARD_LEVELS.map(name => (
                <span key={name} class="tag" data-level={name}>
                  {label(lang, 'hazardLevel', name)}:{' '}
                  {t('hazardStatsOpen', { ...row.levels[name] })} ·{' '}
                  {t('hazardStatsOverdue', { ...row.levels[name] })} ·{' '}
                  {t('hazardStatsClosed', { ...row.levels[name] })}
                </span>
              ))}
            </span>
          ))}
        </div>
      )}
      {reporting && (
        <ReportForm
          fromAlarm={props.fromAlarm}
          onCancel={() => setReporting(false)}
          onCreated={hazard => {
            setReporting(false);
            location.hash = routeHref('hazards', { id: hazard.id });
          }}
        />
      )}
      {list.error !== undefined && (
        <p class="error">{t('error', { message: errorMessage(list.error) })}</p>
      )}
      {list.data && list.data.length === 0 && <p class="muted">{t('hazardEmpty')}</p>}
      {list.data && list.data.length > 0 && (
        <table id="hazards">
          <thead>
            <tr>
              <th>{t('hazardNo')}</th>
              <th>{t('hazardTitle')}</th>
              <th>{t('hazardLevel')}</th>
              <th>{t('hazardState')}</th>
              <th>{t('hazardSite')}</th>
              <th>{t('plan.responsible')}</th>
              <th>{t('hazardDeadline')}</th>
              <th>{t('hazardSource')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map(hazard => (
              <tr
                key={hazard.id}
                class={`hazard-row level-${hazard.level}`}
                data-hazard-id={hazard.id}
                data-state={hazard.state}
              >
                <td>{hazard.no}</td>
                <td>
                  <a href={routeHref('hazards', { id: hazard.id })}>{hazard.title}</a>
                </td>
                <td>
                  <span class={`tag hazard-level-${hazard.level}`}>
                    {label(lang, 'hazardLevel', hazard.level)}
                  </span>
                </td>
                <td>
                  {label(lang, 'hazardState', hazard.state)}
                  {hazardOverdue(hazard, now) && (
                    <span class="tag tag-warn">{t('hazardOverdue')}</span>
                  )}
                  {hazard.escalation && (
                    <span class="tag tag-warn">
                      {t('hazardEscalatedTo', { node: orgName(hazard.escalation.nodeId) })}
                    </span>
                  )}
                </td>
                <td>
                  {siteName(hazard.siteId)} {areaName(hazard.siteId, hazard.areaId)}
                </td>
                <td>{hazard.plan.responsible ?? '—'}</td>
                <td>{formatTime(lang, hazard.plan.deadline)}</td>
                <td>{label(lang, 'hazardSource', hazard.source)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const fieldValue = (form: HTMLFormElement, name: string): string =>
  ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();

function ReportForm(props: {
  fromAlarm: string | undefined;
  onCancel: () => void;
  onCreated: (hazard: Hazard) => void;
}) {
  const { t, lang, sites, notify } = useConsole();
  const [siteId, setSiteId] = useState(sites[0]?.id ?? '');
  const [busy, setBusy] = useState(false);
  const uploadPhotos = usePhotoUpload();
  const areas = sites.find(site => site.id === siteId)?.areas ?? [];
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const files = chosenFiles(form, 'photoFiles');
    const interim = fieldValue(form, 'interimMeasures');
    const body: Record<string, unknown> = {
      title: fieldValue(form, 'title'),
      level: fieldValue(form, 'level') as HazardLevel,
      description: fieldValue(form, 'description'),
      ...(interim ? { interimMeasures: interim } : {}),
    };
    if (props.fromAlarm) body['alarmId'] = props.fromAlarm;
    else {
      body['siteId'] = siteId;
      body['source'] = fieldValue(form, 'source') || 'manual';
      const area = fieldValue(form, 'areaId');
      if (area) body['areaId'] = area;
    }
    setBusy(true);
    try {
      const hazard = await apiPost<Hazard>('/api/v1/hazards', body);
      notify(t('hazardCreated', { no: hazard.no }));
      // The hazard exists first; each photo is then its own signed step (a refused one is said).
      await uploadPhotos(hazard.id, files, 'report');
      props.onCreated(hazard);
    } catch (error) {
      const status = (error as { status?: number }).status ?? '—';
      notify(t('hazardStepFailed', { status, message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form id="hazard-report" class="hazard-form" onSubmit={event => void submit(event)}>
      <h3>{t('hazardReport')}</h3>
      {props.fromAlarm && (
        <p class="muted" id="hazard-from-alarm">
          {t('hazardFromAlarm', { alarm: props.fromAlarm })}
        </p>
      )}
      <label>
        {t('hazardTitle')}
        <input name="title" required maxLength={200} />
      </label>
      <label>
        {t('hazardLevel')}
        <select name="level">
          {HAZARD_LEVELS.map(name => (
            <option key={name} value={name}>
              {label(lang, 'hazardLevel', name)}
            </option>
          ))}
        </select>
      </label>
      {!props.fromAlarm && (
        <>
          <label>
            {t('hazardSource')}
            <select name="source">
              <option value="manual">{label(lang, 'hazardSource', 'manual')}</option>
              <option value="inspection">{label(lang, 'hazardSource', 'inspection')}</option>
            </select>
          </label>
          <label>
            {t('hazardSite')}
            <select
              name="siteId"
              value={siteId}
              onChange={event => setSiteId((event.target as HTMLSelectElement).value)}
            >
              {sites.map(site => (
                <option key={site.id} value={site.id}>
                  {site.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('hazardArea')}
            <select name="areaId">
              <option value="">—</option>
              {areas.map(area => (
                <option key={area.id} value={area.id}>
                  {area.name}
                </option>
              ))}
            </select>
          </label>
        </>
      )}
      <label>
        {t('hazardDescription')}
        <textarea name="description" maxLength={4000} />
      </label>
      <label>
        {t('hazardInterim')}
        <textarea name="interimMeasures" maxLength={4000} />
      </label>
      <label>
        {t('hazardPhotoFiles')}
        <input name="photoFiles" type="file" accept={PHOTO_ACCEPT} multiple />
      </label>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {t('submit')}
        </button>
        <button type="button" class="ghost" onClick={props.onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** Organisation node ids from the root down to `nodeId`, from the tree the user may see. */
function orgPath(organisation: readonly { id: string; parent?: string }[], nodeId: string) {
  const byId = new Map(organisation.map(node => [node.id, node]));
  const path: string[] = [];
  for (let node = byId.get(nodeId); node; node = node.parent ? byId.get(node.parent) : undefined)
    path.unshift(node.id);
  return path;
}

function HazardDetail(props: { id: string }) {
  const { t, lang, session, organisation, orgName, siteName, areaName, device } = useConsole();
  const now = useNow(REFRESH_MS);
  const { data: loaded, error } = useLoad(
    () => apiGet<Hazard>(`/api/v1/hazards/${encodeURIComponent(props.id)}`),
    [props.id],
    REFRESH_MS,
  );
  const [updated, setUpdated] = useState<Hazard | undefined>();
  const hazard = updated && loaded && updated.updatedAt >= loaded.updatedAt ? updated : loaded;
  if (!hazard)
    return (
      <p class={error ? 'error' : 'muted'}>
        {error ? t('error', { message: errorMessage(error) }) : t('loading')}
      </p>
    );
  const { user } = session;
  const allowed = allowedHazardCommands(
    hazard,
    { id: user.id, role: user.role, scope: user.scope },
    { now, siteOrgPath: orgPath(organisation, hazard.enterprise) },
  );
  const signer = (by: string | undefined) => by ?? '—';
  return (
    <section
      class="hazard-detail"
      id="hazard-detail"
      data-hazard-id={hazard.id}
      data-state={hazard.state}
      data-level={hazard.level}
    >
      <p>
        <a href={routeHref('hazards')}>← {t('hazardBack')}</a>
      </p>
      <h2>
        No.{hazard.no} {hazard.title}{' '}
        <span class={`tag hazard-level-${hazard.level}`}>
          {label(lang, 'hazardLevel', hazard.level)}
        </span>{' '}
        <span class="tag" id="hazard-state">
          {label(lang, 'hazardState', hazard.state)}
        </span>
        {hazardOverdue(hazard, now) && <span class="tag tag-warn">{t('hazardOverdue')}</span>}
      </h2>
      <div class="detail-grid">
        <dl>
          <dt>{t('hazardSource')}</dt>
          <dd>
            {label(lang, 'hazardSource', hazard.source)}
            {hazard.alarmId && (
              <>
                {' · '}
                <a href={routeHref('alarms', { alarm: hazard.alarmId })}>{hazard.alarmId}</a>
              </>
            )}
          </dd>
          <dt>{t('hazardSite')}</dt>
          <dd>
            {orgName(hazard.enterprise)} · {siteName(hazard.siteId)}{' '}
            {areaName(hazard.siteId, hazard.areaId)}
          </dd>
          <GuarantorsOf path={`/api/v1/guarantors/hazard/${encodeURIComponent(hazard.id)}`} />
          {hazard.deviceIds.length > 0 && (
            <>
              <dt>{t('hazardDevices')}</dt>
              <dd>
                {hazard.deviceIds.map(id => device(hazard.siteId, id)?.name ?? id).join('、')}
              </dd>
            </>
          )}
          {hazard.description && (
            <>
              <dt>{t('hazardDescription')}</dt>
              <dd>{hazard.description}</dd>
            </>
          )}
          <dt>{t('hazardReportedBy')}</dt>
          <dd>
            {hazard.reportedBy} · {formatTime(lang, hazard.reportedAt)}
          </dd>
          <dt>{t('hazardAssignee')}</dt>
          <dd>{signer(hazard.assignee)}</dd>
          {hazard.interimMeasures && (
            <>
              <dt>{t('hazardInterim')}</dt>
              <dd id="hazard-interim">{hazard.interimMeasures}</dd>
            </>
          )}
          {hazard.photos.length > 0 && (
            <>
              <dt>{t('hazardPhotoRefs')}</dt>
              <dd>
                {hazard.photos.map(photo => (
                  <span key={photo} class="tag">
                    {photo}
                  </span>
                ))}
              </dd>
            </>
          )}
          {hazard.escalation && (
            <>
              <dt>{t('hazardOverdue')}</dt>
              <dd class="warn">
                {t('hazardEscalatedTo', { node: orgName(hazard.escalation.nodeId) })} ·{' '}
                {formatTime(lang, hazard.escalation.at)}
              </dd>
            </>
          )}
          <dt>{t('hazardRectifiedBy')}</dt>
          <dd>{signer(hazard.rectifiedBy)}</dd>
          <dt>{t('hazardAcceptedBy')}</dt>
          <dd>{signer(hazard.acceptedBy)}</dd>
          {hazard.level === 'major' && (
            <>
              <dt>{t('hazardApprovedBy')}</dt>
              <dd>{signer(hazard.approvedBy)}</dd>
            </>
          )}
          <dt>{t('hazardClosedBy')}</dt>
          <dd>{signer(hazard.closedBy)}</dd>
        </dl>
        <div>
          <h4>{t('hazardPlan')}</h4>
          <dl id="hazard-plan">
            <dt>{t('plan.responsible')}</dt>
            <dd>{hazard.plan.responsible ?? '—'}</dd>
            <dt>{t('plan.measures')}</dt>
            <dd>{hazard.plan.measures ?? '—'}</dd>
            <dt>{t('plan.funds')}</dt>
            <dd>{hazard.plan.funds ?? '—'}</dd>
            <dt>{t('plan.deadline')}</dt>
            <dd>{formatTime(lang, hazard.plan.deadline)}</dd>
            <dt>{t('plan.contingencyPlan')}</dt>
            <dd>{hazard.plan.contingencyPlan ?? '—'}</dd>
          </dl>
          <h4>{t('hazardPhotos')}</h4>
          <HazardPhotos hazard={hazard} />
          {hazard.state !== 'closed' && <AttachPhotos hazard={hazard} onDone={setUpdated} />}
          <h4>{t('hazardHistory')}</h4>
          <ol class="history" id="hazard-history">
            {hazard.history.map((step, index) => (
              <li key={index} data-action={step.action} data-by={step.by}>
                <span class="muted">{formatTime(lang, step.at)}</span>{' '}
                {label(lang, 'hazardAction', step.action)} <strong>{step.by}</strong>
                <span class="muted"> → {label(lang, 'hazardState', step.state)}</span>
                {step.nodeId && <span class="muted"> · {orgName(step.nodeId)}</span>}
                {step.note && <span class="note"> — {step.note}</span>}
                {step.photo && (
                  <span class="muted">
                    {' '}
                    · {label(lang, 'hazardPhotoStep', step.photo.step)} ·{' '}
                    {step.photo.sha256.slice(0, 12)}
                  </span>
                )}
              </li>
            ))}
          </ol>
        </div>
      </div>
      <div class="hazard-steps" id="hazard-steps">
        {allowed.length === 0 ? (
          <p class="muted">{t('hazardNoneAllowed')}</p>
        ) : (
          allowed.map(step => (
            <StepForm key={step} hazard={hazard} step={step} onDone={setUpdated} />
          ))
        )}
      </div>
    </section>
  );
}

/**
 * Input each step asks for: assign the five fields, interim the measures, the rest a note. The
 * fields are uncontrolled (`defaultValue`): the page refreshes every few seconds and must not
 * overwrite what the user is typing.
 */
function StepForm(props: {
  hazard: Hazard;
  step: HazardCommandName;
  onDone: (hazard: Hazard) => void;
}) {
  const { t, lang, notify } = useConsole();
  const { hazard, step } = props;
  const [busy, setBusy] = useState(false);
  const uploadPhotos = usePhotoUpload();
  const noteRequired = step === 'rectify' || step === 'reject';
  const defaultDeadline = toLocalInput(hazard.plan.deadline ?? Date.now() + 7 * DAY_MS);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    let body: Record<string, unknown>;
    if (step === 'assign') {
      const funds = fieldValue(form, 'funds');
      const deadline = fieldValue(form, 'deadline');
      const plan: Record<string, unknown> = {
        responsible: fieldValue(form, 'responsible') || undefined,
        measures: fieldValue(form, 'measures') || undefined,
        funds: funds === '' ? undefined : Number(funds),
        deadline: deadline === '' ? undefined : new Date(deadline).getTime(),
        contingencyPlan: fieldValue(form, 'contingencyPlan') || undefined,
      };
      body = { assignee: fieldValue(form, 'assignee'), plan: withoutUndefined(plan) };
    } else if (step === 'interim') {
      body = { measures: fieldValue(form, 'measures') };
    } else {
      const note = fieldValue(form, 'note');
      body = note ? { note } : {};
    }
    setBusy(true);
    try {
      // Rectification photos are evidence of the work: stored before the work is signed done.
      if (step === 'rectify') {
        const uploaded = await uploadPhotos(hazard.id, chosenFiles(form, 'photoFiles'), 'rectify');
        if (uploaded === undefined) return;
      }
      const next = await apiPost<Hazard>(
        `/api/v1/hazards/${encodeURIComponent(hazard.id)}/${step}`,
        body,
      );
      notify(t('hazardStepDone', { step: label(lang, 'hazardAction', step) }));
      props.onDone(next);
    } catch (error) {
      const status = (error as { status?: number }).status ?? '—';
      notify(t('hazardStepFailed', { status, message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="hazard-form step-form" data-step={step} onSubmit={event => void submit(event)}>
      <h4>{label(lang, 'hazardAction', step)}</h4>
      {step === 'assign' && (
        <>
          <label>
            {t('hazardAssignee')}
            <input name="assignee" required defaultValue={hazard.assignee ?? ''} />
          </label>
          <label>
            {t('plan.responsible')}
            <input name="responsible" defaultValue={hazard.plan.responsible ?? ''} />
          </label>
          <label>
            {t('plan.measures')}
            <textarea name="measures" defaultValue={hazard.plan.measures ?? ''} />
          </label>
          <label>
            {t('plan.funds')}
            <input name="funds" type="number" min={0} defaultValue={hazard.plan.funds ?? ''} />
          </label>
          <label>
            {t('plan.deadline')}
            <input name="deadline" type="datetime-local" defaultValue={defaultDeadline} />
          </label>
          <label>
            {t('plan.contingencyPlan')}
            <input name="contingencyPlan" defaultValue={hazard.plan.contingencyPlan ?? ''} />
          </label>
        </>
      )}
      {step === 'interim' && (
        <label>
          {t('hazardInterim')}
          <textarea name="measures" required defaultValue={hazard.interimMeasures ?? ''} />
        </label>
      )}
      {step !== 'assign' && step !== 'interim' && (
        <label>
          {t('hazardNote')}
          <input name="note" required={noteRequired} />
        </label>
      )}
      {step === 'rectify' && (
        <label>
          {t('hazardPhotoFiles')} · {label(lang, 'hazardPhotoStep', 'rectify')}
          <input name="photoFiles" type="file" accept={PHOTO_ACCEPT} multiple />
        </label>
      )}
      <button type="submit" class={step === 'reject' ? '' : 'primary'} disabled={busy}>
        {label(lang, 'hazardAction', step)}
      </button>
    </form>
  );
}

const PHOTO_ACCEPT = HAZARD_PHOTO_TYPES.join(',');

function chosenFiles(form: HTMLFormElement, name: string): File[] {
  const input = form.elements.namedItem(name) as HTMLInputElement | null;
  return [...(input?.files ?? [])];
}

/**
 * Uploads photos one by one as steps of `hazardId`; says how many went up and why any did not.
 * Resolves to the hazard after the last stored photo, or `undefined` when one was refused.
 */
function usePhotoUpload() {
  const { t, notify } = useConsole();
  return async (
    hazardId: string,
    files: readonly File[],
    step: HazardPhotoStep,
  ): Promise<Hazard | null | undefined> => {
    let last: Hazard | null = null;
    let count = 0;
    for (const file of files) {
      try {
        const answer = await apiUpload<HazardPhotoUpload>(
          `/api/v1/hazards/${encodeURIComponent(hazardId)}/photos`,
          file,
          { step },
        );
        last = answer.hazard;
        count += 1;
      } catch (error) {
        const status = (error as { status?: number }).status ?? '—';
        notify(
          t('hazardPhotoFailed', { name: file.name, status, message: errorMessage(error) }),
          'error',
        );
        return undefined;
      }
    }
    if (count > 0) notify(t('hazardPhotoUploaded', { count }));
    return last;
  };
}

/** The photos stored with a hazard, as thumbnails by the step they document. */
function HazardPhotos(props: { hazard: Hazard }) {
  const { t } = useConsole();
  const photos = props.hazard.photoFiles ?? [];
  if (photos.length === 0) return <p class="muted">{t('hazardPhotoNone')}</p>;
  return (
    <ul class="photo-grid" id="hazard-photos">
      {photos.map(photo => (
        <PhotoThumb key={photo.sha256} hazardId={props.hazard.id} photo={photo} />
      ))}
    </ul>
  );
}

/**
 * One photo: fetched with the token (an <img src> cannot send it), shown from an object URL that
 * is released when the thumbnail goes. Opens full size in a new tab.
 */
function PhotoThumb(props: { hazardId: string; photo: HazardPhoto }) {
  const { t, lang } = useConsole();
  const { photo } = props;
  const [url, setUrl] = useState<string | undefined>();
  const [failed, setFailed] = useState<string | undefined>();
  useEffect(() => {
    let objectUrl: string | undefined;
    let live = true;
    apiBlob(
      `/api/v1/hazards/${encodeURIComponent(props.hazardId)}/photos/${encodeURIComponent(photo.sha256)}`,
    ).then(
      blob => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      (error: unknown) => live && setFailed(errorMessage(error)),
    );
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [props.hazardId, photo.sha256]);
  const caption = `${label(lang, 'hazardPhotoStep', photo.step)} · ${t('hazardPhotoBy', {
    by: photo.by,
    at: formatTime(lang, photo.at),
  })}`;
  return (
    <li class="photo" data-sha256={photo.sha256} data-step={photo.step}>
      {url ? (
        <a href={url} target="_blank" rel="noopener">
          <img src={url} alt={caption} loading="lazy" />
        </a>
      ) : (
        <span class={failed ? 'error' : 'muted'}>
          {failed ? t('hazardPhotoLoadFailed', { message: failed }) : t('loading')}
        </span>
      )}
      <span class="caption">{caption}</span>
    </li>
  );
}

/**
 * Attach photos to an open hazard: of the hazard as found (anyone in scope), or of the
 * rectification while it is in progress or signed done (the server says who may).
 */
function AttachPhotos(props: { hazard: Hazard; onDone: (hazard: Hazard) => void }) {
  const { t, lang } = useConsole();
  const [busy, setBusy] = useState(false);
  const uploadPhotos = usePhotoUpload();
  const { hazard } = props;
  const rectifying = hazard.state === 'rectifying' || hazard.state === 'rectified';
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const step = (fieldValue(form, 'step') || 'report') as HazardPhotoStep;
    setBusy(true);
    try {
      const next = await uploadPhotos(hazard.id, chosenFiles(form, 'photoFiles'), step);
      if (next) props.onDone(next);
      form.reset();
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      id="hazard-photo-form"
      class="hazard-form photo-form"
      onSubmit={event => void submit(event)}
    >
      <label>
        {t('hazardPhotoFiles')}
        <input name="photoFiles" type="file" accept={PHOTO_ACCEPT} multiple required />
      </label>
      <label>
        {t('hazardPhotoStep')}
        <select name="step">
          <option value="report">{label(lang, 'hazardPhotoStep', 'report')}</option>
          {rectifying && (
            <option value="rectify" selected>
              {label(lang, 'hazardPhotoStep', 'rectify')}
            </option>
          )}
        </select>
      </label>
      <button type="submit" disabled={busy}>
        {t('hazardPhotoAttach')}
      </button>
    </form>
  );
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** `datetime-local` wants local time without a zone: 2026-12-14T09:30. */
function toLocalInput(at: number): string {
  const date = new Date(at - new Date(at).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}
