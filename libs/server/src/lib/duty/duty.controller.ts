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
  SHIFT_COMMANDS,
  type DutyActor,
  type ShiftCommandName,
  type ShiftResult,
} from '@vigil/alarms';
import {
  DUTY_SNAPSHOT_MAX_ITEMS,
  IDENTIFIER_PATTERN,
  SHIFT_STATES,
  type DutyRoom,
  type Shift,
  type ShiftView,
} from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseCommandOr404, parseOr400 } from '../common/parse';
import { RegistryHolder } from '../registry/registry-holder';
import { ShiftService } from './shift.service';

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const note = z.string().max(2000).optional();
/** Users on one shift at most (lead excluded). */
const MAX_OPERATORS = 50;
/** Sites one control room watches at most. */
const MAX_SITES = 50;

const crew = {
  /** 值班长: the user id of the shift lead, who signs. */
  lead: identifier,
  /** 值班员: user ids of the operators on the shift. */
  operators: z.array(identifier).max(MAX_OPERATORS).default([]),
  /** When the shift is planned to end (epoch ms): a hand-over is due by then. */
  plannedEnd: z.number().int().min(0),
};

export const startShiftBody = z.strictObject({
  siteId: identifier,
  /** An area of kind `control-room` of the site. */
  roomId: identifier,
  /** The sites the control room watches; the room's own site is always one of them. */
  sites: z.array(identifier).max(MAX_SITES).optional(),
  ...crew,
  note,
});

/** Bodies of the steps; the signing user comes from the token, never from the body. */
export const SHIFT_ACTION_BODIES = {
  'hand-over': z.strictObject({
    /** 交班记事: what the incoming shift must know. */
    notes: z.string().max(4000).default(''),
    incoming: z.strictObject(crew),
  }),
  sign: z.strictObject({ note }),
  accept: z.strictObject({
    /** Refs (`alarm:<id>`, `hazard:<id>`, `permit:<id>`) of the changes since the snapshot seen. */
    seen: z
      .array(z.string().max(200))
      .max(3 * DUTY_SNAPSHOT_MAX_ITEMS)
      .default([]),
    note,
  }),
} as const satisfies Record<ShiftCommandName, z.ZodType>;

export const shiftQuery = z.strictObject({
  site: identifier.optional(),
  room: identifier.optional(),
  state: z.enum(SHIFT_STATES).optional(),
});

/**
 * The duty log over HTTP (docs/interfaces.md §Duty). Authorised by site like the hazard ledger
 * and the permits (`AuthorizationService.canSeeSite` on the control room's site: outside the scope is 404,
 * like absent); every signature also needs scope over every site the control room watches (403).
 */
@ApiTags('duty')
@Controller('api/v1/duty')
export class DutyController {
  constructor(
    @Inject(ShiftService) private readonly shifts: ShiftService,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
  ) {}

  @Get('rooms')
  @ApiOperation({ summary: 'Control rooms within the user’s scope and the shift on duty in each' })
  rooms(@CurrentUser() user: AuthenticatedUser): DutyRoom[] {
    return this.registry.current.sites
      .filter(site => this.authorization.canSeeSite(user, site.id))
      .flatMap(site =>
        site.areas
          .filter(area => area.kind === 'control-room')
          .map(area => {
            const onDuty = this.shifts.onDutyIn(site.id, area.id);
            return {
              siteId: site.id,
              roomId: area.id,
              name: area.name,
              ...(onDuty ? { onDuty: this.shifts.view(onDuty) } : {}),
            };
          }),
      );
  }

  @Get('shifts')
  @ApiOperation({ summary: 'Shifts of the control rooms within the user’s scope, newest first' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'room', required: false })
  @ApiQuery({ name: 'state', required: false, enum: SHIFT_STATES })
  list(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): ShiftView[] {
    const { site, room, state } = parseOr400(shiftQuery, query);
    return this.shifts
      .list()
      .filter(
        shift =>
          this.authorization.canSeeSite(user, shift.siteId) &&
          (site === undefined || shift.siteId === site) &&
          (room === undefined || shift.roomId === room) &&
          (state === undefined || shift.state === state),
      )
      .sort((a, b) => b.no - a.no)
      .map(shift => this.shifts.view(shift));
  }

  @Get('shifts/:id')
  @ApiOperation({
    summary: 'One shift with its hand-over (snapshot, signatures, changes since) and history',
  })
  one(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): ShiftView {
    return this.shifts.view(this.visibleOne(id, user));
  }

  @Post('shifts')
  @ApiOperation({
    summary: 'The first shift of a control room comes on duty, signed by its lead',
  })
  start(@Body() body: unknown, @CurrentUser() user: AuthenticatedUser): ShiftView {
    this.authorization.assert(user, 'duty');
    const input = parseOr400(startShiftBody, body);
    const registry = this.registry.current;
    const site = registry.site(input.siteId);
    if (!site || !this.authorization.canSeeSite(user, input.siteId))
      throw new NotFoundException(`site ${input.siteId} is not in the registry`);
    const room = site.areas.find(area => area.id === input.roomId);
    if (room?.kind !== 'control-room')
      throw new UnprocessableEntityException(
        `roomId: site ${site.id} has no control room (area of kind control-room) ${input.roomId}`,
      );
    const sites = [...new Set([site.id, ...(input.sites ?? [])])];
    const unknown = sites.filter(id => !registry.site(id));
    if (unknown.length > 0)
      throw new UnprocessableEntityException(`sites: not in the registry: ${unknown.join(', ')}`);
    return this.answer(
      this.shifts.start(
        {
          siteId: site.id,
          roomId: room.id,
          sites,
          crew: { lead: input.lead, operators: input.operators },
          plannedEnd: input.plannedEnd,
          note: input.note,
        },
        actorOf(user),
      ),
    );
  }

  @Post('shifts/:id/:action')
  @HttpCode(200)
  @ApiOperation({
    summary: `${SHIFT_COMMANDS.join(' | ')}: the outgoing lead opens (snapshot) and signs, the incoming lead accepts (answers the shift now on duty); see docs/interfaces.md §Duty`,
  })
  action(
    @Param('id') id: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): ShiftView {
    this.authorization.assert(user, 'duty');
    const { name, fields: parsed } = parseCommandOr404(
      SHIFT_COMMANDS,
      SHIFT_ACTION_BODIES,
      action,
      body,
    );
    this.visibleOne(id, user);
    return this.answer(
      this.shifts.execute(
        id,
        { action: name, ...parsed } as Parameters<ShiftService['execute']>[1],
        actorOf(user),
      ),
    );
  }

  /** The shift on duty after the step (the incoming one after an acceptance), or the refusal. */
  private answer(result: ShiftResult): ShiftView {
    if (!result.ok)
      throw new HttpException(
        {
          statusCode: result.status,
          message: result.message,
          ...(result.changes ? { changes: result.changes } : {}),
        },
        result.status,
      );
    const shift = result.shifts[result.shifts.length - 1];
    if (!shift) throw new Error('a step changed no shift');
    return this.shifts.view(shift);
  }

  private visibleOne(id: string, user: AuthenticatedUser): Shift {
    const shift = this.shifts.get(id);
    if (!shift || !this.authorization.canSeeSite(user, shift.siteId))
      throw new NotFoundException(`shift ${id} not found`);
    return shift;
  }
}

function actorOf(user: AuthenticatedUser): DutyActor {
  return { id: user.id, role: user.role, scope: user.scope };
}
