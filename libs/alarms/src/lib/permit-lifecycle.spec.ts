import type { Permit } from '@vigil/contracts';

import {
  allowedPermitCommands,
  applyPermitCommand,
  checkPermitGas,
  permitRuleViews,
  requestPermit,
  type AreaGasReading,
  type PermitActor,
  type PermitRequest,
} from './permit-lifecycle';

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const HOUR = 3_600_000;
const operator: PermitActor = { id: 'zhang', role: 'operator' };
const supervisor: PermitActor = { id: 'wang', role: 'supervisor' };

const hotWork: PermitRequest = {
  kind: 'hot-work',
  title: 'Weld the flange at pump P-101',
  siteId: 'plant-a',
  enterprise: 'ent-a',
  areaId: 'tank-farm',
  from: T0,
  to: T0 + 4 * HOUR,
  workers: ['tag-1', 'tag-2'],
  guardian: 'li',
  limits: { maxLel: 10 },
};

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

function approved(request: PermitRequest = hotWork): Permit {
  const requested = ok(requestPermit(request, operator, { now: T0, id: 'p1', no: 1 })).permit;
  return ok(
    applyPermitCommand(requested, { action: 'approve' }, supervisor, { now: T0, gasReadings: [] }),
  ).permit;
}

const lel = (value: number, at = T0): AreaGasReading => ({
  deviceId: 'gd-1',
  metric: 'lel',
  value,
  at,
});
const o2 = (value: number, at = T0): AreaGasReading => ({
  deviceId: 'ox-1',
  metric: 'o2',
  value,
  at,
});

