import type { SupervisionOrder, UplinkBatch, UplinkItem } from '@vigil/contracts';

import { UplinkInbox } from './uplink-inbox';

const CODE = '91310000MA1K000001';
const LINK = { enterpriseCode: CODE, name: 'Huaxin', node: 'park-chem' };

const alarm = (seq: number, state = 'active-unacknowledged', alarmId = 'a1'): UplinkItem => ({
  seq,
  kind: 'alarm',
  alarmId,
  transition: state === 'normal' ? 'reset' : 'raise',
  state,
  alarmType: 'H',
  priority: 1,
  category: 'process',
  siteId: 'plant-1',
  deviceId: 'gc-tf-01',
  hazardSourceCodes: ['plant-1.tank-farm-1'],
  message: 'leak',
  raisedAt: 1,
  at: seq,
});

const batch = (...items: UplinkItem[]): UplinkBatch => ({
  version: 1,
  enterpriseCode: CODE,
  sentAt: 0,
  items,
});

/** Plans, "stores" and applies a batch, as UplinkReceiver does. */
function receive(inbox: UplinkInbox, sent: UplinkBatch) {
  const step = inbox.plan(sent, 1000);
  inbox.apply(step);
  return { step, ack: inbox.ackOf(sent, step) };
}

describe('UplinkInbox: dedupe by (enterprise, seq), ack the highest contiguous seq', () => {
  it('stores 1..3, then takes a retry of the same batch for duplicates', () => {
    const inbox = new UplinkInbox();
    const sent = batch(alarm(1), alarm(2, 'active-acknowledged'), alarm(3, 'normal'));
    expect(receive(inbox, sent).ack).toEqual({ acked: 3, accepted: 3, duplicates: 0 });
    // The answer was lost; the lower sends the same batch again.
    const again = receive(inbox, sent);
    expect(again.ack).toEqual({ acked: 3, accepted: 0, duplicates: 3 });
    expect(again.step.items).toEqual([]);
    expect(inbox.view(LINK).alarms.map(a => [a.alarmId, a.state])).toEqual([['a1', 'normal']]);
    // Each transition once, in order: the retry added none.
    expect(inbox.view(LINK).alarms[0]?.steps.map(step => step.seq)).toEqual([1, 2, 3]);
    expect(inbox.view(LINK).received).toEqual({ realtime: 0, alarm: 3, hazard: 0, outcome: 0 });
  });

  it('takes the new part of a batch that overlaps what it holds', () => {
    const inbox = new UplinkInbox();
    receive(inbox, batch(alarm(1), alarm(2)));
    expect(receive(inbox, batch(alarm(2), alarm(3), alarm(4))).ack).toEqual({
      acked: 4,
      accepted: 2,
      duplicates: 1,
    });
  });

  it('stops at a hole inside a batch: acknowledges only the contiguous part', () => {
    const inbox = new UplinkInbox();
    const { ack, step } = receive(inbox, batch(alarm(1), alarm(2), alarm(4), alarm(5)));
    expect(ack).toEqual({ acked: 2, accepted: 2, duplicates: 0 });
    expect(step.items.map(item => item.seq)).toEqual([1, 2]);
  });

  it('records a gap when the lower no longer holds what this upper lost, and carries on', () => {
    const inbox = new UplinkInbox();
    const { ack } = receive(inbox, batch(alarm(7), alarm(8)));
    expect(ack).toEqual({ acked: 8, accepted: 2, duplicates: 0, gap: { from: 1, to: 6 } });
    expect(inbox.view(LINK).gaps).toEqual([{ from: 1, to: 6, at: 1000 }]);
  });

  it('keeps one entry per alarm (its latest transition) and survives a snapshot', () => {
    const inbox = new UplinkInbox();
    receive(
      inbox,
      batch(alarm(1, 'active-unacknowledged', 'a1'), alarm(2, 'active-unacknowledged', 'a2')),
    );
    receive(inbox, batch(alarm(3, 'normal', 'a1')));
    const restored = new UplinkInbox();
    for (const line of inbox.snapshot()) if (line.t === 'state') restored.restore(line.enterprise);
    const view = restored.view(LINK);
    expect(view.acked).toBe(3);
    expect(view.alarms.map(a => [a.alarmId, a.state]).sort()).toEqual([
      ['a1', 'normal'],
      ['a2', 'active-unacknowledged'],
    ]);
  });
});

