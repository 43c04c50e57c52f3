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
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';

import type { HazardActor } from '@vigil/alarms';
import {
  HAZARD_COMMANDS,
  HAZARD_DISPOSITIONS,
  HAZARD_LEVELS,
  HAZARD_PHOTO_STEPS,
  HAZARD_PHOTO_TYPES,
  HAZARD_STATES,
  HAZARD_STATS_BY,
  IDENTIFIER_PATTERN,
  hazardOverdue,
  type Disposition,
  type Hazard,
  type HazardCommandName,
  type HazardPhotoUpload,
  type HazardStats,
} from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { AlarmView } from '../alarms/alarm-view';
import { parseCommandOr404, parseOr400 } from '../common/parse';
import { JournalWriteError } from '../journal/jsonl-journal';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import {
  PhotoReadError,
  PhotoWriteError,
  SHA256_PATTERN,
  readBoundedBody,
  sniffPhotoType,
} from './hazard-photo-store';
import {
  HAZARD_CLOCK,
  HazardService,
  type HazardClock,
  type HazardStatsGroup,
} from './hazard.service';
import { UploadBodyStream, type UploadBody } from './upload-body';

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const text = (max: number) => z.string().trim().min(1).max(max);
const note = z.string().max(2000).optional();

/** 五落实; every field optional here, the lifecycle says which are missing (422). */
export const hazardPlanBody = z.strictObject({
  responsible: text(200).optional(),
  measures: text(4000).optional(),
  /** yuan (元) */
  funds: z.number().min(0).max(1e12).optional(),
  /** epoch ms */
  deadline: z.number().int().min(0).optional(),
  contingencyPlan: text(4000).optional(),
});

export const createHazardBody = z.strictObject({
  title: text(200),
  description: z.string().max(4000).default(''),
  level: z.enum(HAZARD_LEVELS),
  /** `alarm` is implied by `alarmId`. */
  source: z.enum(['inspection', 'manual']).default('manual'),
  /** An alarm disposed as real-event or device-fault: site, area and device come from it. */
  alarmId: z.string().min(1).max(64).optional(),
  siteId: identifier.optional(),
  areaId: identifier.optional(),
  deviceIds: z.array(identifier).max(50).optional(),
  /** References to photos (URLs or file ids). */
  photos: z.array(z.string().min(1).max(500)).max(20).default([]),
  plan: hazardPlanBody.default({}),
  interimMeasures: text(4000).optional(),
  note,
});

/** Bodies of the lifecycle steps; the acting user comes from the token, never from the body. */
export const HAZARD_ACTION_BODIES = {
  assign: z.strictObject({ assignee: identifier, plan: hazardPlanBody.optional(), note }),
  start: z.strictObject({ note }),
  interim: z.strictObject({ measures: text(4000) }),
  rectify: z.strictObject({ note: text(2000) }),
  reject: z.strictObject({ note: text(2000) }),
  accept: z.strictObject({ note }),
  approve: z.strictObject({ note }),
  close: z.strictObject({ note }),
} as const satisfies Record<HazardCommandName, z.ZodType>;

const flag = z.enum(['true', 'false']).transform(value => value === 'true');
export const hazardQuery = z.strictObject({
  site: identifier.optional(),
  enterprise: identifier.optional(),
  state: z.enum([...HAZARD_STATES, 'open']).optional(),
  level: z.enum(HAZARD_LEVELS).optional(),
  overdue: flag.optional(),
  alarm: z.string().min(1).max(64).optional(),
});
export const hazardPhotoQuery = z.strictObject({
  /** The step the photo documents: the hazard as found, or its rectification. */
  step: z.enum(HAZARD_PHOTO_STEPS).default('report'),
});

/** File name extension of each stored type (Content-Disposition). */
const PHOTO_EXTENSIONS = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
} as const satisfies Record<(typeof HAZARD_PHOTO_TYPES)[number], string>;

export const hazardStatsQuery = z.strictObject({
  by: z.enum(HAZARD_STATS_BY).default('enterprise'),
});

/**
 * The hazard ledger over HTTP (docs/interfaces.md §Hazards). Fail-closed: a hazard or site
 * outside the user's scope is answered 404, exactly like one that does not exist.
 */
