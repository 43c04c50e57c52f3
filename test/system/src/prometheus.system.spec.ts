// A real prometheus (Debian) scrapes a running Vigil with the committed configuration's job and
// the committed alert rules (deploy/prometheus/), scraping and evaluating every second: Vigil's
// series arrive under the names the rules and dashboards use, and an alert on Vigil's own health
// goes pending when InfluxDB is down.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';

import type { RunningVigil } from '@vigil/server';
import { freePort, startPrometheus, waitFor, type PrometheusHandle } from '@vigil/testing';

import { REPO_ROOT, startSystem } from './support';

const PROMETHEUS_DIR = join(REPO_ROOT, 'deploy', 'prometheus');

interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}
interface AlertsData {
  readonly alerts: readonly { labels: Record<string, string>; state: string }[];
}

/** The committed prometheus.yml with its `vigil` job pointed at one local Vigil, 1 s cycles. */
function testConfig(target: string): string {
  const committed = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; static_configs: unknown[] }[];
  };
  const job = committed.scrape_configs.find(config => config.job_name === 'vigil');
  if (!job) throw new Error('deploy/prometheus/prometheus.yml has no vigil job');
  return stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [join(PROMETHEUS_DIR, 'rules', 'vigil.rules.yml')],
    scrape_configs: [
      { ...job, static_configs: [{ targets: [target], labels: { service: 'vigil' } }] },
    ],
  });
}

describe('prometheus scraping Vigil', () => {
  let vigil: RunningVigil & { mqttUrl: string };
  let prometheus: PrometheusHandle;

  beforeAll(async () => {
    // Nothing listens on this port: InfluxDB is "down" from the start.
    const influxUrl = `http://127.0.0.1:${await freePort()}`;
    vigil = await startSystem({ influxUrl });
    prometheus = await startPrometheus({ config: testConfig(new URL(vigil.httpUrl).host) });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await vigil?.stop();
  });

  const query = (promql: string) =>
    prometheus.api<{ result: VectorSample[] }>(`query?query=${encodeURIComponent(promql)}`);

  it('scrapes Vigil: the target is up and its series carry the conventional names', async () => {
    await waitFor(async () => (await query('up{job="vigil"} == 1')).result.length === 1, {
      what: 'prometheus to scrape Vigil',
      timeoutMs: 30_000,
    });
    for (const series of [
      'vigil_ingest_readings_total',
      'vigil_persister_lines_total{outcome="written"}',
      'vigil_rules_engine_ticks_total',
      'vigil_process_cpu_seconds_total',
      'vigil_nodejs_eventloop_lag_p99_seconds',
      'vigil_persister_buffer_capacity_lines',
    ]) {
      const { result } = await query(series);
      expect({ series, found: result.length }).toEqual({ series, found: 1 });
      expect(result[0]?.metric['service']).toBe('vigil');
    }
    // The rule engine ticks: VigilRuleEngineStopped's series grows.
    await waitFor(
      async () =>
        Number((await query('vigil_rules_engine_ticks_total')).result[0]?.value[1] ?? 0) > 0,
      { what: 'the rule engine ticks to be scraped', timeoutMs: 15_000 },
    );
  });

  it('evaluates the committed rules: VigilInfluxDown goes pending while InfluxDB is down', async () => {
    const { result } = await query('vigil_ready_check{check="storage"}');
    expect(result[0]?.value[1]).toBe('0');
    const alert = await waitFor(
      async () =>
        (await prometheus.api<AlertsData>('alerts')).alerts.find(
          candidate => candidate.labels['alertname'] === 'VigilInfluxDown',
        ),
      { what: 'VigilInfluxDown in /api/v1/alerts', timeoutMs: 30_000 },
    );
    expect(alert.labels).toMatchObject({ severity: 'critical', job: 'vigil', check: 'storage' });
    expect(['pending', 'firing']).toContain(alert.state);
    // The broker (embedded) is connected: no alert on it.
    const alerts = (await prometheus.api<AlertsData>('alerts')).alerts;
    expect(alerts.map(candidate => candidate.labels['alertname'])).not.toContain(
      'VigilBrokerDisconnected',
    );
    // All 15 rules are loaded.
    const rules = await prometheus.api<{ groups: { rules: unknown[] }[] }>('rules');
    expect(rules.groups.flatMap(group => group.rules)).toHaveLength(15);
  });
});
