import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import {
  IDENTIFIER_PATTERN,
  type MusterList,
  type PositionsResponse,
  type TagPosition,
} from '@vigil/contracts';
import { compilePolygon, pointInRing } from '@vigil/contracts';
import type { Registry } from '@vigil/registry';
import { musterOf } from '@vigil/rules';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseOr400 } from '../common/parse';
import { RegistryHolder } from '../registry/registry-holder';
import { LiveDevices } from './live-devices';

/** domain-standards §9.7 (correlation): people in or within 50 m of an area in alarm. */
export const MUSTER_RADIUS_M = 50;
/** A fix older than this many reporting intervals is shown as stale (§9.7: tag offline = 3 ×). */
const STALE_INTERVALS = 3;

export const positionsQuery = z.object({
  site: z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}').optional(),
});

@ApiTags('site plan')
@Controller('api/v1')
export class PositionsController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(LiveDevices) private readonly live: LiveDevices,
  ) {}

  @Get('positions')
  @ApiOperation({ summary: 'Latest position of every personnel tag that has reported' })
  @ApiQuery({ name: 'site', required: false })
  positions(@Query() raw: unknown, @CurrentUser() user: AuthenticatedUser): PositionsResponse {
    const { site } = parseOr400(positionsQuery, raw);
    const registry = this.registry.current;
    const visible = this.authorization.visibleSites(user);
    const now = Date.now();
    return {
      at: now,
      sites: registry.sites
        .filter(entry => visible.has(entry.id) && (site === undefined || entry.id === site))
        .map(entry => ({
          siteId: entry.id,
          tags: tagPositions(registry, this.live, entry.id, now),
        })),
    };
  }

  @Get('areas/:siteId/:areaId/muster')
  @ApiOperation({
    summary: `Muster list of an area: tags inside it or within ${MUSTER_RADIUS_M} m of its edge, nearest first`,
  })
  muster(
    @Param('siteId') siteId: string,
    @Param('areaId') areaId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): MusterList {
    const registry = this.registry.current;
    const area = registry.area(siteId, areaId);
    if (!area || !this.authorization.visibleSites(user).has(siteId))
      throw new NotFoundException(`area ${siteId}/${areaId} is not in the registry`);
    const now = Date.now();
    // Distances to 0.1 m on the wire; inside is decided on the exact depth, as the rules do.
    const people = musterOf(
      tagPositions(registry, this.live, siteId, now),
      compilePolygon(area.polygon),
      MUSTER_RADIUS_M,
      tag => tag.deviceId,
    ).map(({ item, distanceM, inside }) => ({
      ...item,
      distanceM: Math.round(distanceM * 10) / 10,
      inside,
    }));
    return {
      siteId,
      areaId,
      name: area.name,
      at: now,
      radiusM: MUSTER_RADIUS_M,
      maxPeople: area.maxPeople,
      inside: people.filter(person => person.inside).length,
      people,
    };
  }
}

export function tagPositions(
  registry: Registry,
  live: LiveDevices,
  siteId: string,
  now: number,
): TagPosition[] {
  const site = registry.site(siteId);
  const positions: TagPosition[] = [];
  for (const device of registry.devices) {
    if (device.siteId !== siteId || device.deviceClass !== 'tag') continue;
    const state = live.get(siteId, device.deviceId);
    const x = state?.values['x'];
    const y = state?.values['y'];
    if (!state || typeof x !== 'number' || typeof y !== 'number' || state.positionTs === undefined)
      continue;
    const floor = state.values['floor'];
    const battery = state.values['battery_pct'];
    const still = state.values['still'];
    positions.push({
      siteId,
      deviceId: device.deviceId,
      name: device.name,
      x,
      y,
      floor: typeof floor === 'number' ? floor : undefined,
      battery: typeof battery === 'number' ? battery : undefined,
      still: typeof still === 'boolean' ? still : undefined,
      ts: state.positionTs,
      lastSeenAt: state.lastSeenAt,
      stale: now - state.lastSeenAt > STALE_INTERVALS * device.intervalSeconds * 1000,
      areaId: site?.areas.find(area => pointInRing([x, y], area.polygon))?.id,
    });
  }
  return positions;
}
