import type { GuarantorView, MhsGuarantorsView } from '@vigil/contracts';

import { apiGet, errorMessage } from '../app/api';
import { useConsole, useLoad } from '../app/context';
import { formatTime } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';

const REFRESH_MS = 5000;

/** `王强 Wang Qiang (wang)`, or the id alone when the users file no longer has the user. */
function person(guarantor: GuarantorView): string {
  return guarantor.name ? `${guarantor.name} (${guarantor.userId})` : guarantor.userId;
}

/** One guarantor's duty: cadence, done / due / missed, last record. */
function DutyStatus(props: { guarantor: GuarantorView }) {
  const { t, lang } = useConsole();
  const { duty } = props.guarantor;
  if (!duty) return <span class="muted">{t('guarantorDutyUnknown')}</span>;
  const status = duty.overdue ? 'overdue' : duty.doneInCurrent ? 'done' : 'pending';
  return (
    <span class="guarantor-duty" data-status={status}>
      <span class="muted">{label(lang, 'inspectionCadence', duty.cadence)} · </span>
      {duty.overdue && (
        <span class="tag tag-error">{t('inspectionOverdue', { count: duty.missed.length })}</span>
      )}{' '}
      {duty.doneInCurrent ? (
        <span class="tag">{t('inspectionDone')}</span>
      ) : (
        <span class="tag tag-warn">{t('inspectionPending')}</span>
      )}
      {duty.lastRecord && <span class="muted"> · {formatTime(lang, duty.lastRecord.at)}</span>}
    </span>
  );
}

/**
 * The major hazard sources with their guarantors (包保责任人) and each one's duty status
 * (`GET /api/v1/guarantors`), on the inspections page: the duties are inspection schedules.
 */
export function GuarantorsSection() {
  const { t, siteName, areaName, sites } = useConsole();
  const sources = useLoad(() => apiGet<MhsGuarantorsView[]>('/api/v1/guarantors'), [], REFRESH_MS);
  return (
    <>
      <h3>{t('guarantorsTitle')}</h3>
      <p class="muted">{t('guarantorsHint')}</p>
      {sources.error !== undefined && (
        <p class="error">{t('error', { message: errorMessage(sources.error) })}</p>
      )}
      {sources.data && sources.data.length === 0 && <p class="muted">{t('guarantorsEmpty')}</p>}
      {sources.data && sources.data.length > 0 && (
        <table id="mhs-guarantors">
          <thead>
            <tr>
              <th>{t('guarantorsSource')}</th>
              <th>{t('guarantorsOf')}</th>
              <th>{t('inspectionStatus')}</th>
            </tr>
          </thead>
          <tbody>
            {sources.data.map(source => (
              <tr
                key={`${source.siteId}/${source.unitId}`}
                class="mhs-source"
                data-unit-id={source.unitId}
              >
                <td>
                  {source.unitName}
                  <span class="muted">
                    {sites.length > 1 ? ` · ${siteName(source.siteId)}` : ''}
                    {source.areaId ? ` · ${areaName(source.siteId, source.areaId)}` : ''}
                  </span>
                </td>
                <td>
                  {source.guarantors.length === 0 ? (
                    <span class="tag tag-warn guarantors-none">{t('guarantorsNone')}</span>
                  ) : (
                    <ul class="guarantors">
                      {source.guarantors.map(guarantor => (
                        <li
                          key={guarantor.tier}
                          class="guarantor"
                          data-tier={guarantor.tier}
                          data-user={guarantor.userId}
                        >
                          <GuarantorName guarantor={guarantor} />{' '}
                          <DutyStatus guarantor={guarantor} />
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>
                  {source.openAlarms > 0 && (
                    <a class="tag tag-warn" href={routeHref('alarms', { site: source.siteId })}>
                      {t('guarantorsOpenAlarms', { count: source.openAlarms })}
                    </a>
                  )}{' '}
                  {source.overdueHazards.map(hazard => (
                    <a
                      key={hazard.id}
                      class="tag tag-error"
                      href={routeHref('hazards', { id: hazard.id })}
                      title={hazard.title}
                    >
                      {t('inspectionHazard', { no: hazard.no })}{' '}
                    </a>
                  ))}
                  {source.overdueHazards.length > 0 && (
                    <span class="muted">
                      {' '}
                      {t('guarantorsOverdueHazards', { count: source.overdueHazards.length })}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function GuarantorName(props: { guarantor: GuarantorView }) {
  const { lang } = useConsole();
  return (
    <span>
      <strong>{label(lang, 'guarantorTier', props.guarantor.tier)}</strong>{' '}
      {person(props.guarantor)}
    </span>
  );
}

/**
 * `包保责任人` lines of an alarm's or a hazard's detail: the guarantors of the sources it belongs
 * to (`/api/v1/guarantors/alarm/{id}` or `/hazard/{id}`); nothing when it belongs to none.
 */
export function GuarantorsOf(props: { path: string }) {
  const { t } = useConsole();
  const { data } = useLoad(() => apiGet<MhsGuarantorsView[]>(props.path), [props.path]);
  if (!data || data.length === 0) return null;
  return (
    <>
      <dt>{t('guarantorsOf')}</dt>
      {data.map(source => (
        <dd key={source.unitId} class="guarantors-of" data-unit-id={source.unitId}>
          {source.unitName}:{' '}
          {source.guarantors.length === 0 ? (
            <span class="tag tag-warn">{t('guarantorsNone')}</span>
          ) : (
            source.guarantors.map((guarantor, index) => (
              <span key={guarantor.tier}>
                {index > 0 ? '、' : ''}
                <GuarantorName guarantor={guarantor} />
              </span>
            ))
          )}
        </dd>
      ))}
    </>
  );
}