describe('permit lifecycle (GB 30871 special operations)', () => {
  it('requests a permit with its named workers and signs the step', () => {
    const { permit, action } = ok(requestPermit(hotWork, operator, { now: T0, id: 'p1', no: 1 }));
    expect(permit).toMatchObject({ state: 'requested', workers: ['tag-1', 'tag-2'], no: 1 });
    expect(action).toMatchObject({ action: 'request', by: 'zhang', state: 'requested' });
  });

  it('refuses a hot-work permit without a %LEL limit, or one above the 25 %LEL alarm ceiling', () => {
    const at = { now: T0, id: 'p', no: 1 };
    const none = requestPermit({ ...hotWork, limits: {} }, operator, at);
    expect(none).toMatchObject({ ok: false, status: 422 });
    const high = requestPermit({ ...hotWork, limits: { maxLel: 30 } }, operator, at);
    expect(high).toMatchObject({ ok: false, status: 422 });
    expect(!high.ok && high.message).toContain('GB/T 50493-2019 §5.5.2-1');
  });

  it('gives a confined-space permit the 19.5–21 %VOL oxygen band and refuses one above 23.5', () => {
    const at = { now: T0, id: 'p', no: 1 };
    const confined = { ...hotWork, kind: 'confined-space' as const, limits: {} };
    expect(ok(requestPermit(confined, operator, at)).permit.limits).toEqual({
      oxygenMin: 19.5,
      oxygenMax: 21,
    });
    const enriched = requestPermit({ ...confined, limits: { oxygenMax: 23.5 } }, operator, at);
    expect(enriched.ok).toBe(true);
    const over = requestPermit({ ...confined, limits: { oxygenMax: 24 } }, operator, at);
    expect(over).toMatchObject({ ok: false, status: 422 });
    const low = requestPermit({ ...confined, limits: { oxygenMin: 18 } }, operator, at);
    expect(low).toMatchObject({ ok: false, status: 422 });
  });

  it('refuses a permit without workers, a guardian, or with a window that is over or too long', () => {
    const at = { now: T0, id: 'p', no: 1 };
    expect(requestPermit({ ...hotWork, workers: [' '] }, operator, at)).toMatchObject({
      status: 422,
    });
    expect(requestPermit({ ...hotWork, guardian: '' }, operator, at)).toMatchObject({
      status: 422,
    });
    expect(requestPermit({ ...hotWork, to: T0 - 1 }, operator, at)).toMatchObject({ status: 422 });
    expect(requestPermit({ ...hotWork, to: T0 + 25 * HOUR }, operator, at)).toMatchObject({
      status: 422,
    });
  });

  it('is approved by a supervisor other than the requester', () => {
    const requested = ok(requestPermit(hotWork, supervisor, { now: T0, id: 'p', no: 1 })).permit;
    const context = { now: T0, gasReadings: [] };
    expect(applyPermitCommand(requested, { action: 'approve' }, supervisor, context)).toMatchObject(
      {
        status: 403,
      },
    );
    expect(applyPermitCommand(requested, { action: 'approve' }, operator, context)).toMatchObject({
      status: 403,
    });
    const other = { id: 'zhao', role: 'supervisor' } as const;
    expect(
      ok(applyPermitCommand(requested, { action: 'approve' }, other, context)).permit,
    ).toMatchObject({
      state: 'approved',
      approvedBy: 'zhao',
    });
  });

  it('starts only after a gas analysis within the limits, and records it', () => {
    const permit = approved();
    const now = T0 + 60_000;
    const above = applyPermitCommand(permit, { action: 'start' }, operator, {
      now,
      gasReadings: [lel(12, now)],
    });
    expect(above).toMatchObject({ ok: false, status: 409 });
    expect(!above.ok && above.message).toContain('gd-1: lel 12 outside the permit');
    expect(!above.ok && above.gasCheck?.passed).toBe(false);
    const started = ok(
      applyPermitCommand(permit, { action: 'start' }, operator, {
        now,
        gasReadings: [lel(3, now)],
      }),
    );
    expect(started.permit).toMatchObject({ state: 'active', startedAt: now });
    expect(started.action.gasCheck).toMatchObject({ passed: true, readings: [{ within: true }] });
  });

  it('fails closed: no reading, or only a stale one (over 30 min), never passes', () => {
    const permit = approved();
    const now = T0 + 60 * 60_000;
    expect(
      applyPermitCommand(permit, { action: 'start' }, operator, { now, gasReadings: [] }),
    ).toMatchObject({ ok: false, status: 409 });
    const stale = applyPermitCommand(permit, { action: 'start' }, operator, {
      now,
      gasReadings: [lel(0, now - 31 * 60_000)],
    });
    expect(!stale.ok && stale.message).toContain('older than 30 min');
  });

  it('checks oxygen for a confined space, both ends of the band', () => {
    const limits = { oxygenMin: 19.5, oxygenMax: 21 };
    expect(checkPermitGas(limits, [o2(19.5)], T0).passed).toBe(true);
    expect(checkPermitGas(limits, [o2(21)], T0).passed).toBe(true);
    expect(checkPermitGas(limits, [o2(19.4)], T0).passed).toBe(false);
    expect(checkPermitGas(limits, [o2(21.1)], T0).passed).toBe(false);
    expect(checkPermitGas(limits, [lel(0)], T0).problems).toEqual([
      'no fresh o2 reading in the area: the analysis cannot pass without one',
    ]);
  });

  it('only starts inside its window', () => {
    const permit = approved();
    const gas = [lel(0, T0 + 5 * HOUR)];
    expect(
      applyPermitCommand(permit, { action: 'start' }, operator, { now: T0 - 1, gasReadings: gas }),
    ).toMatchObject({ status: 409 });
    expect(
      applyPermitCommand(permit, { action: 'start' }, operator, {
        now: T0 + 4 * HOUR,
        gasReadings: gas,
      }),
    ).toMatchObject({ status: 409 });
  });

  it('is suspended (stop work), resumed by a supervisor after a new analysis, then closed', () => {
    const now = T0 + 60_000;
    const active = ok(
      applyPermitCommand(approved(), { action: 'start' }, operator, {
        now,
        gasReadings: [lel(0, now)],
      }),
    ).permit;
    const suspended = ok(
      applyPermitCommand(
        active,
        { action: 'suspend', note: 'gd-1 lel 14', alarmKey: 'k' },
        { id: 'vigil', role: 'system' },
        { now, gasReadings: [] },
      ),
    );
    expect(suspended.action).toMatchObject({ by: 'vigil', alarmKey: 'k', state: 'suspended' });
    const context = { now: now + 1, gasReadings: [lel(2, now)] };
    expect(
      applyPermitCommand(suspended.permit, { action: 'resume' }, operator, context),
    ).toMatchObject({ status: 403 });
    expect(
      applyPermitCommand(suspended.permit, { action: 'resume' }, supervisor, {
        ...context,
        gasReadings: [lel(11, now)],
      }),
    ).toMatchObject({ status: 409 });
    const resumed = ok(
      applyPermitCommand(suspended.permit, { action: 'resume' }, supervisor, context),
    );
    expect(resumed.permit.state).toBe('active');
    const closed = ok(applyPermitCommand(resumed.permit, { action: 'close' }, operator, context));
    expect(closed.permit.history.map(step => `${step.action}:${step.by}`)).toEqual([
      'request:zhang',
      'approve:wang',
      'start:zhang',
      'suspend:vigil',
      'resume:wang',
      'close:zhang',
    ]);
    expect(
      applyPermitCommand(closed.permit, { action: 'close' }, supervisor, context),
    ).toMatchObject({
      status: 409,
    });
  });

  it('gives the rule engine active and suspended permits only', () => {
    const permit = approved();
    expect(permitRuleViews([permit])).toEqual([]);
    expect(permitRuleViews([{ ...permit, state: 'active' }])).toMatchObject([
      { id: 'p1', workers: ['tag-1', 'tag-2'], state: 'active', limits: { maxLel: 10 } },
    ]);
  });

  it('offers the steps the reducer would accept (start offered despite the unknown gas)', () => {
    const permit = approved();
    expect(allowedPermitCommands(permit, { id: 'liu', role: 'operator' }, T0 + 1)).toEqual([
      'start',
    ]);
    expect(allowedPermitCommands(permit, operator, T0 + 1)).toEqual(['start', 'close']);
    expect(allowedPermitCommands(permit, supervisor, T0 + 1)).toEqual(['start', 'close']);
  });
});
