import WebSocket from 'ws';

import type { Alarm, ServerMessage } from '@vigil/contracts';

/** What the console saw of one alarm id. */
export interface WsAlarmSighting {
  readonly id: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  /** Seen as a live `alarm` message with the condition active (a raise pushed as it happened). */
  liveActive: boolean;
  /** Seen as a live `alarm` message with the condition gone (a clear pushed as it happened). */
  liveCleared: boolean;
  /** Seen in a reconnect snapshot only. */
  inSnapshot: boolean;
}

/**
 * A console on the gateway's WebSocket that reconnects every 500 ms while the gateway is away and
 * resumes with `lastSeq`/`epoch`, as the real console does. Records every alarm id it is told of.
 */
export class WsWatcher {
  readonly sightings = new Map<string, WsAlarmSighting>();
  reconnects = 0;
  private socket: WebSocket | undefined;
  private lastSeq: number | undefined;
  private epoch: string | undefined;
  private closed = false;

  constructor(private readonly httpUrl: () => string) {}

  start(): void {
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    const query =
      this.lastSeq !== undefined && this.epoch !== undefined
        ? `?lastSeq=${this.lastSeq}&epoch=${encodeURIComponent(this.epoch)}`
        : '';
    const socket = new WebSocket(`${this.httpUrl().replace(/^http/, 'ws')}/ws${query}`);
    this.socket = socket;
    socket.on('message', data => this.onMessage(JSON.parse(data.toString()) as ServerMessage));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.closed) return;
      this.reconnects += 1;
      setTimeout(() => this.open(), 500);
    });
  }

  private onMessage(message: ServerMessage): void {
    if (message.type === 'heartbeat') return;
    if (message.type === 'hello') this.epoch = message.epoch;
    else this.lastSeq = message.seq;
    if (message.type === 'alarm') this.record(message.alarm, 'live');
    else if (message.type === 'snapshot') {
      for (const alarm of message.alarms) this.record(alarm, 'snapshot');
    }
  }

  private record(alarm: Alarm, via: 'live' | 'snapshot'): void {
    let sighting = this.sightings.get(alarm.id);
    if (!sighting) {
      sighting = {
        id: alarm.id,
        siteId: alarm.siteId,
        deviceId: alarm.deviceId,
        ruleId: alarm.ruleId,
        liveActive: false,
        liveCleared: false,
        inSnapshot: false,
      };
      this.sightings.set(alarm.id, sighting);
    }
    if (via === 'snapshot') sighting.inSnapshot = true;
    else if (alarm.conditionActive) sighting.liveActive = true;
    else sighting.liveCleared = true;
  }

  close(): void {
    this.closed = true;
    this.socket?.terminate();
  }
}

export interface ReadyzSample {
  /** ms since the load started. */
  readonly t: number;
  /** HTTP status, or 0 when nothing answered. */
  readonly status: number;
  /** The checks that were false, or `unreachable`. */
  readonly failing: readonly string[];
}

/** Polls `/readyz` every `intervalMs` and keeps every answer. */
export class ReadyzWatcher {
  readonly samples: ReadyzSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly url: () => string,
    private readonly origin: number,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const t = Date.now() - this.origin;
    try {
      const response = await fetch(`${this.url()}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json().catch(() => ({}))) as {
        checks?: Record<string, boolean>;
      };
      const failing = Object.entries(body.checks ?? {})
        .filter(([, ok]) => !ok)
        .map(([name]) => name);
      this.samples.push({ t, status: response.status, failing });
    } catch {
      this.samples.push({ t, status: 0, failing: ['unreachable'] });
    } finally {
      this.busy = false;
    }
  }

  /**
   * The front's last answer had its pipeline check passing (the canary reached every hop in
   * time): what entered the pipeline has been evaluated. Other checks may still fail (e.g. the
   * 5 minutes of `ingest` after a broker lost its session), and a front without a `pipeline`
   * check (canary off) counts as caught up once it answers.
   */
  pipelineCaughtUp(): boolean {
    const last = this.samples.at(-1);
    return last !== undefined && last.status !== 0 && !last.failing.includes('pipeline');
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
