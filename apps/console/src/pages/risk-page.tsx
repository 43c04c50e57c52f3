import { useConsole } from '../app/context';
import { label } from '../app/i18n';
import { RISK_COLOURS, pathTo, sortedChildren } from '../app/risk-view';
import { routeHref } from '../app/route';
import type { RiskNode } from '../app/types';
import { SitePlan } from '../components/site-plan';
import { useRisk } from './plan-page';

export function RiskPage(props: { params: Readonly<Record<string, string>> }) {
  const { t, lang, sites, devices } = useConsole();
  const roots = useRisk();
  const requested = props.params['node'];
  const path = requested ? pathTo(roots, requested) : [];
  const node = path.at(-1) ?? roots[0];
  const trail = path.length > 0 ? path : node ? [node] : [];
  if (!node) return <p class="muted">{t('loading')}</p>;
  const site = node.kind === 'site' ? sites.find(entry => entry.id === node.id) : undefined;
  const children = sortedChildren(node);
  const driver = node.driver ? node.children.find(child => child.key === node.driver) : undefined;
  const href = (target: RiskNode) => routeHref('risk', { node: target.key });

  return (
    <section class="risk-page">
      <nav class="breadcrumbs" aria-label="drill-down">
        {trail.map((step, index) => (
          <span key={step.key}>
            {index > 0 && <span class="sep"> › </span>}
            <a href={href(step)} class={`risk-text risk-${step.level}`}>
              {label(lang, 'org', step.kind)} · {step.name}
            </a>
          </span>
        ))}
      </nav>
      <div class="risk-layout">
        <div class="risk-main">
          <div class={`risk-hero risk-bg-${node.level}`} id="risk-node" data-node={node.key} data-level={node.level}>
            <div>
              <div class="muted small">{label(lang, 'org', node.kind)}</div>
              <h2>{node.name}</h2>
            </div>
            <div class="risk-hero-level">
              <div class="risk-level-text">{label(lang, 'risk', node.level)}</div>
              <div class="small">
                {t('inherentRisk')}：{label(lang, 'riskShort', node.inherent)}
                {node.level !== node.inherent && ' ↑'}
              </div>
            </div>
          </div>
          <div class="risk-counts" aria-label={t('riskAreas')}>
            {RISK_COLOURS.map(colour => (
              <span key={colour} class={`risk-count risk-bg-${colour}`} data-colour={colour}>
                {label(lang, 'riskShort', colour)} {node.areas[colour]}
              </span>
            ))}
          </div>
          {site && (
            <SitePlan
              site={site}
              devices={devices.filter(device => device.siteId === site.id)}
              risk={new Map(node.children.map(child => [child.id, child]))}
              onArea={areaId => (location.hash = routeHref('risk', { node: `area:${site.id}/${areaId}` }))}
            />
          )}
          {children.length > 0 && (
            <div class="risk-grid">
              {children.map(child => (
                <a
                  key={child.key}
                  href={href(child)}
                  class={`risk-card risk-border-${child.level}`}
                  data-node={child.key}
                  data-level={child.level}
                >
                  <span class={`risk-chip risk-bg-${child.level}`}>{label(lang, 'riskShort', child.level)}</span>
                  <span class="risk-card-name">{child.name}</span>
                  <span class="muted small">
                    {label(lang, 'org', child.kind)}
                    {child.level !== child.inherent && ` · ${t('inherentRisk')} ${label(lang, 'riskShort', child.inherent)} ↑`}
                  </span>
                </a>
              ))}
            </div>
          )}
          {path.length > 1 && (
            <a class="button ghost" href={href(path[path.length - 2] as RiskNode)}>
              {t('drillUp')}
            </a>
          )}
        </div>
        <aside class="risk-side panel">
          <h3>{t('riskReasons')}</h3>
          {node.score && (
            <p class="mono" id="risk-score">
              {t('riskScore', node.score)}
            </p>
          )}
          {driver && (
            <p>
              <a href={href(driver)}>{t('riskDrivenBy', { name: driver.name })}</a>
            </p>
          )}
          <Reasons node={node} />
          <p class="muted small">{t('riskFormula')}</p>
        </aside>
      </div>
    </section>
  );
}

function Reasons(props: { node: RiskNode }) {
  const { t, lang, alarms, describe, device } = useConsole();
  const { reasons } = props.node;
  if (reasons.length === 0) return props.node.driver ? null : <p class="muted">{t('riskNoReasons')}</p>;
  return (
    <ul class="reasons" id="risk-reasons">
      {reasons.map(reason => {
        const alarm = alarms.get(reason.alarmId);
        return (
          <li key={reason.alarmId} data-alarm-id={reason.alarmId}>
            <span class={`prio-badge p${reason.priority}`}>P{reason.priority}</span>{' '}
            <strong>{t(`reason.${reason.kind}`)}</strong>{' '}
            {alarm ? describe(alarm) : `${reason.ruleId} ${reason.level}`}
            <div class="muted small">
              {device(reason.siteId, reason.deviceId)?.name ?? reason.deviceId}
              {reason.weight > 0 && ` · ${t('weight', { weight: reason.weight })}`}
              {reason.floor && ` · ${t('floorTo', { colour: label(lang, 'riskShort', reason.floor) })}`}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
