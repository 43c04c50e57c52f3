import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { computeRisk, type ForwardedEnterprise } from '@vigil/alarms';
import type { RiskResponse } from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { AlarmView } from '../alarms/alarm-view';
import { RegistryHolder } from '../registry/registry-holder';
import { UplinkReceiver } from '../uplink/uplink-receiver';
import { LiveDevices } from './live-devices';

@ApiTags('risk')
@Controller('api/v1/risk')
export class RiskController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(LiveDevices) private readonly live: LiveDevices,
    /** Present on an upper Vigil (VIGIL_UPLINK_LINKS): the enterprises below join the tree. */
    @Optional() @Inject(UplinkReceiver) private readonly uplink?: UplinkReceiver,
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
        forwarded: this.forwarded(user),
      }),
    };
  }

  /** The enterprises below whose link node the user sees (read-only, issue 15). */
  private forwarded(user: AuthenticatedUser): ForwardedEnterprise[] {
    if (!this.uplink) return [];
    return this.uplink
      .enterprises()
      .filter(enterprise => this.authorization.canSeeOrgNode(user, enterprise.node))
      .map(enterprise => {
        const sampled = enterprise.realtime.map(sample => sample.at);
        return {
          node: enterprise.node,
          enterpriseCode: enterprise.enterpriseCode,
          name: enterprise.name,
          lastReceivedAt: enterprise.lastReceivedAt,
          realtimeAt: sampled.length > 0 ? Math.max(...sampled) : undefined,
          openAlarmPriorities: enterprise.alarms
            .filter(alarm => alarm.state !== 'normal')
            .map(alarm => alarm.priority),
        };
      });
  }
}
