import { randomUUID } from 'node:crypto';

import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { connect, type MqttClient } from 'mqtt';
import { z } from 'zod';

import { ROLES, type ActionResult, type Actor, type OperatorCommand } from '@vigil/alarms';
import {
  DISPOSITIONS,
  INTERNAL_COMMANDS_TOPIC,
  INTERNAL_REPLIES_ROOT,
  type Alarm,
} from '@vigil/contracts';

import { InternalInbox } from '../bus/internal-inbox';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { mqttClientOptions } from '../mqtt/client-options';
import { withoutNagle } from '../mqtt/no-delay';
import type { DeviceMode } from './alarm-journal';
import { AlarmService } from './alarm.service';

export type AlarmCommand =
  | {
      readonly action: 'operate';
      readonly alarmId: string;
      readonly command: OperatorCommand;
      readonly actor: Actor;
    }
  | { readonly action: 'list-open' }
  | {
      readonly action: 'device-mode';
      readonly siteId: string;
      readonly deviceId: string;
      readonly mode: DeviceMode['mode'];
      readonly reason: string;
      readonly actor: Actor;
      /** How long maintenance lasts (ms); the configured default when absent. */
      readonly durationMs?: number | undefined;
    };

const note = z.string().max(2000).optional();
const actorSchema = z.object({
  id: z.string().min(1).max(256),
  role: z.enum([...ROLES, 'system']),
});
const operatorCommandSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('acknowledge'), note }),
  z.object({
    action: z.literal('shelve'),
    reason: z.string().max(2000),
    minutes: z.number().finite(),
  }),
  z.object({ action: z.literal('unshelve'), note }),
  z.object({ action: z.literal('comment'), note: z.string().max(2000) }),
  z.object({ action: z.literal('assign'), to: z.string().max(256), note }),
  z.object({
    action: z.literal('dispose'),
    disposition: z.enum(DISPOSITIONS),
    note: z.string().max(2000),
  }),
  z.object({ action: z.literal('reset'), note }),
]);
/** One AlarmCommand, as sent on the MQTT bridge or on `vigil.cmd.<p>` (JetStream backbone). */
export const alarmCommandSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('operate'),
    alarmId: z.string().min(1).max(256),
    command: operatorCommandSchema,
    actor: actorSchema,
  }),
  z.object({ action: z.literal('list-open') }),
  z.object({
    action: z.literal('device-mode'),
    siteId: z.string().min(1).max(256),
    deviceId: z.string().min(1).max(256),
    mode: z.enum(['maintenance', 'out-of-service']).nullable(),
    reason: z.string().max(2000),
    actor: actorSchema,
    durationMs: z.number().int().positive().optional(),
  }),
]);
/**
 * A request on `vigil-internal/v1/commands` (issue 11: `{"command": null}` there killed the
 * rules process). Validated by the InternalInbox before anything reads it.
 */
export const commandRequestSchema = z.object({
  id: z.string().min(1).max(128),
  replyTo: z
    .string()
    .max(256)
    .refine(topic => topic.startsWith(`${INTERNAL_REPLIES_ROOT}/`), 'not a reply topic'),
  command: alarmCommandSchema,
});
/** A reply on `vigil-internal/v1/replies/…`: its shape beyond `ok` is the rules process's. */
export const commandReplySchema = z.object({
  id: z.string().min(1).max(128),
  reply: z.union([
    z.object({ ok: z.literal(true) }).passthrough(),
    z.object({ ok: z.literal(false), status: z.number().int(), message: z.string() }),
  ]),
});

export type CommandReply =
  | ActionResult
  | { readonly ok: true; readonly alarms: readonly Alarm[] }
  | { readonly ok: true; readonly device: DeviceMode };

/** Where a command goes when the lifecycle is partitioned by site (jetstream: `vigil.cmd.<p>`). */
export interface CommandRoute {
  /** The site of the alarm an `operate` command acts on. */
  readonly siteId: string;
}

/** How the gateway reaches the alarm lifecycle: in this process, or through the broker. */
export abstract class AlarmCommands {
  abstract execute(command: AlarmCommand, route?: CommandRoute): Promise<CommandReply>;
}

