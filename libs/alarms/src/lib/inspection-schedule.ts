import {
  DEFAULT_INSPECTION_CADENCE,
  INSPECTION_MISSED_RULE_ID,
  inspectionMissedKey,
  inspectionSubject,
  type InspectionAnswer,
  type InspectionAnswerEntry,
  type InspectionCadence,
  type InspectionLevel,
  type InspectionRecord,
  type InspectionScheduleDefinition,
  type InspectionWindow,
  type RuleSignal,
} from '@vigil/contracts';

import type { HazardActor } from './hazard-lifecycle';

/**
 * Inspection schedules (issue 15, HAZ-09/HAZ-10): pure functions of a schedule, its records and
 * the time the caller gives them. Windows are calendar periods of the plant's local time (an IANA
 * zone, Asia/Shanghai by default): a local day; an ISO week from Monday 00:00; a calendar month;
 * a calendar quarter starting January, April, July and October. A window closes at its end; one
 * that closes without a record is missed, exactly once (the caller journals it), and raised as an
 * alarm of its own (`inspection-missed`, one per window); an inspection recorded later resolves
 * every missed window of its schedule (their alarms clear) and counts for the window it is in.
 */

export function cadenceOf(definition: {
  readonly level: InspectionLevel;
  readonly cadence?: InspectionCadence | undefined;
}): InspectionCadence {
  return definition.cadence ?? DEFAULT_INSPECTION_CADENCE[definition.level];
}

interface LocalDate {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  readonly day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Whether `timeZone` is an IANA zone this runtime knows (the registry refuses others). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock fields of instant `t` in `timeZone`. */
function wallClock(t: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(t))
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return {
    year: parts['year'] ?? 0,
    month: parts['month'] ?? 1,
    day: parts['day'] ?? 1,
    hour: parts['hour'] ?? 0,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

/** The local date of instant `t` in `timeZone`. */
export function localDate(t: number, timeZone: string): LocalDate {
  const { year, month, day } = wallClock(t, timeZone);
  return { year, month, day };
}

/**
 * The instant local midnight starts `date` in `timeZone`. The zone's offset is found by asking
 * what wall clock a guess shows, twice (a DST change between guess and answer moves it once).
 */
export function localMidnight(date: LocalDate, timeZone: string): number {
  const wanted = Date.UTC(date.year, date.month - 1, date.day);
  let guess = wanted;
  for (let round = 0; round < 3; round += 1) {
    const wall = wallClock(guess, timeZone);
    const shown = Date.UTC(
      wall.year,
      wall.month - 1,
      wall.day,
      wall.hour,
      wall.minute,
      wall.second,
    );
    const next = guess + (wanted - shown);
    if (next === guess) break;
    guess = next;
  }
  return guess;
}

/** `2026-12-07`. */
export function formatLocalDate(date: LocalDate): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

/** Calendar arithmetic on a local date (in UTC, where every day has 24 h). */
function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
  };
}

function addMonths(date: LocalDate, months: number): LocalDate {
  const index = date.year * 12 + (date.month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1, day: 1 };
}

/** The first local date of the window of `cadence` that contains `date`. */
function windowStartDate(cadence: InspectionCadence, date: LocalDate): LocalDate {
  switch (cadence) {
    case 'daily':
      return date;
    case 'weekly': {
      // ISO 8601 weeks start on Monday (getUTCDay: 0 = Sunday).
      const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
      return addDays(date, -((weekday + 6) % 7));
    }
    case 'monthly':
      return { year: date.year, month: date.month, day: 1 };
    case 'quarterly':
      return { year: date.year, month: date.month - ((date.month - 1) % 3), day: 1 };
  }
}

function nextStartDate(cadence: InspectionCadence, start: LocalDate): LocalDate {
  switch (cadence) {
    case 'daily':
      return addDays(start, 1);
    case 'weekly':
      return addDays(start, 7);
    case 'monthly':
      return addMonths(start, 1);
    case 'quarterly':
      return addMonths(start, 3);
  }
}

/** The window of `cadence` that contains instant `t`, in the plant's local time. */
export function windowAt(
  cadence: InspectionCadence,
  t: number,
  timeZone: string,
): InspectionWindow {
  const startDate = windowStartDate(cadence, localDate(t, timeZone));
  return {
    id: formatLocalDate(startDate),
    start: localMidnight(startDate, timeZone),
    end: localMidnight(nextStartDate(cadence, startDate), timeZone),
  };
}

/** The window after `window`. */
export function nextWindow(
  cadence: InspectionCadence,
  window: InspectionWindow,
  timeZone: string,
): InspectionWindow {
  return windowAt(cadence, window.end, timeZone);
}

/** The first whole window of a schedule watched since `since`: it starts at or after `since`. */
export function firstWindow(
  cadence: InspectionCadence,
  since: number,
  timeZone: string,
): InspectionWindow {
  const containing = windowAt(cadence, since, timeZone);
  return containing.start >= since ? containing : nextWindow(cadence, containing, timeZone);
}

/** What the missed-window search needs to know of a schedule. */
export interface ScheduleProgress {
  readonly cadence: InspectionCadence;
  readonly timeZone: string;
  /** Since when Vigil watches the schedule (journaled at first sight). */
  readonly watchedSince: number;
  /** The latest inspection recorded, if any. */
  readonly lastRecordAt?: number | undefined;
  /** The end of the latest window already journaled as missed, if any. */
  readonly lastMissedEnd?: number | undefined;
}

/** Windows looked at per call at most: a long outage is worked through over several ticks. */
export const MAX_WINDOWS_PER_CHECK = 400;

