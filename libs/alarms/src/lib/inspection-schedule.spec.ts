import {
  DEFAULT_SITE_TIME_ZONE,
  inspectionScheduleSchema,
  type InspectionScheduleDefinition,
} from '@vigil/contracts';

import {
  cadenceOf,
  firstWindow,
  inspectionMissedSignal,
  isTimeZone,
  localMidnight,
  newlyMissedWindows,
  recordInspection,
  windowAt,
} from './inspection-schedule';

const SHANGHAI = DEFAULT_SITE_TIME_ZONE;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-12-07 is a Monday; Shanghai is UTC+8 all year (no DST). */
const utc = (iso: string) => Date.parse(iso);

const schedule: InspectionScheduleDefinition & {
  siteId: string;
  enterprise: string;
  timeZone: string;
} = {
  id: 'tf-daily',
  name: '罐区班组日查 Tank farm daily check',
  level: 'team',
  area: 'tank-farm',
  responsible: '班组长 Team leader',
  items: [
    { id: 'flanges', text: 'Flanges and valves: no leak' },
    { id: 'detectors', text: 'Gas detectors: powered, no fault', hazardLevel: 'major' },
    { id: 'extinguishers', text: 'Extinguishers in place' },
  ],
  siteId: 'plant-1',
  enterprise: 'ent-huaxin',
  timeZone: SHANGHAI,
};

describe('inspection cadence (HAZ-09 班组日查、车间周查、厂矿月查; HAZ-10 主要负责人每季度)', () => {
  it('takes the level’s cadence unless the schedule sets its own', () => {
    expect(cadenceOf({ level: 'team' })).toBe('daily');
    expect(cadenceOf({ level: 'workshop' })).toBe('weekly');
    expect(cadenceOf({ level: 'plant' })).toBe('monthly');
    expect(cadenceOf({ level: 'principal' })).toBe('quarterly');
    // HAZ-10: monthly in high-risk sectors.
    expect(cadenceOf({ level: 'principal', cadence: 'monthly' })).toBe('monthly');
  });

  it('refuses a schedule that inspects nothing, and a typo, like every registry object', () => {
    const { area: _area, ...nothing } = schedule;
    expect(inspectionScheduleSchema.safeParse(nothing).success).toBe(false);
    expect(inspectionScheduleSchema.safeParse({ ...schedule, cadance: 'daily' }).success).toBe(
      false,
    );
    expect(
      inspectionScheduleSchema.safeParse({
        id: 'tf',
        name: 'n',
        level: 'team',
        equipment: 'Pump P-101',
        responsible: 'r',
        items: [{ id: 'a', text: 'b' }],
      }).success,
    ).toBe(true);
  });
});

