import type { SupervisionOrder, UplinkEnterprise } from '@vigil/contracts';
import { useState } from 'preact/hooks';

import { apiGet, apiPost, errorMessage } from '../app/api';
import { useConsole, useLoad, useNow } from '../app/context';
import { formatTime, localName } from '../app/format';
import { label } from '../app/i18n';
import { routeHref } from '../app/route';
import { approvable, pendingApproval, summariseEnterprise } from '../app/uplink-view';

const REFRESH_MS = 5000;
const DAY_MS = 86_400_000;

/**
 * The upper Vigil's enterprises below (下级企业, issue 15; docs/interfaces.md §Uplink): per
 * enterprise its link's freshness, its open alarms by priority, its hazard ledger by state with the
 * overdue ones marked, the latest samples of its major hazard sources and its supervision orders.
 * Read-only but for the 挂牌督办 form, shown to supervisors and admins (the server refuses others).
 */
export function EnterprisesPage() {
  const { t } = useConsole();
  const list = useLoad(
    () => apiGet<UplinkEnterprise[]>('/api/v1/uplink/enterprises'),
    [],
    REFRESH_MS,
  );
  return (
    <section class="uplink-page" id="uplink-enterprises">
      <h2>{t('enterprisesTitle')}</h2>
      <p class="muted">{t('enterprisesHint')}</p>
      {list.error !== undefined && (
        <p class="banner banner-error" role="alert">
          {t('error', { message: errorMessage(list.error) })}
        </p>
      )}
      {list.data && list.data.length === 0 && <p class="empty">{t('enterprisesNone')}</p>}
      {list.data?.map(enterprise => (
        <EnterpriseCard
          key={enterprise.enterpriseCode}
          enterprise={enterprise}
          onIssued={list.reload}
        />
      ))}
    </section>
  );
}

