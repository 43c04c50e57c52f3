import { randomUUID } from 'node:crypto';

import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { connect, type MqttClient } from 'mqtt';

import type { ActionResult, Actor, OperatorCommand } from '@vigil/alarms';
import { INTERNAL_COMMANDS_TOPIC, INTERNAL_REPLIES_ROOT, type Alarm } from '@vigil/contracts';

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
    };

export type CommandReply =
  | ActionResult
  | { readonly ok: true; readonly alarms: readonly Alarm[] }
  | { readonly ok: true; readonly device: DeviceMode };

/** How the gateway reaches the alarm lifecycle: in this process, or through the broker. */
export abstract class AlarmCommands {
  abstract execute(command: AlarmCommand): Promise<CommandReply>;
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

  constructor(@Inject(VIGIL_CONFIG) private readonly config: VigilConfig) {
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
    this.mqtt.on('message', (_topic, payload) => {
      try {
        const { id, reply } = JSON.parse(payload.toString()) as { id: string; reply: CommandReply };
        this.pending.get(id)?.(reply);
      } catch (error) {
        this.logger.error(`unreadable command reply: ${(error as Error).message}`);
      }
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
  ) {}

  async onModuleInit(): Promise<void> {
    this.mqtt = client(this.config, 'command-server');
    this.mqtt.on('error', error => this.logger.warn(`command server: ${error.message}`));
    this.mqtt.on('message', (_topic, payload) => {
      let request: { id: string; replyTo: string; command: AlarmCommand };
      try {
        request = JSON.parse(payload.toString()) as typeof request;
      } catch (error) {
        this.logger.error(`unreadable command: ${(error as Error).message}`);
        return;
      }
      if (!request.replyTo?.startsWith(`${INTERNAL_REPLIES_ROOT}/`)) return;
      const reply = executeLocally(this.alarms, request.command);
      this.mqtt?.publish(request.replyTo, JSON.stringify({ id: request.id, reply }), { qos: 1 });
    });
    await this.mqtt.subscribeAsync(INTERNAL_COMMANDS_TOPIC, { qos: 1 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.mqtt?.endAsync();
  }
}