describe('windows in the plant’s local time', () => {
  it('a daily window is the local day of Asia/Shanghai (UTC+8), not the UTC day', () => {
    // 2026-12-07 23:59:59 in Shanghai is 15:59:59 UTC the same day.
    expect(windowAt('daily', utc('2026-12-07T15:59:59Z'), SHANGHAI)).toEqual({
      id: '2026-12-07',
      start: utc('2026-12-06T16:00:00Z'),
      end: utc('2026-12-07T16:00:00Z'),
    });
    // One second later it is the 8th in Shanghai, still the 7th in UTC.
    expect(windowAt('daily', utc('2026-12-07T16:00:00Z'), SHANGHAI).id).toBe('2026-12-08');
    expect(windowAt('daily', utc('2026-12-07T16:00:00Z'), 'UTC').id).toBe('2026-12-07');
  });

  it('a weekly window runs from Monday 00:00 local to the next Monday', () => {
    // Sunday 2026-12-13 22:00 local belongs to the week of Monday 2026-12-07.
    const sunday = windowAt('weekly', utc('2026-12-13T14:00:00Z'), SHANGHAI);
    expect(sunday).toEqual({
      id: '2026-12-07',
      start: utc('2026-12-06T16:00:00Z'),
      end: utc('2026-12-13T16:00:00Z'),
    });
    // A week across the new year.
    expect(windowAt('weekly', utc('2027-01-01T04:00:00Z'), SHANGHAI).id).toBe('2026-12-28');
  });

  it('monthly and quarterly windows are calendar months and quarters (Jan/Apr/Jul/Oct)', () => {
    expect(windowAt('monthly', utc('2026-02-28T15:59:59Z'), SHANGHAI)).toEqual({
      id: '2026-02-01',
      start: utc('2026-01-31T16:00:00Z'),
      end: utc('2026-02-28T16:00:00Z'),
    });
    expect(windowAt('quarterly', utc('2026-12-07T04:00:00Z'), SHANGHAI)).toEqual({
      id: '2026-10-01',
      start: utc('2026-09-30T16:00:00Z'),
      end: utc('2026-12-31T16:00:00Z'),
    });
    expect(windowAt('quarterly', utc('2026-12-31T16:00:00Z'), SHANGHAI).id).toBe('2027-01-01');
  });

  it('follows a zone with daylight saving: the spring-forward day has 23 hours', () => {
    const berlin = windowAt('daily', utc('2026-03-29T12:00:00Z'), 'Europe/Berlin');
    expect(berlin.id).toBe('2026-03-29');
    expect(berlin.start).toBe(utc('2026-03-28T23:00:00Z'));
    expect(berlin.end - berlin.start).toBe(23 * HOUR);
    expect(localMidnight({ year: 2026, month: 10, day: 26 }, 'Europe/Berlin')).toBe(
      utc('2026-10-25T23:00:00Z'),
    );
  });

  it('knows IANA zones and refuses others', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Asia/Shangai')).toBe(false);
  });

  it('the first window watched is the first whole one', () => {
    // Seen at 10:00 local on the 7th: the 7th is not whole, the 8th is the first.
    expect(firstWindow('daily', utc('2026-12-07T02:00:00Z'), SHANGHAI).id).toBe('2026-12-08');
    // Seen exactly at local midnight: that day counts.
    expect(firstWindow('daily', utc('2026-12-06T16:00:00Z'), SHANGHAI).id).toBe('2026-12-07');
  });
});

describe(newlyMissedWindows.name, () => {
  const watchedSince = utc('2026-12-06T16:00:00Z'); // Shanghai midnight starting the 7th
  const progress = { cadence: 'daily' as const, timeZone: SHANGHAI, watchedSince };

  it('a window is missed when it closes, not before', () => {
    const closes = utc('2026-12-07T16:00:00Z');
    expect(newlyMissedWindows(progress, closes - 1)).toEqual([]);
    expect(newlyMissedWindows(progress, closes).map(w => w.id)).toEqual(['2026-12-07']);
  });

  it('a window with a record is not missed; the windows after the record are', () => {
    const now = utc('2026-12-10T01:00:00Z'); // the 10th, 09:00 in Shanghai
    // Recorded on the 8th at 23:30 local: the 7th was missed before it, the 9th after it.
    const missed = newlyMissedWindows(
      { ...progress, lastRecordAt: utc('2026-12-08T15:30:00Z'), lastMissedEnd: watchedSince + DAY },
      now,
    );
    expect(missed.map(w => w.id)).toEqual(['2026-12-09']);
  });

  it('each window once: the search starts after the last one journaled missed', () => {
    const now = utc('2026-12-10T01:00:00Z');
    const all = newlyMissedWindows(progress, now);
    expect(all.map(w => w.id)).toEqual(['2026-12-07', '2026-12-08', '2026-12-09']);
    const last = all.at(-1);
    expect(newlyMissedWindows({ ...progress, lastMissedEnd: last?.end }, now)).toEqual([]);
    // …and finds the windows that closed while nobody asked (a process down for days).
    expect(
      newlyMissedWindows({ ...progress, lastMissedEnd: all[0]?.end }, now).map(w => w.id),
    ).toEqual(['2026-12-08', '2026-12-09']);
  });

  it('is bounded per call; the rest is found by the next call', () => {
    const now = watchedSince + 30 * DAY;
    const first = newlyMissedWindows(progress, now, 10);
    expect(first).toHaveLength(10);
    const rest = newlyMissedWindows({ ...progress, lastMissedEnd: first.at(-1)?.end }, now, 100);
    expect(rest).toHaveLength(20);
  });

  it('a weekly schedule misses whole weeks only', () => {
    const weekly = { cadence: 'weekly' as const, timeZone: SHANGHAI, watchedSince };
    expect(newlyMissedWindows(weekly, utc('2026-12-13T15:59:59Z'))).toEqual([]);
    expect(newlyMissedWindows(weekly, utc('2026-12-13T16:00:00Z')).map(w => w.id)).toEqual([
      '2026-12-07',
    ]);
  });
});

