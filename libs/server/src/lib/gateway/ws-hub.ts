import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';

import { pipelineStatusFor } from '@vigil/alarms';
import type { ClientMessage, IngestRecord, ResyncReason, ServerMessage } from '@vigil/contracts';

import { PipelineBus } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { AlarmCommands } from '../alarms/alarm-commands';
import { CanaryService } from '../canary/canary.service';
import { bearerToken } from '../auth/auth.guard';
import { AuthService, type AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { runAlarmAction } from '../alarms/alarm-actions';
import { alarmJson } from '../alarms/alarm-json';
import { AlarmView } from '../alarms/alarm-view';
import { StorageStatus } from './storage-status';
import { LocalSpool, type SpoolNotice } from '../bus/spool/local-spool';
import { ServicesHealth } from '../health/services-health';
import { UplinkForwarder } from '../uplink/uplink-forwarder';

/** A client further behind than this is disconnected and resumes from its last seq on reconnect. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const MAX_SUBSCRIBED_DEVICES = 500;
/**
 * A console further back than this many log sequences gets a snapshot rather than a replay read
 * from the durable alarm log (reading more costs the gateway more than the snapshot).
 */
const MAX_STREAM_REPLAY = 100_000;

type Sequenced = Exclude<ServerMessage, { type: 'telemetry' } | { type: 'heartbeat' }>;
type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;

interface Client {
  readonly socket: WebSocket;
  readonly user: AuthenticatedUser;
  readonly devices: Set<string>;
  /** Durable log: sends nothing at or below this seq (it has it already). */
  floor: number;
  /** Durable log: false while its replay is read from the log (its messages wait in the ring). */
  live: boolean;
}

/**
 * The `/ws` endpoint. Alarm and system messages carry a sequence number and are kept in a ring
 * buffer, so a console that reconnects with `?lastSeq=N&epoch=E` (or sends `resume`) receives
 * exactly what it missed; if it missed more than the buffer holds, it gets a fresh snapshot.
 *
 * With a durable alarm log (docs/interfaces.md §Resume across gateways and restarts): the seq
 * of an alarm message is its position in the log (jetstream: the VIGIL_ALARMS stream sequence;
 * memory: the spool's alarm-lane seq) and the epoch names the log, so the same (lastSeq, epoch)
 * means the same on every gateway and after a restart; what the ring no longer holds is read
 * from the log. Messages that are not in the log (system messages, alarms this gateway owns)
 * carry the current seq without advancing it and are not replayed: their state is re-sent at
 * connection. A snapshot sent to a console that asked to resume says why (`resync`).
 */
@Injectable()
export class WsHub implements OnModuleDestroy {
  private readonly logger = new Logger(WsHub.name);
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Set<Client>();
  private readonly ring: Sequenced[] = [];
  /** Identifies this gateway's sequence space: after a restart, old seqs mean nothing. */
  private readonly localEpoch = randomUUID();
  private seq = 0;
  /** Durable log: every log message at or below this seq may be missing from the ring. */
  private ringFloor: number | undefined;
  /** The spool's last notice: re-sent after a resume (system messages are not in the log). */
  private spoolNotice: SpoolNotice | undefined;
  private readonly subscriptions: Subscription[] = [];
  private readonly detach: () => void;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(PipelineBus) bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(StorageStatus) private readonly storage: StorageStatus,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(AlarmCommands) private readonly commands: AlarmCommands,
    @Inject(CanaryService) private readonly canary: CanaryService,
    /** VIGIL_BUS=memory: the spool's drops and backlog reach every console (issue 12). */
    @Optional() @Inject(LocalSpool) spool?: LocalSpool,
    /** VIGIL_BUS=jetstream: the processes not ready reach every console in the heartbeat. */
    @Optional() @Inject(ServicesHealth) private readonly services?: ServicesHealth,
    /** A lower Vigil: its link to the upper, while it is not ok, reaches every console. */
    @Optional() @Inject(UplinkForwarder) private readonly uplink?: UplinkForwarder,
  ) {
    this.detach = alarms.onUpdates((updates, seqs) => {
      const now = Date.now();
      for (const [index, { alarm, action }] of updates.entries()) {
        this.broadcast({ type: 'alarm', alarm }, seqs?.[index]);
        if (action.action === 'raise')
          this.metrics.detectionLatency.observe((now - alarm.detectedAt) / 1000);
      }
    }, 'websocket');
    // memory: the ring holds every alarm-lane entry applied from here on (jetstream: from the
    // stream snapshot, which is taken later, in AlarmView.onModuleInit).
    if (this.alarms.log && !this.alarms.stream) this.ringFloor = this.alarms.position;
    this.subscriptions.push(bus.records$.subscribe(records => this.forwardTelemetry(records)));
    if (spool)
      this.subscriptions.push(
        spool.notices$.subscribe(notice => {
          this.spoolNotice = notice;
          this.broadcast({ type: 'system', ...notice });
        }),
      );
    // Every second: the gateway is alive, and the pipeline as the canary sees it. Consoles show
    // a stale-data banner when these stop (their own timer), so a dead socket shows too.
    this.subscriptions.push(
      canary.heartbeat$.subscribe(status => {
        if (this.clients.size === 0) return;
        // One text for all while nothing is stalled; else each client sees only its sites.
        const shared = status.stalled.length === 0 ? JSON.stringify(this.heartbeat()) : undefined;
        for (const client of this.clients)
          this.sendText(client, shared ?? JSON.stringify(this.heartbeat(client)));
      }),
    );
    this.subscriptions.push(
      storage.changes$.subscribe(({ kept, reason }) =>
        this.broadcast(
          kept
            ? {
                type: 'system',
                level: 'info',
                code: 'history-kept',
                message: 'History is being kept in InfluxDB.',
              }
            : {
                type: 'system',
                level: 'error',
                code: 'history-not-kept',
                message: `InfluxDB does not take Vigil's data: history is NOT being kept (${reason ?? 'unknown'}).`,
              },
        ),
      ),
    );
  }

  attach(httpServer: Server): void {
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') return; // other upgrade handlers may own other paths
      this.server.handleUpgrade(request, socket, head, ws =>
        this.connected(ws, url, bearerToken(request.headers.authorization)),
      );
    });
  }

  /**
   * The durable log's (jetstream: `VIGIL_ALARMS@<created>`; memory: the alarm lane's
   * `spool@<uuid>`), else this process's.
   */
  get epoch(): string {
    return this.alarms.log ? this.alarms.log.epoch : this.localEpoch;
  }

  /** The current seq: with a durable log, the log sequence this gateway has applied up to. */
  private get current(): number {
    return this.alarms.log ? this.alarms.position : this.seq;
  }

  clientCount(): number {
    return this.clients.size;
  }

  onModuleDestroy(): void {
    this.detach();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const client of this.clients) client.socket.terminate();
    this.server.close();
  }

  private connected(socket: WebSocket, url: URL, headerToken: string | undefined): void {
    const user = this.auth.authenticate(url.searchParams.get('token') ?? headerToken);
    if (!user) {
      socket.close(4401, 'a valid token is required');
      return;
    }
    const client: Client = { socket, user, devices: new Set(), floor: 0, live: true };
    this.clients.add(client);
    this.metrics.wsClients.set(this.clients.size);
    socket.on('close', () => {
      this.clients.delete(client);
      this.metrics.wsClients.set(this.clients.size);
    });
    socket.on('error', error => this.logger.warn(`ws client error: ${error.message}`));
    socket.on('message', (data, isBinary) =>
      this.received(client, isBinary ? '' : data.toString()),
    );

    this.send(client, {
      type: 'hello',
      seq: this.current,
      epoch: this.epoch,
      serverTime: Date.now(),
      historyKept: this.storage.kept,
      historyReason: this.storage.current.reason,
      gateway: this.canary.origin,
    });
    this.send(client, this.heartbeat(client));
    const asked = url.searchParams.has('lastSeq');
    const lastSeq = Number(url.searchParams.get('lastSeq'));
    const sameEpoch = url.searchParams.get('epoch') === this.epoch;
    if (asked && !sameEpoch) this.snapshot(client, 'epoch');
    else this.resume(client, asked && Number.isInteger(lastSeq) ? lastSeq : undefined);
  }

  private received(client: Client, text: string): void {
    let message: ClientMessage;
    try {
      message = JSON.parse(text) as ClientMessage;
    } catch {
      this.send(client, { type: 'error', seq: this.current, message: 'messages must be JSON' });
      return;
    }
    switch (message.type) {
      case 'resume':
        this.resume(client, Number.isInteger(message.lastSeq) ? message.lastSeq : undefined);
        break;
      case 'subscribe': {
        const devices = Array.isArray(message.devices) ? message.devices : [];
        for (const device of devices.slice(0, MAX_SUBSCRIBED_DEVICES)) {
          const siteId = typeof device === 'string' ? device.split('/')[0] : undefined;
          const allowed =
            siteId !== undefined && this.authorization.canSeeSite(client.user, siteId);
          if (allowed && client.devices.size < MAX_SUBSCRIBED_DEVICES) client.devices.add(device);
        }
        break;
      }
      case 'action':
        void this.action(client, message);
        break;
      case 'unsubscribe':
        for (const device of Array.isArray(message.devices) ? message.devices : [])
          client.devices.delete(device);
        break;
      default:
        this.send(client, { type: 'error', seq: this.current, message: `unknown message type` });
    }
  }

  private async action(
    client: Client,
    message: Extract<ClientMessage, { type: 'action' }>,
  ): Promise<void> {
    const { requestId, alarmId, action, type: _type, ...body } = message;
    if (
      typeof requestId !== 'string' ||
      typeof alarmId !== 'string' ||
      typeof action !== 'string'
    ) {
      this.send(client, {
        type: 'error',
        seq: this.current,
        message: 'an action needs requestId, alarmId and action',
      });
      return;
    }
    const outcome = await runAlarmAction(
      this.alarms,
      this.commands,
      this.authorization,
      client.user,
      alarmId,
      action,
      body,
    );
    this.send(client, {
      type: 'action-result',
      seq: this.current,
      requestId,
      ok: outcome.ok,
      status: outcome.ok ? 200 : outcome.status,
      ...(outcome.ok ? { alarm: outcome.alarm } : { message: outcome.message }),
    });
  }

  private visible(client: Client, message: Sequenced): boolean {
    return (
      message.type !== 'alarm' || this.authorization.canSeeSite(client.user, message.alarm.siteId)
    );
  }

  /** Replays from the ring buffer when it still holds everything after `lastSeq`, else a snapshot. */
  private resume(client: Client, lastSeq: number | undefined): void {
    if (this.alarms.log) {
      void this.resumeFromLog(client, lastSeq);
      return;
    }
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    if (lastSeq === undefined) return this.snapshot(client);
    if (lastSeq > this.seq) return this.snapshot(client, 'ahead');
    if (lastSeq < oldest - 1) return this.snapshot(client, 'retention');
    for (const message of this.ring)
      if (message.seq > lastSeq && this.visible(client, message)) this.send(client, message);
  }

  /** Every open alarm the client may see; `resync` says why when it had asked to resume. */
  private snapshot(client: Client, resync?: ResyncReason): void {
    const alarms = this.alarms
      .open()
      .filter(alarm => this.authorization.canSeeSite(client.user, alarm.siteId));
    client.floor = this.current;
    client.live = true;
    this.send(client, {
      type: 'snapshot',
      seq: this.current,
      alarms,
      ...(resync ? { resync } : {}),
    });
    if (resync) {
      this.metrics.wsResyncs.inc({ reason: resync });
      this.logger.warn(
        `a console resuming got a snapshot instead of the alarm changes it missed (resync: ${resync})`,
      );
    }
  }

  /**
   * Durable log: the ring when it holds everything after `lastSeq`; else the log up to where the
   * ring starts, then the ring (the client is not live meanwhile, so nothing is sent twice or
   * out of order); a snapshot when the log no longer holds it. Then the open alarms this
   * gateway owns, which are not in the log, and the spool's notice.
   */
  private async resumeFromLog(client: Client, lastSeq: number | undefined): Promise<void> {
    const log = this.alarms.log;
    if (!log || lastSeq === undefined) return this.snapshot(client);
    if (lastSeq < 0) return this.snapshot(client, 'retention');
    // One process numbers the log: a console ahead of it saw seqs lost with the process.
    if (!log.shared && lastSeq > this.current) return this.snapshot(client, 'ahead');
    client.live = false;
    client.floor = lastSeq;
    let readUpTo = lastSeq;
    try {
      for (;;) {
        const floor = this.ringFloor ?? this.current;
        if (readUpTo >= floor) break;
        if (floor - readUpTo > MAX_STREAM_REPLAY) return this.snapshot(client, 'retention');
        const missed = await log.read(readUpTo, floor);
        if (client.socket.readyState !== WebSocket.OPEN) return;
        if (!missed) return this.snapshot(client, 'retention');
        for (const { seq, update } of missed) {
          const message: Sequenced = { type: 'alarm', alarm: update.alarm, seq };
          if (this.visible(client, message)) this.send(client, message);
        }
        readUpTo = floor;
        client.floor = floor;
      }
    } catch (error) {
      this.logger.warn(
        `could not read the missed alarm updates from the log (${(error as Error)?.message}): sending a snapshot`,
      );
      return this.snapshot(client, 'unreadable');
    }
    for (const message of this.ring)
      if (message.seq > client.floor && this.visible(client, message)) this.send(client, message);
    client.floor = Math.max(client.floor, this.current);
    client.live = true;
    for (const alarm of this.alarms.open())
      if (this.alarms.ownerOf(alarm.id)) this.sendLocal(client, { type: 'alarm', alarm });
    if (this.spoolNotice && this.spoolNotice.code !== 'spool-ok')
      this.sendLocal(client, { type: 'system', ...this.spoolNotice });
  }

  /**
   * Without a durable log every message is numbered here and kept for replay. With one, a log
   * message (`streamSeq`) is kept with its log sequence; any other is sent with the current
   * seq, not replayed.
   */
  private broadcast(message: Unsequenced<Sequenced>, streamSeq?: number): void {
    if (this.alarms.log && streamSeq === undefined) {
      const local = { ...message, seq: this.current } as Sequenced;
      const text = this.serialise(local);
      if (text === undefined) return;
      for (const client of this.clients)
        if (client.live && this.visible(client, local)) this.sendText(client, text);
      return;
    }
    const seq = streamSeq ?? (this.seq += 1);
    const sequenced = { ...message, seq } as Sequenced;
    this.ringFloor ??= this.alarms.log ? this.alarms.snapshotPosition : undefined;
    this.ring.push(sequenced);
    if (this.ring.length > this.config.wsReplay) {
      const dropped = this.ring.shift();
      if (this.alarms.log && dropped) this.ringFloor = dropped.seq;
    }
    const text = this.serialise(sequenced);
    if (text === undefined) return;
    for (const client of this.clients)
      if (client.live && seq > client.floor && this.visible(client, sequenced))
        this.sendText(client, text);
  }

  private sendLocal(client: Client, message: Unsequenced<Sequenced>): void {
    const local = { ...message, seq: this.current } as Sequenced;
    if (this.visible(client, local)) this.send(client, local);
  }

  /** The heartbeat, with the pipeline as `client` may see it (its sites only). */
  private heartbeat(client?: Client): ServerMessage {
    const status = this.canary.status;
    // Not per site: a process that is not ready may fail any site, so every console hears it.
    const services = this.services?.notReady() ?? [];
    const uplink = this.uplink?.status();
    return {
      type: 'heartbeat',
      seq: this.current,
      serverTime: Date.now(),
      pipeline: client
        ? pipelineStatusFor(status, siteId => this.authorization.canSeeSite(client.user, siteId))
        : status,
      ...(services.length > 0 ? { services } : {}),
      ...(uplink && !uplink.ok ? { uplink } : {}),
    };
  }

  private forwardTelemetry(records: readonly IngestRecord[]): void {
    if (this.clients.size === 0) return;
    for (const client of this.clients) {
      if (client.devices.size === 0) continue;
      for (const record of records) {
        if (record.kind !== 'reading') continue;
        const { siteId, deviceId, ts, values } = record.reading;
        if (!client.devices.has(`${siteId}/${deviceId}`)) continue;
        this.send(client, { type: 'telemetry', seq: this.current, siteId, deviceId, ts, values });
      }
    }
  }

  private send(client: Client, message: ServerMessage): void {
    const text = this.serialise(message);
    if (text !== undefined) this.sendText(client, text);
  }

  /**
   * Messages carry device-supplied data (event details in alarm messages, telemetry values): a
   * serialisation error is logged with the message type and skipped, never thrown into the bus
   * subscription that feeds every console (issue 10). Ingest's payload limits make it unreachable.
   */
  private serialise(message: ServerMessage): string | undefined {
    try {
      // An alarm message as broadcast (`{ type, alarm, seq }`): the alarm's JSON the journal and
      // the spool made already, in the same bytes as JSON.stringify (alarm-json.ts).
      if (message.type === 'alarm' && isBroadcastAlarm(message))
        return `{"type":"alarm","alarm":${alarmJson(message.alarm)},"seq":${JSON.stringify(message.seq)}}`;
      return JSON.stringify(message);
    } catch (error) {
      this.logger.error(
        `a ${message.type} message could not be serialised and was NOT sent: ${String(error)}`,
      );
      return undefined;
    }
  }

  private sendText(client: Client, text: string): void {
    if (client.socket.readyState !== WebSocket.OPEN) return;
    if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      // Explicit back-pressure: a stalled console is cut off and resumes, instead of growing memory.
      this.metrics.wsDropped.inc();
      client.socket.close(4000, 'too slow: reconnect with lastSeq');
      return;
    }
    client.socket.send(text);
  }
}

/** An alarm message with exactly the keys `broadcast` gives it, in that order. */
function isBroadcastAlarm(message: Extract<ServerMessage, { type: 'alarm' }>): boolean {
  const keys = Object.keys(message);
  return keys.length === 3 && keys[0] === 'type' && keys[1] === 'alarm' && keys[2] === 'seq';
}
