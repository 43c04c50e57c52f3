import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { computeRisk } from '@vigil/alarms';
import type { RiskResponse } from '@vigil/contracts';

import { AlarmView } from '../gateway/alarm-view';
import { RegistryHolder } from '../registry/registry-holder';
import { LiveDevices } from './live-devices';
import { requestScope } from './request';

@ApiTags('risk')
@Controller('api/v1/risk')
export class RiskController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(LiveDevices) private readonly live: LiveDevices,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Dynamic four-colour risk (红橙黄蓝) of every area, rolled up to site, enterprise, park/county and city, with the reasons',
  })
  risk(@Req() request: unknown): RiskResponse {
    const { organisation, sites } = this.registry.current;
    const now = Date.now();
    return {
      at: now,
      roots: computeRisk({
        organisation,
        sites,
        alarms: this.alarms.open(),
        now,
        scope: requestScope(request),
        mhsUnits: this.registry.mhsUnits(),
        levelOf: (siteId, deviceId) => {
          const level = this.live.get(siteId, deviceId)?.values['level_pct'];
          return typeof level === 'number' ? level : undefined;
        },
      }),
    };
  }
}
