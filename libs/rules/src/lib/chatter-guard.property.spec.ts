import fc from 'fast-check';

import type { RuleSignal } from '@vigil/contracts';

import { SITE, tick } from '../testing/fixtures';
import { createChatterGuardState, reduceChatterGuard } from './chatter-guard.reducer';

const KEYS = ['d1', 'd2'] as const;

const step = fc.oneof(
  fc.record({
    kind: fc.constant('signal' as const),
    device: fc.constantFrom(...KEYS),
    advance: fc.integer({ min: 0, max: 40_000 }),
  }),
  fc.record({ kind: fc.constant('tick' as const), advance: fc.integer({ min: 0, max: 90_000 }) }),
);

function signal(deviceId: string, active: boolean, detectedAt: number): RuleSignal {
  return {
    key: `${SITE}/${deviceId}/gas-l1`,
    ruleId: 'gas-l1',
    siteId: SITE,
    deviceId,
    deviceClass: 'gas-combustible',
    areaId: undefined,
    category: 'process',
    priority: 2,
    level: 'L1',
    active,
    latched: false,
    metric: 'lel',
    value: undefined,
    threshold: 25,
    message: '',
    at: detectedAt,
    detectedAt,
  };
}

describe('chatter guard properties', () => {
  it('never lets more than 3 changes a minute through per key, and loses no final state', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), fc.boolean(), (steps, startActive) => {
        const state = createChatterGuardState();
        const upstream = new Map<string, boolean>();
        const out: RuleSignal[] = [];
        let now = 0;
        for (const each of steps) {
          now += each.advance;
          if (each.kind === 'tick') {
            out.push(...reduceChatterGuard(state, tick(now)).signals);
            continue;
          }
          // Upstream alternates per key, as the rule engine guarantees.
          const active = !(upstream.get(each.device) ?? !startActive);
          upstream.set(each.device, active);
          out.push(...reduceChatterGuard(state, signal(each.device, active, now)).signals);
        }
        out.push(...reduceChatterGuard(state, tick(now + 61_000)).signals);

        for (const device of KEYS) {
          const mine = out.filter(each => each.deviceId === device);
          // Times at which the state seen downstream changed.
          const changes: number[] = [];
          let shown: boolean | undefined;
          let holding = false;
          for (const each of mine) {
            if (each.chattering === true) {
              expect(holding).toBe(false); // one chattering signal per hold
              expect(each.active).toBe(true);
              holding = true;
            } else if (each.chattering === false) {
              expect(holding).toBe(true);
              holding = false;
            } else {
              expect(holding).toBe(false); // nothing else gets through a hold
              expect(each.active).not.toBe(shown); // a plain signal is always a change
            }
            if (each.active !== shown) changes.push(each.detectedAt);
            shown = each.active;
          }
          for (let index = 3; index < changes.length; index += 1) {
            expect(
              (changes[index] as number) - (changes[index - 3] as number),
            ).toBeGreaterThanOrEqual(60_000);
          }
          expect(holding).toBe(false);
          if (upstream.has(device)) expect(shown).toBe(upstream.get(device));
        }
      }),
      { numRuns: 500 },
    );
  });
});
