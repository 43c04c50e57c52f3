import {
  type DeviceStatus,
  nearBoundingBox,
  type Reading,
  type RuleSignal,
  signedDepth,
} from '@vigil/contracts';

import {
  DEFAULT_CLOCK_REBASE_MS,
  DEFAULT_LATE_ALLOWANCE_MS,
  type RuleContext,
  clockSetBack,
  formatNumber,
  formatSeconds,
  readingOrder,
} from '../rule-signal';
import { addPresent, removePresent } from './area.reducer';
import type { CompiledArea } from './site-config';
import {
  type IntrusionState,
  type Presence,
  type SiteRulesStats,
  type SiteState,
  type TagState,
  createTagState,
  siteSignal,
  siteSignalKey,
} from './site-state';

/*
 * Per-person rules. A fix (tag reading with x and y) updates the tag's areas at once; time-based
 * conditions (geofence confirmation by time, overstay, man-down, position expiry) sit in the
 * site's deadline queue, one entry per tag at its earliest timer, and are checked on ticks.
 * Durations are server time (`receivedAt`, tick `now`); `at` is the fix's `ts` for fix-driven
 * transitions and the tick's `now` for timed ones.
 */

/** How tag clocks are judged: the device engine's options of these names (README "Tag clocks"). */
export interface TagClockOptions {
  /**
   * How much older than its tag's newest reading a reading may be and still count as near it
   * (default 5 s, as the engine): older ones are late, and only late ones can re-base the tag.
   */
  readonly lateAllowanceMs?: number;
  /**
   * How long (receive time) a tag's readings must keep arriving late on one steady clock before
   * its watermark is re-based on that clock (default 10 s, as the engine; `Infinity` never does).
   */
  readonly clockRebaseMs?: number;
}

/**
 * Tags exempt from a restricted area's geofence: the named workers of an active special-operation
 * permit for that area, inside its window (issue 15, domain-standards §9.7 "exempt tags with a
 * permit"). Asked only where an entry would be confirmed (a fix deep inside a restricted area, or
 * its timed confirmation), so it costs nothing for anybody else. An intrusion already raised is
 * not cleared by a permit: it clears when the tag leaves.
 */
export interface GeofenceExemption {
  readonly geofenceExempt?: (siteId: string, areaId: string, tagId: string, now: number) => boolean;
}

/**
 * Applies a tag reading: position (x, y, floor) and stillness, each only when present. A reading
 * older (`ts`) than the tag's newest is ignored, unless it shows that the tag's clock was set back
 * (`tagClockSetBack`).
 */
export function onTagReading(
  site: SiteState,
  reading: Reading,
  stats: SiteRulesStats,
  context: RuleContext & TagClockOptions & GeofenceExemption,
  out: RuleSignal[],
): void {
  let tag = site.tags.get(reading.deviceId);
  if (!tag) {
    tag = createTagState(reading.deviceId);
    site.tags.set(reading.deviceId, tag);
  }
  // Live: not older in receive time than the tag's newest reading (README "Tag clocks").
  const live = reading.receivedAt >= tag.lastReceivedAt;
  if (live) tag.lastReceivedAt = reading.receivedAt;
  if (reading.ts < tag.lastTs && !tagClockSetBack(tag, reading, live, stats, context)) return;
  tag.lastTs = reading.ts;
  tag.behindSince = Number.NaN;
  const { x, y, floor, still } = reading.values;
  if (typeof floor === 'number' && Number.isFinite(floor)) tag.floor = floor;
  if (x !== undefined || y !== undefined) {
    if (
      typeof x === 'number' &&
      typeof y === 'number' &&
      Number.isFinite(x) &&
      Number.isFinite(y)
    ) {
      stats.tagFixes += 1;
      tag.x = x;
      tag.y = y;
      tag.hasFix = true;
      tag.lastFixAt = reading.receivedAt;
      tag.lost = false;
      updateAreas(site, tag, reading.ts, reading.receivedAt, context, out);
    } else {
      stats.badFixes += 1;
    }
  }
  if (typeof still === 'boolean')
    updateStill(site, tag, still, reading.ts, reading.receivedAt, context, out);
  reschedule(site, tag);
}

