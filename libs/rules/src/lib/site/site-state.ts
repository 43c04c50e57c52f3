import type { AlarmPriority, RuleSignal } from '@vigil/contracts';

import { musterOf } from './muster-list';
import { DeadlineQueue, type DeadlineItem } from '../deadline-queue';
import type { EngineInput, RuleContext } from '../rule-signal';
import { PEOPLE_PRESENT_RADIUS_M, type CompiledArea, type CompiledSite } from './site-config';

/** What the site rules read: records and ticks (as the device engine) plus its output signals. */
export type SiteInput = EngineInput | SiteSignalInput;

/** A device engine signal, fed back so that areas can vote and correlate alarms with people. */
export interface SiteSignalInput {
  readonly kind: 'signal';
  readonly signal: RuleSignal;
}

/** Wraps a device engine signal as a site input (`deviceSignals$.pipe(map(asSiteInput))`). */
export function asSiteInput(signal: RuleSignal): SiteSignalInput {
  return { kind: 'signal', signal };
}

/** A geofence transition waiting for confirmation, or an active intrusion. */
export interface IntrusionState {
  active: boolean;
  /** Server time (`receivedAt`) of the first fix of a pending transition; undefined when none. */
  pendingSince: number | undefined;
  /** Consecutive fixes that support the pending transition. */
  pendingFixes: number;
}

/** A tag inside an area (membership with hysteresis, see README). */
export interface Presence {
  readonly area: CompiledArea;
  readonly areaState: AreaState;
  /** Server time of the fix that joined the area: the start of the dwell time. */
  readonly enteredAt: number;
  overstayActive: boolean;
}

/**
 * Everything kept for one personnel tag. Mutable, owned by its site; queued in the site's deadline
 * queue at the next server time one of its timers may fire (`dueAt`), or not queued at all.
 */
export interface TagState extends DeadlineItem {
  readonly tagId: string;
  x: number;
  y: number;
  floor: number;
  /** False until the first position fix. */
  hasFix: boolean;
  /**
   * Largest `reading.ts` processed: the tag's event-time watermark. Older readings are ignored,
   * except the one that re-bases it on a clock set back (README "Tag clocks").
   */
  lastTs: number;
  /** Newest `receivedAt` of the tag's readings: an older one was reordered on the way. */
  lastReceivedAt: number;
  /**
   * `receivedAt` of the first of the current run of live late readings (NaN: no run), and its
   * `ts − receivedAt`: the clock that run keeps to. README "Tag clocks".
   */
  behindSince: number;
  behindOffsetMs: number;
  /** Server time of the newest position fix. */
  lastFixAt: number;
  /** Position older than `positionTtlMs` or MQTT last will: not counted in areas until a new fix. */
  lost: boolean;
  /** Server time of the first `still: true` of the current motionless spell. */
  stillSince: number | undefined;
  still: boolean;
  manDownPreAlarm: boolean;
  manDownAlarm: boolean;
  /** Area of the raised man-down signals (their `areaId`, also on the clear). */
  manDownAreaId: string | undefined;
  /** areaId → presence; a tag may be in nested or overlapping areas at once. */
  readonly presences: Map<string, Presence>;
  /** areaId → geofence state, only for restricted areas with something pending or active. */
  readonly intrusions: Map<string, IntrusionState>;
}

export interface AreaState {
  readonly area: CompiledArea;
  /** Its area rules threw on a tick: not evaluated until the site rules restart (a reload). */
  isolated?: boolean;
  /** Tags present (a presence and a fresh position): head-count, crowding, `peopleInArea`. */
  readonly present: Set<TagState>;
  /** Server time the head-count went above the limit; undefined while at or below it. */
  headCountOverSince: number | undefined;
  headCountActive: boolean;
  /** Tick at which a crowd was first seen in an unbroken run of ticks with a crowd. */
  crowdedSince: number | undefined;
  /** Tick at which the crowd was first missing while the alarm is active (off-delay). */
  crowdQuietSince: number | undefined;
  crowdingActive: boolean;
  /**
   * Crowds found at the last evaluation, as indices into `crowdTags` (the tags present then).
   * Kept raw: tag ids are listed and sorted only for a raise or a query (`crowdsInArea`).
   */
  crowdClusters: ReadonlyArray<readonly number[]>;
  crowdTags: readonly TagState[];
  /** deviceId → voting rule ids active on it. */
  readonly votes: Map<string, Set<string>>;
  voteActive: boolean;
  /** deviceId → correlated process rule ids active on it. */
  readonly alarms: Map<string, Set<string>>;
  peoplePresentActive: boolean;
  /** Tick at which the muster list was first empty while people-present is active. */
  peopleGoneSince: number | undefined;
}

