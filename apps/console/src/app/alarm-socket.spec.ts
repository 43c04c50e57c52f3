import type { Alarm, ServerMessage } from '@vigil/contracts';

import { testAlarm } from './alarm.fixture';
import {
  AlarmSocket,
  type AlarmSocketEvents,
  type ResumeReport,
  type SocketLike,
} from './alarm-socket';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  readyState = 0;
  readonly sent: unknown[] = [];
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const seen: {
    alarms: ReadonlyMap<string, Alarm>;
    reports: ResumeReport[];
    connected: boolean[];
    unauthorized: number;
    history: Array<[boolean, string | undefined]>;
  } = {
    alarms: new Map(),
    reports: [],
    connected: [],
    unauthorized: 0,
    history: [],
  };
  const events: AlarmSocketEvents = {
    onAlarms: alarms => (seen.alarms = new Map(alarms)),
    onConnection: connected => seen.connected.push(connected),
    onHistoryKept: (kept, reason) => seen.history.push([kept, reason]),
    onResumed: report => seen.reports.push(report),
    onUnauthorized: () => (seen.unauthorized += 1),
  };
  const socket = new AlarmSocket('ws://host/ws?token=t', events, url => {
    const fake = new FakeSocket(url);
    sockets.push(fake);
    return fake;
  });
  return { socket, sockets, seen, last: () => sockets.at(-1) as FakeSocket };
}

const alarm = (
  id: string,
  seq: number,
  state: Alarm['state'] = 'active-unacknowledged',
): ServerMessage => ({
  type: 'alarm',
  seq,
  alarm: testAlarm({ id, state, updatedAt: seq }),
});

