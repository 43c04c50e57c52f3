import type { Alarm, Hazard, HazardAction, InspectionMiss } from '@vigil/contracts';
import type { OrgNode } from '@vigil/registry';

import {
  MONTHLY_SCORING,
  buildMonthlyReport,
  monthRange,
  parseMonth,
  type AlarmResponse,
  type MonthlyRaise,
  type MonthlyReportInput,
} from './monthly-report';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// November 2026 in Asia/Shanghai (UTC+8, no DST): 2026-10-31T16:00Z … 2026-11-30T16:00Z.
const FROM = Date.UTC(2026, 9, 31, 16);
const TO = Date.UTC(2026, 10, 30, 16);
const NOVEMBER = { year: 2026, month: 11 };
const AFTER = TO + 3 * DAY;

const organisation: OrgNode[] = [
  { id: 'city', name: '示例市', kind: 'city' },
  { id: 'county', name: '东县', kind: 'county', parent: 'city' },
  { id: 'e1', name: '甲化工', kind: 'enterprise', parent: 'county' },
  { id: 'e2', name: '乙储运', kind: 'enterprise', parent: 'county' },
  { id: 'park', name: '化工园区', kind: 'park', parent: 'city' },
  { id: 'e3', name: '丙石化', kind: 'enterprise', parent: 'park' },
];
const sites = [
  { id: 's1', enterprise: 'e1' },
  { id: 's2', enterprise: 'e1' },
  { id: 's3', enterprise: 'e2' },
  { id: 's4', enterprise: 'e3' },
];

let sequence = 0;
const raise = (
  at: number,
  siteId: string,
  priority: 1 | 2 | 3 | 4 = 2,
  category = 'process',
): MonthlyRaise => {
  sequence += 1;
  return {
    at,
    siteId,
    priority,
    category,
    key: `${siteId}/d${sequence}/gas`,
    alarmId: `a${sequence}`,
  };
};

const step = (action: HazardAction['action'], at: number, state: HazardAction['state']) =>
  ({ action, at, by: 'u', role: 'operator', state }) satisfies HazardAction;

const hazard = (
  id: string,
  siteId: string,
  enterprise: string,
  level: Hazard['level'],
  history: HazardAction[],
  deadline?: number,
): Hazard => {
  const last = history.at(-1);
  return {
    id,
    no: 1,
    title: id,
    description: '',
    level,
    state: last?.state ?? 'reported',
    source: 'manual',
    siteId,
    enterprise,
    deviceIds: [],
    photos: [],
    plan: deadline === undefined ? {} : { deadline },
    reportedBy: 'u',
    reportedAt: history[0]?.at ?? 0,
    updatedAt: last?.at ?? 0,
    history,
  };
};

const miss = (siteId: string, end: number, resolvedAt?: number): InspectionMiss => ({
  scheduleId: 'daily',
  siteId,
  window: { id: 'w', start: end - DAY, end },
  at: end,
  resolvedAt,
});

const input = (overrides: Partial<MonthlyReportInput> = {}): MonthlyReportInput => ({
  month: NOVEMBER,
  timeZone: 'Asia/Shanghai',
  now: AFTER,
  node: organisation[0] as OrgNode,
  organisation,
  sites,
  raises: [],
  responses: [],
  open: [],
  excluded: new Set(),
  hazards: [],
  misses: [],
  scope: 'city',
  source: 'influxdb',
  ...overrides,
});

