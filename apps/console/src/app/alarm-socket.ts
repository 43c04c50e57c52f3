import type { Alarm, ServerMessage } from '@vigil/contracts';

export interface AlarmSocketEvents {
  onAlarms(alarms: ReadonlyMap<string, Alarm>): void;
  onConnection(connected: boolean): void;
  onHistoryKept(kept: boolean): void;
}

/**
 * Keeps the console's alarm list equal to the gateway's: after a drop it reconnects with the last
 * sequence number it saw and the gateway replays what it missed (or sends a fresh snapshot).
 */
export class AlarmSocket {
  private readonly alarms = new Map<string, Alarm>();
  private lastSeq: number | undefined;
  private epoch: string | undefined;
  private retryMs = 500;

  constructor(
    private readonly url: string,
    private readonly events: AlarmSocketEvents,
  ) {}

  connect(): void {
    const query =
      this.epoch !== undefined && this.lastSeq !== undefined
        ? `?lastSeq=${this.lastSeq}&epoch=${this.epoch}`
        : '';
    const socket = new WebSocket(this.url + query);
    socket.onopen = () => {
      this.retryMs = 500;
      this.events.onConnection(true);
    };
    socket.onmessage = event => this.handle(JSON.parse(String(event.data)) as ServerMessage);
    socket.onclose = () => {
      this.events.onConnection(false);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        if (message.epoch !== this.epoch) this.lastSeq = undefined;
        this.epoch = message.epoch;
        this.events.onHistoryKept(message.historyKept);
        return;
      case 'snapshot':
        this.alarms.clear();
        for (const alarm of message.alarms) this.alarms.set(alarm.id, alarm);
        this.lastSeq = message.seq;
        break;
      case 'alarm':
        if (message.alarm.state === 'normal') this.alarms.delete(message.alarm.id);
        else this.alarms.set(message.alarm.id, message.alarm);
        this.lastSeq = message.seq;
        break;
      case 'system':
        this.lastSeq = message.seq;
        if (message.code === 'history-kept') this.events.onHistoryKept(true);
        if (message.code === 'history-not-kept') this.events.onHistoryKept(false);
        return;
      default:
        return;
    }
    this.events.onAlarms(this.alarms);
  }
}