/**
 * A reading older than the tag's newest: whether it completes a run of live late readings (no
 * reading at or near the watermark in between) that keep to one clock, their `ts − receivedAt`
 * within the late allowance of the run's first, over `clockRebaseMs` of receive time. Then the
 * tag's clock was set back and the caller re-bases the watermark on this reading; else it is
 * counted and ignored. The same test as the device engine's (`clockSetBack`, libs/rules README
 * "Clock jumps"): a re-delivered message, a burst of buffered ones and a replay interleaved with
 * live readings on the right clock never span the bound. Nothing else moves with a re-base: the
 * per-person timers run on server time.
 */
function tagClockSetBack(
  tag: TagState,
  reading: Reading,
  live: boolean,
  stats: SiteRulesStats,
  options: TagClockOptions,
): boolean {
  const { ts, receivedAt } = reading;
  const lateAllowanceMs = options.lateAllowanceMs ?? DEFAULT_LATE_ALLOWANCE_MS;
  const order = readingOrder(ts, tag.lastTs, lateAllowanceMs);
  const rebaseMs = options.clockRebaseMs ?? DEFAULT_CLOCK_REBASE_MS;
  if (order !== 'in-order' && live) {
    if (clockSetBack(tag, order, ts, receivedAt, lateAllowanceMs, rebaseMs)) {
      stats.clockRebases += 1;
      return true;
    }
  }
  if (order === 'late') stats.lateReadings += 1;
  stats.outOfOrderReadings += 1;
  return false;
}

/**
 * The tag's MQTT last will: it stops counting in areas at once (as after `positionTtlMs`); its
 * per-person alarms stay as they are (silence is not evidence that the person left or moved).
 */
export function onTagLastWill(
  site: SiteState,
  status: DeviceStatus,
  context: RuleContext,
  out: RuleSignal[],
): void {
  const tag = site.tags.get(status.deviceId);
  if (!tag || tag.lost || !tag.hasFix) return;
  markLost(site, tag, status.ts, context, out);
  reschedule(site, tag);
}

/** Runs the timers of every tag due at `now`. */
export function personnelTick(
  site: SiteState,
  now: number,
  context: RuleContext & GeofenceExemption,
  out: RuleSignal[],
): void {
  const queue = site.queue;
  // Take the due batch first: a tag rescheduled at a time ≤ now (a strict "more than" limit that
  // is exactly reached) waits for the next tick instead of looping here.
  const due: TagState[] = [];
  for (let top = queue.peek(); top !== undefined && top.dueAt <= now; top = queue.peek()) {
    queue.pop();
    due.push(top);
  }
  for (const tag of due) {
    tagTimers(site, tag, now, context, out);
    reschedule(site, tag);
  }
}

// ---------------------------------------------------------------------------------------------
// Areas and geofence
// ---------------------------------------------------------------------------------------------

/**
 * Membership with hysteresis: a tag joins an area when its fix is inside the polygon (boundary
 * included) and leaves it when the fix is more than `membershipBufferM` outside. The geofence of
 * a restricted area is separate and stricter (see `intrusionFix`).
 *
 * Cost per fix: the areas the tag is in (usually one or two), then a bounding-box test per area;
 * the distance to the edges is computed only for areas whose box holds the fix (or a geofence
 * that is pending or active), no map lookup per area.
 */