export interface SiteState {
  readonly site: CompiledSite;
  readonly tags: Map<string, TagState>;
  /** areaId → state. */
  readonly areas: Map<string, AreaState>;
  /** The same, in layout order: what a fix and a tick iterate. */
  readonly areaList: readonly AreaState[];
  readonly queue: DeadlineQueue<TagState>;
}

/** Counters for `/metrics`; the reducer only increments them. */
export interface SiteRulesStats {
  ticks: number;
  tagFixes: number;
  /** Tag readings older than the tag's newest processed one (late ones included): ignored. */
  outOfOrderReadings: number;
  /** Tag readings older than the tag's newest by more than the late allowance. */
  lateReadings: number;
  /** Tags whose watermark was re-based on a clock that was set back (README "Tag clocks"). */
  clockRebases: number;
  /** Tag readings with x without y (or the reverse), or non-numeric values: position ignored. */
  badFixes: number;
  /** Records and signals of sites not in the layout: ignored. */
  unknownSiteInputs: number;
  signalsIn: number;
  crowdingEvaluations: number;
  signals: number;
  /** Sites whose site rules threw: not evaluated any more, a `monitoring-lost` signal each. */
  isolatedSites: number;
  /** Areas whose area rules threw on a tick: the same, for that area alone. */
  isolatedAreas: number;
  /** Inputs of quarantined sites: not evaluated. */
  quarantinedInputs: number;
}

export interface SiteRulesState {
  readonly sites: Map<string, SiteState>;
  /** Sites whose rules threw (`reduceSiteRules`); a registry reload starts a fresh state. */
  readonly quarantined: Set<string>;
  readonly stats: SiteRulesStats;
}

export function createSiteRulesStats(): SiteRulesStats {
  return {
    ticks: 0,
    tagFixes: 0,
    outOfOrderReadings: 0,
    lateReadings: 0,
    clockRebases: 0,
    badFixes: 0,
    unknownSiteInputs: 0,
    signalsIn: 0,
    crowdingEvaluations: 0,
    signals: 0,
    isolatedSites: 0,
    isolatedAreas: 0,
    quarantinedInputs: 0,
  };
}

export function createSiteRulesState(
  sites: readonly CompiledSite[],
  stats: SiteRulesStats = createSiteRulesStats(),
): SiteRulesState {
  const state: SiteRulesState = { sites: new Map(), quarantined: new Set(), stats };
  for (const site of sites) {
    const areaList = site.areas.map(createAreaState);
    const areas = new Map(areaList.map(area => [area.area.id, area]));
    state.sites.set(site.siteId, {
      site,
      tags: new Map(),
      areas,
      areaList,
      queue: new DeadlineQueue(),
    });
  }
  return state;
}

function createAreaState(area: CompiledArea): AreaState {
  return {
    area,
    present: new Set(),
    headCountOverSince: undefined,
    headCountActive: false,
    crowdedSince: undefined,
    crowdQuietSince: undefined,
    crowdingActive: false,
    crowdClusters: [],
    crowdTags: [],
    votes: new Map(),
    voteActive: false,
    alarms: new Map(),
    peoplePresentActive: false,
    peopleGoneSince: undefined,
  };
}

export function createTagState(tagId: string): TagState {
  return {
    tagId,
    x: 0,
    y: 0,
    floor: 0,
    hasFix: false,
    lastTs: -Infinity,
    lastReceivedAt: -Infinity,
    behindSince: Number.NaN,
    behindOffsetMs: 0,
    lastFixAt: -Infinity,
    lost: false,
    stillSince: undefined,
    still: false,
    manDownPreAlarm: false,
    manDownAlarm: false,
    manDownAreaId: undefined,
    presences: new Map(),
    intrusions: new Map(),
    dueAt: 0,
    queueIndex: -1,
  };
}

// ---------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------

/**
 * Keys: `${siteId}/${areaId}/${ruleId}` for area rules, `${siteId}/${tagId}/${ruleId}` for
 * man-down, and `${siteId}/${tagId}/${ruleId}@${areaId}` for the geofence rules, which a tag can
 * have in two nested or overlapping areas at once. The alarm lifecycle treats keys as opaque.
 */
export function siteSignalKey(
  siteId: string,
  subjectId: string,
  ruleId: string,
  areaId?: string,
): string {
  return areaId === undefined
    ? `${siteId}/${subjectId}/${ruleId}`
    : `${siteId}/${subjectId}/${ruleId}@${areaId}`;
}

export interface SiteSignalFields {
  readonly key: string;
  readonly ruleId: string;
  readonly siteId: string;
  /** Tag id for per-person rules, area id for area rules. */
  readonly subjectId: string;
  readonly isTag: boolean;
  readonly areaId: string | undefined;
  readonly priority: AlarmPriority;
  readonly level: string;
  readonly active: boolean;
  readonly latched?: boolean;
  readonly metric?: string;
  readonly value?: number;
  readonly threshold?: number;
  readonly members?: readonly string[];
  readonly message: string;
  readonly at: number;
}

