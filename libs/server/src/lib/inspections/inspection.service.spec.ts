import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { HazardActor } from '@vigil/alarms';
import type { Alarm, InspectionMiss } from '@vigil/contracts';

import { AlarmService } from '../alarms/alarm.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { HazardService } from '../hazards/hazard.service';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { InspectionService } from './inspection.service';

const REGISTRY = join(__dirname, '../../../../../registry/sample');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Shanghai midnight that starts Monday 2026-12-07 (UTC+8, the sample plant's time zone). */
const DEC_7 = Date.parse('2026-12-06T16:00:00Z');
const zhang: HazardActor = { id: 'zhang', role: 'operator', scope: 'ent-huaxin' };
const DAILY = 'tf-team-daily';

const allPass = [
  { itemId: 'flanges', answer: 'pass' as const },
  { itemId: 'detectors', answer: 'pass' as const },
  { itemId: 'dike', answer: 'pass' as const },
  { itemId: 'extinguishers', answer: 'pass' as const },
];

/**
 * The inspection ledger with the real alarm lifecycle and hazard ledger on a data directory, in
 * virtual time, restarted as the process would be: the sample plant's `tf-team-daily` is a team
 * daily check of the tank farm (windows: Shanghai local days).
 */
describe(InspectionService.name, () => {
  let dataDir: string;
  let now: number;
  let running: { alarms: AlarmService; hazards: HazardService; inspections: InspectionService }[];

  /**
   * One process: the inspection service is initialised BEFORE the alarm lifecycle (Nest does not
   * promise the order): it must restore the lifecycle's journal itself before it raises anything.
   */
  function start(registryDir = REGISTRY) {
    const config = loadConfig({
      VIGIL_REGISTRY: registryDir,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ALARM_TICK_MS: '0',
    });
    const registry = new RegistryHolder(config);
    const metrics = new VigilMetrics();
    const alarms = new AlarmService(config, new PipelineBus(), metrics, registry, () => now);
    const hazards = new HazardService(config, registry, () => now);
    const inspections = new InspectionService(
      config,
      registry,
      hazards,
      () => now,
      alarms,
      undefined,
      metrics,
    );
    hazards.onModuleInit();
    inspections.onModuleInit();
    alarms.onModuleInit();
    const process = { alarms, hazards, inspections, metrics, registry };
    running.push(process);
    return process;
  }

  function stop(process: (typeof running)[number]): void {
    process.inspections.onModuleDestroy();
    process.hazards.onModuleDestroy();
    process.alarms.onModuleDestroy();
    running.splice(running.indexOf(process), 1);
  }

  const missedAlarms = (alarms: AlarmService): Alarm[] =>
    alarms
      .open()
      .filter(alarm => alarm.ruleId === 'inspection-missed')
      .sort((a, b) => a.key.localeCompare(b.key));
  const raises = (alarm: Alarm | undefined) =>
    alarm?.history.filter(action => action.action === 'raise').length;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-inspections-'));
    now = DEC_7;
    running = [];
  });

  afterEach(() => {
    for (const process of [...running]) stop(process);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('raises one alarm when the window closes without a record, once, also across a restart', async () => {
    const first = start();
    now = DEC_7 + DAY - 1;
    first.inspections.tick(now);
    expect(missedAlarms(first.alarms)).toEqual([]);
    expect(
      first.inspections.view(must(first.inspections.schedule('plant-1', DAILY))),
    ).toMatchObject({
      current: { id: '2026-12-07' },
      dueAt: DEC_7 + DAY,
      overdue: false,
      doneInCurrent: false,
    });

    now = DEC_7 + DAY; // Shanghai midnight: the 7th closed without a record
    first.inspections.tick(now);
    first.inspections.tick(now + 1000);
    const [alarm] = missedAlarms(first.alarms);
    expect(missedAlarms(first.alarms)).toHaveLength(1);
    expect(alarm).toMatchObject({
      key: 'plant-1/inspection-tf-team-daily/inspection-missed/2026-12-07',
      siteId: 'plant-1',
      areaId: 'tank-farm',
      category: 'warning',
      priority: 3,
      state: 'active-unacknowledged',
    });
    expect(raises(alarm)).toBe(1);
    expect(first.inspections.missed()).toHaveLength(1);

    // Restarted: the same alarm (same id), raised once, the miss listed once, nothing counted again.
    stop(first);
    now += HOUR;
    const second = start();
    second.inspections.tick(now);
    expect(missedAlarms(second.alarms).map(a => [a.id, raises(a)])).toEqual([[alarm?.id, 1]]);
    expect(second.inspections.missed()).toHaveLength(1);
    const counted = (await second.metrics.inspectionsMissed.get()).values;
    expect(counted.reduce((sum, value) => sum + value.value, 0)).toBe(0);
  });

  it('raises the windows that closed while the process was down, at the first tick after start', () => {
    const first = start();
    now = DEC_7 + 12 * HOUR;
    first.inspections.tick(now);
    stop(first);

    now = DEC_7 + 2 * DAY + 9 * HOUR; // the 9th, 09:00 local: the 7th and the 8th closed meanwhile
    const second = start();
    expect(missedAlarms(second.alarms).map(alarm => alarm.key.split('/').at(-1))).toEqual([
      '2026-12-07',
      '2026-12-08',
    ]);
    expect(
      second.inspections.view(must(second.inspections.schedule('plant-1', DAILY))),
    ).toMatchObject({
      overdue: true,
      missed: [{ window: { id: '2026-12-07' } }, { window: { id: '2026-12-08' } }],
    });
  });

  it('a late inspection clears the missed alarms and opens a hazard per failed item, linked back', () => {
    const first = start();
    now = DEC_7 + DAY + 8 * HOUR; // the 8th, 08:00 local: the 7th was missed
    first.inspections.tick(now);
    expect(missedAlarms(first.alarms)).toHaveLength(1);

    const result = first.inspections.recordInspection(
      'plant-1',
      DAILY,
      {
        answers: [
          { itemId: 'flanges', answer: 'fail', note: '法兰 F-3 渗漏 flange F-3 weeps' },
          { itemId: 'detectors', answer: 'fail', note: 'gc-tf-02 shows fault' },
          { itemId: 'dike', answer: 'pass' },
          { itemId: 'extinguishers', answer: 'na' },
        ],
      },
      zhang,
    );
    if (!result.ok) throw new Error(result.message);
    const { record } = result;
    expect(record).toMatchObject({
      no: 1,
      by: 'zhang',
      windowId: '2026-12-08',
      resolvedWindows: ['2026-12-07'],
    });
    // Each failed item is a hazard of the ledger, reported by the inspector, linked both ways.
    const hazards = first.hazards.list().sort((a, b) => a.no - b.no);
    expect(hazards).toHaveLength(2);
    expect(hazards[0]).toMatchObject({
      source: 'inspection',
      state: 'reported',
      level: 'general',
      siteId: 'plant-1',
      areaId: 'tank-farm',
      deviceIds: ['tk-101', 'tk-102'],
      reportedBy: 'zhang',
      description: '法兰 F-3 渗漏 flange F-3 weeps',
      inspection: { recordId: record.id, recordNo: 1, scheduleId: DAILY, itemId: 'flanges' },
    });
    expect(hazards[1]).toMatchObject({ level: 'major', inspection: { itemId: 'detectors' } });
    expect(record.answers.map(answer => answer.hazardNo)).toEqual([1, 2, undefined, undefined]);

    // The alarm's condition is gone: it waits for its acknowledgement, then closes.
    const [alarm] = first.alarms.open().filter(a => a.ruleId === 'inspection-missed');
    expect(alarm).toMatchObject({ conditionActive: false, state: 'returned-unacknowledged' });
    expect(
      first.inspections.view(must(first.inspections.schedule('plant-1', DAILY))),
    ).toMatchObject({ overdue: false, doneInCurrent: true, missed: [] });

    // The 8th has its record: its end raises nothing; the 9th without one does.
    now = DEC_7 + 3 * DAY;
    first.inspections.tick(now);
    expect(first.inspections.missed().map(miss => miss.window.id)).toEqual([
      '2026-12-07',
      '2026-12-09',
    ]);
  });

  it('re-asserts journaled misses at start: a crash between journal and alarm loses nothing', () => {
    const first = start();
    stop(first);
    const journal = join(dataDir, 'inspections', 'inspection-journal.jsonl');
    const window = (id: string, start: number) => ({ id, start, end: start + DAY });
    // Journaled missed, the process died before the raise …
    const unraised: InspectionMiss = {
      scheduleId: DAILY,
      siteId: 'plant-1',
      window: window('2026-12-07', DEC_7),
      at: DEC_7 + DAY,
      alarmKey: 'plant-1/inspection-tf-team-daily/inspection-missed/2026-12-07',
    };
    // … and a failed item whose hazard was not opened yet.
    const record = {
      id: 'rec-1',
      no: 1,
      scheduleId: DAILY,
      siteId: 'plant-1',
      enterprise: 'ent-huaxin',
      level: 'team',
      cadence: 'daily',
      windowId: '2026-12-08',
      by: 'zhang',
      role: 'operator',
      at: DEC_7 + DAY + HOUR,
      answers: [
        { itemId: 'flanges', answer: 'fail', note: 'weeps' },
        { itemId: 'detectors', answer: 'pass' },
        { itemId: 'dike', answer: 'pass' },
        { itemId: 'extinguishers', answer: 'pass' },
      ],
    };
    appendFileSync(
      journal,
      `${JSON.stringify({ t: 'missed', miss: unraised })}\n${JSON.stringify({ t: 'record', record })}\n`,
    );
    now = DEC_7 + DAY + 2 * HOUR;
    const second = start();
    expect(missedAlarms(second.alarms).map(alarm => alarm.key)).toEqual([unraised.alarmKey]);
    const [hazard] = second.hazards.list();
    expect(hazard).toMatchObject({ inspection: { recordId: 'rec-1', itemId: 'flanges' } });
    expect(second.inspections.record('rec-1')?.answers[0]).toMatchObject({
      hazardId: hazard?.id,
    });
    // Once more: nothing doubled.
    stop(second);
    const third = start();
    expect(missedAlarms(third.alarms)).toHaveLength(1);
    expect(third.hazards.list()).toHaveLength(1);
  });

  it('clears the missed alarms of a schedule a registry reload removed', () => {
    const registryDir = join(dataDir, 'registry');
    cpSync(REGISTRY, registryDir, { recursive: true });
    const first = start(registryDir);
    now = DEC_7 + DAY + HOUR;
    first.inspections.tick(now);
    expect(missedAlarms(first.alarms).map(alarm => alarm.conditionActive)).toEqual([true]);
    const file = join(registryDir, 'site-plant-1.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('- id: tf-team-daily', '- id: tf-daily-2'),
    );
    first.registry.reload();
    first.inspections.tick(now + 1000);
    expect(missedAlarms(first.alarms).map(alarm => alarm.conditionActive)).toEqual([false]);
  });

  it('is unavailable without an alarm lifecycle in the process (split), and says so', async () => {
    const config = loadConfig({
      VIGIL_REGISTRY: REGISTRY,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ALARM_TICK_MS: '0',
    });
    const registry = new RegistryHolder(config);
    const metrics = new VigilMetrics();
    const hazards = new HazardService(config, registry, () => now);
    const gateway = new InspectionService(
      config,
      registry,
      hazards,
      () => now,
      undefined,
      undefined,
      metrics,
    );
    gateway.onModuleInit();
    expect(gateway.unavailable).toContain('gateway and rules split');
    expect((await metrics.inspectionsUnwatched.get()).values[0]?.value).toBe(4);
    expect(gateway.recordInspection('plant-1', DAILY, { answers: allPass }, zhang)).toMatchObject({
      ok: false,
      status: 503,
    });
    gateway.onModuleDestroy();
  });

  it('refuses a record that does not answer the checklist, and records nothing', () => {
    const first = start();
    const refused = first.inspections.recordInspection(
      'plant-1',
      DAILY,
      { answers: allPass.slice(1) },
      zhang,
    );
    expect(refused).toMatchObject({ ok: false, status: 422 });
    expect(first.inspections.records()).toEqual([]);
    expect(
      first.inspections.recordInspection('plant-1', 'nope', { answers: allPass }, zhang),
    ).toMatchObject({ ok: false, status: 404 });
  });
});

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('missing');
  return value;
}
