// The fleet the partitioned-rules system tests drive (rules-failover, rules-lease-lapse): sites of
// methane detectors, one per wave, whose readings the tests publish straight onto the records
// stream as ingest would, with the same message ids.
import type { IngestRecord } from '@vigil/contracts';
import { partitionOf, recordsSubject, type Backbone } from '@vigil/server';

/** The registry: one area per site and one detector per wave (`s<NN>-gc-<wave>`). */
export function gasWavesRegistryYaml(
  sites: readonly string[],
  waves: readonly number[],
  offDelayMsOf: (wave: number) => number = () => 0,
): string {
  const lines = [
    'organisation:',
    '  - { id: city-t, name: Test City, kind: city }',
    '  - { id: ent-t, name: Test Enterprise, kind: enterprise, parent: city-t }',
    'sites:',
  ];
  for (const site of sites) {
    lines.push(
      `  - id: ${site}`,
      `    name: ${site}`,
      '    enterprise: ent-t',
      '    frame: { width: 100, height: 100 }',
      '    areas:',
      '      - { id: zone-a, name: Zone A, kind: production, risk: orange, polygon: [[0, 0], [100, 0], [100, 100], [0, 100]] }',
      '    devices:',
    );
    for (const wave of waves)
      lines.push(
        `      - { id: s${site.slice(-2)}-gc-${wave}, class: gas-combustible, area: zone-a, attributes: { gas: CH4 }, position: [${10 * wave}, 10], rules: { gas-l1: { offDelayMs: ${offDelayMsOf(wave)} } } }`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One reading per detector (`site/device` → %LEL) onto VIGIL_RECORDS, numbered per device in
 * `seqs`, with ingest's message id; a refused publish is left to the next round.
 */
export async function publishGasReadings(
  backbone: Backbone,
  level: ReadonlyMap<string, number>,
  seqs: Map<string, number>,
  partitions: number,
): Promise<void> {
  const now = Date.now();
  await Promise.all(
    [...level].map(([key, lel]) => {
      const [siteId = '', id = ''] = key.split('/');
      const seq = (seqs.get(key) ?? 0) + 1;
      seqs.set(key, seq);
      const records: IngestRecord[] = [
        {
          kind: 'reading',
          reading: {
            siteId,
            deviceId: id,
            deviceClass: 'gas-combustible',
            areaId: 'zone-a',
            ts: now,
            receivedAt: now,
            seq,
            deviceTime: true,
            clockSkewMs: 0,
            values: { lel },
          },
        },
      ];
      return backbone.js
        .publish(recordsSubject(partitionOf(siteId, partitions), siteId), JSON.stringify(records), {
          msgID: `${siteId}/${id}/${seq}`,
        })
        .catch(() => undefined);
    }),
  );
}