describe(inspectionMissedSignal.name, () => {
  it('one alarm key per window, P3 early warning at the window’s end', () => {
    const window = windowAt('daily', utc('2026-12-07T04:00:00Z'), SHANGHAI);
    const signal = inspectionMissedSignal(schedule, window, true, window.end + 5);
    expect(signal).toMatchObject({
      key: 'plant-1/inspection-tf-daily/inspection-missed/2026-12-07',
      ruleId: 'inspection-missed',
      deviceId: 'inspection-tf-daily',
      areaId: 'tank-farm',
      category: 'warning',
      priority: 3,
      active: true,
      at: window.end,
    });
    expect(inspectionMissedSignal(schedule, window, false, window.end + 9).active).toBe(false);
  });
});

describe(recordInspection.name, () => {
  const at = { now: utc('2026-12-07T02:00:00Z'), id: 'r1', no: 1 };
  const zhang = { id: 'zhang', role: 'operator' as const };

  it('is signed by the user, counts for the window it is in, and keeps every answer', () => {
    const result = recordInspection(
      schedule,
      {
        answers: [
          { itemId: 'flanges', answer: 'fail', note: ' flange F-3 weeps ' },
          { itemId: 'detectors', answer: 'pass' },
          { itemId: 'extinguishers', answer: 'na' },
        ],
      },
      zhang,
      at,
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.record).toMatchObject({
      by: 'zhang',
      role: 'operator',
      windowId: '2026-12-07',
      cadence: 'daily',
      answers: [
        { itemId: 'flanges', answer: 'fail', note: 'flange F-3 weeps' },
        { itemId: 'detectors', answer: 'pass' },
        { itemId: 'extinguishers', answer: 'na' },
      ],
    });
  });

  it('refuses unanswered, unknown and duplicate items, and a failure without a note', () => {
    const result = recordInspection(
      schedule,
      {
        answers: [
          { itemId: 'flanges', answer: 'fail' },
          { itemId: 'flanges', answer: 'pass' },
          { itemId: 'valves', answer: 'pass' },
        ],
      },
      zhang,
      at,
    );
    expect(result).toMatchObject({ ok: false, status: 422 });
    const message = result.ok ? '' : result.message;
    expect(message).toContain('flanges: a failed item needs a note');
    expect(message).toContain('flanges: answered twice');
    expect(message).toContain('valves: not an item');
    expect(message).toContain('not answered: detectors, extinguishers');
  });

  it('an assigned duty (包保责任人) is recorded by its assignee only', () => {
    const duty = { ...schedule, assignee: 'wang' };
    const answers = schedule.items.map(item => ({ itemId: item.id, answer: 'pass' as const }));
    expect(recordInspection(duty, { answers }, zhang, at)).toMatchObject({
      ok: false,
      status: 403,
      message: expect.stringContaining('only they may record it'),
    });
    const own = recordInspection(duty, { answers }, { id: 'wang', role: 'supervisor' }, at);
    expect(own).toMatchObject({ ok: true, record: { by: 'wang' } });
  });

  it('is signed by a person, never by Vigil', () => {
    expect(
      recordInspection(schedule, { answers: [] }, { id: 'vigil', role: 'system' }, at),
    ).toMatchObject({ ok: false, status: 403 });
  });
});
