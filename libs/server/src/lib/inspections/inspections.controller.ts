import {
  Body,
  Controller,
  Get,
  HttpException,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import type { HazardActor } from '@vigil/alarms';
import {
  IDENTIFIER_PATTERN,
  INSPECTION_ANSWERS,
  INSPECTION_LEVELS,
  MAX_INSPECTION_ITEMS,
  type InspectionMiss,
  type InspectionRecord,
  type InspectionScheduleView,
} from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseOr400 } from '../common/parse';
import { InspectionService } from './inspection.service';

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const flag = z.enum(['true', 'false']).transform(value => value === 'true');

/** A signed inspection: the user who records it is the inspector (from the token, never the body). */
export const createInspectionBody = z.strictObject({
  siteId: identifier,
  scheduleId: identifier,
  /** Every item of the checklist, once: pass, fail (with a note: what was found) or na. */
  answers: z
    .array(
      z.strictObject({
        itemId: identifier,
        answer: z.enum(INSPECTION_ANSWERS),
        note: z.string().max(2000).optional(),
      }),
    )
    .max(MAX_INSPECTION_ITEMS),
  note: z.string().max(2000).optional(),
});

export const scheduleQuery = z.strictObject({
  site: identifier.optional(),
  level: z.enum(INSPECTION_LEVELS).optional(),
  overdue: flag.optional(),
});

export const recordQuery = z.strictObject({
  site: identifier.optional(),
  schedule: identifier.optional(),
  /** Newest first, at most this many (100 unless set; 1000 at most). */
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const missedQuery = z.strictObject({
  site: identifier.optional(),
  schedule: identifier.optional(),
  /** true: not yet made up by an inspection. */
  open: flag.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * Inspection schedules and records over HTTP (docs/interfaces.md §Inspections). Authorised by site
 * like the hazard ledger (`AuthorizationService.canSeeSite`): a site, schedule or record outside the user's
 * scope is answered 404, like one that does not exist. Without the alarm lifecycle in this process
 * (split deployment) every operation answers 503: a missed inspection would raise no alarm.
 */
@ApiTags('inspections')
@Controller('api/v1/inspections')
export class InspectionsController {
  constructor(
    @Inject(InspectionService) private readonly inspections: InspectionService,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Get('schedules')
  @ApiOperation({
    summary:
      'Inspection schedules within the user’s scope: the window open now, its due time, the last record, missed windows not made up',
  })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'level', required: false, enum: INSPECTION_LEVELS })
  @ApiQuery({ name: 'overdue', required: false, enum: ['true', 'false'] })
  schedules(
    @Query() query: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): InspectionScheduleView[] {
    const { site, level, overdue } = parseOr400(scheduleQuery, query);
    this.available();
    return this.inspections
      .schedules()
      .filter(
        schedule =>
          this.authorization.canSeeSite(user, schedule.siteId) &&
          (site === undefined || schedule.siteId === site) &&
          (level === undefined || schedule.level === level),
      )
      .map(schedule => this.inspections.view(schedule))
      .filter(view => overdue === undefined || view.overdue === overdue)
      .sort((a, b) => Number(b.overdue) - Number(a.overdue) || a.dueAt - b.dueAt);
  }

  @Get('records')
  @ApiOperation({ summary: 'Signed inspection records within the user’s scope, newest first' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'schedule', required: false })
  @ApiQuery({ name: 'limit', required: false })
  records(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): InspectionRecord[] {
    const { site, schedule, limit } = parseOr400(recordQuery, query);
    this.available();
    return this.inspections
      .records()
      .filter(
        record =>
          this.authorization.canSeeSite(user, record.siteId) &&
          (site === undefined || record.siteId === site) &&
          (schedule === undefined || record.scheduleId === schedule),
      )
      .sort((a, b) => b.no - a.no)
      .slice(0, limit);
  }

  @Get('records/:id')
  @ApiOperation({ summary: 'One signed inspection record with its answers and hazards' })
  one(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): InspectionRecord {
    this.available();
    const record = this.inspections.record(id);
    if (!record || !this.authorization.canSeeSite(user, record.siteId))
      throw new NotFoundException(`inspection record ${id} not found`);
    return record;
  }

  @Get('missed')
  @ApiOperation({
    summary: 'Windows that closed without an inspection, newest first (each raised an alarm)',
  })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'schedule', required: false })
  @ApiQuery({ name: 'open', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'limit', required: false })
  missed(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): InspectionMiss[] {
    const { site, schedule, open, limit } = parseOr400(missedQuery, query);
    this.available();
    return this.inspections
      .missed()
      .filter(
        miss =>
          this.authorization.canSeeSite(user, miss.siteId) &&
          (site === undefined || miss.siteId === site) &&
          (schedule === undefined || miss.scheduleId === schedule) &&
          (open === undefined || (miss.resolvedAt === undefined) === open),
      )
      .sort((a, b) => b.window.end - a.window.end)
      .slice(0, limit);
  }

  @Post('records')
  @ApiOperation({
    summary:
      'Record an inspection, signed by the user: each failed item opens a hazard in the ledger; a late one clears the missed alarms',
  })
  create(@Body() body: unknown, @CurrentUser() user: AuthenticatedUser): InspectionRecord {
    this.authorization.assert(user, 'inspection');
    const input = parseOr400(createInspectionBody, body);
    this.available();
    if (
      !this.authorization.canSeeSite(user, input.siteId) ||
      !this.inspections.schedule(input.siteId, input.scheduleId)
    )
      throw new NotFoundException(
        `no inspection schedule ${input.scheduleId} in site ${input.siteId}`,
      );
    const result = this.inspections.recordInspection(
      input.siteId,
      input.scheduleId,
      { answers: input.answers, note: input.note },
      actorOf(user),
    );
    if (!result.ok) throw new HttpException(result.message, result.status);
    return result.record;
  }

  private available(): void {
    if (this.inspections.unavailable !== undefined)
      throw new ServiceUnavailableException(this.inspections.unavailable);
  }
}

function actorOf(user: AuthenticatedUser): HazardActor {
  return { id: user.id, role: user.role, scope: user.scope };
}
