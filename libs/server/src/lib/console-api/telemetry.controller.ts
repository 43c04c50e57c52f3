import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import {
  METRIC_NAME_PATTERN,
  deviceMetrics,
  metricDefinition,
  type SetPoint,
  type TelemetrySeries,
} from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { RegistryHolder } from '../registry/registry-holder';
import { HistoryStore } from './history-store';
import { parseOr400 } from '../common/parse';

const HOUR_MS = 3_600_000;
const MAX_RANGE_MS = 400 * 24 * HOUR_MS;
/** Raw rows fetched at most, whatever the device sends: the newest are kept. */
const RAW_ROWS_FACTOR = 4;

export const telemetryQuery = z
  .object({
    metric: z.string().regex(METRIC_NAME_PATTERN, 'must be a metric name such as lel').optional(),
    from: z.coerce.number().int().min(0).optional(),
    to: z.coerce.number().int().min(0).optional(),
    points: z.coerce.number().int().min(10).max(5000).default(600),
  })
  .transform(query => {
    const to = query.to ?? Date.now();
    return { ...query, to, from: query.from ?? to - HOUR_MS };
  })
  .refine(query => query.from < query.to, { message: 'from must be before to', path: ['from'] })
  .refine(query => query.to - query.from <= MAX_RANGE_MS, {
    message: 'the range may span at most 400 days',
    path: ['from'],
  });

@ApiTags('telemetry')
@Controller('api/v1/telemetry')
export class TelemetryController {
  constructor(
    @Inject(HistoryStore) private readonly history: HistoryStore,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Get(':siteId/:deviceId')
  @ApiOperation({
    summary:
      "One metric's history (downsampled to mean/min/max buckets when long) with the metric's alarm set-points",
  })
  @ApiQuery({ name: 'metric', required: false, description: "default: the class's first metric" })
  @ApiQuery({ name: 'from', required: false, description: 'epoch ms, default to − 1 h' })
  @ApiQuery({ name: 'to', required: false, description: 'epoch ms, default now' })
  @ApiQuery({ name: 'points', required: false, description: '10–5000, default 600' })
  async series(
    @Param('siteId') siteId: string,
    @Param('deviceId') deviceId: string,
    @Query() raw: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<TelemetrySeries> {
    const query = parseOr400(telemetryQuery, raw);
    const registry = this.registry.current;
    const device = registry.device(siteId, deviceId);
    if (!device || !this.authorization.visibleSites(user).has(siteId))
      throw new NotFoundException(`device ${siteId}/${deviceId} is not in the registry`);
    const metrics = deviceMetrics(device).names;
    const metric = query.metric ?? metrics[0];
    if (metric === undefined)
      throw new BadRequestException({
        statusCode: 400,
        message: 'invalid request',
        issues: [`metric: ${device.deviceClass} devices report no metrics`],
      });
    const definition = metricDefinition(device.deviceClass, metric);
    if (!definition && !metrics.includes(metric))
      throw new BadRequestException({
        statusCode: 400,
        message: 'invalid request',
        issues: [
          `metric: ${device.deviceClass} has no metric "${metric}" (has ${metrics.join(', ')})`,
        ],
      });
    const numeric = definition?.kind !== 'boolean';

    const span = query.to - query.from;
    // Downsample only when the device's own rate would give more points than asked for. Buckets
    // keep min and max as well as the mean, so a short peak never disappears from the chart.
    const bucketMs =
      numeric && span / (device.intervalSeconds * 1000) > query.points
        ? Math.max(1000, Math.ceil(span / query.points / 1000) * 1000)
        : 0;
    const limit = query.points * RAW_ROWS_FACTOR;
    const rows = await this.history.telemetrySeries({
      siteId,
      deviceId,
      metric,
      from: query.from,
      to: query.to,
      bucketMs,
      limit,
    });

    const points = rows.filter(row => row.value !== null && row.value !== undefined);
    const valueOf = (value: unknown): number | null =>
      typeof value === 'number' ? value : typeof value === 'boolean' ? (value ? 1 : 0) : null;
    return {
      siteId,
      deviceId,
      metric,
      unit: definition?.unit ?? '',
      kind: numeric ? 'number' : 'boolean',
      from: query.from,
      to: query.to,
      bucketMs,
      truncated: bucketMs === 0 && rows.length >= limit,
      t: points.map(row => row.time),
      value: points.map(row => valueOf(row.value)),
      ...(bucketMs > 0
        ? {
            min: points.map(row => valueOf(row.min)),
            max: points.map(row => valueOf(row.max)),
          }
        : {}),
      setpoints: this.setpoints(device, metric),
    };
  }

  private setpoints(device: RegisteredDevice, metric: string): SetPoint[] {
    const rules = this.registry.rulesOf(device)?.rules ?? [];
    const setpoints: SetPoint[] = [];
    for (const rule of rules) {
      if (rule.kind !== 'threshold' || rule.metric !== metric || !rule.enabled) continue;
      setpoints.push({
        ruleId: rule.ruleId,
        level: rule.level,
        direction: rule.direction,
        value: rule.setpoint,
        deadband: rule.deadband,
        priority: rule.priority,
        category: rule.category,
      });
    }
    return setpoints;
  }
}
