import { GAS_L1_OFF_DELAY_MS } from '@vigil/rules';

import {
  accountAlarms,
  accountReadings,
  clearExpected,
  summariseDrain,
  summariseReadyz,
  type AuditRow,
} from './accounting';
import type { Excursion } from './load';
import type { WsAlarmSighting } from './observers';

describe('accountReadings', () => {
  it('counts missing seqs, those the broker had acknowledged, and repeated rows', () => {
    const result = accountReadings(
      { a: 4, b: 2 },
      new Map([
        ['a', [1, 2, 2, 4]],
        ['b', [1, 2]],
      ]),
      new Map([['a', new Set([1, 2, 3, 4])]]),
    );
    expect(result).toMatchObject({
      offered: 6,
      stored: 5,
      missing: 1,
      missingAcknowledged: 1,
      duplicateRows: 1,
      sampleMissing: ['a#3'],
    });
  });

  it('does not count stored seqs beyond what was offered as stored', () => {
    expect(accountReadings({ a: 1 }, new Map([['a', [1, 7]]]), new Map()).stored).toBe(1);
  });
});

const excursion = (deviceId: string, returnedAt: number | undefined): Excursion => ({
  deviceId,
  raiseSeq: 5,
  clearSeq: 8,
  startedAt: 1_000,
  returnedAt,
});

const sighting = (
  id: string,
  deviceId: string,
  ruleId: string,
  seen: Partial<WsAlarmSighting>,
): WsAlarmSighting => ({
  id,
  siteId: 'faults',
  deviceId,
  ruleId,
  liveActive: false,
  liveCleared: false,
  inSnapshot: false,
  ...seen,
});

describe('clearExpected', () => {
  it('expects L2 to clear with the first normal reading and L1 only after its off-delay', () => {
    const e = excursion('d', 10_000);
    expect(clearExpected(e, 'gas-l2', 12_000)).toBe(true);
    expect(clearExpected(e, 'gas-l1', 12_000)).toBe(false);
    expect(clearExpected(e, 'gas-l1', 12_000 + GAS_L1_OFF_DELAY_MS)).toBe(true);
    expect(clearExpected(excursion('d', undefined), 'gas-l2', 99_999_999)).toBe(false);
  });
});

describe('accountAlarms', () => {
  const loadEnd = 100_000;

  it('is clean when every change was pushed live and audited once', () => {
    const audit: AuditRow[] = [
      { deviceId: 'd', ruleId: 'gas-l1', alarmId: 'x1', action: 'raise' },
      { deviceId: 'd', ruleId: 'gas-l1', alarmId: 'x1', action: 'clear' },
      { deviceId: 'd', ruleId: 'gas-l2', alarmId: 'x2', action: 'raise' },
      { deviceId: 'd', ruleId: 'gas-l2', alarmId: 'x2', action: 'clear' },
    ];
    const views = [
      sighting('x1', 'd', 'gas-l1', { liveActive: true, liveCleared: true }),
      sighting('x2', 'd', 'gas-l2', { liveActive: true, liveCleared: true }),
    ];
    expect(accountAlarms([excursion('d', 10_000)], audit, views, loadEnd)).toEqual({
      expectedChanges: 4,
      raisedExactlyOnce: 2,
      neverRaised: 0,
      raisedTwice: 0,
      notPushedLive: 0,
      lost: 0,
      auditMissing: 0,
      auditDuplicated: 0,
      missingChanges: [],
      unexpected: {},
    });
  });

  it('tells a raise only a snapshot showed from one with no trace, and a re-raise from a duplicate row', () => {
    const audit: AuditRow[] = [
      { deviceId: 'd', ruleId: 'gas-l2', alarmId: 'x2', action: 'raise' },
      { deviceId: 'd', ruleId: 'gas-l2', alarmId: 'x3', action: 'raise' },
      { deviceId: 'd', ruleId: 'offline', alarmId: 'o1', action: 'raise' },
    ];
    const views = [sighting('x1', 'd', 'gas-l1', { inSnapshot: true })];
    // Returned late: L1's clear is not due, L2's is.
    const result = accountAlarms([excursion('d', loadEnd - 5_000)], audit, views, loadEnd);
    expect(result).toMatchObject({
      expectedChanges: 3,
      raisedExactlyOnce: 1,
      raisedTwice: 1,
      neverRaised: 0,
      // L1 raise (snapshot only), L2 raise, L2 clear
      notPushedLive: 3,
      // the L2 clear: neither pushed nor audited
      lost: 1,
      // L1 raise, L2 clear
      auditMissing: 2,
      auditDuplicated: 1,
      missingChanges: [
        'd/gas-l1 raise (live, audit)',
        'd/gas-l2 raise (live)',
        'd/gas-l2 clear (live, audit)',
      ],
      unexpected: { offline: 1 },
    });
  });
});

