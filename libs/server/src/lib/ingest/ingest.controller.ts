import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, MqttContext, Payload } from '@nestjs/microservices';

import { EVENT_TOPIC_FILTER, STATUS_TOPIC_FILTER, TELEMETRY_TOPIC_FILTER } from '@vigil/contracts';

import { IngestService } from './ingest.service';

/**
 * The MQTT edge: declares the device topics Nest subscribes to. In a running Vigil the messages
 * skip Nest's per-message dispatch (VigilMqttServer hands them to IngestService.accept directly);
 * these handlers serve a transport without that shortcut. Never throws for device data.
 */
@Controller()
export class IngestController {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}

  @EventPattern<string>(TELEMETRY_TOPIC_FILTER)
  telemetry(@Payload() payload: Buffer, @Ctx() context: MqttContext): void {
    this.ingest.accept(context.getTopic(), payload);
  }

  @EventPattern<string>(EVENT_TOPIC_FILTER)
  event(@Payload() payload: Buffer, @Ctx() context: MqttContext): void {
    this.ingest.accept(context.getTopic(), payload);
  }

  @EventPattern<string>(STATUS_TOPIC_FILTER)
  status(@Payload() payload: Buffer, @Ctx() context: MqttContext): void {
    this.ingest.accept(context.getTopic(), payload, context.getPacket()?.retain === true);
  }
}
