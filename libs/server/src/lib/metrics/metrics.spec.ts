import { createRuleEngineStats } from '@vigil/rules';

import { VigilMetrics } from './metrics';

describe(VigilMetrics.name, () => {
  it('serves the rule engine counters as they are when scraped', async () => {
    const metrics = new VigilMetrics();
    expect(await metrics.registry.metrics()).not.toContain('vigil_rules_engine_total{');
    const stats = createRuleEngineStats();
    metrics.watchRuleEngine(stats);
    stats.records = 12;
    stats.clockRebases = 1;
    const text = await metrics.registry.metrics();
    expect(text).toContain('vigil_rules_engine_total{counter="records"} 12');
    expect(text).toContain('vigil_rules_engine_total{counter="clockRebases"} 1');
    stats.records = 13;
    expect(await metrics.registry.metrics()).toContain(
      'vigil_rules_engine_total{counter="records"} 13',
    );
  });
});
