import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import { alarmPerformance } from '@vigil/alarms';
import type { AlarmPerformanceReport } from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { AlarmActivity } from '../alarms/alarm-activity';
import { AlarmView } from '../alarms/alarm-view';
import { parseOr400 } from '../common/parse';

const DAY = 24 * 60 * 60_000;
export const reportQuery = z.object({
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
  site: z.string().optional(),
});

/** EEMUA 191 / ISA-18.2 alarm-system performance per console scope. */
@ApiTags('reports')
@Controller('api/v1/reports')
export class ReportsController {
  constructor(
    @Inject(AlarmActivity) private readonly activity: AlarmActivity,
    @Inject(AlarmView) private readonly view: AlarmView,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Get('alarm-performance')
  @ApiOperation({
    summary:
      'Alarms per 10 min, floods, standing, chattering and most frequent alarms (default: last 24 h)',
  })
  @ApiQuery({ name: 'from', required: false, description: 'epoch ms' })
  @ApiQuery({ name: 'to', required: false, description: 'epoch ms' })
  @ApiQuery({ name: 'site', required: false })
  async performance(
    @Query() query: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<AlarmPerformanceReport> {
    const { from: fromMs, to: toMs, site } = parseOr400(reportQuery, query);
    const now = Date.now();
    const to = toMs ?? now;
    const from = fromMs ?? to - DAY;
    const sites = this.authorization.visibleSites(user);
    const visible = (siteId: string) =>
      (site === undefined || site === siteId) && sites.has(siteId);
    const { raises, source, tests } = await this.activity.raises(from, to);
    const open = this.view.open().filter(alarm => visible(alarm.siteId));
    return {
      scope: user.scope,
      source,
      ...alarmPerformance(
        raises.filter(r => visible(r.siteId)),
        open,
        from,
        to,
        now,
        tests,
      ),
    };
  }
}
