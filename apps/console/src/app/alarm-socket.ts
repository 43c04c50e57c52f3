import {
  CANARY_STALL_RULE_ID,
  type Alarm,
  type ClientMessage,
  type PipelineStatus,
  type ServerMessage,
  type ServiceNotReady,
  type UplinkStatus,
} from '@vigil/contracts';

/** What a reconnection restored, for the operator's "reconnected" notice. */
export interface ResumeReport {
  /** Alarms that changed while the console was disconnected (replayed or found in the snapshot). */
  readonly missed: number;
  /** `replay`: the gateway sent exactly what was missed; `snapshot`: the whole list was reloaded. */
  readonly via: 'replay' | 'snapshot';
}

/** A device's latest values, as the gateway's `telemetry` message carries them. */
export type TelemetryUpdate = Pick<
  Extract<ServerMessage, { type: 'telemetry' }>,
  'siteId' | 'deviceId' | 'ts' | 'values'
>;

export interface AlarmSocketEvents {
  onAlarms(alarms: ReadonlyMap<string, Alarm>): void;
  onConnection(connected: boolean): void;
  /** `reason`: why not (the gateway's words, e.g. an InfluxDB 401), shown under the banner. */
  onHistoryKept(kept: boolean, reason?: string): void;
  onResumed?(report: ResumeReport): void;
  onTelemetry?(update: TelemetryUpdate): void;
  /**
   * The gateway's heartbeat (every second): the pipeline as its canary sees it, and (split
   * deployment) the processes that are not ready.
   */
  onHeartbeat?(
    serverTime: number,
    pipeline: PipelineStatus,
    services?: readonly ServiceNotReady[],
    uplink?: UplinkStatus,
  ): void;
  /** The gateway refused the token (close code 4401): the session is over. */
  onUnauthorized?(): void;
}

/** Minimal WebSocket surface, so tests can drive the socket without a server. */
export interface SocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number): void;
}
export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;
const UNAUTHORIZED = 4401;

interface PendingResume {
  readonly before: ReadonlyMap<string, Alarm>;
  readonly changed: Set<string>;
  /** The gateway's seq when it said hello: replayed messages have seq ≤ this. */
  until: number | undefined;
}

/**
 * Keeps the console's alarm list equal to the gateway's: after a drop it reconnects with the last
 * sequence number it saw and the gateway replays what it missed (or sends a fresh snapshot), and
 * it reports how many alarms changed meanwhile. Telemetry subscriptions are renewed on every
 * connection, because the gateway keeps them per connection.
 */
