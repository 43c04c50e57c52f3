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

import { PERMIT_COMMANDS, type PermitActor, type PermitCommandName } from '@vigil/alarms';
import {
  IDENTIFIER_PATTERN,
  PERMIT_KINDS,
  PERMIT_STATES,
  type Permit,
  type PermitView,
} from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseCommandOr404, parseOr400 } from '../common/parse';
import { RegistryHolder } from '../registry/registry-holder';
import { PermitService } from './permit.service';

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const text = (max: number) => z.string().trim().min(1).max(max);
const note = z.string().max(2000).optional();
const limit = z.number().min(0).max(1e6).optional();

export const createPermitBody = z.strictObject({
  kind: z.enum(PERMIT_KINDS),
  title: text(200),
  siteId: identifier,
  areaId: identifier,
  /** The work window, epoch ms. */
  from: z.number().int().min(0),
  to: z.number().int().min(0),
  /** Personnel tag ids of the site (作业人员). */
  workers: z.array(identifier).min(1).max(50),
  /** 监护人: a name or user id. */
  guardian: text(200),
  limits: z
    .strictObject({
      maxLel: limit,
      maxToxicPpm: limit,
      oxygenMin: limit,
      oxygenMax: limit,
    })
    .default({}),
  note,
});

/** Bodies of the steps; the acting user comes from the token, never from the body. */
export const PERMIT_ACTION_BODIES = {
  approve: z.strictObject({ note }),
  start: z.strictObject({ note }),
  suspend: z.strictObject({ note: text(2000) }),
  resume: z.strictObject({ note }),
  close: z.strictObject({ note }),
} as const satisfies Record<PermitCommandName, z.ZodType>;

export const permitQuery = z.strictObject({
  site: identifier.optional(),
  area: identifier.optional(),
  state: z.enum([...PERMIT_STATES, 'open']).optional(),
});

/**
 * Special-operation permits over HTTP (docs/interfaces.md §Permits). Authorised by site exactly
 * like the hazard ledger (`AuthorizationService`): a permit or site outside the user's scope is
 * answered 404, like one that does not exist.
 */
@ApiTags('permits')
@Controller('api/v1/permits')
export class PermitsController {
  constructor(
    @Inject(PermitService) private readonly permits: PermitService,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Special-operation permits within the user’s scope, newest first' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'area', required: false })
  @ApiQuery({ name: 'state', required: false, enum: [...PERMIT_STATES, 'open'] })
  list(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): PermitView[] {
    const { site, area, state } = parseOr400(permitQuery, query);
    return this.permits
      .list()
      .filter(
        permit =>
          this.authorization.canSeeSite(user, permit.siteId) &&
          (site === undefined || permit.siteId === site) &&
          (area === undefined || permit.areaId === area) &&
          (state === undefined ||
            (state === 'open' ? permit.state !== 'closed' : permit.state === state)),
      )
      .sort((a, b) => b.no - a.no)
      .map(permit => this.permits.view(permit));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One permit with its signed history and last gas analysis' })
  one(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): PermitView {
    return this.permits.view(this.visibleOne(id, user));
  }

  @Post()
  @ApiOperation({ summary: 'Request a permit for an area, a time window and named workers' })
  create(@Body() body: unknown, @CurrentUser() user: AuthenticatedUser): PermitView {
    const input = parseOr400(createPermitBody, body);
    this.authorization.assert(user, 'permit');
    const site = this.registry.current.site(input.siteId);
    if (!site || !this.authorization.canSeeSite(user, input.siteId))
      throw new NotFoundException(`site ${input.siteId} is not in the registry`);
    if (!site.areas.some(area => area.id === input.areaId))
      throw new UnprocessableEntityException(`areaId: site ${site.id} has no area ${input.areaId}`);
    const notTags = input.workers.filter(
      id => this.registry.current.device(site.id, id)?.deviceClass !== 'tag',
    );
    if (notTags.length > 0)
      throw new UnprocessableEntityException(
        `workers: not personnel tags of site ${site.id}: ${notTags.join(', ')}`,
      );
    const result = this.permits.request(
      {
        kind: input.kind,
        title: input.title,
        siteId: site.id,
        enterprise: site.enterprise,
        areaId: input.areaId,
        from: input.from,
        to: input.to,
        workers: input.workers,
        guardian: input.guardian,
        limits: input.limits,
        note: input.note,
      },
      actorOf(user),
    );
    if (!result.ok) throw new HttpException(result.message, result.status);
    return this.permits.view(result.permit);
  }

  @Post(':id/:action')
  @HttpCode(200)
  @ApiOperation({
    summary: `${PERMIT_COMMANDS.join(' | ')} (start and resume check the area's gas; see docs/interfaces.md §Permits)`,
  })
  action(
    @Param('id') id: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): PermitView {
    const { name, fields: parsed } = parseCommandOr404(
      PERMIT_COMMANDS,
      PERMIT_ACTION_BODIES,
      action,
      body,
    );
    this.authorization.assert(user, 'permit');
    this.visibleOne(id, user);
    const result = this.permits.execute(
      id,
      { action: name, ...parsed } as Parameters<PermitService['execute']>[1],
      actorOf(user),
    );
    if (!result.ok) throw new HttpException(result.message, result.status);
    return this.permits.view(result.permit);
  }

  private visibleOne(id: string, user: AuthenticatedUser): Permit {
    const permit = this.permits.get(id);
    if (!permit || !this.authorization.canSeeSite(user, permit.siteId))
      throw new NotFoundException(`permit ${id} not found`);
    return permit;
  }
}

function actorOf(user: AuthenticatedUser): PermitActor {
  return { id: user.id, role: user.role, scope: user.scope };
}
