import WebSocket from 'ws';

/** The fields of an alarm the watcher needs (Vigil's Alarm object has these and more). */
export interface WatchedAlarm {
  readonly id: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly level?: string;
  readonly areaId?: string | undefined;
  readonly state?: string;
  /** Vigil: whether the alarm's condition still holds (a latched or unacknowledged one may not). */
  readonly conditionActive?: boolean;
  readonly raisedAt?: number;
  readonly detectedAt?: number;
  readonly updatedAt?: number;
  readonly history?: readonly { readonly action: string; readonly at: number }[];
}

/** One raise of an alarm as the watcher saw it. */
export interface RaiseEvent {
  readonly alarmId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly level: string | undefined;
  /** The alarm's area (for a fire-panel point, the point's area). */
  readonly areaId?: string | undefined;
  /** Event time of the raise (the triggering reading's `ts`), when the alarm says. */
  readonly raisedAt: number | undefined;
  /** Server time the rule engine decided. */
  readonly detectedAt: number | undefined;
  /** When this process received it (WebSocket arrival, or REST reconciliation time). */
  readonly receivedAt: number;
  readonly via: 'ws' | 'rest';
}

function raiseCount(alarm: WatchedAlarm): number {
  if (!alarm.history) return alarm.state && alarm.state !== 'normal' ? 1 : 0;
  let count = 0;
  for (const entry of alarm.history) if (entry.action === 'raise') count += 1;
  return count;
}

/**
 * Turns alarm objects (WebSocket `alarm` messages, REST answers) into raise events, once each:
 * an alarm's raises are the `raise` entries of its history, so a re-sent alarm (acknowledged,
 * cleared, replayed after a reconnect) is not counted again, and a re-activation is.
 */
export class RaiseTracker {
  private readonly seen = new Map<string, number>();
  readonly raises: RaiseEvent[] = [];

  /** Alarms already open before the run (from the snapshot): their old raises are not counted. */
  ignoreExisting(alarms: readonly WatchedAlarm[]): void {
    for (const alarm of alarms)
      this.seen.set(alarm.id, Math.max(this.seen.get(alarm.id) ?? 0, raiseCount(alarm)));
  }

  /** Records new raises of `alarm`; returns them. */
  observe(alarm: WatchedAlarm, receivedAt: number, via: 'ws' | 'rest'): RaiseEvent[] {
    const count = raiseCount(alarm);
    const before = this.seen.get(alarm.id) ?? 0;
    if (count <= before) return [];
    this.seen.set(alarm.id, count);
    const fresh: RaiseEvent[] = [];
    for (let n = before; n < count; n += 1) {
      const event: RaiseEvent = {
        alarmId: alarm.id,
        siteId: alarm.siteId,
        deviceId: alarm.deviceId,
        ruleId: alarm.ruleId,
        level: alarm.level,
        areaId: alarm.areaId,
        // `raisedAt` is the event time of the reading that (last) raised it; history times are server times.
        raisedAt: alarm.raisedAt,
        detectedAt: alarm.detectedAt,
        receivedAt,
        via,
      };
      fresh.push(event);
      this.raises.push(event);
    }
    return fresh;
  }
}

export interface AlarmWatcherOptions {
  /** `ws://host:port/ws` */
  readonly url: string;
  readonly onRaise?: (event: RaiseEvent) => void;
  readonly clock?: () => number;
}

/**
 * Watches an alarm WebSocket (Vigil's `/ws`, or the Node-RED peer's, which sends the same
 * `{"type":"alarm","alarm":{…}}` shape). Reconnects with `lastSeq`/`epoch` so nothing is missed.
 */
export class AlarmWatcher {
  readonly tracker = new RaiseTracker();
  /** The alarms open in the first snapshot: what the target held before anything was watched. */
  openAtStart: readonly WatchedAlarm[] = [];
  private socket: WebSocket | undefined;
  private lastSeq: number | undefined;
  private epoch: string | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  messages = 0;
  reconnects = 0;
  /** Bytes received over the WebSocket. */
  bytes = 0;

  constructor(private readonly options: AlarmWatcherOptions) {
    this.clock = options.clock ?? Date.now;
  }

  get raises(): readonly RaiseEvent[] {
    return this.tracker.raises;
  }

  /** Resolves once connected (and, for Vigil, once `hello` and the snapshot have arrived). */
  start(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no WebSocket connection to ${this.options.url} within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      this.connect(() => {
        clearTimeout(timer);
        resolve();
      }, reject);
    });
  }

  stop(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.terminate();
  }

  private connect(onOpen: () => void, onError?: (error: Error) => void): void {
    const url = new URL(this.options.url);
    if (this.lastSeq !== undefined) url.searchParams.set('lastSeq', String(this.lastSeq));
    if (this.epoch !== undefined) url.searchParams.set('epoch', this.epoch);
    const socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket = socket;
    let opened = false;
    socket.on('open', () => {
      opened = true;
      onOpen();
    });
    socket.on('message', (data: Buffer) => {
      const receivedAt = this.clock();
      this.bytes += data.length;
      this.messages += 1;
      this.handle(data.toString('utf8'), receivedAt);
    });
    socket.on('error', error => {
      if (!opened) onError?.(error);
    });
    socket.on('close', () => {
      if (this.closed || !opened) return;
      this.reconnects += 1;
      this.reconnectTimer = setTimeout(() => this.connect(() => undefined), 200);
    });
  }

  private handle(text: string, receivedAt: number): void {
    let message: {
      type?: string;
      seq?: number;
      epoch?: string;
      alarm?: WatchedAlarm;
      alarms?: WatchedAlarm[];
    };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.seq === 'number') this.lastSeq = message.seq;
    if (message.type === 'hello' && typeof message.epoch === 'string') this.epoch = message.epoch;
    if (message.type === 'snapshot' && Array.isArray(message.alarms)) {
      // A snapshot lists what is open; raises in it happened before we watched or while away.
      if (this.tracker.raises.length === 0) {
        if (this.openAtStart.length === 0) this.openAtStart = message.alarms;
        this.tracker.ignoreExisting(message.alarms);
      } else for (const alarm of message.alarms) this.observe(alarm, receivedAt);
      return;
    }
    if (message.type === 'alarm' && message.alarm) this.observe(message.alarm, receivedAt);
  }

  private observe(alarm: WatchedAlarm, receivedAt: number): void {
    for (const event of this.tracker.observe(alarm, receivedAt, 'ws'))
      this.options.onRaise?.(event);
  }
}

/** Alarms updated at or after `sinceMs` from the gateway's REST API (`GET /api/v1/alarms`). */
export async function fetchAlarms(gatewayUrl: string, sinceMs: number): Promise<WatchedAlarm[]> {
  const response = await fetch(`${gatewayUrl}/api/v1/alarms?since=${Math.floor(sinceMs)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`GET /api/v1/alarms: HTTP ${response.status}`);
  return (await response.json()) as WatchedAlarm[];
}