function EnterpriseCard(props: { enterprise: UplinkEnterprise; onIssued: () => void }) {
  const { enterprise } = props;
  const { t, lang, orgName } = useConsole();
  const now = useNow(REFRESH_MS);
  const summary = summariseEnterprise(enterprise, now);
  const name = localName(lang, enterprise.name);
  const openAlarms = enterprise.alarms
    .filter(alarm => alarm.state !== 'normal')
    .sort((a, b) => a.priority - b.priority || b.at - a.at);
  const hazards = [...enterprise.hazards].sort(
    (a, b) =>
      Number(b.state !== 'closed') - Number(a.state !== 'closed') ||
      Number(b.overdue) - Number(a.overdue) ||
      b.at - a.at,
  );
  return (
    <article class="panel enterprise-card" data-code={enterprise.enterpriseCode} aria-label={name}>
      <div class="panel-head">
        <div>
          <h3>{name}</h3>
          <span class="muted">
            {t('enterpriseCode')} {enterprise.enterpriseCode} · {t('enterpriseNode')}{' '}
            {orgName(enterprise.node)}
          </span>
        </div>
        <div
          class={`link-freshness${summary.stale ? ' stale' : ''}`}
          data-stale={String(summary.stale)}
        >
          <span class={`tag ${summary.stale ? 'tag-warn' : ''}`}>
            {enterprise.lastReceivedAt === undefined
              ? t('linkNeverReceived')
              : summary.stale
                ? t('linkStale', { minutes: summary.silentMinutes ?? 0 })
                : t('linkLastReceived', { time: formatTime(lang, enterprise.lastReceivedAt) })}
          </span>
          <div class="muted">{t('linkReceived', { ...enterprise.received })}</div>
          {enterprise.gaps.map(gap => (
            <div key={gap.from} class="tag tag-error link-gap">
              {t('linkGap', { from: gap.from, to: gap.to, time: formatTime(lang, gap.at) })}
            </div>
          ))}
        </div>
      </div>

      <h4>{t('enterpriseOpenAlarms')}</h4>
      <div class="summary-chips open-alarms">
        {summary.openByPriority.map((count, index) => (
          <span
            key={index}
            class={`prio-badge p${index + 1}`}
            data-priority={index + 1}
            data-count={count}
          >
            P{index + 1}: {count}
          </span>
        ))}
      </div>
      {openAlarms.length === 0 ? (
        <p class="muted">{t('enterpriseNoOpenAlarms')}</p>
      ) : (
        <table class="compact uplink-alarms">
          <tbody>
            {openAlarms.map(alarm => (
              <tr
                key={alarm.alarmId}
                class={`uplink-alarm p${alarm.priority}`}
                data-alarm-id={alarm.alarmId}
                data-state={alarm.state}
              >
                <td>
                  <span class={`prio-badge p${alarm.priority}`}>P{alarm.priority}</span>
                </td>
                <td class="state">{label(lang, 'state', alarm.state)}</td>
                <td>
                  {alarm.siteId}/{alarm.deviceId} <span class="tag">{alarm.alarmType}</span>
                </td>
                <td>{alarm.message}</td>
                <td class="time">{formatTime(lang, alarm.raisedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h4>{t('enterpriseHazards')}</h4>
      <div class="summary-chips hazard-states">
        {Object.entries(summary.hazardsByState).map(([state, count]) => (
          <span key={state} class="chip" data-state={state} data-count={count}>
            {label(lang, 'hazardState', state)}: {count}
          </span>
        ))}
        {summary.overdue > 0 && (
          <span class="chip tag-error hazard-overdue" data-count={summary.overdue}>
            {t('enterpriseHazardsOverdue', { count: summary.overdue })}
          </span>
        )}
      </div>
      {hazards.length === 0 ? (
        <p class="muted">{t('enterpriseNoHazards')}</p>
      ) : (
        <table class="compact uplink-hazards">
          <tbody>
            {hazards.map(hazard => (
              <tr
                key={hazard.hazardId}
                class={`uplink-hazard${hazard.overdue && hazard.state !== 'closed' ? ' overdue' : ''}`}
                data-hazard-id={hazard.hazardId}
                data-state={hazard.state}
                data-overdue={String(hazard.overdue)}
              >
                <td class="num">#{hazard.no}</td>
                <td>
                  {hazard.title}
                  {hazard.level === 'major' && (
                    <span class="tag tag-error">{label(lang, 'hazardLevel', 'major')}</span>
                  )}
                </td>
                <td class="state">
                  {label(lang, 'hazardState', hazard.state)}
                  {hazard.overdue && hazard.state !== 'closed' && (
                    <span class="tag tag-error">{t('hazardOverdue')}</span>
                  )}
                </td>
                <td>{hazard.responsible ?? ''}</td>
                <td class="time">
                  {hazard.deadline !== undefined ? formatTime(lang, hazard.deadline) : ''}
                </td>
                <td class="hazard-approval">
                  <HazardApproval
                    enterprise={enterprise}
                    hazard={hazard}
                    onApproved={props.onIssued}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h4>{t('enterpriseTanks')}</h4>
      {enterprise.realtime.length === 0 ? (
        <p class="muted">{t('enterpriseNoTanks')}</p>
      ) : (
        <table class="compact uplink-tanks">
          <tbody>
            {enterprise.realtime.flatMap(sample =>
              sample.points.map(point => (
                <tr
                  key={`${sample.hazardSourceCode}/${point.pointCode}`}
                  class="uplink-point"
                  data-point={point.pointCode}
                >
                  <td>{localName(lang, sample.hazardSourceName)}</td>
                  <td>{point.pointCode}</td>
                  <td class="num">{String(point.value)}</td>
                  <td class="time">{formatTime(lang, point.time)}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}

      <h4>{t('enterpriseOrders')}</h4>
      <OrderList
        orders={enterprise.orders}
        hazardName={id => {
          const hazard = enterprise.hazards.find(entry => entry.hazardId === id);
          return hazard && `#${hazard.no} ${hazard.title}`;
        }}
      />
      <OrderForm enterprise={enterprise} onIssued={props.onIssued} />
    </article>
  );
}

/**
 * Orders, newest first. `hazardName` names the hazard an order is about (the upper knows the
 * lower's ledger); without it the hazard links to the ledger of this Vigil (the lower's own).
 */
function OrderList(props: {
  orders: readonly SupervisionOrder[];
  hazardName?: (hazardId: string) => string | undefined;
}) {
  const { t, lang, orgName } = useConsole();
  if (props.orders.length === 0) return <p class="muted">{t('enterpriseNoOrders')}</p>;
  const orders = [...props.orders].sort((a, b) => b.seq - a.seq);
  return (
    <ul class="supervision-orders">
      {orders.map(order => (
        <li key={order.id} class="supervision-order" data-seq={order.seq} data-id={order.id}>
          <strong>
            #{order.seq} {order.title}
          </strong>
          {order.deadline !== undefined && (
            <span class="tag tag-warn">
              {t('orderDue', { time: formatTime(lang, order.deadline) })}
            </span>
          )}
          {order.hazardId &&
            (props.hazardName ? (
              <span class="tag order-hazard">
                {t('ordersHazard', { id: props.hazardName(order.hazardId) ?? order.hazardId })}
              </span>
            ) : (
              <a class="tag order-hazard" href={routeHref('hazards', { id: order.hazardId })}>
                {t('ordersHazard', { id: order.hazardId })}
              </a>
            ))}
          {order.kind === 'approve' && (
            <span class="tag order-kind-approve">{t('orderKindApprove')}</span>
          )}
          {order.kind === 'approve' &&
            (order.outcome ? (
              <span
                class={`tag order-outcome ${order.outcome.outcome === 'applied' ? 'tag-ok' : 'tag-error'}`}
                data-outcome={order.outcome.outcome}
              >
                {order.outcome.outcome === 'applied'
                  ? t('orderOutcomeApplied')
                  : t('orderOutcomeRefused', { message: order.outcome.message ?? '' })}
              </span>
            ) : (
              props.hazardName && (
                <span class="tag tag-warn order-outcome" data-outcome="pending">
                  {t('orderOutcomePending')}
                </span>
              )
            ))}
          {order.text && <p class="order-text">{order.text}</p>}
          <div class="muted">
            {t('orderIssuedBy', {
              user: order.issuedBy,
              node: orgName(order.issuedByNode),
              time: formatTime(lang, order.issuedAt),
            })}
          </div>
        </li>
      ))}
    </ul>
  );
}

/**
 * 批准销号 of a forwarded major hazard the enterprise accepted (docs/interfaces.md §Uplink): the
 * button with an optional note for supervisors and admins (the server refuses operators), the
 * pending approval until the lower answers, 已批准 once its approve step came back up.
 */
function HazardApproval(props: {
  enterprise: UplinkEnterprise;
  hazard: UplinkEnterprise['hazards'][number];
  onApproved: () => void;
}) {
  const { t, session, notify } = useConsole();
  const [busy, setBusy] = useState(false);
  const { enterprise, hazard } = props;
  if (hazard.steps.some(step => step.transition === 'approve'))
    return <span class="tag tag-ok hazard-approved">{t('hazardApproved')}</span>;
  if (pendingApproval(enterprise, hazard.hazardId))
    return <span class="tag tag-warn hazard-approve-pending">{t('hazardApprovePending')}</span>;
  if (session.user.role === 'operator' || !approvable(enterprise, hazard)) return null;
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const note = String(new FormData(form).get('note') ?? '').trim();
    setBusy(true);
    try {
      await apiPost<SupervisionOrder>(
        `/api/v1/uplink/enterprises/${encodeURIComponent(enterprise.enterpriseCode)}/hazards/${encodeURIComponent(hazard.hazardId)}/approve`,
        note ? { note } : {},
      );
      notify(t('hazardApproveSent', { no: hazard.no }));
      props.onApproved();
    } catch (error) {
      notify(t('hazardApproveFailed', { message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="hazard-approve-form" onSubmit={event => void submit(event)}>
      <fieldset disabled={busy}>
        <input
          name="note"
          maxLength={2000}
          placeholder={t('hazardApproveNote')}
          aria-label={t('hazardApproveNote')}
        />
        <button type="submit" class="primary">
          {t('hazardApprove')}
        </button>
      </fieldset>
    </form>
  );
}

function OrderForm(props: { enterprise: UplinkEnterprise; onIssued: () => void }) {
  const { t, session, notify, lang } = useConsole();
  const [busy, setBusy] = useState(false);
  if (session.user.role === 'operator')
    return <p class="muted order-operator-only">{t('orderOperatorOnly')}</p>;
  const { enterprise } = props;
  const hazards = enterprise.hazards.filter(hazard => hazard.state !== 'closed');
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const field = (name: string) => String(data.get(name) ?? '').trim();
    const deadline = field('deadline');
    setBusy(true);
    try {
      const order = await apiPost<SupervisionOrder>(
        `/api/v1/uplink/enterprises/${encodeURIComponent(enterprise.enterpriseCode)}/orders`,
        {
          title: field('title'),
          text: field('text'),
          ...(field('hazardId') ? { hazardId: field('hazardId') } : {}),
          // The end of the chosen day, the console's time zone.
          ...(deadline ? { deadline: new Date(`${deadline}T23:59:59`).getTime() } : {}),
        },
      );
      notify(t('orderIssued', { name: localName(lang, enterprise.name), seq: order.seq }));
      form.reset();
      props.onIssued();
    } catch (error) {
      notify(t('orderFailed', { message: errorMessage(error) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  const tomorrow = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
  return (
    <form class="order-form" onSubmit={event => void submit(event)}>
      <fieldset disabled={busy}>
        <legend>{t('orderIssue')}</legend>
        <label>
          {t('orderTitle')}
          <input name="title" required maxLength={200} />
        </label>
        <label>
          {t('orderText')}
          <textarea name="text" maxLength={4000} rows={2} />
        </label>
        <label>
          {t('orderHazard')}
          <select name="hazardId">
            <option value="">{t('orderHazardNone')}</option>
            {hazards.map(hazard => (
              <option key={hazard.hazardId} value={hazard.hazardId}>
                #{hazard.no} {hazard.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('orderDeadline')}
          <input name="deadline" type="date" min={tomorrow} />
        </label>
        <button type="submit" class="primary">
          {t('orderSubmit')}
        </button>
      </fieldset>
    </form>
  );
}

/** The lower Vigil's supervision orders (督办令) received from the upper, newest first. */
export function OrdersPage() {
  const { t } = useConsole();
  const list = useLoad(() => apiGet<SupervisionOrder[]>('/api/v1/uplink/orders'), [], REFRESH_MS);
  return (
    <section class="uplink-page" id="uplink-orders">
      <h2>{t('ordersTitle')}</h2>
      <p class="muted">{t('ordersHint')}</p>
      {list.error !== undefined && (
        <p class="banner banner-error" role="alert">
          {t('error', { message: errorMessage(list.error) })}
        </p>
      )}
      {list.data && list.data.length === 0 && <p class="empty">{t('ordersNone')}</p>}
      {list.data && list.data.length > 0 && (
        <div class="panel">
          <OrderList orders={list.data} />
        </div>
      )}
    </section>
  );
}
