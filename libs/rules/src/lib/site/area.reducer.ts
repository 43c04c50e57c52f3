import { nearBoundingBox, type RuleSignal, signedDepth } from '@vigil/contracts';

import { monitoringLostSignal } from '../monitoring-lost';
import { type RuleContext, formatNumber, formatSeconds } from '../rule-signal';
import { crowdsWithinRadius } from './clustering';
import type { AreaSiteRules, CompiledArea } from './site-config';
import {
  type AreaState,
  type SiteRulesStats,
  type SiteState,
  type TagState,
  compareIds,
  crowdIds,
  formatMembers,
  musterList,
  peopleInArea,
  siteSignal,
  siteSignalKey,
} from './site-state';

/*
 * Area rules: head-count, crowding and people-present are evaluated on ticks (people-present also
 * on the device signal that changes it); head-count also clears on the fix that ends it; voting
 * follows device signals. Every rule keeps one `active` flag per area and emits only on a flip.
 */

// ---------------------------------------------------------------------------------------------
// Head-count
// ---------------------------------------------------------------------------------------------

/** A tag became present (fix or back from lost): may start the head-count hold. */
export function addPresent(area: AreaState, tag: TagState, now: number): void {
  area.present.add(tag);
  const rule = area.area.rules['head-count'];
  if (!rule.enabled || rule.maxPeople === undefined) return;
  if (area.present.size > rule.maxPeople) area.headCountOverSince ??= now;
}

/** A tag is no longer present (left, lost): may end the head-count hold and clear at once. */
export function removePresent(
  site: SiteState,
  area: AreaState,
  tag: TagState,
  at: number,
  context: RuleContext,
  out: RuleSignal[],
): void {
  if (!area.present.delete(tag)) return;
  const rule = area.area.rules['head-count'];
  if (!rule.enabled || rule.maxPeople === undefined || area.present.size > rule.maxPeople) return;
  area.headCountOverSince = undefined;
  if (!area.headCountActive) return;
  area.headCountActive = false;
  const count = area.present.size;
  out.push(
    headCountSignal(site, area, rule, false, at, context, {
      message: `${count} ${people(count)} in ${area.area.name}, back within the limit of ${rule.maxPeople}`,
    }),
  );
}

function headCountTick(
  site: SiteState,
  area: AreaState,
  now: number,
  context: RuleContext,
  out: RuleSignal[],
): void {
  const rule = area.area.rules['head-count'];
  const since = area.headCountOverSince;
  if (!rule.enabled || rule.maxPeople === undefined || area.headCountActive) return;
  if (since === undefined || now - since <= rule.holdMs) return;
  area.headCountActive = true;
  const members = peopleInArea(site, area.area.id);
  out.push(
    headCountSignal(site, area, rule, true, now, context, {
      message:
        `${members.length} people in ${area.area.name} for more than ${formatSeconds(rule.holdMs)} ` +
        `(limit ${rule.maxPeople}): ${formatMembers(members)}`,
      members,
    }),
  );
}

function headCountSignal(
  site: SiteState,
  area: AreaState,
  rule: AreaSiteRules['head-count'],
  active: boolean,
  at: number,
  context: RuleContext,
  extra: { readonly message: string; readonly members?: readonly string[] },
): RuleSignal {
  const { siteId } = site.site;
  const areaId = area.area.id;
  return siteSignal(
    {
      key: siteSignalKey(siteId, areaId, 'head-count'),
      ruleId: 'head-count',
      siteId,
      subjectId: areaId,
      isTag: false,
      areaId,
      priority: rule.priority,
      level: 'head-count',
      active,
      metric: 'people',
      value: area.present.size,
      threshold: rule.maxPeople,
      at,
      ...extra,
    },
    context,
  );
}

// ---------------------------------------------------------------------------------------------
// Crowding (MEM guide 2023: ≥ N people within one circle of radius 15 m for > 1 min)
// ---------------------------------------------------------------------------------------------

/**
 * Finds the crowds among the tags present in the area: `minPeople` or more inside one circle of
 * radius `radiusM`, same floor (`crowdsWithinRadius`). The area "is crowded" at a tick when it has
 * at least one crowd; it raises once it has been crowded at every tick for more than `holdMs`, whoever the
 * members are, and clears once it has had no crowd for `offDelayMs`.
 */
