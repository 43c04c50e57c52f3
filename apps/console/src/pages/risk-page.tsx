import {
  RISK_LEVELS,
  type MhsGradeFigure,
  type MhsUnitRisk,
  type RiskNode,
} from '@vigil/contracts';

import { useConsole } from '../app/context';
import { localName } from '../app/format';
import { label } from '../app/i18n';
import { defaultNode, pathTo, raisedNodes, sortedChildren } from '../app/risk-view';
import { routeHref } from '../app/route';
import { SitePlan } from '../components/site-plan';
import { useRisk } from './plan-page';

const href = (target: RiskNode) => routeHref('risk', { node: target.key });

export function RiskPage(props: { params: Readonly<Record<string, string>> }) {
  const { t, lang, sites, devices } = useConsole();
  const roots = useRisk();
  const requested = props.params['node'];
  const chosen = requested ? pathTo(roots, requested).at(-1) : undefined;
  const node = chosen ?? defaultNode(roots);
  if (!node) return <p class="muted">{t('loading')}</p>;
  const path = pathTo(roots, node.key);
  const open = new Set(path.map(step => step.key));
  const site = node.kind === 'site' ? sites.find(entry => entry.id === node.id) : undefined;
  const children = sortedChildren(node);
  const driver = node.driver ? node.children.find(child => child.key === node.driver) : undefined;
  const source = driverSource(node);
  const raised = raisedNodes([node]).filter(
    area => area.key !== node.key && area.key !== source?.key,
  );
  const name = (target: RiskNode) => localName(lang, target.name);
  const change = (target: RiskNode) =>
    target.level === target.inherent
      ? label(lang, 'riskShort', target.level)
      : `${label(lang, 'riskShort', target.inherent)} → ${label(lang, 'riskShort', target.level)}`;

  return (
    <section class="risk-page">
      <div class="risk-layout">
        <nav class="risk-tree panel" aria-label={t('riskLevel')} id="risk-tree">
          <TreeLevel nodes={roots} open={open} selected={node.key} />
        </nav>
        <div class="risk-main">
          <nav class="breadcrumbs" aria-label="drill-down">
            {path.map((step, index) => (
              <span key={step.key}>
                {index > 0 && <span class="sep"> › </span>}
                <a href={href(step)} class={`risk-text risk-${step.level}`}>
                  {name(step)}
                </a>
              </span>
            ))}
          </nav>
          <div
            class={`risk-hero risk-bg-${node.level}`}
            id="risk-node"
            data-node={node.key}
            data-level={node.level}
          >
            <div>
              <div class="muted small">{label(lang, 'org', node.kind)}</div>
              <h2>{name(node)}</h2>
            </div>
            <div class="risk-hero-level">
              <div class="risk-level-text">{label(lang, 'risk', node.level)}</div>
              <div class="small">
                {t('inherentRisk')}: {label(lang, 'riskShort', node.inherent)}
                {node.level !== node.inherent &&
                  ` → ${t('dynamicRisk')}: ${label(lang, 'riskShort', node.level)}`}
              </div>
            </div>
          </div>
          <div class="risk-counts" aria-label={t('riskAreas')}>
            <span class="muted small">{t('riskAreas')}</span>
            {RISK_LEVELS.map(colour => (
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
              onArea={areaId =>
                (location.hash = routeHref('risk', { node: `area:${site.id}/${areaId}` }))
              }
            />
          )}
          {node.hazardUnits && node.hazardUnits.length > 0 && (
            <HazardUnits units={node.hazardUnits} />
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
                  <span class={`risk-chip risk-bg-${child.level}`}>
                    {label(lang, 'riskShort', child.level)}
                  </span>
                  <span class="risk-card-name">{name(child)}</span>
                  <span class="muted small">
                    {child.areaKind
                      ? label(lang, 'areaKind', child.areaKind)
                      : label(lang, 'org', child.kind)}
                    {child.level !== child.inherent &&
                      ` · ${t('inherentRisk')} ${label(lang, 'riskShort', child.inherent)} ↑`}
                  </span>
                </a>
              ))}
            </div>
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
              <a href={href(driver)}>{t('riskDrivenBy', { name: name(driver) })}</a>
            </p>
          )}
          <Reasons node={node} />
          {source && source.key !== node.key && (
            <div class="raised-area">
              <a href={href(source)} class={`risk-text risk-${source.level}`}>
                {name(source)}: {change(source)}
              </a>
              <Reasons node={source} />
            </div>
          )}
          {raised.map(area => (
            <div key={area.key} class="raised-area">
              <a href={href(area)} class={`risk-text risk-${area.level}`}>
                {name(area)}: {change(area)}
              </a>
              <Reasons node={area} />
            </div>
          ))}
          {node.reasons.length === 0 && raised.length === 0 && !driver && (
            <p class="muted">{t('riskNoReasons')}</p>
          )}
          <p class="muted small">{t('riskFormula')}</p>
        </aside>
      </div>
    </section>
  );
}

