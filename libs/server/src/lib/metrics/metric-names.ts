import { createRuleEngineStats } from '@vigil/rules';

import { VigilMetrics } from './metrics';

/**
 * Every series name a Vigil process can expose on /metrics (histograms with their `_bucket`,
 * `_sum` and `_count` series), for the checks of what reads them: the Prometheus alert rules and
 * the Grafana dashboards (deploy/). Taken from a live registry, so that it cannot drift.
 */
export async function vigilMetricNames(): Promise<string[]> {
  const metrics = new VigilMetrics();
  metrics.watchRuleEngine(createRuleEngineStats());
  const names: string[] = [];
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram')
      names.push(`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`);
    else if (type === 'summary')
      names.push(metric.name, `${metric.name}_sum`, `${metric.name}_count`);
    else names.push(metric.name);
  }
  return names.sort();
}