describe('summariseReadyz', () => {
  it('says 200 throughout when it never left 200', () => {
    const summary = summariseReadyz(
      [0, 500, 1000].map(t => ({ t, status: 200, failing: [] })),
      400,
    );
    expect(summary).toMatchObject({ text: '200 throughout', backTo200Ms: 0 });
  });

  it('describes each state from the fault on and when it was back to 200', () => {
    const samples = [
      { t: 0, status: 200, failing: [] },
      { t: 1000, status: 0, failing: ['unreachable'] },
      { t: 2000, status: 0, failing: ['unreachable'] },
      { t: 3000, status: 503, failing: ['storage'] },
      { t: 4000, status: 200, failing: [] },
      { t: 5000, status: 200, failing: [] },
    ];
    const summary = summariseReadyz(samples, 1000);
    expect(summary.text).toBe('down 2.0 s → 503 (storage) 1.0 s → 200');
    expect(summary.backTo200Ms).toBe(3000);
  });

  it('has no recovery time when it never came back', () => {
    const summary = summariseReadyz(
      [
        { t: 0, status: 200, failing: [] },
        { t: 500, status: 503, failing: ['pipeline'] },
      ],
      0,
    );
    expect(summary.backTo200Ms).toBeNull();
  });
});

describe('summariseDrain', () => {
  const live = 1000;
  const sample = (atMs: number, pubacked: number, stored: number | null) => ({
    atMs,
    offered: pubacked,
    pubacked,
    stored,
  });

  it('measures the backlog at the restart, when it caught up and how fast it was stored', () => {
    // Down from 10 s to 20 s: 10,000 readings wait; after the restart 5,000/s are stored.
    const samples = [
      sample(5_000, 5_000, 5_000),
      sample(10_000, 10_000, 10_000),
      sample(15_000, 15_000, null),
      sample(19_000, 19_000, null),
      sample(20_000, 20_000, 10_000),
      sample(22_000, 22_000, 20_000),
      sample(24_000, 24_000, 24_000),
      sample(26_000, 26_000, 26_000),
    ];
    expect(summariseDrain(samples, 20_000, live, 0)).toEqual({
      backlogAtRestart: 10_000,
      // Timed from 19 s, the last sample that found InfluxDB down.
      caughtUpMs: 5_000,
      storeRate: 2_800,
      peakStoreRate: 5_000,
      timesLiveRate: 2.8,
      settledMs: 7_000,
      settledRate: 16_000 / 7,
    });
  });

  it('says never caught up when the stored count stays behind', () => {
    const samples = [sample(0, 0, 0), sample(10_000, 10_000, 0), sample(20_000, 20_000, 11_000)];
    const result = summariseDrain(samples, 10_000, live);
    expect(result.caughtUpMs).toBeNull();
    expect(result.storeRate).toBeNull();
    expect(result.backlogAtRestart).toBe(10_000);
    expect(result.peakStoreRate).toBe(1_100);
  });

  it('says how fast what the pipeline held was stored when readings were lost upstream', () => {
    // 30,000 acknowledged, only 12,000 ever stored: never caught up, but settled 6 s after.
    const samples = [
      sample(0, 0, 0),
      sample(5_000, 10_000, 2_000),
      sample(10_000, 20_000, null),
      sample(12_000, 25_000, 2_000),
      sample(14_000, 28_000, 10_000),
      sample(16_000, 30_000, 12_000),
      sample(18_000, 30_000, 12_000),
    ];
    expect(summariseDrain(samples, 12_000, live)).toMatchObject({
      backlogAtRestart: 23_000,
      caughtUpMs: null,
      settledMs: 6_000,
      settledRate: 10_000 / 6,
    });
  });
});
