import { Inject, Injectable, Logger } from '@nestjs/common';

import {
  AlarmCommands,
  type AlarmCommand,
  type CommandReply,
  type CommandRoute,
} from '../alarms/alarm-commands';
import type { Backbone } from '../bus/jetstream/backbone';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { requestAlarmCommand } from '../bus/jetstream/commands';

/**
 * jetstream: operator commands go to the rules instance that owns the site's partition, by NATS
 * request on `vigil.cmd.<partitionOf(site)>` (payload AlarmCommand JSON, reply CommandReply JSON;
 * docs/interfaces.md §Backbone). No owner answering is a 503 that names the partition, logged:
 * never a silent failure. The gateway's open alarms come from the stream (AlarmView), so it
 * does not send `list-open` itself.
 */
@Injectable()
export class NatsAlarmCommands extends AlarmCommands {
  private readonly logger = new Logger(NatsAlarmCommands.name);

  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {
    super();
  }

  async execute(command: AlarmCommand, route?: CommandRoute): Promise<CommandReply> {
    const reply = await requestAlarmCommand(
      this.backbone.nc,
      this.backbone.settings.partitions,
      command,
      route ? { siteId: route.siteId } : {},
    );
    if (!reply.ok && reply.status >= 500)
      this.logger.error(`operator command ${command.action} NOT applied: ${reply.message}`);
    return reply;
  }
}