describe(buildMonthlyReport.name, () => {
  it('takes the month in the plant’s time zone: local midnights, not UTC ones', () => {
    expect(parseMonth('2026-11')).toEqual(NOVEMBER);
    expect(parseMonth('2026-13')).toBeUndefined();
    expect(parseMonth('2026-1')).toBeUndefined();
    expect(monthRange(NOVEMBER, 'Asia/Shanghai')).toEqual({ from: FROM, to: TO });
    expect(monthRange({ year: 2026, month: 12 }, 'UTC').to).toBe(Date.UTC(2027, 0, 1));

    // 23:59 local on 31 October is October's; 00:00 local on 1 November is November's.
    const report = buildMonthlyReport(
      input({
        raises: [raise(FROM - 1, 's1'), raise(FROM, 's1'), raise(TO - 1, 's1'), raise(TO, 's1')],
      }),
    );
    expect(report.total.alarms.alarms).toBe(2);
    expect(report.daily).toHaveLength(30);
    expect(report.daily[0]).toEqual({ date: '2026-11-01', alarms: 1 });
    expect(report.daily[29]).toEqual({ date: '2026-11-30', alarms: 1 });
    expect(report).toMatchObject({ month: '2026-11', from: FROM, to: TO, complete: true });
  });

  it('counts alarms per enterprise by priority and class, without tests, with response times', () => {
    const a = raise(FROM + HOUR, 's1', 1, 'process');
    const b = raise(FROM + 2 * HOUR, 's2', 2, 'warning');
    const c = raise(FROM + 3 * HOUR, 's2', 3, 'system');
    const test = raise(FROM + 4 * HOUR, 's1', 1);
    const other = raise(FROM + 5 * HOUR, 's3', 4);
    const responses: AlarmResponse[] = [
      { alarmId: a.alarmId, action: 'acknowledge', at: a.at + 2 * MIN },
      // A second acknowledgement of the same activation does not count again.
      { alarmId: a.alarmId, action: 'acknowledge', at: a.at + 50 * MIN },
      { alarmId: a.alarmId, action: 'dispose', at: a.at + 30 * MIN },
      { alarmId: b.alarmId, action: 'acknowledge', at: b.at + 4 * MIN },
    ];
    const report = buildMonthlyReport(
      input({
        raises: [a, b, c, test, other],
        responses,
        excluded: new Set([test.alarmId]),
      }),
    );
    const e1 = report.enterprises.find(row => row.nodeId === 'e1');
    expect(e1?.members).toEqual(['s1', 's2']);
    expect(e1?.alarms).toMatchObject({
      alarms: 3,
      byPriority: { 1: 1, 2: 1, 3: 1, 4: 0 },
      byCategory: { process: 1, warning: 1, system: 1 },
      meanAckMs: 3 * MIN,
      meanDisposeMs: 30 * MIN,
      unacknowledged: 1,
      standing: null,
    });
    // 3 alarms over the 30 days' 4,320 ten-minute windows.
    expect(e1?.alarms.per10MinAverage).toBe(0);
    expect(report.enterprises.find(row => row.nodeId === 'e2')?.alarms.alarms).toBe(1);
    expect(report.total.alarms.alarms).toBe(4);
  });

  it('counts hazards opened and closed in the month, and open and overdue at its end', () => {
    const day = (n: number) => FROM + n * DAY;
    const hazards = [
      // Reported in October, closed in November.
      hazard('h-old', 's1', 'e1', 'general', [
        step('report', FROM - 5 * DAY, 'reported'),
        step('close', day(3), 'closed'),
      ]),
      // Reported in November, overdue at its end (deadline 10 November, still rectifying).
      hazard(
        'h-late',
        's1',
        'e1',
        'major',
        [
          step('report', day(1), 'reported'),
          step('assign', day(2), 'assigned'),
          step('start', day(3), 'rectifying'),
        ],
        day(10),
      ),
      // Rectifying at the month's end before its deadline, closed in December: open, not overdue.
      hazard(
        'h-ontime',
        's2',
        'e1',
        'general',
        [
          step('report', day(5), 'reported'),
          step('assign', day(6), 'assigned'),
          step('start', day(7), 'rectifying'),
          step('close', TO + DAY, 'closed'),
        ],
        TO + DAY,
      ),
      // Reported in December: nothing in November.
      hazard('h-next', 's3', 'e2', 'major', [step('report', TO + DAY, 'reported')]),
    ];
    const report = buildMonthlyReport(input({ hazards }));
    const e1 = report.enterprises.find(row => row.nodeId === 'e1');
    expect(e1?.hazards).toEqual({
      opened: { general: 1, major: 1, total: 2 },
      closed: { general: 1, major: 0, total: 1 },
      openAtEnd: { general: 1, major: 1, total: 2 },
      overdueAtEnd: { general: 0, major: 1, total: 1 },
    });
    expect(report.enterprises.find(row => row.nodeId === 'e2')?.hazards.opened.total).toBe(0);
  });

  it('rolls enterprises up into their regions and ranks them by the documented score', () => {
    const day = (n: number) => FROM + n * DAY;
    // e2: a flood (12 alarms within 2 minutes) and 2 missed inspections, one made up.
    const flood = Array.from({ length: 12 }, (_, i) => raise(day(4) + i * 10_000, 's3'));
    // e1: one major hazard overdue.
    const late = hazard(
      'h-late',
      's1',
      'e1',
      'major',
      [step('report', day(1), 'reported'), step('assign', day(2), 'assigned')],
      day(3),
    );
    const misses = [miss('s3', day(2)), miss('s3', day(3), day(4)), miss('s3', TO + DAY)];
    const report = buildMonthlyReport(input({ raises: flood, hazards: [late], misses }));

    const e1 = report.enterprises.find(row => row.nodeId === 'e1');
    const e2 = report.enterprises.find(row => row.nodeId === 'e2');
    expect(e2?.inspections).toEqual({ missed: 2, madeUp: 1 });
    expect(e2?.deductions).toEqual([
      {
        reason: 'missed-inspection',
        count: 2,
        points: 2 * MONTHLY_SCORING.missedInspection.points,
      },
      { reason: 'floods', count: 1, points: MONTHLY_SCORING.floods.points },
    ]);
    expect(e2?.score).toBe(95);
    expect(e1?.deductions).toEqual([{ reason: 'major-overdue', count: 1, points: 10 }]);
    expect(e1?.score).toBe(90);
    // Ranking: best first; e3 has nothing against it.
    expect(report.enterprises.map(row => [row.nodeId, row.rank])).toEqual([
      ['e3', 1],
      ['e2', 2],
      ['e1', 3],
    ]);

    const county = report.regions.find(row => row.nodeId === 'county');
    expect(county?.members).toEqual(['e1', 'e2']);
    expect(county?.alarms.alarms).toBe(12);
    expect(county?.alarms.floods).toBe(1);
    expect(county?.hazards.overdueAtEnd.major).toBe(1);
    expect(county?.inspections.missed).toBe(2);
    expect(county?.score).toBe(92.5);
    expect(report.regions.map(row => row.nodeId)).toEqual(['city', 'county', 'park']);
    expect(report.total.nodeId).toBe('city');
    expect(report.total.members).toEqual(['e1', 'e2', 'e3']);
  });

  it('shares a rank between equal scores', () => {
    const report = buildMonthlyReport(input());
    expect(report.enterprises.map(row => row.rank)).toEqual([1, 1, 1]);
    expect(report.enterprises.every(row => row.score === 100)).toBe(true);
  });

  it('reports on one enterprise and only on the sites the user sees', () => {
    const report = buildMonthlyReport(
      input({
        node: organisation[2] as OrgNode,
        // s2 is not visible to this user: its alarms are not in the report.
        sites: sites.filter(site => site.id !== 's2'),
        raises: [raise(FROM + HOUR, 's1'), raise(FROM + HOUR, 's2'), raise(FROM + HOUR, 's3')],
        hazards: [hazard('h', 's2', 'e1', 'general', [step('report', FROM + HOUR, 'reported')])],
      }),
    );
    expect(report.regions).toEqual([]);
    expect(report.enterprises.map(row => row.nodeId)).toEqual(['e1']);
    expect(report.total.alarms.alarms).toBe(1);
    expect(report.total.hazards.opened.total).toBe(0);
    expect(report.total.members).toEqual(['s1']);
  });

  it('reports the running month up to now, with the standing alarms', () => {
    const now = FROM + 10 * DAY;
    const standing = {
      id: 'st',
      key: 's1/d/gas',
      siteId: 's1',
      conditionActive: true,
      openedAt: now - 2 * DAY,
      detectedAt: now - 2 * DAY,
    } as Alarm;
    const report = buildMonthlyReport(
      input({ now, open: [standing], raises: [raise(now - HOUR, 's1'), raise(now + HOUR, 's1')] }),
    );
    expect(report.complete).toBe(false);
    expect(report.total.alarms.alarms).toBe(1);
    expect(report.total.alarms.standing).toBe(1);
    expect(report.enterprises.find(row => row.nodeId === 'e1')?.deductions).toEqual([
      { reason: 'standing', count: 1, points: 1 },
    ]);
  });
});