function crowdingTick(
  site: SiteState,
  area: AreaState,
  now: number,
  stats: SiteRulesStats,
  context: RuleContext,
  out: RuleSignal[],
): void {
  const rule = area.area.rules.crowding;
  if (area.present.size >= rule.minPeople) {
    stats.crowdingEvaluations += 1;
    area.crowdTags = [...area.present];
    area.crowdClusters = crowdsWithinRadius(area.crowdTags, rule.radiusM, rule.minPeople);
  } else if (area.crowdClusters.length > 0 || area.crowdTags.length > 0) {
    area.crowdTags = [];
    area.crowdClusters = [];
  }
  const crowded = area.crowdClusters.length > 0;

  const base = () => {
    const { siteId } = site.site;
    const areaId = area.area.id;
    return {
      key: siteSignalKey(siteId, areaId, 'crowding'),
      ruleId: 'crowding',
      siteId,
      subjectId: areaId,
      isTag: false,
      areaId,
      priority: rule.priority,
      level: 'crowding',
      metric: 'people',
      threshold: rule.minPeople,
      at: now,
    } as const;
  };

  if (crowded) {
    area.crowdQuietSince = undefined;
    area.crowdedSince ??= now;
    if (area.crowdingActive || now - area.crowdedSince <= rule.holdMs) return;
    area.crowdingActive = true;
    const crowds = crowdIds(area);
    // Circles may overlap: a person in two of them is listed once.
    const members = [...new Set(crowds.flat())].sort(compareIds);
    const groups = crowds.length > 1 ? ` in ${crowds.length} groups` : '';
    out.push(
      siteSignal(
        {
          ...base(),
          active: true,
          value: members.length,
          members,
          message:
            `Crowding in ${area.area.name}: ${members.length} people${groups}, ` +
            `≥ ${rule.minPeople} within a ${formatNumber(rule.radiusM)} m radius for more than ` +
            `${formatSeconds(rule.holdMs)}: ${formatMembers(members)}`,
        },
        context,
      ),
    );
    return;
  }

  area.crowdedSince = undefined;
  if (!area.crowdingActive) return;
  area.crowdQuietSince ??= now;
  if (now - area.crowdQuietSince < rule.offDelayMs) return;
  area.crowdingActive = false;
  area.crowdQuietSince = undefined;
  out.push(
    siteSignal(
      {
        ...base(),
        active: false,
        value: area.present.size,
        message:
          `Crowding in ${area.area.name} ended: no ${rule.minPeople} people within a ` +
          `${formatNumber(rule.radiusM)} m radius for ${formatSeconds(rule.offDelayMs)}`,
      },
      context,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// People present during a process alarm (domain-standards §9.7 correlation)
// ---------------------------------------------------------------------------------------------

/**
 * Raises when the area has a correlated alarm and someone is in or near it (`musterList`), with
 * the list as `members`; clears when the last such alarm clears, or when nobody has been near for
 * `offDelayMs` (measured on ticks only: pass `now` undefined from a signal). The member list is
 * sent only on the raise: later changes are read with `musterList` (README "People present").
 */
export function evaluatePeoplePresent(
  site: SiteState,
  area: AreaState,
  at: number,
  now: number | undefined,
  context: RuleContext,
  out: RuleSignal[],
): void {
  const rule = area.area.rules['people-present'];
  if (!rule.enabled) return;
  const { siteId } = site.site;
  const areaId = area.area.id;
  const signal = (
    active: boolean,
    message: string,
    extra: { value?: number; members?: readonly string[] } = {},
  ) =>
    siteSignal(
      {
        key: siteSignalKey(siteId, areaId, 'people-present'),
        ruleId: 'people-present',
        siteId,
        subjectId: areaId,
        isTag: false,
        areaId,
        priority: rule.priority,
        level: 'people-present',
        active,
        metric: 'people',
        at,
        message,
        ...extra,
      },
      context,
    );

  if (area.alarms.size === 0) {
    area.peopleGoneSince = undefined;
    if (!area.peoplePresentActive) return;
    area.peoplePresentActive = false;
    out.push(signal(false, `No process alarm left in ${area.area.name}`));
    return;
  }

  if (area.peoplePresentActive) {
    // Raised already: only whether anyone is still near matters (no list, no sort).
    if (anyoneNear(site, area.area, rule.radiusM)) {
      area.peopleGoneSince = undefined;
      return;
    }
    if (now === undefined) return;
    area.peopleGoneSince ??= now;
    if (now - area.peopleGoneSince < rule.offDelayMs) return;
    area.peoplePresentActive = false;
    area.peopleGoneSince = undefined;
    const message =
      `Nobody in or within ${formatNumber(rule.radiusM)} m of ${area.area.name} ` +
      `for ${formatSeconds(rule.offDelayMs)}`;
    out.push(signal(false, message, { value: 0 }));
    return;
  }

  // Not raised yet: most ticks nobody is near, which the early-exit test answers without a list.
  if (!anyoneNear(site, area.area, rule.radiusM)) return;
  const muster = musterList(site, areaId, rule.radiusM);
  if (muster.length === 0) return;
  area.peoplePresentActive = true;
  const members = muster.map(entry => entry.tagId);
  const devices = [...area.alarms.keys()].sort(compareIds);
  const message =
    `${members.length} ${people(members.length)} in or within ${formatNumber(rule.radiusM)} m of ` +
    `${area.area.name} during a process alarm (${formatMembers(devices)}): ${formatMembers(members)}`;
  out.push(signal(true, message, { value: members.length, members }));
}

/** Whether any tag with a fresh position is in the area or within `radiusM` of it (early exit). */
function anyoneNear(site: SiteState, area: CompiledArea, radiusM: number): boolean {
  for (const tag of site.tags.values()) {
    if (!tag.hasFix || tag.lost || !nearBoundingBox(area.polygon, tag.x, tag.y, radiusM)) continue;
    if (signedDepth(area.polygon, tag.x, tag.y) >= -radiusM) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Device signals: voting and the alarms people-present correlates with
// ---------------------------------------------------------------------------------------------

/** Applies one device engine signal to the area of its device (the registry's, else its own). */
export function onDeviceSignal(
  site: SiteState,
  signal: RuleSignal,
  context: RuleContext,
  out: RuleSignal[],
): void {
  // A located signal (a fire-panel point) is in its point's area, not the panel's.
  const areaId =
    (signal.location ? signal.areaId : undefined) ??
    site.site.deviceAreas.get(signal.deviceId) ??
    signal.areaId;
  const area = areaId === undefined ? undefined : site.areas.get(areaId);
  if (!area) return;
  const { voting, 'people-present': presence } = area.area.rules;

  if (voting.enabled && voting.rules.includes(signal.ruleId) && track(area.votes, signal)) {
    vote(site, area, signal.at, context, out);
  }

  const correlated =
    presence.enabled &&
    signal.category === 'process' &&
    signal.deviceClass !== undefined &&
    presence.deviceClasses.includes(signal.deviceClass) &&
    (presence.ruleIds === undefined || presence.ruleIds.includes(signal.ruleId));
  if (correlated && track(area.alarms, signal)) {
    evaluatePeoplePresent(site, area, signal.at, undefined, context, out);
  }
}

/** Records a device's rule as active or not; true when that changed anything. */
function track(byDevice: Map<string, Set<string>>, signal: RuleSignal): boolean {
  const rules = byDevice.get(signal.deviceId);
  // Located signals (fire-panel points) are one per point: the last point's clear ends it.
  const id = signal.location ? signal.key : signal.ruleId;
  if (signal.active) {
    if (rules?.has(id)) return false;
    if (rules) rules.add(id);
    else byDevice.set(signal.deviceId, new Set([id]));
    return true;
  }
  if (!rules?.delete(id)) return false;
  if (rules.size === 0) byDevice.delete(signal.deviceId);
  return true;
}

function vote(
  site: SiteState,
  area: AreaState,
  at: number,
  context: RuleContext,
  out: RuleSignal[],
): void {
  const rule = area.area.rules.voting;
  const count = area.votes.size;
  const raise = !area.voteActive && count >= rule.k;
  const clear = area.voteActive && count < rule.k;
  if (!raise && !clear) return;
  area.voteActive = raise;
  const { siteId } = site.site;
  const areaId = area.area.id;
  const ruleId = area.area.votingRuleId;
  const voted = rule.rules.join(' or ');
  const members = [...area.votes.keys()].sort(compareIds);
  out.push(
    siteSignal(
      {
        key: siteSignalKey(siteId, areaId, ruleId),
        ruleId,
        siteId,
        subjectId: areaId,
        isTag: false,
        areaId,
        priority: rule.priority,
        level: 'voted',
        active: raise,
        latched: rule.latched,
        metric: 'detectors',
        value: count,
        threshold: rule.k,
        at,
        ...(raise ? { members } : {}),
        message: raise
          ? `${count} detectors in ${area.area.name} in ${voted} (${rule.k}-out-of-N vote): ` +
            formatMembers(members)
          : `${count} ${count === 1 ? 'detector' : 'detectors'} left in ${voted} in ` +
            `${area.area.name}, fewer than the ${rule.k} of the vote`,
      },
      context,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Tick
// ---------------------------------------------------------------------------------------------

/** Area rules at a tick, areas in layout order: head-count, crowding, people-present. */
export function areasTick(
  site: SiteState,
  now: number,
  stats: SiteRulesStats,
  context: RuleContext,
  out: RuleSignal[],
): void {
  for (const area of site.areaList) {
    if (area.isolated) continue;
    // One area's rules throwing isolates that area (monitoring-lost), not the site's other areas.
    try {
      headCountTick(site, area, now, context, out);
      if (area.area.rules.crowding.enabled) crowdingTick(site, area, now, stats, context, out);
      if (area.alarms.size > 0 || area.peoplePresentActive) {
        evaluatePeoplePresent(site, area, now, now, context, out);
      }
    } catch (error) {
      area.isolated = true;
      stats.isolatedAreas += 1;
      const source = {
        siteId: site.site.siteId,
        deviceId: area.area.id,
        deviceClass: undefined,
        areaId: area.area.id,
      };
      out.push(monitoringLostSignal('area', source, true, now, context, error));
    }
  }
}

function people(count: number): string {
  return count === 1 ? 'person' : 'people';
}