export function executeLocally(alarms: AlarmService, command: AlarmCommand): CommandReply {
  switch (command.action) {
    case 'operate':
      return alarms.execute(command.alarmId, command.command, command.actor);
    case 'list-open':
      return { ok: true, alarms: alarms.open() };
    case 'device-mode':
      return {
        ok: true,
        device: alarms.setDeviceMode(
          command.siteId,
          command.deviceId,
          command.mode,
          command.actor,
          command.reason,
          command.durationMs,
        ),
      };
  }
}

@Injectable()
export class LocalAlarmCommands extends AlarmCommands {
  constructor(@Inject(AlarmService) private readonly alarms: AlarmService) {
    super();
  }

  execute(command: AlarmCommand): Promise<CommandReply> {
    return Promise.resolve(executeLocally(this.alarms, command));
  }
}

const COMMAND_TIMEOUT_MS = 5000;

function client(config: VigilConfig, role: string): MqttClient {
  return withoutNagle(
    connect(config.mqtt.url, {
      clientId: `vigil-${role}-${process.pid}-${randomUUID().slice(0, 8)}`,
      ...mqttClientOptions(config),
      reconnectPeriod: 1000,
    }),
  );
}

/** Request/reply over `vigil-internal/v1/commands`, for a gateway without the rules service. */
@Injectable()
export class RemoteAlarmCommands extends AlarmCommands implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RemoteAlarmCommands.name);
  private readonly replyTopic = `${INTERNAL_REPLIES_ROOT}/${randomUUID()}`;
  private readonly pending = new Map<string, (reply: CommandReply) => void>();
  private mqtt: MqttClient | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(InternalInbox) private readonly inbox: InternalInbox,
  ) {
    super();
  }

  /** Idempotent: other providers may send a command before this one's own init hook ran. */
  onModuleInit(): Promise<void> {
    this.ready ??= this.connect();
    return this.ready;
  }

  private async connect(): Promise<void> {
    this.mqtt = client(this.config, 'commands');
    this.mqtt.on('error', error => this.logger.warn(`commands: ${error.message}`));
    this.mqtt.on('message', (topic, payload) => {
      const message = this.inbox.read('replies', topic, payload, commandReplySchema);
      if (message) this.pending.get(message.id)?.(message.reply as CommandReply);
    });
    await this.mqtt.subscribeAsync(this.replyTopic, { qos: 1 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.mqtt?.endAsync();
  }

  async execute(command: AlarmCommand): Promise<CommandReply> {
    await this.onModuleInit();
    const id = randomUUID();
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, status: 504, message: 'the rules service did not answer in time' });
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, reply => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(reply);
      });
      this.mqtt?.publish(
        INTERNAL_COMMANDS_TOPIC,
        JSON.stringify({ id, replyTo: this.replyTopic, command }),
        { qos: 1 },
      );
    });
  }
}

/** The rules side of the command path, when the gateway runs in another process. */
@Injectable()
export class AlarmCommandServer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AlarmCommandServer.name);
  private mqtt: MqttClient | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(AlarmService) private readonly alarms: AlarmService,
    @Inject(InternalInbox) private readonly inbox: InternalInbox,
  ) {}

  async onModuleInit(): Promise<void> {
    this.mqtt = client(this.config, 'command-server');
    this.mqtt.on('error', error => this.logger.warn(`command server: ${error.message}`));
    this.mqtt.on('message', (topic, payload) => {
      const request = this.inbox.read('commands', topic, payload, commandRequestSchema);
      if (!request) return;
      let reply: CommandReply;
      try {
        reply = executeLocally(this.alarms, request.command as AlarmCommand);
      } catch (error) {
        // A valid command our own code failed on: answered, logged, never the process.
        this.logger.error(`command ${request.command.action} failed: ${(error as Error)?.stack}`);
        reply = { ok: false, status: 503, message: 'the rules service failed on this command' };
      }
      this.mqtt?.publish(request.replyTo, JSON.stringify({ id: request.id, reply }), { qos: 1 });
    });
    await this.mqtt.subscribeAsync(INTERNAL_COMMANDS_TOPIC, { qos: 1 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.mqtt?.endAsync();
  }
}