function updateAreas(
  site: SiteState,
  tag: TagState,
  at: number,
  now: number,
  context: RuleContext & GeofenceExemption,
  out: RuleSignal[],
): void {
  const margin = site.site.settings.membershipBufferM;
  const { x, y } = tag;
  for (const presence of tag.presences.values()) {
    const { polygon } = presence.area;
    const depth = nearBoundingBox(polygon, x, y, margin) ? signedDepth(polygon, x, y) : -Infinity;
    if (depth < -margin) leaveArea(site, tag, presence, at, context, out);
    else if (!presence.areaState.present.has(tag)) addPresent(presence.areaState, tag, now);
  }
  for (const areaState of site.areaList) {
    const area = areaState.area;
    const geofence = area.rules.intrusion;
    const reach = geofence.enabled ? geofence.bufferM : 0;
    const near = nearBoundingBox(area.polygon, x, y, reach);
    if (!geofence.enabled && (!near || tag.presences.has(area.id))) continue; // first loop's
    if (!near && !tag.intrusions.has(area.id)) continue;
    const depth = near ? signedDepth(area.polygon, x, y) : -Infinity;
    if (depth >= 0 && !tag.presences.has(area.id)) {
      tag.presences.set(area.id, { area, areaState, enteredAt: now, overstayActive: false });
      addPresent(areaState, tag, now);
    }
    if (geofence.enabled) intrusionFix(site, area, tag, depth, at, now, context, out);
  }
}

function leaveArea(
  site: SiteState,
  tag: TagState,
  presence: Presence,
  at: number,
  context: RuleContext,
  out: RuleSignal[],
): void {
  const area = presence.area;
  tag.presences.delete(area.id);
  removePresent(site, presence.areaState, tag, at, context, out);
  if (!presence.overstayActive) return;
  presence.overstayActive = false;
  const message = `${tag.tagId} left ${area.name}`;
  out.push(overstaySignal(site, tag, area, false, at, undefined, message, context));
}

/**
 * Geofence of a restricted area (domain-standards §9.7): an entry is a fix at least `bufferM`
 * inside (the polygon shrunk by the positioning accuracy), an exit a fix more than `bufferM`
 * outside; fixes in between confirm neither and restart a pending one. A transition needs
 * `confirmFixes` consecutive supporting fixes, or `confirmMs` of server time since the first of
 * them with no contrary fix (checked on ticks, so a tag that reports slowly is still caught).
 */
function intrusionFix(
  site: SiteState,
  area: CompiledArea,
  tag: TagState,
  depth: number,
  at: number,
  now: number,
  context: RuleContext & GeofenceExemption,
  out: RuleSignal[],
): void {
  const rule = area.rules.intrusion;
  let state = tag.intrusions.get(area.id);
  if (!state?.active && context.geofenceExempt?.(site.site.siteId, area.id, tag.tagId, now)) {
    if (state) tag.intrusions.delete(area.id);
    return;
  }
  const supports = state?.active ? depth < -rule.bufferM : depth >= rule.bufferM;
  if (!supports) {
    if (state?.active) {
      state.pendingSince = undefined;
      state.pendingFixes = 0;
    } else if (state) {
      tag.intrusions.delete(area.id);
    }
    return;
  }
  if (!state) {
    state = { active: false, pendingSince: undefined, pendingFixes: 0 };
    tag.intrusions.set(area.id, state);
  }
  state.pendingSince ??= now;
  state.pendingFixes += 1;
  if (state.pendingFixes >= rule.confirmFixes) {
    flipIntrusion(site, area, tag, state, at, `${state.pendingFixes} fixes`, context, out);
  } else if (now - state.pendingSince >= rule.confirmMs) {
    const held = `${formatSeconds(now - state.pendingSince)}`;
    flipIntrusion(site, area, tag, state, at, held, context, out);
  }
}