/** Follows `driver` down to the node whose own colour set this one's (usually an area). */
const ROMAN = ['I', 'II', 'III', 'IV'];
const CHINESE = ['一', '二', '三', '四'];
/** Grade I … IV in the colours the risk roll-up gives them (red … blue). */
const GRADE_COLOUR = ['red', 'orange', 'yellow', 'blue'];

/** GB 18218-2018: each production or storage unit, its regulatory grade and live index side by side. */
function HazardUnits(props: { units: readonly MhsUnitRisk[] }) {
  const { t, lang } = useConsole();
  const grade = (figure: MhsGradeFigure) =>
    figure.grade === null ? (
      <span class="muted">{t('mhsNotMajor', { s: figure.s })}</span>
    ) : (
      <span class={`risk-text risk-${GRADE_COLOUR[figure.grade - 1]}`}>
        {t('mhsGrade', {
          grade: (lang === 'en' ? ROMAN : CHINESE)[figure.grade - 1] ?? '',
          r: figure.r,
        })}
      </span>
    );
  return (
    <div class="panel" id="mhs-units">
      <h3>{t('mhsUnits')}</h3>
      <table class="table small">
        <thead>
          <tr>
            <th>{t('mhsUnitKind')}</th>
            <th>{t('mhsRegulatory')}</th>
            <th>{t('mhsLive')}</th>
          </tr>
        </thead>
        <tbody>
          {props.units.map(unit => (
            <tr
              key={unit.id}
              data-unit={unit.id}
              data-regulatory={unit.regulatory.grade ?? 'none'}
              data-live={unit.live.grade ?? 'none'}
            >
              <td>
                {localName(lang, unit.name)}
                <div class="muted">
                  {t(unit.kind === 'production' ? 'mhsKind.production' : 'mhsKind.storage')} ·{' '}
                  {unit.exposedPopulation === undefined
                    ? t('mhsAlphaGiven', { alpha: unit.alpha })
                    : t('mhsAlphaPeople', { alpha: unit.alpha, people: unit.exposedPopulation })}
                </div>
              </td>
              <td>{grade(unit.regulatory)}</td>
              <td>
                {grade(unit.live)}
                {unit.live.withoutLevel.length > 0 && (
                  <div class="muted">
                    {t('mhsWithoutLevel', { count: unit.live.withoutLevel.length })}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">{t('mhsNote')}</p>
    </div>
  );
}

function driverSource(node: RiskNode): RiskNode | undefined {
  let current: RiskNode | undefined = node;
  while (current?.driver) current = current.children.find(child => child.key === current?.driver);
  return current;
}

/** The organisation tree, opened along the selected path; every node in its colour. */
function TreeLevel(props: {
  nodes: readonly RiskNode[];
  open: ReadonlySet<string>;
  selected: string;
}) {
  const { lang } = useConsole();
  return (
    <ul class="tree">
      {props.nodes.map(node => (
        <li key={node.key}>
          <a
            href={href(node)}
            class={`tree-node${node.key === props.selected ? ' selected' : ''}`}
            data-node={node.key}
            data-level={node.level}
          >
            <span class={`dot risk-bg-${node.level}`} />
            {localName(lang, node.name)}
          </a>
          {(props.open.has(node.key) || node.key === props.selected) &&
            node.kind !== 'area' &&
            node.children.length > 0 && (
              <TreeLevel nodes={sortedChildren(node)} open={props.open} selected={props.selected} />
            )}
        </li>
      ))}
    </ul>
  );
}

function Reasons(props: { node: RiskNode }) {
  const { t, lang, alarms, describe, device, areaName } = useConsole();
  const { reasons } = props.node;
  if (reasons.length === 0) return null;
  return (
    <ul class="reasons" data-node={props.node.key}>
      {reasons.map(reason => {
        const alarm = alarms.get(reason.alarmId);
        return (
          <li key={reason.alarmId} data-alarm-id={reason.alarmId}>
            <span class={`prio-badge p${reason.priority}`}>P{reason.priority}</span>{' '}
            <strong>{t(`reason.${reason.kind}`)}</strong>{' '}
            {alarm ? describe(alarm) : `${reason.ruleId} ${reason.level}`}
            <div class="muted small">
              {device(reason.siteId, reason.deviceId)?.name ??
                areaName(reason.siteId, reason.deviceId)}
              {reason.weight > 0 && ` · ${t('weight', { weight: reason.weight })}`}
              {reason.floor &&
                ` · ${t('floorTo', { colour: label(lang, 'riskShort', reason.floor) })}`}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
