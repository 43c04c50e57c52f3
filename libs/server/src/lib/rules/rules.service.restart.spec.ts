import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { IngestRecord, RuleSignal } from '@vigil/contracts';
import { GAS_L1_OFF_DELAY_MS } from '@vigil/rules';

import type { AlarmService } from '../alarms/alarm.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { LocalSpool } from '../bus/spool/local-spool';
import { SpoolJournal } from '../bus/spool/spool-journal';
import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { PermitBoard } from '../permits/permit-board';
import { RegistryHolder } from '../registry/registry-holder';
import { RulesService } from './rules.service';

const REGISTRY = join(__dirname, '../../../../../registry/sample');
const T0 = 1_765_000_000_000;
const L1 = 'plant-1/gc-tf-02/gas-l1';
const L2 = 'plant-1/gc-tf-02/gas-l2';

function lel(value: number, ts: number): IngestRecord {
  return {
    kind: 'reading',
    reading: {
      siteId: 'plant-1',
      deviceId: 'gc-tf-02',
      deviceClass: 'gas-combustible',
      areaId: 'tank-farm',
      ts,
      receivedAt: ts,
      seq: ts,
      deviceTime: true,
      clockSkewMs: 0,
      values: { lel: value },
    },
  };
}

/**
 * All-in-one (VIGIL_BUS=memory) restart: the gas L1 off-delay (30 s) that was running when the
 * process died completes when it would have, measured from the return below the clear point, not
 * from the restart. The state saved at some spool entry is brought up to the rules' cursor by
 * evaluating the entries between again (signals dropped); the entries after the cursor are then
 * replayed as live ones by LocalSpool.
 */
