import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PermitActor, PermitRequest } from '@vigil/alarms';
import { stopWorkKey, type RuleSignal } from '@vigil/contracts';
import { createPermitStopWorkState, reducePermitStopWork } from '@vigil/rules';

import { loadConfig } from '../config/vigil-config';
import { PermitBoard } from './permit-board';
import { PermitService } from './permit.service';

const REGISTRY = join(__dirname, '../../../../../registry/sample');
const zhang: PermitActor = { id: 'zhang', role: 'operator', scope: 'ent-huaxin' };
const wang: PermitActor = { id: 'wang', role: 'supervisor', scope: 'park-chem' };

describe(PermitService.name, () => {
  let dataDir: string;
  let now: number;
  const services: PermitService[] = [];

  function start(board = new PermitBoard()): PermitService {
    const config = loadConfig({ VIGIL_REGISTRY: REGISTRY, VIGIL_DATA_DIR: dataDir });
    const service = new PermitService(config, board, () => now);
    service.onModuleInit();
    services.push(service);
    return service;
  }

  /** A board with a stop-work state attached, as the rules service in the same process does. */
  function boardWithGas(o2: number): PermitBoard {
    const board = new PermitBoard();
    const state = createPermitStopWorkState();
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
      { clock: () => now, permits: board.permits },
    );
    board.attachGas('all', state);
    return board;
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

  it('starts against the gas readings of the board, exempts the workers, and is journaled', () => {
    const board = boardWithGas(20.9);
    const service = start(board);
    const permit = approved(service);
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
    const board = boardWithGas(20.9);
    const service = start(board);
    const permit = approved(service);
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
});
