import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import {
  DEVICE_HEALTH_STATUSES,
  IDENTIFIER_PATTERN,
  type Alarm,
  type DeviceHealth,
  type DeviceHealthResponse,
  type DeviceHealthStatus,
  type DeviceLive,
} from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { AlarmView } from '../alarms/alarm-view';
import { parseOr400 } from '../common/parse';
import { RegistryHolder } from '../registry/registry-holder';
import { LiveDevices, type LiveDevice } from './live-devices';

/** Silent for more than this many reporting intervals: stale (before the offline rule fires). */
const STALE_INTERVALS = 2;
/** domain-standards §9 P4 "battery": a tag below this needs charging before the next shift. */
const LOW_BATTERY_PCT = 20;

export const healthQuery = z.object({
  site: z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}').optional(),
});

export function deviceHealth(
  device: RegisteredDevice,
  live: LiveDevice | undefined,
  alarms: readonly Alarm[],
  now: number,
): DeviceHealth {
  const quality = alarms.filter(alarm => alarm.category === 'quality');
  const silentMs = live ? Math.max(0, now - live.lastSeenAt) : undefined;
  const battery = live?.values['battery_pct'];
  let status: DeviceHealthStatus = 'ok';
  if (quality.some(alarm => alarm.ruleId === 'offline') || live?.online === false)
    status = 'offline';
  else if (quality.length > 0) status = 'fault';
  else if (silentMs === undefined) status = 'unknown';
  else if (silentMs > STALE_INTERVALS * device.intervalSeconds * 1000) status = 'stale';
  return {
    siteId: device.siteId,
    deviceId: device.deviceId,
    name: device.name,
    deviceClass: device.deviceClass,
    areaId: device.areaId,
    intervalSeconds: device.intervalSeconds,
    status,
    lastSeenAt: live?.lastSeenAt,
    silentMs,
    online: live?.online,
    clockSkewMs: live?.clockSkewMs,
    battery: typeof battery === 'number' ? battery : undefined,
    lowBattery: typeof battery === 'number' && battery < LOW_BATTERY_PCT,
    qualityAlarms: quality.map(({ id, ruleId, level, priority, state, raisedAt, message }) => ({
      id,
      ruleId,
      level,
      priority,
      state,
      raisedAt,
      message,
    })),
    openAlarms: alarms.length - quality.length,
  };
}

@ApiTags('devices')
@Controller('api/v1/devices')
export class DeviceHealthController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(LiveDevices) private readonly live: LiveDevices,
    @Inject(AlarmView) private readonly alarms: AlarmView,
  ) {}

  @Get('health')
  @ApiOperation({
    summary: 'Per device: last seen, stale/offline, data-quality alarms, battery; worst first',
  })
  @ApiQuery({ name: 'site', required: false })
  health(@Query() raw: unknown, @CurrentUser() user: AuthenticatedUser): DeviceHealthResponse {
    const { site } = parseOr400(healthQuery, raw);
    const registry = this.registry.current;
    const visible = this.authorization.visibleSites(user);
    const byDevice = new Map<string, Alarm[]>();
    for (const alarm of this.alarms.open()) {
      const key = `${alarm.siteId}/${alarm.deviceId}`;
      const list = byDevice.get(key);
      if (list) list.push(alarm);
      else byDevice.set(key, [alarm]);
    }
    const now = Date.now();
    const devices = registry.devices
      .filter(
        device => visible.has(device.siteId) && (site === undefined || device.siteId === site),
      )
      .map(device =>
        deviceHealth(
          device,
          this.live.get(device.siteId, device.deviceId),
          byDevice.get(`${device.siteId}/${device.deviceId}`) ?? [],
          now,
        ),
      )
      .sort(
        (a, b) =>
          DEVICE_HEALTH_STATUSES.indexOf(a.status) - DEVICE_HEALTH_STATUSES.indexOf(b.status) ||
          Number(b.lowBattery) - Number(a.lowBattery) ||
          a.siteId.localeCompare(b.siteId) ||
          a.deviceId.localeCompare(b.deviceId),
      );
    const summary: Record<DeviceHealthStatus, number> = {
      offline: 0,
      fault: 0,
      stale: 0,
      unknown: 0,
      ok: 0,
    };
    for (const device of devices) summary[device.status] += 1;
    return {
      at: now,
      summary: { ...summary, lowBattery: devices.filter(device => device.lowBattery).length },
      devices,
    };
  }

  @Get(':siteId/:deviceId/live')
  @ApiOperation({
    summary: "One device's health and latest value per metric (what a device panel shows first)",
  })
  one(
    @Param('siteId') siteId: string,
    @Param('deviceId') deviceId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): DeviceLive {
    const registry = this.registry.current;
    const device = registry.device(siteId, deviceId);
    if (!device || !this.authorization.visibleSites(user).has(siteId))
      throw new NotFoundException(`device ${siteId}/${deviceId} is not in the registry`);
    const state = this.live.get(siteId, deviceId);
    const alarms = this.alarms
      .open()
      .filter(alarm => alarm.siteId === siteId && alarm.deviceId === deviceId);
    return {
      ...deviceHealth(device, state, alarms, Date.now()),
      lastReadingTs: state?.lastReadingTs,
      values: { ...state?.values },
    };
  }
}
