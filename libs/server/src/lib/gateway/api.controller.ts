import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpException,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import { ALARM_STATES, DEVICE_CLASSES, type Alarm } from '@vigil/contracts';

import { AlarmCommands, type AlarmCommand } from '../alarms/alarm-commands';
import { RegistryHolder } from '../registry/registry-holder';
import { AlarmView } from './alarm-view';

const deviceQuery = z.object({
  site: z.string().optional(),
  class: z.enum(DEVICE_CLASSES).optional(),
});
const alarmQuery = z.object({
  state: z.enum([...ALARM_STATES, 'open']).optional(),
  site: z.string().optional(),
  since: z.coerce.number().int().min(0).optional(),
});
const actionBody = z.object({
  by: z.string().min(1).max(64).default('operator'),
  note: z.string().max(2000).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new BadRequestException({
      message: 'invalid request',
      issues: parsed.error.issues.map(
        issue => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    });
  }
  return parsed.data;
}

@ApiTags('devices')
@Controller('api/v1/devices')
export class DevicesController {
  constructor(@Inject(RegistryHolder) private readonly registry: RegistryHolder) {}

  @Get()
  @ApiOperation({ summary: 'Devices of the registry' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'class', required: false, enum: DEVICE_CLASSES })
  list(@Query() query: unknown) {
    const { site, class: deviceClass } = parse(deviceQuery, query);
    return this.registry.current.devices.filter(
      device =>
        (site === undefined || device.siteId === site) &&
        (deviceClass === undefined || device.deviceClass === deviceClass),
    );
  }

  @Get(':siteId/:deviceId')
  @ApiOperation({ summary: 'One device' })
  one(@Param('siteId') siteId: string, @Param('deviceId') deviceId: string) {
    const device = this.registry.current.device(siteId, deviceId);
    if (!device) throw new NotFoundException(`device ${siteId}/${deviceId} is not in the registry`);
    return device;
  }
}

@ApiTags('sites')
@Controller('api/v1/sites')
export class SitesController {
  constructor(@Inject(RegistryHolder) private readonly registry: RegistryHolder) {}

  @Get()
  @ApiOperation({
    summary: 'Sites with their areas (polygons in metres) and the organisation tree',
  })
  list() {
    const { sites, organisation } = this.registry.current;
    return {
      organisation,
      sites: sites.map(({ devices: _devices, profiles: _profiles, ...site }) => site),
    };
  }
}

@ApiTags('alarms')
@Controller('api/v1/alarms')
export class AlarmsController {
  constructor(
    @Inject(AlarmView) private readonly view: AlarmView,
    @Inject(AlarmCommands) private readonly commands: AlarmCommands,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Alarms: open ones, and recently closed ones (state=normal)' })
  @ApiQuery({ name: 'state', required: false, enum: [...ALARM_STATES, 'open'] })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'since', required: false, description: 'epoch ms: alarms updated at or after' })
  list(@Query() query: unknown): Alarm[] {
    return this.view.query(parse(alarmQuery, query));
  }

  @Get(':id')
  one(@Param('id') id: string): Alarm {
    const alarm = this.view.get(id);
    if (!alarm) throw new NotFoundException(`alarm ${id} not found`);
    return alarm;
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge an alarm (active → acknowledged, returned → normal)' })
  acknowledgeAlarm(@Param('id') id: string, @Body() body: unknown): Promise<Alarm> {
    const { by, note } = parse(actionBody, body);
    return this.run({
      action: 'acknowledge',
      alarmId: id,
      by,
      ...(note === undefined ? {} : { note }),
    });
  }

  @Post(':id/reset')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reset a latched alarm whose condition has cleared' })
  resetAlarm(@Param('id') id: string, @Body() body: unknown): Promise<Alarm> {
    const { by, note } = parse(actionBody, body);
    return this.run({ action: 'reset', alarmId: id, by, ...(note === undefined ? {} : { note }) });
  }

  private async run(command: AlarmCommand): Promise<Alarm> {
    const result = await this.commands.execute(command);
    if (!result.ok) throw new HttpException(result.message, result.status);
    if (!('transition' in result)) throw new Error('unexpected reply to an alarm action');
    return result.transition.alarm;
  }
}
