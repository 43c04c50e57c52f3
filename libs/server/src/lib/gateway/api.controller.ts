import {
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
  UnprocessableEntityException,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import {
  ALARM_STATES,
  DEVICE_CLASSES,
  countHidden,
  type Alarm,
  type HiddenCause,
} from '@vigil/contracts';

import { runAlarmAction } from '../alarms/alarm-actions';
import { AlarmCommands } from '../alarms/alarm-commands';
import { AlarmView } from '../alarms/alarm-view';
import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseOr400 } from '../common/parse';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { RegistryHolder } from '../registry/registry-holder';

export const deviceQuery = z.object({
  site: z.string().optional(),
  class: z.enum(DEVICE_CLASSES).optional(),
});
export const alarmQuery = z.object({
  state: z.enum([...ALARM_STATES, 'open']).optional(),
  site: z.string().optional(),
  since: z.coerce.number().int().min(0).optional(),
});
export const maintenanceBody = z.object({
  mode: z.enum(['maintenance', 'out-of-service']).nullable(),
  reason: z.string().min(1).max(500),
  /** Maintenance only: how long it lasts (default VIGIL_MAINTENANCE_HOURS, at most _MAX_HOURS). */
  hours: z.number().positive().optional(),
});

@ApiTags('devices')
@Controller('api/v1/devices')
export class DevicesController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(AlarmCommands) private readonly commands: AlarmCommands,
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Devices of the registry, within the user’s scope' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'class', required: false, enum: DEVICE_CLASSES })
  list(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser) {
    const { site, class: deviceClass } = parseOr400(deviceQuery, query);
    const visible = this.authorization.visibleSites(user);
    return this.registry.current.devices.filter(
      device =>
        (site === undefined || device.siteId === site) &&
        (deviceClass === undefined || device.deviceClass === deviceClass) &&
        visible.has(device.siteId),
    );
  }

  @Get(':siteId/:deviceId')
  @ApiOperation({ summary: 'One device' })
  one(
    @Param('siteId') siteId: string,
    @Param('deviceId') deviceId: string,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    const device = this.registry.current.device(siteId, deviceId);
    if (!device || !this.authorization.canSeeSite(user, siteId))
      throw new NotFoundException(`device ${siteId}/${deviceId} is not in the registry`);
    return device;
  }

  @Post(':siteId/:deviceId/maintenance')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Put a device in maintenance or out of service (its alarms are suppressed by design), or back',
  })
  async maintenance(
    @Param('siteId') siteId: string,
    @Param('deviceId') deviceId: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    const { mode, reason, hours } = parseOr400(maintenanceBody, body);
    const maxHours = this.config.maintenance.maxMs / 3_600_000;
    if (hours !== undefined && (mode !== 'maintenance' || hours > maxHours))
      throw new UnprocessableEntityException(
        mode === 'maintenance'
          ? `hours: maintenance may last at most ${maxHours} h (VIGIL_MAINTENANCE_MAX_HOURS)`
          : 'hours: only maintenance has a duration',
      );
    // The role first (403 whatever the device), then the device in scope (404 like a missing one).
    this.authorization.assert(user, 'maintenance');
    if (
      !this.registry.current.device(siteId, deviceId) ||
      !this.authorization.canSeeSite(user, siteId)
    )
      throw new NotFoundException(`device ${siteId}/${deviceId} is not in the registry`);
    const reply = await this.commands.execute({
      action: 'device-mode',
      siteId,
      deviceId,
      mode,
      reason,
      actor: user,
      ...(hours === undefined ? {} : { durationMs: Math.round(hours * 3_600_000) }),
    });
    if (!reply.ok) throw new HttpException(reply.message, reply.status);
    return 'device' in reply ? reply.device : reply;
  }
}

@ApiTags('sites')
@Controller('api/v1/sites')
export class SitesController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Sites in the user’s scope with their areas (polygons in metres), and the organisation tree',
  })
  list(@CurrentUser() user: AuthenticatedUser) {
    const { sites } = this.registry.current;
    return {
      organisation: this.authorization.visibleOrganisation(user),
      sites: sites
        .filter(site => this.authorization.canSeeSite(user, site.id))
        .map(({ profiles: _profiles, inspections: _inspections, ...site }) =>
          // Guarantors are served with their duty status by GET /api/v1/guarantors.
          site.hazardUnits
            ? {
                ...site,
                hazardUnits: site.hazardUnits.map(({ guarantors: _guarantors, ...unit }) => unit),
              }
            : site,
        ),
    };
  }
}

@ApiTags('alarms')
@Controller('api/v1/alarms')
export class AlarmsController {
  constructor(
    @Inject(AlarmView) private readonly view: AlarmView,
    @Inject(AlarmCommands) private readonly commands: AlarmCommands,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Alarms in the user’s scope: open ones, and recently closed ones (state=normal)',
  })
  @ApiQuery({ name: 'state', required: false, enum: [...ALARM_STATES, 'open'] })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'since', required: false, description: 'epoch ms: alarms updated at or after' })
  list(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): Alarm[] {
    return this.view
      .query(parseOr400(alarmQuery, query))
      .filter(alarm => this.authorization.canSeeSite(user, alarm.siteId));
  }

  /** Declared before `:id`, which would otherwise take `hidden` for an alarm id. */
  @Get('hidden')
  @ApiOperation({
    summary:
      'How many open alarms in the user’s scope each cause hides (maintenance, out-of-service, parent-offline, shelved), zeros included',
  })
  hidden(@CurrentUser() user: AuthenticatedUser): {
    at: number;
    hidden: Record<HiddenCause, number>;
  } {
    const at = Date.now();
    const open = this.view
      .open()
      .filter(alarm => this.authorization.canSeeSite(user, alarm.siteId));
    return { at, hidden: countHidden(open, at) };
  }

  @Get(':id')
  one(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): Alarm {
    const alarm = this.view.get(id);
    if (!alarm || !this.authorization.canSeeSite(user, alarm.siteId))
      throw new NotFoundException(`alarm ${id} not found`);
    return alarm;
  }

  @Post(':id/:action')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'acknowledge | shelve | unshelve | comment | assign | dispose | reset (see docs/interfaces.md)',
  })
  async action(
    @Param('id') id: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<Alarm> {
    const result = await runAlarmAction(
      this.view,
      this.commands,
      this.authorization,
      user,
      id,
      action,
      body,
    );
    if (!result.ok) throw new HttpException(result.message, result.status);
    return result.alarm;
  }
}
