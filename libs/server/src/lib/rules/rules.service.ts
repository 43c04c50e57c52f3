import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Subject, concat, filter, map, merge, of, share, switchMap, type Subscription } from 'rxjs';

import type { IngestRecord, RuleSignal } from '@vigil/contracts';
import {
  asSiteInput,
  chatterGuard,
  createRuleEngineStats,
  mhsGradeRule,
  ruleEngine,
  siteRules,
  withTicks,
  type EngineInput,
} from '@vigil/rules';

import { AlarmService } from '../alarms/alarm.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder, registryMhsUnits } from '../registry/registry-holder';

/**
 * The alarm engine: ingest records (and a tick for time-based rules) through the rule engine;
 * the signals go to the alarm lifecycle. Rule state is per device in the engine, kept across
 * registry reloads for rules that still exist.
 */
@Injectable()
export class RulesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RulesService.name);
  private subscription: Subscription | undefined;
  private readonly records = new Subject<IngestRecord>();
  private pending: RuleSignal[] = [];
  private flushScheduled = false;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(AlarmService) private readonly alarms: AlarmService,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {}

  onModuleInit(): void {
    const lookupDevice = (siteId: string, deviceId: string) => {
      const device = this.registry.current.device(siteId, deviceId);
      return device ? this.registry.rulesOf(device) : undefined;
    };
    const stats = createRuleEngineStats();
    this.metrics.watchRuleEngine(stats);
    const inputs$ = this.records.pipe(withTicks(this.config.ruleTickMs), share());
    const device$ = inputs$.pipe(
      ruleEngine({
        lookupDevice,
        clock: Date.now,
        startedAt: Date.now(),
        expectedDevices: this.registry.allDeviceRules(),
        // Alarms restored from the journal: their rules start active, so a return to normal clears them.
        activeAtStart: key => this.alarms.conditionActive(key),
        // Fire-panel points and per-channel device alarms: their active addresses, once.
        eventAlarmsAtStart: () => this.alarms.open(),
        stats,
      }),
      // ISA-18.2 chattering: ≥ 3 changes a minute hold the alarm active instead of re-annunciating.
      chatterGuard({ tickMs: this.config.ruleTickMs }),
      share(),
    );
    // Area and site rules (crowding, geofences, voting, muster) see the records, the ticks and the
    // device rules' signals; they and the major-hazard grade restart on a registry reload, while
    // the device engine keeps its per-device state (it notices reloaded devices itself).
    const registries$ = concat(of(this.registry.current), this.registry.changes$);
    const site$ = registries$.pipe(
      switchMap(registry =>
        merge(inputs$.pipe(filter(concernsSiteRules)), device$.pipe(map(asSiteInput))).pipe(
          siteRules({
            sites: registry.sites.map(site => ({
              siteId: site.id,
              areas: site.areas,
              devices: registry.devices.filter(device => device.siteId === site.id),
            })),
            clock: Date.now,
          }),
        ),
      ),
    );
    // GB 18218-2018 live index of each production or storage unit from its tank levels.
    const grade$ = registries$.pipe(
      switchMap(registry => {
        const units = registryMhsUnits(registry);
        return inputs$.pipe(
          filter(
            (input): input is Extract<IngestRecord, { kind: 'reading' }> =>
              input.kind === 'reading',
          ),
          map(input => input.reading),
          mhsGradeRule({ units, clock: Date.now }),
        );
      }),
    );
    const engine$ = merge(device$, site$, grade$);
    this.subscription = engine$.subscribe({
      next: signal => this.signal(signal),
      error: (error: unknown) =>
        this.logger.error(`rule engine failed: ${(error as Error).stack ?? String(error)}`),
    });
    this.subscription.add(
      this.bus.records$.subscribe(batch => {
        for (const record of batch) this.records.next(record);
      }),
    );
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.flush();
  }

  private signal(signal: RuleSignal): void {
    this.metrics.signals.inc({ rule: signal.ruleId, active: String(signal.active) });
    this.pending.push(signal);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const signals = this.pending;
    this.pending = [];
    this.alarms.applySignals(signals);
  }
}

/**
 * Area and site rules look at ticks and at personnel tags (positions, last wills) besides the
 * device rules' signals; every other record is dropped before it reaches them (most of the
 * traffic: gas detectors, monitors, tanks).
 */
function concernsSiteRules(input: EngineInput): boolean {
  if (input.kind === 'tick') return true;
  if (input.kind === 'reading') return input.reading.deviceClass === 'tag';
  if (input.kind === 'status') return input.status.deviceClass === 'tag';
  return false;
}
