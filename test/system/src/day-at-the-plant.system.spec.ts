import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { formatScenarioSummary, loadScenarioFile, runScenario } from '@vigil/simulation';
import { startInfluxd, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { REPO_ROOT, SAMPLE_REGISTRY } from './support';

/**
 * The scenario library's day at a plant (issue 15), played by the scenario runner against the
 * built Vigil process (its embedded broker, a real influxd): devices over MQTT, people through
 * the HTTP API as the demo users. A leak → L2 → acknowledged → disposed as a real event → hazard
 * → assigned → rectified → accepted by another user → closed; an overdue hazard reminded and
 * escalated to the city; a hot-work permit started within its gas limit and stopped by a P1
 * stop-work alarm naming the permit and its welders; the shift handed over, signed by both leads.
 * Vigil runs with the scenario's own `config` (time compressed).
 */
describe('scenario day-at-the-plant against the built Vigil', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  const scenario = loadScenarioFile(join(REPO_ROOT, 'simulators/scenarios/day-at-the-plant.yaml'));

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-day-at-the-plant-'));
    influx = await startInfluxd();
    vigil = await startBuiltVigil({
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, 'data'),
      ...scenario.config,
    });
  });

  afterAll(async () => {
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('plays every operator step ok, raises the leak alarms and stores every reading', async () => {
    if (!vigil || !influx) throw new Error('not started');
    const report = await runScenario({
      scenario,
      gatewayUrl: vigil.httpUrl,
      mqttUrl: vigil.mqttUrl,
      influx: { url: influx.url, database: 'vigil' },
      settleMs: 3000,
    });
    process.stdout.write(`${formatScenarioSummary(report)}\n`);
    const { verdict } = report;
    expect(verdict.actions.map(action => [action.what, action.status, action.detail])).toEqual(
      verdict.actions.map(action => [action.what, 'ok', action.detail]),
    );
    expect(verdict.actions).toHaveLength(24);
    expect(verdict.results.map(result => [result.expectation.rule, result.status])).toEqual([
      ['gas-l1', 'met'],
      ['gas-l2', 'met'],
    ]);
    expect(verdict.forbiddenRaised).toEqual([]);
    expect(verdict.readings.stored).toBe(verdict.readings.expectedStored);
    expect(verdict.failures).toEqual([]);
    expect(verdict.passed).toBe(true);
  });
});
