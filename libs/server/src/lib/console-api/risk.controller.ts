import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { computeRisk } from '@vigil/alarms';
import type { RiskResponse } from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { AlarmView } from '../alarms/alarm-view';
import { RegistryHolder } from '../registry/registry-holder';
import { LiveDevices } from './live-devices';

@ApiTags('risk')
@Controller('api/v1/risk')
export class RiskController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(LiveDevices) private readonly live: LiveDevices,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Dynamic four-colour risk (红橙黄蓝) of every area, rolled up to site, enterprise, park/county and city, with the reasons',
  })
  risk(@CurrentUser() user: AuthenticatedUser): RiskResponse {
    const { organisation, sites } = this.registry.current;
    const now = Date.now();
    // computeRisk without a scope returns every root: a user refused everything gets no tree.
    const access = this.authorization.scopeOf(user);
    if (access.refused) return { at: now, roots: [] };
    return {
      at: now,
      roots: computeRisk({
        organisation,
        sites: sites.filter(site => access.sites.has(site.id)),
        alarms: this.alarms.open().filter(alarm => access.sites.has(alarm.siteId)),
        now,
        scope: user.scope,
        mhsUnits: this.registry.mhsUnits(),
        levelOf: (siteId, deviceId) => {
          const level = this.live.get(siteId, deviceId)?.values['level_pct'];
          return typeof level === 'number' ? level : undefined;
        },
      }),
    };
  }
}