@ApiTags('hazards')
@Controller('api/v1/hazards')
export class HazardsController {
  constructor(
    @Inject(HazardService) private readonly hazards: HazardService,
    @Inject(AlarmView) private readonly alarms: AlarmView,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(HAZARD_CLOCK) private readonly clock: HazardClock,
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The hazard ledger within the user’s scope, newest first' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'enterprise', required: false })
  @ApiQuery({ name: 'state', required: false, enum: [...HAZARD_STATES, 'open'] })
  @ApiQuery({ name: 'level', required: false, enum: HAZARD_LEVELS })
  @ApiQuery({ name: 'overdue', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'alarm', required: false, description: 'the hazard an alarm opened' })
  list(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): Hazard[] {
    const { site, enterprise, state, level, overdue, alarm } = parseOr400(hazardQuery, query);
    const now = this.clock();
    return this.visible(user)
      .filter(
        hazard =>
          (site === undefined || hazard.siteId === site) &&
          (enterprise === undefined || hazard.enterprise === enterprise) &&
          (state === undefined ||
            (state === 'open' ? hazard.state !== 'closed' : hazard.state === state)) &&
          (level === undefined || hazard.level === level) &&
          (overdue === undefined || hazardOverdue(hazard, now) === overdue) &&
          (alarm === undefined || hazard.alarmId === alarm),
      )
      .sort((a, b) => b.no - a.no);
  }

  /** Declared before `:id`, which would otherwise take `stats` for a hazard id. */
  @Get('stats')
  @ApiOperation({
    summary:
      'Open, overdue and closed hazards per level, by enterprise, site or region, within the user’s scope',
  })
  @ApiQuery({ name: 'by', required: false, enum: HAZARD_STATS_BY })
  stats(@Query() query: unknown, @CurrentUser() user: AuthenticatedUser): HazardStats {
    const { by } = parseOr400(hazardStatsQuery, query);
    const now = this.clock();
    const registry = this.registry.current;
    const sites = registry.sites.filter(site => this.authorization.canSeeSite(user, site.id));
    let groups: HazardStatsGroup[];
    let keysOf: (hazard: Hazard) => readonly string[];
    if (by === 'site') {
      groups = sites.map(site => ({
        key: site.id,
        row: { enterprise: site.enterprise, siteId: site.id },
      }));
      keysOf = hazard => [hazard.siteId];
    } else if (by === 'enterprise') {
      groups = [...new Set(sites.map(site => site.enterprise))].map(enterprise => ({
        key: enterprise,
        row: { enterprise },
      }));
      keysOf = hazard => [hazard.enterprise];
    } else {
      // The regions at and beneath the user's node (never a sibling's or those above it).
      const beneath = this.authorization.scopeOf(user).beneath;
      groups = registry.organisation
        .filter(node => node.kind !== 'enterprise' && beneath.has(node.id))
        .map(node => ({ key: node.id, row: { nodeId: node.id } }));
      keysOf = hazard => registry.orgPath(hazard.enterprise).map(node => node.id);
    }
    return { at: now, by, rows: this.hazards.stats(this.visible(user), groups, keysOf, now) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One hazard with its signed history' })
  one(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): Hazard {
    return this.visibleOne(id, user);
  }

  @Post()
  @ApiOperation({
    summary:
      'Report a hazard: by hand, from an inspection, or from an alarm disposed as real-event or device-fault (alarmId)',
  })
  create(@Body() body: unknown, @CurrentUser() user: AuthenticatedUser): Hazard {
    const input = parseOr400(createHazardBody, body);
    this.authorization.assert(user, 'hazard');
    let siteId = input.siteId;
    let areaId = input.areaId;
    let deviceIds = input.deviceIds;
    if (input.alarmId !== undefined) {
      const alarm = this.alarms.get(input.alarmId);
      if (!alarm || !this.authorization.canSeeSite(user, alarm.siteId))
        throw new NotFoundException(
          `alarm ${input.alarmId} not found (open or recently closed alarms only)`,
        );
      const kind = alarm.disposition?.kind;
      if (!kind || !(HAZARD_DISPOSITIONS as readonly Disposition[]).includes(kind))
        throw new UnprocessableEntityException(
          `alarm ${input.alarmId} is ${kind ? `disposed as ${kind}` : 'not disposed'}: a hazard comes from an alarm disposed as ${HAZARD_DISPOSITIONS.join(' or ')}`,
        );
      if (siteId !== undefined && siteId !== alarm.siteId)
        throw new UnprocessableEntityException(
          `siteId: the alarm is of site ${alarm.siteId}, not ${siteId}`,
        );
      siteId = alarm.siteId;
      areaId ??= alarm.areaId;
      deviceIds ??= [alarm.deviceId];
    }
    if (siteId === undefined)
      throw new HttpException('siteId: required unless the hazard comes from an alarm', 400);
    const site = this.registry.current.site(siteId);
    if (!site || !this.authorization.canSeeSite(user, siteId))
      throw new NotFoundException(`site ${siteId} is not in the registry`);
    if (areaId !== undefined && !site.areas.some(area => area.id === areaId))
      throw new UnprocessableEntityException(`areaId: site ${siteId} has no area ${areaId}`);
    const unknown = (deviceIds ?? []).filter(id => !this.registry.current.device(siteId, id));
    if (unknown.length > 0)
      throw new UnprocessableEntityException(
        `deviceIds: not devices of site ${siteId}: ${unknown.join(', ')}`,
      );
    const result = this.hazards.report(
      {
        title: input.title,
        description: input.description,
        level: input.level,
        source: input.alarmId !== undefined ? 'alarm' : input.source,
        alarmId: input.alarmId,
        siteId,
        enterprise: site.enterprise,
        areaId,
        deviceIds: deviceIds ?? [],
        photos: input.photos,
        plan: input.plan,
        interimMeasures: input.interimMeasures,
        note: input.note,
      },
      actorOf(user),
    );
    if (!result.ok) throw new HttpException(result.message, result.status);
    return result.hazard;
  }

  /**
   * Declared before `:id/:action`, which would otherwise take `photos` for a step. The body is the
   * photo's bytes (any Content-Type but JSON or a form: the type is told by the magic bytes).
   */
  @Post(':id/photos')
  @ApiOperation({
    summary:
      'Store a photo (JPEG, PNG, WebP; the body is the file) with a hazard as a signed step; the same bytes again are answered 200 with the photo already there',
  })
  @ApiQuery({ name: 'step', required: false, enum: HAZARD_PHOTO_STEPS })
  async uploadPhoto(
    @Param('id') id: string,
    @Query() query: unknown,
    @UploadBodyStream() request: UploadBody,
    @Res({ passthrough: true }) response: Response,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<HazardPhotoUpload> {
    const { step } = parseOr400(hazardPhotoQuery, query);
    this.authorization.assert(user, 'hazard');
    this.visibleOne(id, user);
    const { maxBytes } = this.config.hazardPhotos;
    if (request.readableEnded)
      // Express parsed it already: JSON or a URL-encoded form, not a photo.
      throw this.refusePhoto(
        415,
        'refused-type',
        `send the photo's bytes as the request body (${HAZARD_PHOTO_TYPES.join(', ')}), not ${request.headers['content-type'] ?? 'a parsed body'}`,
      );
    const body = await readBoundedBody(request, maxBytes, maxBytes * 4 + 1024 * 1024);
    if (!body.ok) {
      // Past the discard bound the rest is not read: close the connection after the answer.
      if (!body.drained) response.setHeader('Connection', 'close');
      throw this.refusePhoto(
        413,
        'refused-size',
        `photo too large: ${body.drained ? body.received : `more than ${body.received}`} bytes, at most ${maxBytes} bytes (VIGIL_HAZARD_PHOTO_MAX_MB)`,
      );
    }
    if (body.bytes.length === 0)
      throw this.refusePhoto(400, 'refused-type', 'the body is empty: send the photo');
    const type = sniffPhotoType(body.bytes);
    if (!type)
      throw this.refusePhoto(
        415,
        'refused-type',
        `not a JPEG, PNG or WebP photo (told by the file's first bytes, not by its Content-Type${request.headers['content-type'] ? ` "${request.headers['content-type']}"` : ''}; send the file itself, not a multipart form)`,
      );
    let result: Awaited<ReturnType<HazardService['attachPhoto']>>;
    try {
      result = await this.hazards.attachPhoto(id, { bytes: body.bytes, type, step }, actorOf(user));
    } catch (error) {
      if (error instanceof PhotoWriteError) throw new HttpException(error.message, error.status);
      if (error instanceof JournalWriteError)
        throw new HttpException(`photo stored, its step NOT recorded: ${error.message}`, 500);
      throw error;
    }
    if (!result.ok) throw new HttpException(result.message, result.status);
    if ('duplicate' in result) {
      response.status(200);
      return { photo: result.duplicate, duplicate: true, hazard: result.hazard };
    }
    response.status(201);
    const photo = result.hazard.photoFiles?.at(-1);
    if (!photo) throw new Error('a photo step without its photo (a defect)');
    return { photo, duplicate: false, hazard: result.hazard };
  }

  @Get(':id/photos/:sha256')
  @ApiOperation({ summary: 'One photo of a hazard, with its type (Cache-Control: private)' })
  async photo(
    @Param('id') id: string,
    @Param('sha256') sha256: string,
    @Res() response: Response,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<void> {
    const hazard = this.visibleOne(id, user);
    const photo = SHA256_PATTERN.test(sha256)
      ? hazard.photoFiles?.find(candidate => candidate.sha256 === sha256)
      : undefined;
    if (!photo) throw new NotFoundException(`hazard ${id} has no photo ${sha256}`);
    let bytes: Buffer;
    try {
      bytes = await this.hazards.photos.read(sha256);
    } catch (error) {
      if (!(error instanceof PhotoReadError)) throw error;
      this.metrics.hazardPhotos.inc({ outcome: 'read-error' });
      throw new HttpException(error.message, 500);
    }
    response
      .status(200)
      .set({
        'Content-Type': photo.type,
        'Content-Length': String(bytes.length),
        // The user's own view only (never a shared cache); the bytes never change under a name.
        'Cache-Control': 'private, max-age=31536000, immutable',
        ETag: `"${sha256}"`,
        'X-Content-Type-Options': 'nosniff',
        // Opened on its own, a photo runs nothing (a JPEG that is also HTML stays an image).
        'Content-Security-Policy': "default-src 'none'; img-src 'self'; sandbox",
        'Content-Disposition': `inline; filename="hazard-${hazard.no}-${sha256.slice(0, 12)}.${PHOTO_EXTENSIONS[photo.type]}"`,
      })
      .end(bytes);
  }

  @Post(':id/:action')
  @HttpCode(200)
  @ApiOperation({
    summary: `${HAZARD_COMMANDS.join(' | ')} (see docs/interfaces.md §Hazards)`,
  })
  action(
    @Param('id') id: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Hazard {
    const { name, fields: parsed } = parseCommandOr404(
      HAZARD_COMMANDS,
      HAZARD_ACTION_BODIES,
      action,
      body,
    );
    this.authorization.assert(user, 'hazard');
    const hazard = this.visibleOne(id, user);
    // The rectifier signs steps of their own: a name nobody logs in as could never start the work.
    if (
      'assignee' in parsed &&
      typeof parsed.assignee === 'string' &&
      !this.authorization.userSeesSite(parsed.assignee, hazard.siteId)
    )
      throw new UnprocessableEntityException(
        `assignee: no user "${parsed.assignee}" who sees site ${hazard.siteId}`,
      );
    const result = this.hazards.execute(
      id,
      { action: name, ...parsed } as Parameters<HazardService['execute']>[1],
      actorOf(user),
    );
    if (!result.ok) throw new HttpException(result.message, result.status);
    return result.hazard;
  }

  /** Counts a refused upload and returns the error to throw. */
  private refusePhoto(
    status: 400 | 413 | 415,
    outcome: 'refused-type' | 'refused-size',
    message: string,
  ): HttpException {
    this.metrics.hazardPhotos.inc({ outcome });
    return new HttpException(message, status);
  }

  private visible(user: AuthenticatedUser): Hazard[] {
    return this.hazards.list().filter(hazard => this.authorization.canSeeSite(user, hazard.siteId));
  }

  private visibleOne(id: string, user: AuthenticatedUser): Hazard {
    const hazard = this.hazards.get(id);
    if (!hazard || !this.authorization.canSeeSite(user, hazard.siteId))
      throw new NotFoundException(`hazard ${id} not found`);
    return hazard;
  }
}

function actorOf(user: AuthenticatedUser): HazardActor {
  return { id: user.id, role: user.role, scope: user.scope };
}
