import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import type { Alarm, MonthlyReport } from '@vigil/contracts';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { SAMPLE_REGISTRY, loginAs, mqttClient, telemetry } from './support';

/** `2026-12`: the running month in the sample sites' time zone. */
const thisMonth = () => {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(Date.now());
  const part = (type: string) => parts.find(p => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}`;
};

/**
 * The monthly report (issue 15) on the built Vigil process with a real influxd and Debian's
 * Chromium: an alarm raised, acknowledged and disposed shows in the month's report read back from
 * InfluxDB, scoped to the user; the HTML and the PDF printed by the real Chromium.
 */
describe('monthly report: JSON from InfluxDB, HTML, and a PDF from the real Chromium', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  let device: MqttClient | undefined;

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-monthly-'));
    influx = await startInfluxd();
    vigil = await startBuiltVigil({
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_RULE_TICK_MS: '200',
      VIGIL_ALARM_TICK_MS: '200',
    });
    device = await mqttClient(vigil.mqttUrl);
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('counts the month’s alarm with its response time, in scope, and prints it', async () => {
    if (!vigil || !device) throw new Error('not started');
    const zhang = await loginAs(vigil.httpUrl, 'zhang'); // operator, ent-huaxin
    const chen = await loginAs(vigil.httpUrl, 'chen'); // supervisor, city-demo
    await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 30 }, 1), {
      qos: 1,
    });
    const alarm = await waitFor(
      async () =>
        ((await (await zhang.call('/api/v1/alarms?site=plant-1')).json()) as Alarm[]).find(
          candidate => candidate.deviceId === 'gc-tf-01' && candidate.category === 'process',
        ),
      { what: 'the leak alarm', timeoutMs: 20_000 },
    );
    expect((await zhang.post(`/api/v1/alarms/${alarm.id}/acknowledge`, {})).status).toBe(200);

    const month = thisMonth();
    const report = await waitFor(
      async () => {
        const answer = (await (
          await chen.call(`/api/v1/reports/monthly?month=${month}`)
        ).json()) as MonthlyReport;
        return answer.total.alarms.alarms >= 1 && answer.total.alarms.meanAckMs !== null
          ? answer
          : undefined;
      },
      { what: 'the alarm and its acknowledgement in the monthly report', timeoutMs: 20_000 },
    );
    expect(report).toMatchObject({
      month,
      timeZone: 'Asia/Shanghai',
      complete: false,
      source: 'influxdb',
      node: { id: 'city-demo', kind: 'city' },
    });
    const huaxin = report.enterprises.find(row => row.nodeId === 'ent-huaxin');
    expect(huaxin?.alarms.byCategory['process']).toBeGreaterThanOrEqual(1);
    expect(huaxin?.rank).toBeGreaterThanOrEqual(1);

    // Fail-closed: the enterprise user cannot ask for the city; a future month is refused.
    expect((await zhang.call(`/api/v1/reports/monthly?month=${month}&node=city-demo`)).status).toBe(
      404,
    );
    expect((await chen.call('/api/v1/reports/monthly?month=2999-01')).status).toBe(422);

    const html = await chen.call(`/api/v1/reports/monthly?month=${month}&format=html&lang=en`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    const page = await html.text();
    expect(page).toContain(`Monthly safety report ${month}`);
    expect(page).toContain('<svg');

    const pdf = await chen.call(`/api/v1/reports/monthly?month=${month}&format=pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(
      [...bytes.toString('latin1').matchAll(/\/Type\s*\/Page(?![a-z])/g)].length,
    ).toBeGreaterThan(0);
    const metrics = await (await fetch(`${vigil.httpUrl}/metrics`)).text();
    expect(metrics).toContain('vigil_report_pdf_total{outcome="ok"} 1');
  });
});
