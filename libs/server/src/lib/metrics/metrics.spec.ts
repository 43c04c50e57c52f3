import { createRuleEngineStats } from '@vigil/rules';

import { VigilMetrics, ruleEngineMetricName } from './metrics';

describe(VigilMetrics.name, () => {
  it('serves the rule engine counters as they are when scraped, one counter each', async () => {
    const metrics = new VigilMetrics();
    expect(await metrics.registry.metrics()).not.toContain('vigil_rules_engine_');
    const stats = createRuleEngineStats();
    metrics.watchRuleEngine(stats);
    stats.records = 12;
    stats.clockRebases = 1;
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE vigil_rules_engine_records_total counter');
    expect(text).toContain('vigil_rules_engine_records_total 12');
    expect(text).toContain('vigil_rules_engine_clock_rebases_total 1');
    expect(text).toContain('vigil_rules_engine_out_of_order_readings_total 0');
    stats.records = 13;
    expect(await metrics.registry.metrics()).toContain('vigil_rules_engine_records_total 13');
  });

  it('names the rule engine counters by Prometheus conventions', () => {
    expect(ruleEngineMetricName('aheadOfDeviceClock')).toBe(
      'vigil_rules_engine_ahead_of_device_clock_total',
    );
  });

  it('counts running totals kept elsewhere up only, from zero again when their owner restarts', async () => {
    const metrics = new VigilMetrics();
    const written = { outcome: 'written' } as const;
    metrics.raiseCounter(metrics.writeTotals, written, 100);
    metrics.raiseCounter(metrics.writeTotals, written, 150);
    expect(await metrics.registry.metrics()).toContain(
      'vigil_persister_lines_total{outcome="written"} 150',
    );
    metrics.raiseCounter(metrics.writeTotals, written, 20); // a new write buffer
    expect(await metrics.registry.metrics()).toContain(
      'vigil_persister_lines_total{outcome="written"} 170',
    );
  });

  it('names the process metrics vigil_process_… and vigil_nodejs_… (no doubled prefix)', async () => {
    const text = await new VigilMetrics().registry.metrics();
    expect(text).toContain('# TYPE vigil_process_cpu_seconds_total counter');
    expect(text).toContain('vigil_nodejs_eventloop_lag_p99_seconds');
    expect(text).not.toContain('vigil_process_process_');
  });

  it('types every running total as a counter named …_total, and nothing else so', async () => {
    const metrics = new VigilMetrics();
    metrics.watchRuleEngine(createRuleEngineStats());
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      // prom-client's own gauges nodejs_active_{handles,requests,resources}_total are its names, not ours.
      if (metric.name.endsWith('_total') && !metric.name.startsWith('vigil_nodejs_active_'))
        expect(`${metric.name} ${metric.type}`).toMatch(/ counter$/);
      if (String(metric.type) === 'counter') expect(metric.name).toMatch(/_total$/);
    }
  });
});
