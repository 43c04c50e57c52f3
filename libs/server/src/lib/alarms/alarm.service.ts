import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import type { Alarm, RuleSignal } from '@vigil/contracts';

import { PipelineBus, type AlarmUpdate } from '../bus/pipeline-bus';
import { VigilMetrics } from '../metrics/metrics';
import {
  acknowledge,
  applySignal,
  reset,
  type ActionResult,
  type Transition,
} from './alarm-lifecycle';

/**
 * Owns the open alarms: exactly one per (source, rule) key. All transitions go through here, one
 * at a time (the event loop serialises them), and leave on the bus as alarm updates.
 */
@Injectable()
export class AlarmService {
  private readonly openByKey = new Map<string, Alarm>();
  private readonly keyById = new Map<string, string>();

  constructor(
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {}

  open(): readonly Alarm[] {
    return [...this.openByKey.values()];
  }

  applySignals(signals: readonly RuleSignal[]): void {
    const updates: AlarmUpdate[] = [];
    for (const signal of signals) {
      const transition = applySignal(this.openByKey.get(signal.key), signal, randomUUID);
      if (transition) updates.push(this.commit(transition));
    }
    this.bus.publishAlarms(updates);
  }

  acknowledge(id: string, by: string, note?: string): ActionResult {
    return this.act(acknowledge(this.byId(id), by, note, Date.now()));
  }

  reset(id: string, by: string, note?: string): ActionResult {
    return this.act(reset(this.byId(id), by, note, Date.now()));
  }

  private byId(id: string): Alarm | undefined {
    const key = this.keyById.get(id);
    return key === undefined ? undefined : this.openByKey.get(key);
  }

  private act(result: ActionResult): ActionResult {
    if (result.ok) this.bus.publishAlarms([this.commit(result.transition)]);
    return result;
  }

  private commit({ alarm, action }: Transition): AlarmUpdate {
    if (alarm.state === 'normal') {
      this.openByKey.delete(alarm.key);
      this.keyById.delete(alarm.id);
    } else {
      this.openByKey.set(alarm.key, alarm);
      this.keyById.set(alarm.id, alarm.key);
    }
    this.metrics.alarmTransitions.inc({ action: action.action });
    this.metrics.openAlarms.set(this.openByKey.size);
    return { alarm, action };
  }
}
