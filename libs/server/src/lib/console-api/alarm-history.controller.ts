import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import {
  ALARM_CATEGORIES,
  IDENTIFIER_PATTERN,
  type AlarmHistoryEvent,
  type AlarmHistoryResponse,
} from '@vigil/contracts';
import { MEASUREMENT_COLUMNS, quoteIdentifier, quoteString, type QueryRow } from '@vigil/storage';

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

/** Every column of `alarm_event`, from the storage schema: one list, not a copy of it. */
const FIELDS = [...MEASUREMENT_COLUMNS.alarm_event.fields, ...MEASUREMENT_COLUMNS.alarm_event.tags];

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** One row of measurement `alarm_event` (libs/storage/README.md). */
function toEvent(row: QueryRow): AlarmHistoryEvent {
  return {
    time: Number(row['time']),
    alarmId: str(row['alarm_id']) ?? '',
    siteId: str(row['site']) ?? '',
    deviceId: str(row['device']) ?? '',
    ruleId: str(row['rule']) ?? '',
    level: str(row['level']) ?? '',
    priority: Number(row['priority']),
    category: str(row['category']) ?? '',
    action: str(row['action']) ?? '',
    state: str(row['state']) ?? '',
    active: row['active'] === true,
    value:
      num(row['value']) ?? (typeof row['value_bool'] === 'boolean' ? row['value_bool'] : undefined),
    threshold: num(row['threshold']),
    metric: str(row['metric']),
    message: str(row['message']) ?? '',
    by: str(row['by']),
    note: str(row['note']),
  };
}

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

    const where = [`time >= ${query.from}ms`, `time < ${query.to}ms`];
    if (sites.length < this.registry.current.sites.length || query.site !== undefined)
      where.push(`(${sites.map(site => `site = ${quoteString(site)}`).join(' OR ')})`);
    if (query.device !== undefined) where.push(`device = ${quoteString(query.device)}`);
    if (query.rule !== undefined) where.push(`rule = ${quoteString(query.rule)}`);
    if (query.category !== undefined) where.push(`category = ${quoteString(query.category)}`);
    if (query.priority !== undefined) where.push(`priority = '${query.priority}'`);
    const from = `${quoteIdentifier(this.history.database)}."events"."alarm_event"`;
    const rows = await this.history.query(
      `SELECT ${FIELDS.map(quoteIdentifier).join(', ')} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT ${query.limit}`,
    );
    return { ...result, truncated: rows.length >= query.limit, events: rows.map(toEvent) };
  }
}
