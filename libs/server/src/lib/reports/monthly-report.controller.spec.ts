import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HttpException, type StreamableFile } from '@nestjs/common';

import type { Alarm, MonthlyReport } from '@vigil/contracts';

import { AlarmActivity } from '../alarms/alarm-activity';
import type { AlarmCommands } from '../alarms/alarm-commands';
import { AlarmView } from '../alarms/alarm-view';
import { AuthService } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { HazardService } from '../hazards/hazard.service';
import { InspectionService } from '../inspections/inspection.service';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { MonthlyReportController } from './monthly-report.controller';
import { ReportPrinter } from './report-printer';
import { testUser, writeTwoEnterpriseRegistry } from '../common/two-enterprises.fixture';

// Real Chromium prints the PDF (Debian's chromium, as the console's browser tests use).
jest.setTimeout(120_000);
const CHROMIUM = process.env['VIGIL_CHROMIUM'] ?? '/usr/bin/chromium';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// 1 November 2026, 00:00 in Asia/Shanghai; "now" is 7 December 2026.
const NOVEMBER = Date.UTC(2026, 9, 31, 16);
const NOW = Date.UTC(2026, 11, 7, 4);

/** A city with a park (one enterprise) and an enterprise directly beneath it. */
function writeRegistry(dir: string): void {
  writeTwoEnterpriseRegistry(dir, { city: '示例市', park: '化工园区', huaxin: '华信 <Chem> & Co' });
}

const zhang = testUser('zhang', 'operator', 'ent-huaxin');
const admin = testUser('admin', 'admin', 'city-demo');

function alarm(id: string, siteId: string, at: number, priority: Alarm['priority']): Alarm {
  return {
    id,
    key: `${siteId}/gc-${siteId}/gas-l1`,
    ruleId: 'gas-l1',
    siteId,
    deviceId: `gc-${siteId}`,
    deviceClass: 'gas-combustible',
    areaId: 'unit-1',
    category: 'process',
    priority,
    level: 'L1',
    state: 'active-acknowledged',
    conditionActive: false,
    latched: false,
    metric: 'lel',
    value: 30,
    threshold: 25,
    message: 'leak',
    raisedAt: at,
    clearedAt: undefined,
    acknowledgedAt: at + 5 * 60_000,
    acknowledgedBy: 'zhang',
    updatedAt: at + 5 * 60_000,
    detectedAt: at,
    history: [
      { action: 'raise', at, by: undefined, note: undefined },
      { action: 'acknowledge', at: at + 5 * 60_000, by: 'zhang', note: undefined },
    ],
  };
}

async function content(file: StreamableFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.getStream()) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function status(run: () => Promise<unknown>): Promise<number> {
  try {
    await run();
  } catch (error) {
    if (error instanceof HttpException) return error.getStatus();
    throw error;
  }
  return 200;
}