export function siteSignal(fields: SiteSignalFields, context: RuleContext): RuleSignal {
  const signal: RuleSignal = {
    key: fields.key,
    ruleId: fields.ruleId,
    siteId: fields.siteId,
    deviceId: fields.subjectId,
    deviceClass: fields.isTag ? 'tag' : undefined,
    areaId: fields.areaId,
    category: 'process',
    priority: fields.priority,
    level: fields.level,
    active: fields.active,
    latched: fields.latched ?? false,
    metric: fields.metric,
    value: fields.value,
    threshold: fields.threshold,
    message: fields.message,
    at: fields.at,
    detectedAt: context.clock(),
  };
  return fields.members === undefined ? signal : { ...signal, members: fields.members };
}

/** `tag-1, tag-2, tag-3` (at most 20, then `… and 7 more`): messages stay readable. */
export function formatMembers(ids: readonly string[]): string {
  const shown = 20;
  return ids.length <= shown
    ? ids.join(', ')
    : `${ids.slice(0, shown).join(', ')} … and ${ids.length - shown} more`;
}

// ---------------------------------------------------------------------------------------------
// Queries for the gateway and console (read the live state; never mutate it)
// ---------------------------------------------------------------------------------------------

/** Tags present in the area now (fresh position, membership with hysteresis), sorted. */
export function peopleInArea(site: SiteState, areaId: string): string[] {
  const area = site.areas.get(areaId);
  if (!area) return [];
  return [...area.present].map(tag => tag.tagId).sort();
}

export interface MusterEntry {
  readonly tagId: string;
  readonly x: number;
  readonly y: number;
  readonly floor: number;
  /** 0 inside the area, else the distance (m) to its boundary. */
  readonly distanceM: number;
  readonly inside: boolean;
  /** Server time of the position. */
  readonly fixAt: number;
}

/**
 * Tags with a fresh position inside the area or within `radiusM` of its boundary, nearest first
 * (domain-standards §9.7 correlation: people in or near, ≤ 50 m). The people-present rule raises
 * with this list; call it for the live list while the alarm is open. O(tags × polygon edges).
 */
export function musterList(
  site: SiteState,
  areaId: string,
  radiusM: number = PEOPLE_PRESENT_RADIUS_M,
): MusterEntry[] {
  const area = site.site.areaById.get(areaId);
  if (!area) return [];
  const tags: TagState[] = [];
  for (const tag of site.tags.values()) if (tag.hasFix && !tag.lost) tags.push(tag);
  return musterOf(tags, area.polygon, radiusM, tag => tag.tagId).map(
    ({ item: tag, distanceM, inside }) => ({
      tagId: tag.tagId,
      x: tag.x,
      y: tag.y,
      floor: tag.floor,
      distanceM,
      inside,
      fixAt: tag.lastFixAt,
    }),
  );
}

export interface TagPosition {
  readonly tagId: string;
  readonly x: number;
  readonly y: number;
  readonly floor: number;
  readonly fixAt: number;
  /** No fix for `positionTtlMs`, or MQTT last will: shown greyed, not counted anywhere. */
  readonly lost: boolean;
  readonly still: boolean;
  /** Areas the tag is in (layout order). */
  readonly areaIds: readonly string[];
}

/** Every tag that has sent a position, sorted by id: the console's map layer. */
export function tagPositions(site: SiteState): TagPosition[] {
  const positions: TagPosition[] = [];
  for (const tag of site.tags.values()) {
    if (!tag.hasFix) continue;
    positions.push({
      tagId: tag.tagId,
      x: tag.x,
      y: tag.y,
      floor: tag.floor,
      fixAt: tag.lastFixAt,
      lost: tag.lost,
      still: tag.still,
      areaIds: [...tag.presences.values()]
        .sort((a, b) => a.area.index - b.area.index)
        .map(presence => presence.area.id),
    });
  }
  return positions.sort((a, b) => compareIds(a.tagId, b.tagId));
}

/** Crowds (tag ids, sorted) found in the area at the last tick, largest first; empty when none. */
export function crowdsInArea(site: SiteState, areaId: string): string[][] {
  const area = site.areas.get(areaId);
  return area ? crowdIds(area) : [];
}

export function crowdIds(area: AreaState): string[][] {
  const tags = area.crowdTags;
  return area.crowdClusters
    .map(cluster => cluster.map(index => (tags[index] as TagState).tagId).sort(compareIds))
    .sort((a, b) => b.length - a.length || compareIds(a[0] ?? '', b[0] ?? ''));
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