const hazard = (
  seq: number,
  state: string,
  transition: string,
  level: 'general' | 'major' = 'major',
  hazardId = 'h1',
  by = 'wang',
): UplinkItem => ({
  seq,
  kind: 'hazard',
  hazardId,
  step: seq,
  no: 1,
  transition,
  state,
  level,
  title: '罐区法兰泄漏',
  siteId: 'plant-1',
  hazardSourceCodes: [],
  overdue: false,
  reportedAt: 1,
  at: seq,
  by,
});

const approval = (seq: number, hazardId = 'h1'): SupervisionOrder => ({
  seq,
  id: `o${seq}`,
  kind: 'approve',
  enterpriseCode: CODE,
  title: 'approve',
  text: '',
  hazardId,
  issuedBy: 'chen',
  issuedByNode: 'city-demo',
  issuedAt: 5,
});

describe('UplinkInbox: approvals of major hazards from above', () => {
  it('refuses what its read model says cannot be approved: unknown, general, not accepted, approved, pending', () => {
    const inbox = new UplinkInbox();
    expect(inbox.approvalRefusal(CODE, 'h1')).toMatchObject({ status: 404 });
    receive(inbox, batch(hazard(1, 'reported', 'report'), hazard(2, 'rectified', 'rectify')));
    expect(inbox.approvalRefusal(CODE, 'h1')).toMatchObject({
      status: 409,
      message: expect.stringContaining('approval comes after acceptance'),
    });
    receive(inbox, batch(hazard(3, 'reported', 'report', 'general', 'h2')));
    expect(inbox.approvalRefusal(CODE, 'h2')).toMatchObject({
      status: 409,
      message: expect.stringContaining('not major'),
    });
    receive(inbox, batch(hazard(4, 'accepted', 'accept')));
    expect(inbox.approvalRefusal(CODE, 'h1')).toBeUndefined();
    // One approval on its way down at a time.
    inbox.addOrder(approval(1));
    expect(inbox.approvalRefusal(CODE, 'h1')).toMatchObject({
      status: 409,
      message: expect.stringContaining('on its way down'),
    });
    // Refused below (the hazard changed): shown on the order, and it may be approved again.
    receive(
      inbox,
      batch({
        seq: 5,
        kind: 'outcome',
        orderId: 'o1',
        orderSeq: 1,
        outcome: 'refused',
        message: 'the hazard is rectifying',
        hazardId: 'h1',
        at: 9,
      }),
    );
    expect(inbox.view(LINK).orders[0]?.outcome).toEqual({
      outcome: 'refused',
      message: 'the hazard is rectifying',
      at: 9,
    });
    expect(inbox.approvalRefusal(CODE, 'h1')).toBeUndefined();
    // Applied: its step comes up as a normal hazard step, and the hazard is approved.
    inbox.addOrder(approval(2));
    receive(
      inbox,
      batch(hazard(6, 'accepted', 'approve', 'major', 'h1', 'city-demo:chen'), {
        seq: 7,
        kind: 'outcome',
        orderId: 'o2',
        orderSeq: 2,
        outcome: 'applied',
        hazardId: 'h1',
        at: 10,
      }),
    );
    expect(inbox.approvalRefusal(CODE, 'h1')).toMatchObject({
      status: 409,
      message: expect.stringContaining('already approved by city-demo:chen'),
    });
    // The answers survive a compaction.
    const restored = new UplinkInbox();
    for (const line of inbox.snapshot()) if (line.t === 'state') restored.restore(line.enterprise);
    const view = restored.view(LINK);
    expect(view.orders.map(order => order.outcome?.outcome)).toEqual(['refused', 'applied']);
    expect(view.received.outcome).toBe(2);
  });
});
