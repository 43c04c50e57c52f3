import type { OperatorFunction } from 'rxjs';

import type { Reading, RuleSignal } from '@vigil/contracts';

import {
  type MhsGradeOptions,
  type MhsGradeState,
  createMhsGradeState,
  reduceMhsGrade,
} from './mhs-grade';
import { MONITORING_LOST_SUBJECTS, monitoringLostSignal } from './monitoring-lost';
import { reducerOperator } from './reducer-operator';
import { NO_SIGNALS } from './rule-signal';

interface IsolatingGradeState {
  grade: MhsGradeState;
  /** Sites whose grade threw: not graded any more until the operator is subscribed again. */
  readonly quarantined: Set<string>;
}

/**
 * The live major-hazard index (GB 18218-2018, R = α·Σβ·q/Q) of every production or storage unit from its tank
 * readings: one `mhs-grade` signal at a unit's first tank reading and one per grade change. Feed it
 * the readings (other devices are ignored); `units` come from the registry (`mhsUnitsOf`).
 * Errors and completion of the source pass through; state lives as long as the subscription.
 * A throw while grading one site isolates that site (a `monitoring-lost` signal, scope `grade`);
 * the other sites go on being graded.
 *
 * ```
 * readings: -a-b-|   one unit, one tank: ammonia, design max 50 t (Q 10 t, β 2), α 1; level 100 %, then 40 %
 * output:   -x-y-|   x: grade 3 (q 50 t: R = 10); y: grade 4 (q 20 t: R = 4, S = 2 ≥ 1)
 * ```
 *
 * @see reduceMhsGrade, README "Major hazard grade".
 */
export function mhsGradeRule(options: MhsGradeOptions): OperatorFunction<Reading, RuleSignal> {
  return reducerOperator<IsolatingGradeState, Reading>(
    () => ({ grade: createMhsGradeState(options), quarantined: new Set() }),
    (state, reading) => {
      if (state.quarantined.size > 0 && state.quarantined.has(reading.siteId))
        return { state, signals: NO_SIGNALS };
      try {
        const step = reduceMhsGrade(state.grade, reading, options);
        state.grade = step.state;
        return { state, signals: step.signals };
      } catch (error) {
        state.quarantined.add(reading.siteId);
        const source = {
          siteId: reading.siteId,
          deviceId: MONITORING_LOST_SUBJECTS.grade,
          deviceClass: undefined,
          areaId: undefined,
        };
        return {
          state,
          signals: [monitoringLostSignal('grade', source, true, reading.ts, options, error)],
        };
      }
    },
  );
}