export class AlarmSocket {
  private readonly alarms = new Map<string, Alarm>();
  private readonly devices = new Set<string>();
  private lastSeq: number | undefined;
  private epoch: string | undefined;
  /** The gateway process that said hello last (its own alarms are not in the stream). */
  private gateway: string | undefined;
  private retryMs = 500;
  private socket: SocketLike | undefined;
  private everConnected = false;
  private pending: PendingResume | undefined;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly events: AlarmSocketEvents,
    private readonly factory: SocketFactory = url => new WebSocket(url) as unknown as SocketLike,
  ) {}

  connect(): void {
    if (this.closed) return;
    const params = new URLSearchParams();
    if (this.epoch !== undefined && this.lastSeq !== undefined) {
      params.set('lastSeq', String(this.lastSeq));
      params.set('epoch', this.epoch);
    }
    const separator = this.url.includes('?') ? '&' : '?';
    const query = params.toString();
    const socket = this.factory(query ? `${this.url}${separator}${query}` : this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      if (this.everConnected)
        this.pending = { before: new Map(this.alarms), changed: new Set(), until: undefined };
      this.everConnected = true;
      this.events.onConnection(true);
      if (this.devices.size > 0) this.send({ type: 'subscribe', devices: [...this.devices] });
    };
    socket.onmessage = event => this.handle(JSON.parse(String(event.data)) as ServerMessage);
    socket.onclose = event => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.pending = undefined;
      this.events.onConnection(false);
      if (event.code === UNAUTHORIZED) {
        this.closed = true;
        this.events.onUnauthorized?.();
        return;
      }
      if (this.closed) return;
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  /** Stops for good (logout). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
  }

  /** Live telemetry of these devices (`siteId/deviceId`), kept across reconnections. */
  subscribe(devices: readonly string[]): void {
    const added = devices.filter(device => !this.devices.has(device));
    for (const device of added) this.devices.add(device);
    if (added.length > 0) this.send({ type: 'subscribe', devices: added });
  }

  unsubscribe(devices: readonly string[]): void {
    const removed = devices.filter(device => this.devices.delete(device));
    if (removed.length > 0) this.send({ type: 'unsubscribe', devices: removed });
  }

  /** Applies an alarm returned by a REST action at once, unless the socket already has a newer one. */
  applyLocal(alarm: Alarm): void {
    const current = this.alarms.get(alarm.id);
    if (current && current.updatedAt > alarm.updatedAt) return;
    this.store(alarm);
    this.events.onAlarms(this.alarms);
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Drops the alarms a gateway raised itself (canary stalls); true when there were any. */
  private dropGatewayAlarms(): boolean {
    let dropped = false;
    for (const [id, alarm] of this.alarms)
      if (alarm.ruleId === CANARY_STALL_RULE_ID) dropped = this.alarms.delete(id) || dropped;
    return dropped;
  }

  private store(alarm: Alarm): void {
    if (alarm.state === 'normal') this.alarms.delete(alarm.id);
    else this.alarms.set(alarm.id, alarm);
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        if (message.epoch !== this.epoch) this.lastSeq = undefined;
        this.epoch = message.epoch;
        if (message.gateway !== undefined) {
          const other = this.gateway !== undefined && message.gateway !== this.gateway;
          this.gateway = message.gateway;
          // Another gateway (or the same one restarted): the previous one's own alarms are gone.
          if (other && this.dropGatewayAlarms()) this.events.onAlarms(this.alarms);
        }
        this.events.onHistoryKept(message.historyKept, message.historyReason);
        if (this.pending) {
          this.pending.until = message.seq;
          // Resumed and nothing happened meanwhile: no replay and no snapshot will follow.
          if (this.lastSeq !== undefined && this.lastSeq >= message.seq)
            this.finishResume('replay');
        }
        return;
      case 'snapshot':
        this.alarms.clear();
        for (const alarm of message.alarms) this.alarms.set(alarm.id, alarm);
        this.lastSeq = message.seq;
        if (this.pending) this.finishResume('snapshot');
        break;
      case 'alarm':
        this.store(message.alarm);
        this.lastSeq = message.seq;
        if (this.pending?.until !== undefined) {
          this.pending.changed.add(message.alarm.id);
          if (message.seq >= this.pending.until) this.finishResume('replay');
        }
        break;
      case 'system':
        this.lastSeq = message.seq;
        if (message.code === 'history-kept') this.events.onHistoryKept(true);
        if (message.code === 'history-not-kept') this.events.onHistoryKept(false, message.message);
        if (this.pending?.until !== undefined && message.seq >= this.pending.until)
          this.finishResume('replay');
        return;
      case 'telemetry':
        this.events.onTelemetry?.(message);
        return;
      case 'heartbeat':
        this.events.onHeartbeat?.(
          message.serverTime,
          message.pipeline,
          message.services,
          message.uplink,
        );
        return;
      default:
        return;
    }
    this.events.onAlarms(this.alarms);
  }

  private finishResume(via: ResumeReport['via']): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    let missed = pending.changed.size;
    if (via === 'snapshot') {
      missed = 0;
      for (const [id, alarm] of this.alarms) {
        if (pending.before.get(id)?.updatedAt !== alarm.updatedAt) missed += 1;
      }
      for (const id of pending.before.keys()) if (!this.alarms.has(id)) missed += 1;
    }
    this.events.onResumed?.({ missed, via });
  }
}
