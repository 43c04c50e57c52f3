import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import { ALARM_CATEGORIES, IDENTIFIER_PATTERN, type AlarmHistoryResponse } from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { RegistryHolder } from '../registry/registry-holder';
import { HistoryStore } from './history-store';
import { parseOr400 } from '../common/parse';

const DAY_MS = 86_400_000;
/** The `events` retention default; a longer range only costs the database work. */
const MAX_RANGE_MS = 400 * DAY_MS;

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');

export const alarmHistoryQuery = z
  .object({
    from: z.coerce.number().int().min(0).optional(),
    to: z.coerce.number().int().min(0).optional(),
    site: identifier.optional(),
    device: identifier.optional(),
    rule: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a rule id')
      .optional(),
    category: z.enum(ALARM_CATEGORIES).optional(),
    priority: z.coerce.number().int().min(1).max(4).optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .transform(query => {
    const to = query.to ?? Date.now();
    return { ...query, to, from: query.from ?? to - DAY_MS };
  })
  .refine(query => query.from < query.to, { message: 'from must be before to', path: ['from'] })
  .refine(query => query.to - query.from <= MAX_RANGE_MS, {
    message: 'the range may span at most 400 days',
    path: ['from'],
  });

@ApiTags('alarms')
@Controller('api/v1/history')
export class AlarmHistoryController {
  constructor(
    @Inject(HistoryStore) private readonly history: HistoryStore,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  /**
   * Not `/alarms/history`: the alarms controller's `/alarms/:id` is registered first and would
   * take the request as alarm id "history".
   */
  @Get('alarms')
  @ApiOperation({
    summary: 'Alarm transitions stored in InfluxDB (newest first); 503 when history is not kept',
  })
  @ApiQuery({ name: 'from', required: false, description: 'epoch ms, default to − 24 h' })
  @ApiQuery({ name: 'to', required: false, description: 'epoch ms, default now' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'device', required: false })
  @ApiQuery({ name: 'rule', required: false })
  @ApiQuery({ name: 'category', required: false, enum: ALARM_CATEGORIES })
  @ApiQuery({ name: 'priority', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1–5000, default 500' })
  async list(
    @Query() raw: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<AlarmHistoryResponse> {
    const query = parseOr400(alarmHistoryQuery, raw);
    const visible = this.authorization.visibleSites(user);
    const sites =
      query.site === undefined ? [...visible] : visible.has(query.site) ? [query.site] : [];
    const result = { from: query.from, to: query.to, limit: query.limit };
    if (sites.length === 0) return { ...result, truncated: false, events: [] };

    // Every site visible and none asked for: no site filter at all.
    const everySite =
      sites.length >= this.registry.current.sites.length && query.site === undefined;
    const events = await this.history.alarmHistory({
      from: query.from,
      to: query.to,
      ...(everySite ? {} : { sites }),
      ...(query.device === undefined ? {} : { deviceId: query.device }),
      ...(query.rule === undefined ? {} : { ruleId: query.rule }),
      ...(query.category === undefined ? {} : { category: query.category }),
      ...(query.priority === undefined ? {} : { priority: query.priority }),
      limit: query.limit,
    });
    return { ...result, truncated: events.length >= query.limit, events };
  }
}