describe('AlarmSocket', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('passes on why history is not kept (issue 13: a refused InfluxDB login is not "unreachable")', () => {
    const { socket, seen, last } = setup();
    socket.connect();
    last().open();
    last().receive({
      type: 'hello',
      seq: 1,
      epoch: 'e1',
      serverTime: 0,
      historyKept: false,
      historyReason: 'query: HTTP 401: authorization failed',
    });
    last().receive({
      type: 'system',
      seq: 2,
      level: 'info',
      code: 'history-kept',
      message: 'History is being kept in InfluxDB.',
    });
    expect(seen.history).toEqual([
      [false, 'query: HTTP 401: authorization failed'],
      [true, undefined],
    ]);
  });

  it('resumes with lastSeq and epoch after a drop and reports how many alarms it missed', () => {
    const { socket, seen, last } = setup();
    socket.connect();
    last().open();
    last().receive({ type: 'hello', seq: 3, epoch: 'e1', serverTime: 0, historyKept: true });
    last().receive({ type: 'snapshot', seq: 3, alarms: [testAlarm({ id: 'a' })] });
    last().receive(alarm('b', 4));
    expect([...seen.alarms.keys()].sort()).toEqual(['a', 'b']);
    expect(seen.reports).toEqual([]);

    last().drop();
    jest.advanceTimersByTime(500);
    expect(last().url).toBe('ws://host/ws?token=t&lastSeq=4&epoch=e1');
    last().open();
    last().receive({ type: 'hello', seq: 7, epoch: 'e1', serverTime: 0, historyKept: true });
    last().receive(alarm('c', 5));
    last().receive(alarm('a', 6, 'normal'));
    expect(seen.reports).toEqual([]);
    last().receive(alarm('c', 7, 'active-acknowledged'));
    expect(seen.reports).toEqual([{ missed: 2, via: 'replay' }]);
    expect([...seen.alarms.keys()].sort()).toEqual(['b', 'c']);
    expect(seen.connected).toEqual([true, false, true]);
  });

  it('drops the alarms the previous gateway owned when it resumes on another (jetstream)', () => {
    const { socket, seen, last } = setup();
    socket.connect();
    last().open();
    const hello = (gateway: string, seq: number): ServerMessage => ({
      type: 'hello',
      seq,
      epoch: 'VIGIL_ALARMS@t',
      serverTime: 0,
      historyKept: true,
      gateway,
    });
    last().receive(hello('gw-a', 3));
    last().receive({
      type: 'snapshot',
      seq: 3,
      alarms: [
        testAlarm({ id: 'plant' }),
        testAlarm({ id: 'stall-a', ruleId: 'pipeline-stalled' }),
      ],
    });
    last().drop();
    jest.advanceTimersByTime(500);
    last().open();
    last().receive(hello('gw-a', 3));
    expect([...seen.alarms.keys()].sort()).toEqual(['plant', 'stall-a']);
    last().drop();
    jest.advanceTimersByTime(1000);
    last().open();
    last().receive(hello('gw-b', 5));
    expect([...seen.alarms.keys()]).toEqual(['plant']);
    last().receive(alarm('more', 5));
    expect([...seen.alarms.keys()].sort()).toEqual(['more', 'plant']);
  });

  it('reports nothing missed when the gateway had nothing new', () => {
    const { socket, seen, last } = setup();
    socket.connect();
    last().open();
    last().receive({ type: 'hello', seq: 2, epoch: 'e1', serverTime: 0, historyKept: true });
    last().receive({ type: 'snapshot', seq: 2, alarms: [] });
    last().drop();
    jest.advanceTimersByTime(500);
    last().open();
    last().receive({ type: 'hello', seq: 2, epoch: 'e1', serverTime: 0, historyKept: true });
    expect(seen.reports).toEqual([{ missed: 0, via: 'replay' }]);
  });

  it('counts the differences when a restarted gateway sends a new snapshot', () => {
    const { socket, seen, last } = setup();
    socket.connect();
    last().open();
    last().receive({ type: 'hello', seq: 2, epoch: 'e1', serverTime: 0, historyKept: true });
    last().receive({
      type: 'snapshot',
      seq: 2,
      alarms: [testAlarm({ id: 'kept', updatedAt: 1 }), testAlarm({ id: 'gone' })],
    });
    last().drop();
    jest.advanceTimersByTime(500);
    last().open();
    last().receive({ type: 'hello', seq: 0, epoch: 'e2', serverTime: 0, historyKept: true });
    last().receive({
      type: 'snapshot',
      seq: 0,
      alarms: [testAlarm({ id: 'kept', updatedAt: 1 }), testAlarm({ id: 'new' })],
    });
    expect(seen.reports).toEqual([{ missed: 2, via: 'snapshot' }]);
  });

  it('renews telemetry subscriptions on every connection and stops on 4401', () => {
    const { socket, seen, sockets, last } = setup();
    socket.connect();
    socket.subscribe(['plant-1/tag-001']);
    last().open();
    expect(last().sent).toEqual([{ type: 'subscribe', devices: ['plant-1/tag-001'] }]);
    socket.subscribe(['plant-1/tag-001', 'plant-1/tag-002']);
    expect(last().sent.at(-1)).toEqual({ type: 'subscribe', devices: ['plant-1/tag-002'] });
    last().drop();
    jest.advanceTimersByTime(500);
    last().open();
    expect(last().sent).toEqual([
      { type: 'subscribe', devices: ['plant-1/tag-001', 'plant-1/tag-002'] },
    ]);
    last().drop(4401);
    jest.advanceTimersByTime(20_000);
    expect(sockets).toHaveLength(2);
    expect(seen.unauthorized).toBe(1);
  });

  it('applies a REST action result at once unless the socket already has a newer version', () => {
    const { socket, seen, last } = setup();
    socket.connect();
    last().open();
    last().receive({ type: 'hello', seq: 1, epoch: 'e', serverTime: 0, historyKept: true });
    last().receive(alarm('a', 1));
    socket.applyLocal(testAlarm({ id: 'a', state: 'active-acknowledged', updatedAt: 5 }));
    expect(seen.alarms.get('a')?.state).toBe('active-acknowledged');
    socket.applyLocal(testAlarm({ id: 'a', state: 'active-unacknowledged', updatedAt: 2 }));
    expect(seen.alarms.get('a')?.state).toBe('active-acknowledged');
  });
});
