import {
  Controller,
  Get,
  HttpException,
  Inject,
  NotFoundException,
  Query,
  StreamableFile,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import {
  addMonths,
  buildMonthlyReport,
  monthOf,
  monthRange,
  nodesBeneath,
  parseMonth,
} from '@vigil/alarms';
import {
  DEFAULT_SITE_TIME_ZONE,
  IDENTIFIER_PATTERN,
  MONTHLY_REPORT_FORMATS,
  MONTH_PATTERN,
  REPORT_LANGUAGES,
  type MonthlyReport,
} from '@vigil/contracts';
import { siteTimeZone } from '@vigil/registry';

import { AlarmActivity } from '../alarms/alarm-activity';
import { AlarmView } from '../alarms/alarm-view';
import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseOr400 } from '../common/parse';
import { HazardService } from '../hazards/hazard.service';
import { InspectionService } from '../inspections/inspection.service';
import { RegistryHolder } from '../registry/registry-holder';
import { renderMonthlyReportHtml } from './monthly-report-html';
import { PrintUnavailableError, ReportPrinter } from './report-printer';

/** Injected so that tests fix "now" (the current month, a future month). */
export const REPORT_CLOCK = Symbol('REPORT_CLOCK');
export type ReportClock = () => number;

/**
 * An acknowledgement or disposal this long after the month still counts for an alarm raised in
 * it (the mean times to acknowledge and dispose of alarms raised on the month's last evening).
 */
const RESPONSE_GRACE_MS = 7 * 24 * 60 * 60_000;

export const monthlyReportQuery = z.strictObject({
  /** Default: the last complete month. */
  month: z.string().regex(MONTH_PATTERN, 'a month as YYYY-MM').optional(),
  /** An organisation node at or beneath the user's own (default: the user's). */
  node: z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}').optional(),
  format: z.enum(MONTHLY_REPORT_FORMATS).default('json'),
  lang: z.enum(REPORT_LANGUAGES).default('zh'),
});

/**
 * The monthly report (issue 15; docs/interfaces.md §Reports): per enterprise and per region, the
 * month's alarms and KPIs, hazards opened, closed and overdue, missed inspections and the
 * ranking, as JSON, self-contained HTML, or PDF printed from that HTML by headless Chromium.
 * Fail-closed: a node outside the user's subtree is 404 like one that does not exist, and only the
 * sites the user sees count.
 */
@ApiTags('reports')
@Controller('api/v1/reports')
export class MonthlyReportController {
  constructor(
    @Inject(AlarmActivity) private readonly activity: AlarmActivity,
    @Inject(AlarmView) private readonly view: AlarmView,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(HazardService) private readonly hazards: HazardService,
    @Inject(InspectionService) private readonly inspections: InspectionService,
    @Inject(ReportPrinter) private readonly printer: ReportPrinter,
    @Inject(REPORT_CLOCK) private readonly clock: ReportClock,
  ) {}

  @Get('monthly')
  @ApiOperation({
    summary:
      'Monthly report per enterprise and region: alarms and KPIs, hazards opened/closed/overdue, missed inspections, ranking (json, html or pdf)',
  })
  @ApiQuery({ name: 'month', required: false, description: 'YYYY-MM (default: last month)' })
  @ApiQuery({ name: 'node', required: false, description: 'organisation node (default: yours)' })
  @ApiQuery({ name: 'format', required: false, enum: MONTHLY_REPORT_FORMATS })
  @ApiQuery({ name: 'lang', required: false, enum: REPORT_LANGUAGES })
  async monthly(
    @Query() query: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<MonthlyReport | StreamableFile> {
    const { month: monthText, node: nodeId, format, lang } = parseOr400(monthlyReportQuery, query);
    const report = await this.report(user, monthText, nodeId ?? user.scope);
    if (format === 'json') return report;
    const html = renderMonthlyReportHtml(report, lang);
    const name = `vigil-monthly-${report.node.id}-${report.month}-${lang}`;
    if (format === 'html')
      return new StreamableFile(Buffer.from(html, 'utf8'), {
        type: 'text/html; charset=utf-8',
        disposition: `inline; filename="${name}.html"`,
      });
    try {
      return new StreamableFile(await this.printer.pdf(html), {
        type: 'application/pdf',
        disposition: `attachment; filename="${name}.pdf"`,
      });
    } catch (error) {
      if (error instanceof PrintUnavailableError)
        throw new HttpException(
          { statusCode: 503, message: `no PDF: ${error.message}`, reason: error.reason },
          503,
        );
      throw error;
    }
  }

  private async report(
    user: AuthenticatedUser,
    monthText: string | undefined,
    nodeId: string,
  ): Promise<MonthlyReport> {
    const registry = this.registry.current;
    const scope = this.authorization.scopeOf(user);
    const node = registry.organisation.find(candidate => candidate.id === nodeId);
    if (!node || !scope.beneath.has(node.id))
      throw new NotFoundException(`organisation node ${nodeId} not found`);

    const now = this.clock();
    const beneathNode = new Set(nodesBeneath(node, registry.organisation).map(({ id }) => id));
    const inNode = registry.sites.filter(
      site => beneathNode.has(site.enterprise) && this.authorization.canSeeSite(user, site.id),
    );
    // The sites' own zone; sites in several zones (rare): the default, and the report says so.
    const zones = new Set(inNode.map(siteTimeZone));
    const timeZone =
      zones.size === 1 ? ([...zones][0] ?? DEFAULT_SITE_TIME_ZONE) : DEFAULT_SITE_TIME_ZONE;
    const notices: string[] = [];
    if (zones.size > 1)
      notices.push(
        `sites in ${zones.size} time zones (${[...zones].join(', ')}): month boundaries in ${timeZone}`,
      );

    const month =
      monthText === undefined ? addMonths(monthOf(now, timeZone), -1) : parseMonth(monthText);
    if (!month) throw new UnprocessableEntityException(`month ${monthText}: not YYYY-MM`);
    const { from, to } = monthRange(month, timeZone);
    if (from > now)
      throw new UnprocessableEntityException(
        `month ${monthText}: in the future (it starts ${new Date(from).toISOString()})`,
      );

    const end = Math.min(to, now);
    const activations = await this.activity.raises(from, end);
    if (activations.notice) notices.push(activations.notice);
    const answered = await this.activity.responses(from, Math.min(to + RESPONSE_GRACE_MS, now + 1));
    if (answered.notice && answered.notice !== activations.notice) notices.push(answered.notice);
    const visible = new Set(inNode.map(site => site.id));
    return buildMonthlyReport({
      month,
      timeZone,
      now,
      node,
      organisation: registry.organisation,
      sites: inNode.map(site => ({ id: site.id, enterprise: site.enterprise })),
      raises: activations.raises.filter(raise => visible.has(raise.siteId)),
      responses: answered.responses,
      open: this.view.open().filter(alarm => visible.has(alarm.siteId)),
      excluded: activations.tests,
      hazards: this.hazards.list().filter(hazard => visible.has(hazard.siteId)),
      misses: this.inspections.missed().filter(miss => visible.has(miss.siteId)),
      scope: user.scope,
      source: activations.source,
      notices,
    });
  }
}
