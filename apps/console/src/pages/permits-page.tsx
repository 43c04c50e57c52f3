import { allowedPermitCommands, type PermitCommandName } from '@vigil/alarms';
import {
  PERMIT_KINDS,
  PERMIT_STATES,
  type PermitView as Permit,
  type PermitGasCheck,
  type PermitKind,
} from '@vigil/contracts';
import { useState } from 'preact/hooks';

import { apiGet, apiPost, errorMessage } from '../app/api';
import { useConsole, useLoad, useNow } from '../app/context';
import { formatTime } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';

const REFRESH_MS = 3000;
const HOUR_MS = 3_600_000;

/**
 * Special-operation permits (特殊作业票, docs/interfaces.md §Permits): the list, a request form,
 * one permit with its gas analysis and signed history, and the steps the lifecycle allows the
 * user. `#/permits?id=…` opens one permit.
 */
export function PermitsPage(props: { params: Readonly<Record<string, string>> }) {
  const { id } = props.params;
  if (id) return <PermitDetail key={id} id={id} />;
  return <PermitList />;
}

function PermitList() {
  const { t, lang, siteName, areaName } = useConsole();
  const [state, setState] = useState('open');
  const [requesting, setRequesting] = useState(false);
  const list = useLoad(
    () => apiGet<Permit[]>('/api/v1/permits', { state: state || undefined }),
    [state],
    REFRESH_MS,
  );
  return (
    <section class="permits-page">
      <div class="filters">
        <h2>{t('permitTitle')}</h2>
        <select
          name="state"
          aria-label={t('permitState')}
          value={state}
          onChange={event => setState((event.target as HTMLSelectElement).value)}
        >
          <option value="">{t('all')}</option>
          <option value="open">{t('permitOpenOnly')}</option>
          {PERMIT_STATES.map(name => (
            <option key={name} value={name}>
              {label(lang, 'permitState', name)}
            </option>
          ))}
        </select>
        <button
          type="button"
          id="permit-request-open"
          class="primary"
          onClick={() => setRequesting(true)}
        >
          {t('permitRequest')}
        </button>
      </div>
      <p class="muted">{t('permitStopWorkHint')}</p>
      {requesting && (
        <RequestForm
          onCancel={() => setRequesting(false)}
          onCreated={permit => {
            setRequesting(false);
            location.hash = routeHref('permits', { id: permit.id });
          }}
        />
      )}
      {list.error !== undefined && (
        <p class="error">{t('error', { message: errorMessage(list.error) })}</p>
      )}
      {list.data && list.data.length === 0 && <p class="muted">{t('permitEmpty')}</p>}
      {list.data && list.data.length > 0 && (
        <table id="permits">
          <thead>
            <tr>
              <th>{t('permitNo')}</th>
              <th>{t('permitName')}</th>
              <th>{t('permitKind')}</th>
              <th>{t('permitState')}</th>
              <th>{t('permitArea')}</th>
              <th>{t('permitWindow')}</th>
              <th>{t('permitWorkers')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map(permit => (
              <tr
                key={permit.id}
                class={`permit-row permit-${permit.state}`}
                data-permit-id={permit.id}
                data-state={permit.state}
              >
                <td>{permit.no}</td>
                <td>
                  <a href={routeHref('permits', { id: permit.id })}>{permit.title}</a>
                </td>
                <td>{label(lang, 'permitKind', permit.kind)}</td>
                <td>
                  <span class={`tag permit-state-${permit.state}`}>
                    {label(lang, 'permitState', permit.state)}
                  </span>
                  {permit.overdue && (
                    <span class="tag tag-warn permit-overdue">{t('permitOverdue')}</span>
                  )}
                  {permit.unevaluated && (
                    <span
                      class="tag tag-error permit-unevaluated"
                      title={permit.unevaluated.reason}
                    >
                      {t('permitUnevaluatedShort')}
                    </span>
                  )}
                </td>
                <td>
                  {siteName(permit.siteId)} {areaName(permit.siteId, permit.areaId)}
                </td>
                <td>
                  {formatTime(lang, permit.from)} – {formatTime(lang, permit.to)}
                </td>
                <td>{permit.workers.join('、')}</td>
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

function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

function RequestForm(props: { onCancel: () => void; onCreated: (permit: Permit) => void }) {
  const { t, lang, sites, notify } = useConsole();
  const [siteId, setSiteId] = useState(sites[0]?.id ?? '');
  const [kind, setKind] = useState<PermitKind>('hot-work');
  const [busy, setBusy] = useState(false);
  const areas = sites.find(site => site.id === siteId)?.areas ?? [];
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const number = (name: string) => {
      const value = fieldValue(form, name);
      return value === '' ? undefined : Number(value);
    };
    const limits = Object.fromEntries(
      Object.entries({
        maxLel: number('maxLel'),
        maxToxicPpm: number('maxToxicPpm'),
        oxygenMin: number('oxygenMin'),
        oxygenMax: number('oxygenMax'),
      }).filter(([, value]) => value !== undefined),
    );
    const body = {
      kind,
      title: fieldValue(form, 'title'),
      siteId,
      areaId: fieldValue(form, 'areaId'),
      from: new Date(fieldValue(form, 'from')).getTime(),
      to: new Date(fieldValue(form, 'to')).getTime(),
      workers: fieldValue(form, 'workers')
        .split(/[,，、\s]+/)
        .filter(Boolean),
      guardian: fieldValue(form, 'guardian'),
      limits,
    };
    setBusy(true);
    try {
      const permit = await apiPost<Permit>('/api/v1/permits', body);
      notify(t('permitRequested', { no: permit.no }));
      props.onCreated(permit);
    } catch (error) {
      const status = (error as { status?: number }).status ?? '—';
      notify(t('permitStepFailed', { status, message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  const now = Date.now();
  return (
    <form id="permit-request" class="hazard-form" onSubmit={event => void submit(event)}>
      <h3>{t('permitRequest')}</h3>
      <label>
        {t('permitKind')}
        <select
          name="kind"
          value={kind}
          onChange={event => setKind((event.target as HTMLSelectElement).value as PermitKind)}
        >
          {PERMIT_KINDS.map(name => (
            <option key={name} value={name}>
              {label(lang, 'permitKind', name)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('permitName')}
        <input name="title" required maxLength={200} />
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
        {t('permitArea')}
        <select name="areaId" required>
          {areas.map(area => (
            <option key={area.id} value={area.id}>
              {area.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('permitFrom')}
        <input name="from" type="datetime-local" defaultValue={toLocalInput(now)} required />
      </label>
      <label>
        {t('permitTo')}
        <input
          name="to"
          type="datetime-local"
          defaultValue={toLocalInput(now + 4 * HOUR_MS)}
          required
        />
      </label>
      <label>
        {t('permitWorkers')}
        <input name="workers" required />
      </label>
      <label>
        {t('permitGuardian')}
        <input name="guardian" required maxLength={200} />
      </label>
      <fieldset>
        <legend>{t('permitLimits')}</legend>
        <label>
          {t('permitMaxLel')}
          <input name="maxLel" type="number" step="any" min="0" max="25" />
        </label>
        <label>
          {t('permitMaxToxic')}
          <input name="maxToxicPpm" type="number" step="any" min="0" />
        </label>
        <label>
          {t('permitOxygen')}
          <input
            name="oxygenMin"
            type="number"
            step="any"
            placeholder={kind === 'confined-space' ? '19.5' : ''}
          />
          –
          <input
            name="oxygenMax"
            type="number"
            step="any"
            placeholder={kind === 'confined-space' ? '21' : ''}
          />
        </label>
      </fieldset>
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

function GasCheck(props: { check: PermitGasCheck }) {
  const { t, lang } = useConsole();
  const { check } = props;
  return (
    <div class="gas-check" data-passed={String(check.passed)}>
      <span class={`tag ${check.passed ? '' : 'tag-warn'}`}>
        {check.passed ? t('permitGasPassed') : t('permitGasFailed')}
      </span>{' '}
      <span class="muted">{formatTime(lang, check.at)}</span>
      <ul>
        {check.readings.map(reading => (
          <li key={`${reading.deviceId}/${reading.metric}`} data-within={String(reading.within)}>
            {reading.deviceId} {reading.metric} {reading.value}
            {reading.within === false && ' ✗'}
            {reading.stale && <span class="muted"> ({t('permitGasStale')})</span>}
          </li>
        ))}
      </ul>
      {check.problems.map(problem => (
        <p key={problem} class="warn">
          {problem}
        </p>
      ))}
    </div>
  );
}

function PermitDetail(props: { id: string }) {
  const { t, lang, session, siteName, areaName } = useConsole();
  const now = useNow(REFRESH_MS);
  const { data: loaded, error } = useLoad(
    () => apiGet<Permit>(`/api/v1/permits/${encodeURIComponent(props.id)}`),
    [props.id],
    REFRESH_MS,
  );
  const [updated, setUpdated] = useState<Permit | undefined>();
  const permit = updated && loaded && updated.updatedAt >= loaded.updatedAt ? updated : loaded;
  if (!permit)
    return (
      <p class={error ? 'error' : 'muted'}>
        {error ? t('error', { message: errorMessage(error) }) : t('loading')}
      </p>
    );
  const { user } = session;
  const allowed = allowedPermitCommands(
    permit,
    { id: user.id, role: user.role, scope: user.scope },
    now,
  );
  const { limits } = permit;
  return (
    <section class="permit-detail" id="permit-detail" data-state={permit.state}>
      <p>
        <a href={routeHref('permits')}>← {t('permitBack')}</a>
      </p>
      <h2>
        No.{permit.no} {permit.title}{' '}
        <span class="tag">{label(lang, 'permitKind', permit.kind)}</span>{' '}
        <span class={`tag permit-state-${permit.state}`} id="permit-state">
          {label(lang, 'permitState', permit.state)}
        </span>
        {permit.overdue && (
          <>
            {' '}
            <span class="tag tag-warn permit-overdue" id="permit-overdue">
              {t('permitOverdue')}
            </span>
          </>
        )}
      </h2>
      {permit.unevaluated && (
        <p class="error" id="permit-unevaluated" role="alert">
          {t('permitUnevaluated', { reason: permit.unevaluated.reason })}
        </p>
      )}
      <div class="detail-grid">
        <dl>
          <dt>{t('permitArea')}</dt>
          <dd>
            {siteName(permit.siteId)} {areaName(permit.siteId, permit.areaId)}
          </dd>
          <dt>{t('permitWindow')}</dt>
          <dd>
            {formatTime(lang, permit.from)} – {formatTime(lang, permit.to)}
          </dd>
          <dt>{t('permitWorkers')}</dt>
          <dd id="permit-workers">{permit.workers.join('、')}</dd>
          <dt>{t('permitGuardian')}</dt>
          <dd>{permit.guardian}</dd>
          <dt>{t('permitLimits')}</dt>
          <dd id="permit-limits">
            {limits.maxLel !== undefined && <span class="tag">≤ {limits.maxLel} %LEL</span>}
            {limits.maxToxicPpm !== undefined && (
              <span class="tag">≤ {limits.maxToxicPpm} ppm</span>
            )}
            {(limits.oxygenMin !== undefined || limits.oxygenMax !== undefined) && (
              <span class="tag">
                O₂ {limits.oxygenMin ?? '–'}–{limits.oxygenMax ?? '–'} %VOL
              </span>
            )}
          </dd>
          {permit.lastGasCheck && (
            <>
              <dt>{t('permitGasCheck')}</dt>
              <dd id="permit-gas-check">
                <GasCheck check={permit.lastGasCheck} />
              </dd>
            </>
          )}
        </dl>
        <div>
          <h4>{t('permitHistory')}</h4>
          <ol class="history" id="permit-history">
            {permit.history.map((step, index) => (
              <li key={index} data-action={step.action} data-by={step.by}>
                <span class="muted">{formatTime(lang, step.at)}</span>{' '}
                {label(lang, 'permitAction', step.action)} <strong>{step.by}</strong>
                <span class="muted"> → {label(lang, 'permitState', step.state)}</span>
                {step.note && <span class="note"> — {step.note}</span>}
              </li>
            ))}
          </ol>
        </div>
      </div>
      <div class="hazard-steps" id="permit-steps">
        {allowed.length === 0 ? (
          <p class="muted">{t('permitNoneAllowed')}</p>
        ) : (
          allowed.map(step => (
            <StepForm key={step} permit={permit} step={step} onDone={setUpdated} />
          ))
        )}
      </div>
    </section>
  );
}

function StepForm(props: {
  permit: Permit;
  step: PermitCommandName;
  onDone: (permit: Permit) => void;
}) {
  const { t, lang, notify } = useConsole();
  const { permit, step } = props;
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const note = fieldValue(event.currentTarget as HTMLFormElement, 'note');
    setBusy(true);
    try {
      const next = await apiPost<Permit>(
        `/api/v1/permits/${encodeURIComponent(permit.id)}/${step}`,
        note ? { note } : {},
      );
      notify(t('permitStepDone', { step: label(lang, 'permitAction', step) }));
      props.onDone(next);
    } catch (error) {
      const status = (error as { status?: number }).status ?? '—';
      notify(t('permitStepFailed', { status, message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="step-form" data-step={step} onSubmit={event => void submit(event)}>
      <input
        name="note"
        placeholder={t('permitNote')}
        required={step === 'suspend'}
        maxLength={2000}
      />
      <button type="submit" class="primary" disabled={busy}>
        {label(lang, 'permitAction', step)}
      </button>
    </form>
  );
}
