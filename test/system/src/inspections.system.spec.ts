import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { windowAt } from '@vigil/alarms';
import type { Alarm, Hazard, InspectionRecord, InspectionScheduleView } from '@vigil/contracts';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { SAMPLE_REGISTRY, journalWatching, loginAs } from './support';

type Client = Awaited<ReturnType<typeof loginAs>>;

const DAY = 24 * 3_600_000;
const SHANGHAI = 'Asia/Shanghai';

/**
 * Inspection schedules (issue 15) on the built Vigil process, over HTTP only. The sample plant's
 * `tf-team-daily` (罐区班组日查, team daily) has been watched since three Shanghai days ago (a
 * journal of an earlier run in the data directory) and nobody recorded it: the three days that
 * closed while the process was down are each raised as an `inspection-missed` alarm at start,
 * once, and a restart raises none of them again. A late inspection with a failed item clears them
 * and opens a hazard in the ledger, linked back to the record; the operator acknowledges the
 * alarm as any other.
 */
describe('inspection schedules: missed windows raise alarms, findings become hazards', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  let zhang: Client;
  let env: Record<string, string>;
  const today = windowAt('daily', Date.now(), SHANGHAI);
  /** Three whole Shanghai days before today: the 3 windows the process "slept" through. */
  const watchedSince = windowAt('daily', today.start - 3 * DAY + 3_600_000, SHANGHAI).start;

  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const body = (await response.json()) as T;
    if (response.status !== status)
      throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const missedAlarms = async () =>
    (await json<Alarm[]>(await zhang.call('/api/v1/alarms?site=plant-1')))
      .filter(alarm => alarm.ruleId === 'inspection-missed')
      .sort((a, b) => a.key.localeCompare(b.key));
  const daily = async () =>
    (
      await json<InspectionScheduleView[]>(
        await zhang.call('/api/v1/inspections/schedules?site=plant-1'),
      )
    ).find(schedule => schedule.id === 'tf-team-daily');

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-inspections-'));
    // An earlier run began watching the daily check three days ago and recorded nothing since.
    journalWatching(join(work, 'data'), 'tf-team-daily', watchedSince);
    influx = await startInfluxd();
    env = {
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_ALARM_TICK_MS: '200',
    };
    vigil = await startBuiltVigil(env);
    zhang = await loginAs(vigil.httpUrl, 'zhang'); // operator, enterprise ent-huaxin
  });

  afterAll(async () => {
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('raises each window missed while down once, and not again after a restart', async () => {
    if (!vigil) throw new Error('not started');
    const expected = [3, 2, 1].map(
      days => windowAt('daily', today.start - days * DAY + 1, SHANGHAI).id,
    );
    const raised = await waitFor(
      async () => {
        const alarms = await missedAlarms();
        return alarms.length >= 3 ? alarms : undefined;
      },
      { what: 'three inspection-missed alarms' },
    );
    expect(raised.map(alarm => alarm.key)).toEqual(
      expected.map(id => `plant-1/inspection-tf-team-daily/inspection-missed/${id}`),
    );
    expect(raised[0]).toMatchObject({
      priority: 3,
      category: 'warning',
      areaId: 'tank-farm',
      state: 'active-unacknowledged',
    });
    expect(raised[0]?.message).toContain('inspection missed: 罐区班组日查');
    const schedule = await daily();
    expect(schedule).toMatchObject({
      level: 'team',
      cadence: 'daily',
      timeZone: SHANGHAI,
      overdue: true,
      doneInCurrent: false,
      current: { id: today.id },
      dueAt: today.end,
    });
    expect(schedule?.missed.map(miss => miss.window.id)).toEqual(expected);
    // The other schedules were first seen now: nothing of theirs is missed.
    const others = await json<InspectionScheduleView[]>(
      await zhang.call('/api/v1/inspections/schedules?overdue=false'),
    );
    expect(others.map(view => view.id).sort()).toEqual([
      'plant-monthly',
      'principal-quarterly',
      'ru-workshop-weekly',
    ]);

    // Restarted on the same data directory: the same three alarms, each raised once.
    await stop(vigil.process);
    vigil = await startBuiltVigil(env);
    zhang = await loginAs(vigil.httpUrl, 'zhang');
    await new Promise(resolve => setTimeout(resolve, 1_000)); // a few inspection ticks
    const after = await missedAlarms();
    expect(after.map(alarm => alarm.id)).toEqual(raised.map(alarm => alarm.id));
    expect(
      after.map(alarm => alarm.history.filter(action => action.action === 'raise').length),
    ).toEqual([1, 1, 1]);
    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_inspections_overdue 1$/m);
    const ready = (await (await fetch(`${vigil.httpUrl}/readyz`)).json()) as {
      checks: Record<string, boolean>;
      details?: Record<string, unknown>;
    };
    expect(ready.checks['journals']).toBeUndefined();
    expect(ready.details?.['inspections']).toBeUndefined();
  }, 120_000);

  it('a late inspection, signed by the user, clears them and turns a failed item into a hazard', async () => {
    if (!vigil) throw new Error('not started');
    const incomplete = await zhang.post('/api/v1/inspections/records', {
      siteId: 'plant-1',
      scheduleId: 'tf-team-daily',
      answers: [{ itemId: 'flanges', answer: 'fail' }],
    });
    expect(incomplete.status).toBe(422);
    expect(JSON.stringify(await incomplete.json())).toContain('a failed item needs a note');
    const unknown = await zhang.post('/api/v1/inspections/records', {
      siteId: 'plant-1',
      scheduleId: 'nope',
      answers: [],
    });
    expect(unknown.status).toBe(404);

    const record = await json<InspectionRecord>(
      await zhang.post('/api/v1/inspections/records', {
        siteId: 'plant-1',
        scheduleId: 'tf-team-daily',
        answers: [
          { itemId: 'flanges', answer: 'fail', note: 'T-102 出口法兰渗漏 outlet flange weeps' },
          { itemId: 'detectors', answer: 'pass' },
          { itemId: 'dike', answer: 'pass' },
          { itemId: 'extinguishers', answer: 'na', note: 'moved for the repaint' },
        ],
        note: '补检 late check',
      }),
      201,
    );
    expect(record).toMatchObject({ by: 'zhang', role: 'operator', windowId: today.id });
    expect(record.resolvedWindows).toHaveLength(3);
    const flanges = record.answers[0];
    expect(flanges).toMatchObject({ itemId: 'flanges', answer: 'fail' });
    const hazard = await json<Hazard>(await zhang.call(`/api/v1/hazards/${flanges?.hazardId}`));
    expect(hazard).toMatchObject({
      no: flanges?.hazardNo,
      source: 'inspection',
      state: 'reported',
      siteId: 'plant-1',
      areaId: 'tank-farm',
      reportedBy: 'zhang',
      description: 'T-102 出口法兰渗漏 outlet flange weeps',
      inspection: { recordId: record.id, scheduleId: 'tf-team-daily', itemId: 'flanges' },
    });

    // The missed alarms' condition is gone: returned, waiting for an acknowledgement.
    const cleared = await missedAlarms();
    expect(cleared.map(alarm => [alarm.conditionActive, alarm.state])).toEqual([
      [false, 'returned-unacknowledged'],
      [false, 'returned-unacknowledged'],
      [false, 'returned-unacknowledged'],
    ]);
    expect(await daily()).toMatchObject({ overdue: false, doneInCurrent: true, missed: [] });
    const first = cleared[0];
    const acknowledged = await json<Alarm>(
      await zhang.post(`/api/v1/alarms/${first?.id}/acknowledge`, {}),
    );
    expect(acknowledged).toMatchObject({ state: 'normal', acknowledgedBy: 'zhang' });

    const history = await json<InspectionRecord[]>(
      await zhang.call('/api/v1/inspections/records?schedule=tf-team-daily'),
    );
    expect(history.map(entry => entry.id)).toEqual([record.id]);
  });
});