describe(MonthlyReportController.name, () => {
  let dir: string;
  let hazards: HazardService;
  let metrics: VigilMetrics;
  let controller: MonthlyReportController;
  let clock = NOVEMBER;

  const build = (chromium: string) => {
    const config = loadConfig({
      VIGIL_REGISTRY: dir,
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_ALARM_TICK_MS: '0',
      VIGIL_INFLUX_MODE: 'off',
      VIGIL_CHROMIUM: chromium,
    });
    const registry = new RegistryHolder(config);
    const bus = new PipelineBus();
    const view = new AlarmView(bus, {} as AlarmCommands);
    bus.publishAlarms(
      [
        alarm('a1', 'plant-a', NOVEMBER + 2 * DAY, 1),
        alarm('a2', 'plant-a', NOVEMBER + 3 * DAY, 2),
        alarm('b1', 'plant-b', NOVEMBER + 4 * DAY, 3),
        // October: not in November's report.
        alarm('old', 'plant-b', NOVEMBER - HOUR, 1),
      ].flatMap(a => [
        {
          alarm: a,
          action: { action: 'raise' as const, at: a.raisedAt, by: undefined, note: undefined },
        },
      ]),
    );
    hazards = new HazardService(config, registry, () => clock);
    hazards.onModuleInit();
    clock = NOVEMBER + DAY;
    const reported = hazards.report(
      {
        title: 'flange leak',
        description: '',
        level: 'major',
        source: 'manual',
        siteId: 'plant-a',
        enterprise: 'ent-huaxin',
        deviceIds: [],
        photos: [],
        plan: {},
      },
      { id: 'zhang', role: 'operator', scope: 'ent-huaxin' },
    );
    if (!reported.ok) throw new Error(reported.message);
    clock = NOVEMBER + 2 * DAY;
    const assigned = hazards.execute(
      reported.hazard.id,
      {
        action: 'assign',
        assignee: 'zhang',
        plan: {
          responsible: 'zhang',
          measures: 'replace gasket',
          funds: 1000,
          deadline: NOVEMBER + 10 * DAY,
          contingencyPlan: 'isolate',
        },
      },
      { id: 'wang', role: 'supervisor', scope: 'park-chem' },
    );
    if (!assigned.ok) throw new Error(assigned.message);
    clock = NOW;
    metrics = new VigilMetrics();
    const authorization = new AuthorizationService(
      registry,
      metrics,
      new AuthService(config, registry, metrics),
    );
    const inspections = new InspectionService(config, registry, hazards, () => NOW);
    controller = new MonthlyReportController(
      new AlarmActivity(null, view),
      view,
      authorization,
      registry,
      hazards,
      inspections,
      new ReportPrinter(config, metrics),
      () => NOW,
    );
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-monthly-'));
    writeRegistry(dir);
    clock = NOVEMBER;
    build(CHROMIUM);
  });

  afterEach(() => {
    hazards.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports November per enterprise and region in the user’s scope, ranked', async () => {
    const report = (await controller.monthly({ month: '2026-11' }, admin)) as MonthlyReport;
    expect(report).toMatchObject({
      month: '2026-11',
      timeZone: 'Asia/Shanghai',
      from: NOVEMBER,
      complete: true,
      source: 'memory',
      node: { id: 'city-demo', kind: 'city' },
    });
    expect(report.total.alarms.alarms).toBe(3);
    expect(report.total.alarms.meanAckMs).toBe(5 * 60_000);
    const huaxin = report.enterprises.find(row => row.nodeId === 'ent-huaxin');
    expect(huaxin?.alarms.byPriority).toEqual({ 1: 1, 2: 1, 3: 0, 4: 0 });
    expect(huaxin?.hazards.opened.major).toBe(1);
    expect(huaxin?.hazards.overdueAtEnd.major).toBe(1);
    expect(huaxin?.score).toBe(90);
    expect(report.enterprises.map(row => [row.nodeId, row.rank])).toEqual([
      ['ent-other', 1],
      ['ent-huaxin', 2],
    ]);
    expect(report.regions.map(row => row.nodeId)).toEqual(['city-demo', 'park-chem']);

    // The last complete month by default.
    expect(((await controller.monthly({}, admin)) as MonthlyReport).month).toBe('2026-11');
  });

  it('is fail-closed: an enterprise user sees only their subtree; other nodes are 404', async () => {
    const own = (await controller.monthly({ month: '2026-11' }, zhang)) as MonthlyReport;
    expect(own.node.id).toBe('ent-huaxin');
    expect(own.enterprises.map(row => row.nodeId)).toEqual(['ent-huaxin']);
    expect(own.total.alarms.alarms).toBe(2);
    // A sibling, the node above and an unknown node answer alike.
    for (const node of ['ent-other', 'city-demo', 'park-chem', 'nowhere'])
      expect(await status(() => controller.monthly({ month: '2026-11', node }, zhang))).toBe(404);
    expect(
      await status(() => controller.monthly({ month: '2026-11', node: 'ent-other' }, admin)),
    ).toBe(200);
  });

  it('refuses a future month (422) and a malformed one (400); the running month is partial', async () => {
    expect(await status(() => controller.monthly({ month: '2027-01' }, admin))).toBe(422);
    expect(await status(() => controller.monthly({ month: '2026-13' }, admin))).toBe(400);
    expect(await status(() => controller.monthly({ format: 'doc' }, admin))).toBe(400);
    const december = (await controller.monthly({ month: '2026-12' }, admin)) as MonthlyReport;
    expect(december.complete).toBe(false);
    expect(december.total.alarms.standing).toBe(0);
  });

  it('renders self-contained HTML, Chinese first and English, names escaped', async () => {
    const zh = (await controller.monthly(
      { month: '2026-11', format: 'html' },
      admin,
    )) as StreamableFile;
    expect(zh.getHeaders().type).toBe('text/html; charset=utf-8');
    const html = (await content(zh)).toString('utf8');
    expect(html).toContain('月度安全运行报告 2026-11');
    expect(html).toContain('<svg');
    expect(html).toContain('华信 &lt;Chem&gt; &amp; Co');
    expect(html).not.toContain('<Chem>');
    // Nothing from outside: no script, no linked asset, no URL but the SVG namespace.
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|src=|href=/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:/);
    const en = (
      await content(
        (await controller.monthly(
          { month: '2026-11', format: 'html', lang: 'en' },
          admin,
        )) as StreamableFile,
      )
    ).toString('utf8');
    expect(en).toContain('Monthly safety report 2026-11');
    expect(en).toContain('<html lang="en">');
  });

  it('prints the PDF with the real Chromium', async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    const file = (await controller.monthly(
      { month: '2026-11', format: 'pdf' },
      admin,
    )) as StreamableFile;
    expect(file.getHeaders()).toMatchObject({
      type: 'application/pdf',
      disposition: 'attachment; filename="vigil-monthly-city-demo-2026-11-zh.pdf"',
    });
    const pdf = await content(file);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pages = [...pdf.toString('latin1').matchAll(/\/Type\s*\/Page(?![a-z])/g)].length;
    expect(pages).toBeGreaterThan(0);
    expect(await metrics.registry.getSingleMetricAsString('vigil_report_pdf_total')).toContain(
      'vigil_report_pdf_total{outcome="ok"} 1',
    );
  });

  it('answers 503 with the reason, counted, when Chromium is absent (never an empty PDF)', async () => {
    hazards.onModuleDestroy();
    build(join(dir, 'no-chromium-here'));
    let answer: unknown;
    try {
      await controller.monthly({ month: '2026-11', format: 'pdf' }, admin);
    } catch (error) {
      answer = error;
    }
    expect(answer).toBeInstanceOf(HttpException);
    const refusal = answer as HttpException;
    expect(refusal.getStatus()).toBe(503);
    expect(refusal.getResponse()).toMatchObject({
      reason: 'chromium-missing',
      message: expect.stringContaining('no-chromium-here') as unknown,
    });
    expect(await metrics.registry.getSingleMetricAsString('vigil_report_pdf_total')).toContain(
      'vigil_report_pdf_total{outcome="chromium-missing"} 1',
    );
    // JSON and HTML need no Chromium.
    expect(
      await status(() => controller.monthly({ month: '2026-11', format: 'html' }, admin)),
    ).toBe(200);
  });
});