function flipIntrusion(
  site: SiteState,
  area: CompiledArea,
  tag: TagState,
  state: IntrusionState,
  at: number,
  evidence: string,
  context: RuleContext,
  out: RuleSignal[],
): void {
  const rule = area.rules.intrusion;
  state.active = !state.active;
  state.pendingSince = undefined;
  state.pendingFixes = 0;
  if (!state.active) tag.intrusions.delete(area.id);
  const buffer = `${formatNumber(rule.bufferM)} m`;
  const message = state.active
    ? `${tag.tagId} entered restricted area ${area.name} (≥ ${buffer} inside, ${evidence})`
    : `${tag.tagId} left restricted area ${area.name} (> ${buffer} outside, ${evidence})`;
  const { siteId } = site.site;
  out.push(
    siteSignal(
      {
        key: siteSignalKey(siteId, tag.tagId, 'intrusion', area.id),
        ruleId: 'intrusion',
        siteId,
        subjectId: tag.tagId,
        isTag: true,
        areaId: area.id,
        priority: rule.priority,
        level: 'intrusion',
        active: state.active,
        threshold: rule.bufferM,
        message,
        at,
      },
      context,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Stillness (man-down)
// ---------------------------------------------------------------------------------------------

function updateStill(
  site: SiteState,
  tag: TagState,
  still: boolean,
  at: number,
  now: number,
  context: RuleContext,
  out: RuleSignal[],
): void {
  tag.still = still;
  if (still) {
    tag.stillSince ??= now;
    return;
  }
  const stillFor = tag.stillSince === undefined ? undefined : now - tag.stillSince;
  tag.stillSince = undefined;
  const area =
    tag.manDownAreaId === undefined ? undefined : site.site.areaById.get(tag.manDownAreaId);
  if (!area) return;
  const moving =
    `${tag.tagId} moving again` +
    (stillFor === undefined ? '' : ` after ${formatSeconds(stillFor)}`);
  if (tag.manDownPreAlarm) {
    tag.manDownPreAlarm = false;
    out.push(manDownSignal(site, tag, area, 1, false, at, stillFor, moving, context));
  }
  if (tag.manDownAlarm) {
    tag.manDownAlarm = false;
    out.push(manDownSignal(site, tag, area, 2, false, at, stillFor, moving, context));
  }
  tag.manDownAreaId = undefined;
}

/** The area whose man-down settings apply: where it was raised, else the first enabled area. */
function manDownArea(site: SiteState, tag: TagState): CompiledArea | undefined {
  if (tag.manDownAreaId !== undefined) return site.site.areaById.get(tag.manDownAreaId);
  let best: CompiledArea | undefined;
  for (const { area } of tag.presences.values()) {
    if (area.rules['man-down'].enabled && (!best || area.index < best.index)) best = area;
  }
  return best;
}

function manDownSignal(
  site: SiteState,
  tag: TagState,
  area: CompiledArea,
  level: 1 | 2,
  active: boolean,
  at: number,
  stillForMs: number | undefined,
  message: string,
  context: RuleContext,
): RuleSignal {
  const rule = area.rules['man-down'];
  const ruleId = level === 1 ? 'man-down-l1' : 'man-down-l2';
  const { siteId } = site.site;
  return siteSignal(
    {
      key: siteSignalKey(siteId, tag.tagId, ruleId),
      ruleId,
      siteId,
      subjectId: tag.tagId,
      isTag: true,
      areaId: area.id,
      priority: level === 1 ? rule.preAlarmPriority : rule.alarmPriority,
      level: level === 1 ? 'pre-alarm' : 'alarm',
      active,
      metric: 'still_s',
      ...(stillForMs === undefined ? {} : { value: stillForMs / 1000 }),
      threshold: (level === 1 ? rule.preAlarmMs : rule.alarmMs) / 1000,
      message,
      at,
    },
    context,
  );
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

function tagTimers(
  site: SiteState,
  tag: TagState,
  now: number,
  context: RuleContext & GeofenceExemption,
  out: RuleSignal[],
): void {
  if (tag.hasFix && !tag.lost && now - tag.lastFixAt > site.site.settings.positionTtlMs) {
    markLost(site, tag, now, context, out);
  }

  for (const [areaId, state] of tag.intrusions) {
    const area = site.site.areaById.get(areaId);
    if (!area || state.pendingSince === undefined) continue;
    if (!state.active && context.geofenceExempt?.(site.site.siteId, areaId, tag.tagId, now)) {
      tag.intrusions.delete(areaId);
      continue;
    }
    const held = now - state.pendingSince;
    if (held >= area.rules.intrusion.confirmMs) {
      flipIntrusion(site, area, tag, state, now, formatSeconds(held), context, out);
    }
  }

  for (const presence of tag.presences.values()) {
    const rule = presence.area.rules.overstay;
    if (!rule.enabled || rule.maxDwellMinutes === undefined || presence.overstayActive) continue;
    const stayed = now - presence.enteredAt;
    if (stayed <= rule.maxDwellMinutes * 60_000) continue;
    presence.overstayActive = true;
    const message =
      `${tag.tagId} in ${presence.area.name} for ${formatNumber(stayed / 60_000)} min ` +
      `(limit ${formatNumber(rule.maxDwellMinutes)} min)`;
    out.push(overstaySignal(site, tag, presence.area, true, now, stayed, message, context));
  }

  if (tag.stillSince !== undefined) {
    const area = manDownArea(site, tag);
    if (!area) return;
    const rule = area.rules['man-down'];
    const stillFor = now - tag.stillSince;
    const where = `${tag.tagId} motionless for ${formatSeconds(stillFor)} in ${area.name}`;
    if (!tag.manDownPreAlarm && stillFor >= rule.preAlarmMs) {
      tag.manDownPreAlarm = true;
      tag.manDownAreaId = area.id;
      const message = `${where} (man-down pre-alarm at ${formatSeconds(rule.preAlarmMs)})`;
      out.push(manDownSignal(site, tag, area, 1, true, now, stillFor, message, context));
    }
    if (!tag.manDownAlarm && stillFor >= rule.alarmMs) {
      tag.manDownAlarm = true;
      tag.manDownAreaId = area.id;
      const message = `${where} (man-down alarm at ${formatSeconds(rule.alarmMs)})`;
      out.push(manDownSignal(site, tag, area, 2, true, now, stillFor, message, context));
    }
  }
}

function markLost(
  site: SiteState,
  tag: TagState,
  at: number,
  context: RuleContext,
  out: RuleSignal[],
): void {
  tag.lost = true;
  for (const presence of tag.presences.values()) {
    removePresent(site, presence.areaState, tag, at, context, out);
  }
}

/**
 * Queues the tag at its earliest timer. Lazy, like the offline watch: a tag already queued at an
 * earlier time stays there (every timer re-checks its own condition when the tag comes due, and
 * the tag is then queued at its exact next time), so a fix, which pushes the position expiry later,
 * costs no heap operation. A tag with no timer left leaves the queue when it next comes due.
 */
function reschedule(site: SiteState, tag: TagState): void {
  let due = Infinity;
  if (tag.hasFix && !tag.lost) due = tag.lastFixAt + site.site.settings.positionTtlMs;
  for (const [areaId, state] of tag.intrusions) {
    const area = site.site.areaById.get(areaId);
    if (area && state.pendingSince !== undefined) {
      due = Math.min(due, state.pendingSince + area.rules.intrusion.confirmMs);
    }
  }
  for (const presence of tag.presences.values()) {
    const rule = presence.area.rules.overstay;
    if (rule.enabled && rule.maxDwellMinutes !== undefined && !presence.overstayActive) {
      due = Math.min(due, presence.enteredAt + rule.maxDwellMinutes * 60_000);
    }
  }
  if (tag.stillSince !== undefined && !tag.manDownAlarm) {
    const area = manDownArea(site, tag);
    if (area) {
      const rule = area.rules['man-down'];
      const limit = tag.manDownPreAlarm ? rule.alarmMs : rule.preAlarmMs;
      due = Math.min(due, tag.stillSince + limit);
    }
  }
  if (tag.queueIndex >= 0 && due >= tag.dueAt) return;
  if (due !== Infinity) site.queue.schedule(tag, due);
}

function overstaySignal(
  site: SiteState,
  tag: TagState,
  area: CompiledArea,
  active: boolean,
  at: number,
  stayedMs: number | undefined,
  message: string,
  context: RuleContext,
): RuleSignal {
  const rule = area.rules.overstay;
  const { siteId } = site.site;
  return siteSignal(
    {
      key: siteSignalKey(siteId, tag.tagId, 'overstay', area.id),
      ruleId: 'overstay',
      siteId,
      subjectId: tag.tagId,
      isTag: true,
      areaId: area.id,
      priority: rule.priority,
      level: 'overstay',
      active,
      metric: 'dwell_min',
      ...(stayedMs === undefined ? {} : { value: stayedMs / 60_000 }),
      ...(rule.maxDwellMinutes === undefined ? {} : { threshold: rule.maxDwellMinutes }),
      message,
      at,
    },
    context,
  );
}