describe('RulesService all-in-one restart with the spool: rule state survives', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'rules-restart-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  function start(alarmsActive: (key: string) => boolean) {
    const config = loadConfig({
      VIGIL_REGISTRY: REGISTRY,
      VIGIL_RULE_TICK_MS: '100000',
      VIGIL_DATA_DIR: dataDir,
      VIGIL_INFLUX_MODE: 'off',
    });
    const registry = new RegistryHolder(config);
    const bus = new PipelineBus();
    const metrics = new VigilMetrics();
    const applied: RuleSignal[] = [];
    const alarms = {
      applySignals: (signals: readonly RuleSignal[]) => void applied.push(...signals),
      conditionActive: alarmsActive,
      open: () => [],
    } as unknown as AlarmService;
    const spool = new LocalSpool(config, bus, metrics);
    const service = new RulesService(
      config,
      registry,
      bus,
      alarms,
      metrics,
      new PermitBoard(),
      spool,
    );
    const journal = new SpoolJournal(spool);
    /** What ingest does: durable in the spool, then on the bus (the rules evaluate it). */
    const ingest = async (record: IngestRecord, evaluated = true) => {
      await journal.append({
        siteId: 'plant-1',
        deviceId: 'gc-tf-02',
        msgId: `gc-tf-02/${recordTs(record)}`,
        records: [record],
      });
      if (evaluated) bus.publishRecords([record]);
    };
    return { service, spool, applied, ingest };
  }

  const recordTs = (record: IngestRecord) => (record.kind === 'reading' ? record.reading.ts : 0);
  const l1 = (signals: RuleSignal[]) =>
    signals.filter(signal => signal.key === L1).map(signal => [signal.active, signal.at - T0]);

  it('clears OFF_DELAY after the return below the clear point, not OFF_DELAY after the restart', async () => {
    const first = start(() => false);
    first.service.onModuleInit();
    first.spool.onApplicationBootstrap();
    await first.ingest(lel(30, T0)); // L1 raised
    await first.ingest(lel(5, T0 + 10_000)); // back below the clear point: the off-delay runs
    await first.ingest(lel(5, T0 + 12_000));
    await first.service.saveRuleState(); // the periodic save
    await first.ingest(lel(5, T0 + 15_000)); // evaluated after the save: evaluated again at start
    await first.ingest(lel(5, T0 + 18_000), false); // durable, never evaluated: the process dies
    expect(l1(first.applied)).toEqual([[true, 0]]);
    expect(existsSync(join(dataDir, 'rules-state.json'))).toBe(true);
    first.service.onModuleDestroy();
    await first.spool.onModuleDestroy();

    const second = start(key => key === L1); // the alarm journal: L1 open, condition active
    second.service.onModuleInit();
    second.spool.onApplicationBootstrap(); // replays T0+18 s as a live record
    await second.ingest(lel(5, T0 + 38_000));
    expect(l1(second.applied)).toEqual([]);
    await second.ingest(lel(5, T0 + 10_000 + GAS_L1_OFF_DELAY_MS));
    // Restarted from scratch the off-delay would have run from T0+18 s: no clear before T0+48 s.
    expect(l1(second.applied)).toEqual([[false, 10_000 + GAS_L1_OFF_DELAY_MS]]);
    second.service.onModuleDestroy();
    await second.spool.onModuleDestroy();
  });

  // The faults smoke's excursion (3 readings at 60 %LEL, then normal) cut by a SIGKILL, the last
  // periodic save before it, during it, or never.
  it.each(['before the excursion', 'after the raise', 'never'] as const)(
    'an L2 excursion cut by the crash clears exactly once on the return to normal (saved %s)',
    async saved => {
      const first = start(() => false);
      first.service.onModuleInit();
      first.spool.onApplicationBootstrap();
      await first.ingest(lel(0, T0));
      // L2 inactive: left out of the snapshot (a fresh rule starts so).
      if (saved === 'before the excursion') await first.service.saveRuleState();
      await first.ingest(lel(0, T0 + 500));
      await first.ingest(lel(60, T0 + 1000)); // L1 and L2 raised (durable in the alarm journal)
      if (saved === 'after the raise') await first.service.saveRuleState();
      await first.ingest(lel(60, T0 + 1500));
      expect(first.applied.filter(signal => signal.key === L2).map(s => s.active)).toEqual([true]);
      first.service.onModuleDestroy(); // SIGKILL: the entries after the save are evaluated again
      await first.spool.onModuleDestroy();

      // The alarm journal: L1 and L2 open, their condition active.
      const second = start(key => key === L1 || key === L2);
      second.service.onModuleInit();
      second.spool.onApplicationBootstrap();
      try {
        await second.ingest(lel(0, T0 + 2000)); // back to normal after the restart
        await second.ingest(lel(0, T0 + 2500));
        const l2 = second.applied.filter(signal => signal.key === L2);
        // Saved before the excursion and seeded active from the journal before the entries since
        // were evaluated again, the rule went clear (T0+0.5 s) and active (T0+1 s) while warming:
        // dropped, but counted by the chatter guard, which then held this clear back as a third
        // change within a minute (active, chattering).
        expect(
          l2.map(signal => [signal.active, signal.at - T0, signal.chattering ?? false]),
        ).toEqual([[false, 2000, false]]);
      } finally {
        // Also when an expectation fails: an open spool keeps jest from exiting.
        second.service.onModuleDestroy();
        await second.spool.onModuleDestroy();
      }
    },
  );
  it('the changes evaluated again at start do not count towards chattering: a new excursion is raised and cleared as live', async () => {
    const first = start(() => false);
    first.service.onModuleInit();
    first.spool.onApplicationBootstrap();
    await first.ingest(lel(5, T0));
    await first.service.saveRuleState(); // saved before the excursion
    await first.ingest(lel(60, T0 + 1_000)); // L2 raised
    await first.ingest(lel(5, T0 + 2_000)); // and cleared: two changes, no chattering
    const l2 = (signals: RuleSignal[]) =>
      signals
        .filter(signal => signal.key === L2)
        .map(signal => [signal.active, signal.at - T0, signal.chattering ?? false]);
    expect(l2(first.applied)).toEqual([
      [true, 1_000, false],
      [false, 2_000, false],
    ]);
    first.service.onModuleDestroy();
    await first.spool.onModuleDestroy();

    // Restarted: the excursion is evaluated again (signals dropped, the alarm journal has them).
    const second = start(key => key === L1); // L1 still in its off-delay
    second.service.onModuleInit();
    second.spool.onApplicationBootstrap();
    await second.ingest(lel(60, T0 + 3_000));
    await second.ingest(lel(5, T0 + 4_000));
    // Had the guard counted the two changes evaluated again, this raise would be the third within
    // the minute: held active as chattering, and its clear held back for a minute.
    expect(l2(second.applied)).toEqual([
      [true, 3_000, false],
      [false, 4_000, false],
    ]);
    second.service.onModuleDestroy();
    await second.spool.onModuleDestroy();
  });

  it('without a saved state, says so and counts it (never a silent reset)', async () => {
    const first = start(() => false);
    first.service.onModuleInit();
    first.spool.onApplicationBootstrap();
    await first.ingest(lel(30, T0));
    first.service.onModuleDestroy();
    await first.spool.onModuleDestroy();

    const second = start(key => key === L1);
    second.service.onModuleInit();
    const stats = (second.service as unknown as { stats: { unrestoredRuleStates: number } }).stats;
    expect(stats.unrestoredRuleStates).toBe(1);
    second.service.onModuleDestroy();
    await second.spool.onModuleDestroy();
  });
});
