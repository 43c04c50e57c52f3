import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import { IDENTIFIER_PATTERN, type MhsGuarantorsView } from '@vigil/contracts';

import { AlarmView } from '../alarms/alarm-view';
import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseOr400 } from '../common/parse';
import { HazardService } from '../hazards/hazard.service';
import { GuarantorsService } from './guarantors.service';

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');

export const guarantorsQuery = z.strictObject({
  site: identifier.optional(),
  /** Only the sources this user is a guarantor of. */
  user: identifier.optional(),
});

/**
 * Major-hazard-source guarantors (包保责任人) over HTTP (docs/interfaces.md §Guarantors). Authorised
 * by site like the hazard ledger: a site, alarm or hazard outside the user's scope is answered 404,
 * like one that does not exist.
 */
@ApiTags('guarantors')
@Controller('api/v1/guarantors')
export class GuarantorsController {
  constructor(
    @Inject(GuarantorsService) private readonly guarantors: GuarantorsService,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(HazardService) private readonly hazards: HazardService,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Major hazard sources within the user’s scope with their guarantors, each one’s duty status, open alarms and overdue hazards',
  })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'user', required: false, description: 'sources this user guarantees' })
  list(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): MhsGuarantorsView[] {
    const { site, user: guarantor } = parseOr400(guarantorsQuery, query);
    const visible = this.authorization.visibleSites(user);
    const sites = site === undefined ? visible : new Set(visible.has(site) ? [site] : []);
    return this.guarantors
      .sources(sites)
      .filter(
        source =>
          guarantor === undefined || source.guarantors.some(each => each.userId === guarantor),
      );
  }

  @Get('alarm/:id')
  @ApiOperation({ summary: 'The major hazard sources an alarm belongs to, with their guarantors' })
  ofAlarm(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): MhsGuarantorsView[] {
    const alarm = this.alarms.get(id);
    if (!alarm || !this.authorization.canSeeSite(user, alarm.siteId))
      throw new NotFoundException(`alarm ${id} not found (open or recently closed alarms only)`);
    return this.guarantors.ofAlarm(alarm);
  }

  @Get('hazard/:id')
  @ApiOperation({ summary: 'The major hazard sources a hazard is at, with their guarantors' })
  ofHazard(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): MhsGuarantorsView[] {
    const hazard = this.hazards.get(id);
    if (!hazard || !this.authorization.canSeeSite(user, hazard.siteId))
      throw new NotFoundException(`hazard ${id} not found`);
    return this.guarantors.ofHazard(hazard);
  }
}