/**
 * The windows closed by `now` without a record that are not yet journaled as missed, oldest
 * first (at most `max`). Only windows after the latest record's window can lack one, and only
 * those after the last one journaled missed are new: the search starts after both, so it is
 * bounded by the time since, never by the schedule's age, and a window that closed while the
 * process was down is found at the next call all the same.
 */
export function newlyMissedWindows(
  progress: ScheduleProgress,
  now: number,
  max = MAX_WINDOWS_PER_CHECK,
): InspectionWindow[] {
  const { cadence, timeZone } = progress;
  let window = firstWindow(cadence, progress.watchedSince, timeZone);
  const after = Math.max(
    progress.lastRecordAt === undefined
      ? -Infinity
      : windowAt(cadence, progress.lastRecordAt, timeZone).end,
    progress.lastMissedEnd ?? -Infinity,
  );
  if (after > window.start) window = windowAt(cadence, after, timeZone);
  const missed: InspectionWindow[] = [];
  while (window.end <= now && missed.length < max) {
    missed.push(window);
    window = nextWindow(cadence, window, timeZone);
  }
  return missed;
}

/** The alarm signal of a missed window: active when raised, inactive when made up. */
export function inspectionMissedSignal(
  schedule: InspectionScheduleDefinition & { readonly siteId: string },
  window: InspectionWindow,
  active: boolean,
  detectedAt: number,
): RuleSignal {
  const cadence = cadenceOf(schedule);
  return {
    key: inspectionMissedKey(schedule.siteId, schedule.id, window.id),
    ruleId: INSPECTION_MISSED_RULE_ID,
    siteId: schedule.siteId,
    deviceId: inspectionSubject(schedule.id),
    deviceClass: undefined,
    areaId: schedule.area,
    // 预警: nobody has looked (HAZ-04 「隐患不排查,系统有觉察」); the plant is not known unsafe.
    category: 'warning',
    priority: 3,
    level: cadence,
    active,
    latched: false,
    metric: undefined,
    value: undefined,
    threshold: undefined,
    message: active
      ? `inspection missed: ${schedule.name} (${schedule.guarantor ? `${schedule.guarantor.tier} guarantor's duty` : schedule.level}, ${cadence}) was not done in the window of ${window.id}; responsible: ${schedule.responsible}`
      : `inspection done late: ${schedule.name} (window of ${window.id})`,
    at: active ? window.end : detectedAt,
    detectedAt,
  };
}

/** One answered item as the caller gives it. */
export interface InspectionAnswerInput {
  readonly itemId: string;
  readonly answer: InspectionAnswer;
  readonly note?: string | undefined;
}

export type InspectionRefusal = {
  readonly ok: false;
  readonly status: 400 | 403 | 404 | 409 | 422;
  readonly message: string;
};

/**
 * A signed record of one inspection: every item of the checklist answered exactly once (pass,
 * fail or not applicable), a failed item with a note saying what was found (it becomes the
 * hazard's description). The hazards are opened by the caller, through the hazard ledger.
 */
export function recordInspection(
  schedule: InspectionScheduleDefinition & {
    readonly siteId: string;
    readonly enterprise: string;
    readonly timeZone: string;
  },
  input: { readonly answers: readonly InspectionAnswerInput[]; readonly note?: string | undefined },
  actor: HazardActor,
  at: { readonly now: number; readonly id: string; readonly no: number },
): { readonly ok: true; readonly record: InspectionRecord } | InspectionRefusal {
  if (actor.role === 'system') return { ok: false, status: 403, message: 'a person signs it' };
  // An assigned schedule (a guarantor's duty, 包保责任人线上履职) is done by its assignee in
  // person: a record signed by someone else would show the duty performed when it was not.
  if (schedule.assignee !== undefined && actor.id !== schedule.assignee)
    return {
      ok: false,
      status: 403,
      message: `${schedule.name} is the duty of ${schedule.assignee}: only they may record it`,
    };
  const items = new Map(schedule.items.map(item => [item.id, item]));
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const answer of input.answers) {
    if (!items.has(answer.itemId)) problems.push(`${answer.itemId}: not an item of this checklist`);
    else if (seen.has(answer.itemId)) problems.push(`${answer.itemId}: answered twice`);
    else if (answer.answer === 'fail' && !answer.note?.trim())
      problems.push(`${answer.itemId}: a failed item needs a note (what was found)`);
    seen.add(answer.itemId);
  }
  const unanswered = schedule.items.filter(item => !seen.has(item.id)).map(item => item.id);
  if (unanswered.length > 0) problems.push(`not answered: ${unanswered.join(', ')}`);
  if (problems.length > 0) return { ok: false, status: 422, message: problems.join('; ') };
  const cadence = cadenceOf(schedule);
  const answers: InspectionAnswerEntry[] = schedule.items.map(item => {
    const given = input.answers.find(answer => answer.itemId === item.id);
    const note = given?.note?.trim();
    return { itemId: item.id, answer: given?.answer ?? 'na', ...(note ? { note } : {}) };
  });
  const note = input.note?.trim();
  return {
    ok: true,
    record: {
      id: at.id,
      no: at.no,
      scheduleId: schedule.id,
      siteId: schedule.siteId,
      enterprise: schedule.enterprise,
      level: schedule.level,
      cadence,
      windowId: windowAt(cadence, at.now, schedule.timeZone).id,
      by: actor.id,
      role: actor.role,
      at: at.now,
      answers,
      ...(note ? { note } : {}),
    },
  };
}
