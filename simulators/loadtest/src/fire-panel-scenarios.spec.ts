import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig, startVigil, type RunningVigil } from '@vigil/server';
import { formatScenarioSummary, loadScenarioFile, runScenario } from '@vigil/simulation';
import { freePort } from '@vigil/testing';

const ROOT = join(__dirname, '../../..');

/**
 * The fire-panel scenario library (one scenario per GB 26875 panel state) and the device-side
 * electrical-fire alarms, each played against a real in-process Vigil (embedded broker, no
 * InfluxDB: alarms only) and judged from its WebSocket and REST: every expected alarm raised the
 * expected number of times, in the expected area (the point's, not the panel's).
 */
describe('fire-panel scenarios against a running Vigil', () => {
  let vigil: RunningVigil;
  let mqttUrl: string;
  let dataDir: string;

  beforeEach(async () => {
    // A fresh Vigil per scenario: their alarms (latched fires) must not carry over.
    dataDir = await mkdtemp(join(tmpdir(), 'vigil-firepanel-spec-'));
    const mqttPort = await freePort();
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    vigil = await startVigil(
      loadConfig({
        VIGIL_HTTP_PORT: String(await freePort()),
        VIGIL_MQTT_PORT: String(mqttPort),
        VIGIL_INFLUX_MODE: 'off',
        VIGIL_REGISTRY: join(ROOT, 'registry/sample'),
        VIGIL_DATA_DIR: dataDir,
        VIGIL_CONSOLE_DIR: join(dataDir, 'no-console'),
        VIGIL_RULE_TICK_MS: '200',
        VIGIL_LOG_LEVEL: 'error',
      }),
    );
  });

  afterEach(async () => {
    await vigil?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    'fire-panel.yaml',
    'fire-panel-two-fires.yaml',
    'fire-panel-confirmed.yaml',
    'fire-panel-isolation.yaml',
    'fire-panel-linkage.yaml',
    'fire-panel-power.yaml',
    'fire-panel-manual-mode.yaml',
    'fire-panel-reset.yaml',
    'electrical-fire-device-alarm.yaml',
    'gas-controller-device-alarm.yaml',
  ])('%s raises exactly its expected alarms', async file => {
    const report = await runScenario({
      scenario: loadScenarioFile(join(ROOT, 'simulators/scenarios', file)),
      gatewayUrl: vigil.httpUrl,
      mqttUrl,
      settleMs: 1500,
    });
    process.stdout.write(`${formatScenarioSummary(report)}\n`);
    const { verdict } = report;
    expect(
      verdict.results.map(result => [result.expectation.rule, result.status, result.detail]),
    ).toEqual(verdict.results.map(result => [result.expectation.rule, 'met', result.detail]));
    expect(verdict.forbiddenRaised).toEqual([]);
    expect(verdict.pendingRules).toEqual([]);
    expect(verdict.failures).toEqual([]);
    expect(verdict.passed).toBe(true);
  });
});
