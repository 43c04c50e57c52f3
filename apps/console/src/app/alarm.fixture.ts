import type { Alarm } from '@vigil/contracts';

let counter = 0;

/** An open alarm for unit tests; override what the test is about. */
export function testAlarm(overrides: Partial<Alarm> = {}): Alarm {
  counter += 1;
  const id = overrides.id ?? `a-${counter}`;
  return {
    id,
    key: `plant-1/gc-${counter}/gas-l1`,
    ruleId: 'gas-l1',
    siteId: 'plant-1',
    deviceId: `gc-${counter}`,
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    category: 'process',
    priority: 2,
    level: 'L1',
    state: 'active-unacknowledged',
    conditionActive: true,
    latched: false,
    metric: 'lel',
    value: 27.5,
    threshold: 25,
    message: 'Combustible gas 27.5 %LEL ≥ L1 set-point 25 %LEL',
    raisedAt: 1_000_000 + counter,
    clearedAt: undefined,
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    updatedAt: 1_000_000 + counter,
    detectedAt: 1_000_000 + counter,
    history: [{ action: 'raise', at: 1_000_000 + counter, by: undefined, note: undefined }],
    groupId: id,
    ...overrides,
  };
}
