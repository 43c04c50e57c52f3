import { appendFileSync, fdatasyncSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PermitActor, PermitRequest } from '@vigil/alarms';
import { stopWorkKey, type RuleSignal } from '@vigil/contracts';
import { createPermitStopWorkState, reducePermitStopWork } from '@vigil/rules';

import { loadConfig } from '../config/vigil-config';
import { JournalStatus } from '../journal/journal-status';
import { JournalWriteError } from '../journal/jsonl-journal';
import { VigilMetrics } from '../metrics/metrics';
import { PermitBoard } from './permit-board';
import { PermitService } from './permit.service';

// fdatasync as the journal sees it: the real one, unless a test makes the disk fail it once.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return { ...actual, fdatasyncSync: jest.fn(actual.fdatasyncSync) };
});
const failNextSync = () =>
  jest.mocked(fdatasyncSync).mockImplementationOnce(() => {
    throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
  });

const REGISTRY = join(__dirname, '../../../../../registry/sample');
const zhang: PermitActor = { id: 'zhang', role: 'operator', scope: 'ent-huaxin' };
const wang: PermitActor = { id: 'wang', role: 'supervisor', scope: 'park-chem' };

describe(PermitService.name, () => {
  let dataDir: string;
  let now: number;
  const services: PermitService[] = [];

  function start(board = new PermitBoard(), journals?: JournalStatus): PermitService {
    const config = loadConfig({
      VIGIL_REGISTRY: REGISTRY,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ALARM_TICK_MS: '0',
    });
    const service = new PermitService(config, board, () => now, journals);
    service.onModuleInit();
    services.push(service);
    return service;
  }

  /**
   * A board with a stop-work state attached, wired as the rules service in the same process
   * wires it; `oxygen` hands the rule a reading of the area's oxygen detector, received now.
   */
  function boardWithGas(): { board: PermitBoard; oxygen: (o2: number) => void } {
    const board = new PermitBoard();
    const state = createPermitStopWorkState();
    board.attachGas('all', state);
    const oxygen = (o2: number) =>
      reducePermitStopWork(
        state,
        {
          kind: 'reading',
          reading: {
            siteId: 'plant-1',
            deviceId: 'go-cs-01',
            deviceClass: 'gas-oxygen',
            areaId: 'confined-space',
            ts: now,
            receivedAt: now,
            seq: undefined,
            deviceTime: true,
            clockSkewMs: 0,
            values: { o2 },
          },
        },
        { clock: () => now, permits: board.permits, keepsGasOf: board.keepsGasOf },
      );
    return { board, oxygen };
  }

  const request = (): PermitRequest => ({
    kind: 'confined-space',
    title: 'Sump desilting',
    siteId: 'plant-1',
    enterprise: 'ent-huaxin',
    areaId: 'confined-space',
    from: now,
    to: now + 3_600_000,
    workers: ['tag-001'],
    guardian: 'li',
    limits: {},
  });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-permit-service-'));
    now = Date.UTC(2026, 11, 7, 8);
  });

  afterEach(() => {
    for (const service of services.splice(0)) service.onModuleDestroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function approved(service: PermitService) {
    const requested = service.request(request(), zhang);
    if (!requested.ok) throw new Error(requested.message);
    const result = service.execute(requested.permit.id, { action: 'approve' }, wang);
    if (!result.ok) throw new Error(result.message);
    return result.permit;
  }

  it('refuses to start (503) without a rule engine in this process: nobody would stop the work', () => {
    const service = start();
    const permit = approved(service);
    expect(service.execute(permit.id, { action: 'start' }, zhang)).toMatchObject({
      ok: false,
      status: 503,
    });
    expect(service.get(permit.id)?.state).toBe('approved');
  });

  it('refuses the start while the area has no fresh reading: none since the request, or a stale one', () => {
    const { board, oxygen } = boardWithGas();
    // Received before any permit was open in the area: not kept, so not evidence at the start.
    oxygen(20.9);
    const service = start(board);
    const permit = approved(service);
    const refused = service.execute(permit.id, { action: 'start' }, zhang);
    expect(refused).toMatchObject({ ok: false, status: 409 });
    expect(refused.ok ? '' : refused.message).toContain('no fresh o2 reading in the area');
    // A reading since the request, but older than the analysis allows (30 min): refused too.
    oxygen(20.9);
    now += 31 * 60_000;
    expect(service.execute(permit.id, { action: 'start' }, zhang)).toMatchObject({
      ok: false,
      status: 409,
      message: expect.stringContaining('older than 30 min'),
    });
    oxygen(20.9);
    expect(service.execute(permit.id, { action: 'start' }, zhang)).toMatchObject({ ok: true });
  });

  it('starts against the gas readings of the board, exempts the workers, and is journaled', () => {
    const { board, oxygen } = boardWithGas();
    const service = start(board);
    const permit = approved(service);
    oxygen(20.9);
    expect(service.execute(permit.id, { action: 'start' }, zhang)).toMatchObject({ ok: true });
    expect(board.permits()).toMatchObject([{ id: permit.id, state: 'active' }]);
    expect(board.geofenceExempt('plant-1', 'confined-space', 'tag-001', now)).toBe(true);
    expect(board.geofenceExempt('plant-1', 'confined-space', 'tag-003', now)).toBe(false);
    expect(board.geofenceExempt('plant-1', 'confined-space', 'tag-001', now + 3_600_000)).toBe(
      false,
    );
    const lines = readFileSync(join(dataDir, 'permits/permit-journal.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(
      lines.map(line => (JSON.parse(line) as { action: { action: string } }).action.action),
    ).toEqual(['request', 'approve', 'start']);
  });

  it('suspends the permit on its stop-work alarm, signed by vigil, and survives a restart', () => {
    const { board, oxygen } = boardWithGas();
    const service = start(board);
    const permit = approved(service);
    oxygen(20.9);
    service.execute(permit.id, { action: 'start' }, zhang);
    const signal = { key: stopWorkKey(permit), message: 'O2 18 %VOL' } as RuleSignal;
    board.stopWork$.next(signal);
    expect(service.get(permit.id)).toMatchObject({ state: 'suspended' });
    expect(service.get(permit.id)?.history.at(-1)).toMatchObject({
      action: 'suspend',
      by: 'vigil',
      alarmKey: signal.key,
    });
    expect(board.geofenceExempt('plant-1', 'confined-space', 'tag-001', now)).toBe(false);
    services.splice(0).forEach(s => s.onModuleDestroy());
    appendFileSync(join(dataDir, 'permits/permit-journal.jsonl'), '{"t":"permit","perm');
    const restarted = start(new PermitBoard());
    expect(restarted.get(permit.id)?.state).toBe('suspended');
    expect(restarted.request(request(), zhang)).toMatchObject({ ok: true, permit: { no: 2 } });
  });

  it('journals on the shared JsonlJournal: a failed fdatasync is counted, on /readyz, and the step did not happen', () => {
    const journals = new JournalStatus(new VigilMetrics());
    const { board, oxygen } = boardWithGas();
    const service = start(board, journals);
    const permit = approved(service);
    oxygen(20.9);
    failNextSync();
    expect(() => service.execute(permit.id, { action: 'start' }, zhang)).toThrow(JournalWriteError);
    expect(service.get(permit.id)?.state).toBe('approved');
    expect(board.permits()).toEqual([]);
    expect(journals.report()['permits']?.errors).toBe(1);
    // A stop-work suspension the disk refuses: logged, never thrown into the engine's subject.
    expect(service.execute(permit.id, { action: 'start' }, zhang)).toMatchObject({ ok: true });
    expect(journals.ok).toBe(true);
    failNextSync();
    expect(() =>
      board.stopWork$.next({ key: stopWorkKey(permit), message: 'O2 18 %VOL' } as RuleSignal),
    ).not.toThrow();
    expect(service.get(permit.id)?.state).toBe('active');
    expect(journals.report()['permits']?.errors).toBe(1);
  });

  it('shows an active permit its rule engine stopped evaluating, and overdue after its window', () => {
    const { board, oxygen } = boardWithGas();
    const service = start(board);
    const permit = approved(service);
    oxygen(20.9);
    service.execute(permit.id, { action: 'start' }, zhang);
    const active = () => {
      const found = service.get(permit.id);
      if (!found) throw new Error('lost');
      return service.view(found);
    };
    // Within the grace of its first evaluation, then evaluated on a tick.
    expect(active().unevaluated).toBeUndefined();
    const scope = createPermitStopWorkState();
    reducePermitStopWork(
      scope,
      { kind: 'tick', now },
      { clock: () => now, permits: board.permits },
    );
    board.attachGas('all', scope);
    now += 4_000;
    expect(active().unevaluated).toBeUndefined();
    // The engine stops ticking (a stream restarting, stalled): past max(3 ticks, 5 s) it shows.
    now += 2_000;
    expect(active().unevaluated).toMatchObject({
      lastEvaluatedAt: now - 6_000,
      reason: expect.stringContaining('not evaluated since'),
    });
    // Warming up after a restart evaluates nothing that stops work.
    reducePermitStopWork(
      scope,
      { kind: 'tick', now },
      { clock: () => now, permits: board.permits },
    );
    expect(active().unevaluated).toBeUndefined();
    board.setWarming('all', true);
    now += 6_000;
    expect(active().unevaluated?.reason).toContain('warming up');
    board.setWarming('all', false);
    reducePermitStopWork(
      scope,
      { kind: 'tick', now },
      { clock: () => now, permits: board.permits },
    );
    expect(active().overdue).toBeUndefined();
    now = permit.to;
    reducePermitStopWork(
      scope,
      { kind: 'tick', now },
      { clock: () => now, permits: board.permits },
    );
    expect(active()).toMatchObject({ state: 'active', overdue: true });
    const closed = service.execute(permit.id, { action: 'close' }, wang);
    if (!closed.ok) throw new Error(closed.message);
    expect(service.view(closed.permit).overdue).toBeUndefined();
    expect(board.check(now).size).toBe(0);
  });
});
