import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig, startVigil, type RunningVigil } from '@vigil/server';
import { formatScenarioSummary, loadScenarioFile, runScenario } from '@vigil/simulation';
import { freePort, startInfluxd, type InfluxHandle } from '@vigil/testing';

const ROOT = join(__dirname, '../../..');

/**
 * The acceptance runner end to end: the gas-leak scenario file played against an in-process
 * Vigil (embedded broker, real influxd), judged from the WebSocket, REST and InfluxDB.
 */
describe('scenario gas-leak-wind against a running Vigil', () => {
  let influx: InfluxHandle;
  let vigil: RunningVigil;
  let mqttUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    influx = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'vigil-loadtest-spec-'));
    const mqttPort = await freePort();
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    vigil = await startVigil(
      loadConfig({
        VIGIL_HTTP_PORT: String(await freePort()),
        VIGIL_MQTT_PORT: String(mqttPort),
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_INFLUX_URL: influx.url,
        VIGIL_REGISTRY: join(ROOT, 'registry/sample'),
        VIGIL_DATA_DIR: dataDir,
        VIGIL_CONSOLE_DIR: join(dataDir, 'no-console'),
        VIGIL_WRITE_FLUSH_MS: '50',
        VIGIL_RULE_TICK_MS: '200',
        VIGIL_LOG_LEVEL: 'error',
      }),
    );
  });

  afterAll(async () => {
    await vigil?.stop();
    await influx?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('raises exactly the expected alarms, measures their latency and finds every reading stored', async () => {
    const scenario = loadScenarioFile(join(ROOT, 'simulators/scenarios/gas-leak-wind.yaml'));
    const report = await runScenario({
      scenario,
      gatewayUrl: vigil.httpUrl,
      mqttUrl,
      influx: { url: influx.url, database: 'vigil' },
      settleMs: 3000,
    });
    process.stdout.write(`${formatScenarioSummary(report)}\n`);

    const verdict = report.verdict;
    expect(
      verdict.results.map(result => [result.deviceId, result.expectation.rule, result.status]),
    ).toEqual([
      ['gc-tf-01', 'gas-rate', 'met'],
      ['gc-tf-02', 'gas-rate', 'met'],
      ['gc-tf-01', 'gas-l1', 'met'],
      ['gc-tf-01', 'gas-l2', 'met'],
      ['gc-tf-02', 'gas-l1', 'met'],
    ]);
    expect(verdict.forbiddenRaised).toEqual([]);
    expect(verdict.pendingRules).toEqual([]);
    // Latency is measured (reported, never asserted on: wall time belongs in bench/).
    expect(verdict.latency.webSocket.count).toBe(5);
    expect(verdict.latency.detection.count).toBe(5);
    expect(verdict.readings.expectedStored).toBeGreaterThan(0);
    expect(verdict.readings.stored).toBe(verdict.readings.expectedStored);
    expect(verdict.passed).toBe(true);
  });

  const play = async (file: string) => {
    const report = await runScenario({
      scenario: loadScenarioFile(join(ROOT, 'simulators/scenarios', file)),
      gatewayUrl: vigil.httpUrl,
      mqttUrl,
      influx: { url: influx.url, database: 'vigil' },
      settleMs: 3000,
    });
    process.stdout.write(`${formatScenarioSummary(report)}\n`);
    return report.verdict;
  };

  it('plays it again on the same Vigil: devices restart their seq at 0, nothing is dropped as a duplicate and no alarm is raised twice', async () => {
    const verdict = await play('gas-leak-wind.yaml');
    // Every reading of the second play is stored: a restarted counter is not a re-delivery. (The
    // count may include the first play's last readings, which share the time window.)
    expect(verdict.readings.expectedStored).toBeGreaterThan(0);
    expect(verdict.readings.stored).toBeGreaterThanOrEqual(verdict.readings.expectedStored);
    // The first play's alarms are still open (L2 latched, nothing acknowledged): one alarm per
    // source and rule, so the second leak raises nothing new, and the early warnings stay
    // withdrawn behind the open L2.
    expect(verdict.results.map(result => result.status)).not.toContain('duplicated');
    expect(verdict.latency.webSocket.count).toBe(0);
  });

  it('clock skew: a detector 27 h behind raises clock-skew once, and its gas still raises L2', async () => {
    const verdict = await play('clock-skew.yaml');
    expect(verdict.results.map(result => [result.expectation.rule, result.status])).toEqual([
      ['clock-skew', 'met'],
      ['gas-l2', 'met'],
    ]);
    expect(verdict.passed).toBe(true);
  });
});
