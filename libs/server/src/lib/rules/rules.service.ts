import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import {
  Subject,
  concat,
  defer,
  filter,
  map,
  merge,
  of,
  retry,
  share,
  switchMap,
  timer,
  type MonoTypeOperatorFunction,
  type Subscription,
} from 'rxjs';

import {
  CANARY_RULE_ID,
  STOP_WORK_RULE_ID,
  canaryOfSignal,
  canaryReport,
  type IngestRecord,
  type RuleSignal,
} from '@vigil/contracts';
import { siteLayouts } from '@vigil/registry';
import {
  MONITORING_LOST_RULE_ID,
  MONITORING_LOST_SUBJECTS,
  asSiteInput,
  chatterGuard,
  concernsPermits,
  describeError,
  monitoringLostSignal,
  type IsolationScope,
  createRuleEngineStats,
  mhsGradeRule,
  peopleInArea,
  permitStopWork,
  forgetRaisedPermitAlarms,
  type PermitStopWorkState,
  ruleEngine,
  siteRules,
  withTicks,
  type DeviceRuleState,
  type DeviceRules,
  type EngineInput,
  type RuleEngineState,
  type RuleEngineStats,
  type RuleStateSnapshot,
  RULE_STATE_VERSION,
  RestoredRuleState,
  reconcileRuleState,
  deviceStatesOf,
  recordBody,
  saveDevice,
  snapshotRuleState,
  type SiteRulesState,
} from '@vigil/rules';

import { AlarmService } from '../alarms/alarm.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { LocalSpool } from '../bus/spool/local-spool';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import { PermitBoard } from '../permits/permit-board';
import { RegistryHolder, registryMhsUnits } from '../registry/registry-holder';

/** A stream that errored is resubscribed after this long (no hot loop on a repeating error). */
const STREAM_RESTART_DELAY_MS = 1000;
/** A restarted stream that has run this long without an error has its monitoring-lost cleared. */
const STREAM_HEALTHY_AFTER_MS = 60_000;
/** All-in-one: how often the rule state is saved to `<VIGIL_DATA_DIR>/rules-state.json`, at most. */
const RULE_STATE_EVERY_MS = 5000;
/**
 * The share of the main thread the periodic saves may take, at most: a save that kept the event
 * loop busy for `busyMs` (in steps) is followed by the next one after `busyMs / share - busyMs`,
 * if that is longer than RULE_STATE_EVERY_MS. With the 100,000-device fleet one save is ~60 MB
 * of JSON and about a second of the main thread; every 5 s, that was 17.6 % of it at 10,000
 * readings/s (CPU profile, bench/README.md "The rule state saves"), more than ingest's own
 * share, and its garbage a good part of the GC's. A small fleet still saves every 5 s. What a
 * longer interval costs is only at a restart: the records since the last save are evaluated
 * again (still from the spool, which keeps them: nothing is lost), about 20 s of them at most.
 */
const RULE_STATE_MAX_SHARE = 0.05;

/** When the next rule state save starts, after one that kept the event loop busy `busyMs`. */
export function ruleStateSaveDelayMs(busyMs: number): number {
  return Math.max(RULE_STATE_EVERY_MS, Math.ceil(busyMs / RULE_STATE_MAX_SHARE - busyMs));
}
/**
 * Devices whose rule state one turn of the event loop saves at most. With the 100,000-device
 * fleet the whole state is ~60 MB of JSON: saved in one go every 5 s it held the event loop
 * for over a second each time (27 % of the main thread at 50,000 readings/s, CPU profile), and
 * every alarm provoked meanwhile waited (issue 14). 1,000 devices are a few milliseconds.
 */
const RULE_STATE_DEVICES_PER_TURN = 1000;
/** Spool entries read per step while a restart evaluates records again for rule state. */
const WARM_BATCH_ENTRIES = 256;

/** One part of the plant that is not being evaluated: what /readyz and the console show. */
export interface MonitoringLost {
  readonly key: string;
  readonly scope: IsolationScope;
  readonly siteId: string;
  readonly deviceId: string;
  readonly since: number;
  readonly message: string;
}

/** The rule engine over some sites (all of them, or one partition's): see RulesService.startScope. */
export interface RuleScope {
  /** Evaluates records now (synchronously: their signals are pending when it returns). */
  push(batch: readonly IngestRecord[]): void;
  /** Applies the pending signals to the alarm lifecycle now. */
  flush(): void;
  /** Stops the engine; its rule state is dropped (a later scope starts as after a restart). */
  stop(): void;
  /** The device rules' state now, for the next owner (`snapshotRuleState`). */
  snapshot(): RuleStateSnapshot | undefined;
  /** The engine's devices now (a save in steps walks them across turns: `saveDevice`). */
  deviceStates(): readonly DeviceRuleState[];
  /**
   * While warming, records are evaluated to rebuild rule state and every signal is dropped
   * (their transitions are durable already): the records between a state snapshot and the
   * resume point. Ending the warm-up reconciles the state with the open alarms.
   */
  warm(on: boolean): void;
}

/** Rule state saved by the previous owner, to start a scope from (docs/reliability.md). */
export interface ScopeRestore {
  readonly snapshot: unknown;
  /** Where it came from, for the log. */
  readonly from: string;
}

/**
 * The alarm engine: ingest records (and a tick for time-based rules) through the rule engine;
 * the signals go to the alarm lifecycle. Rule state is per device in the engine, kept across
 * registry reloads for rules that still exist.
 */
@Injectable()
export class RulesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RulesService.name);
  /** A stream failing on every restart (a bad configuration) logs a few lines a minute, not 60. */
  private readonly rateLimited = new RateLimitedLogger({
    warn: (message: string) => this.logger.error(message),
  });
  private subscription: Subscription | undefined;
  private stats: RuleEngineStats | undefined;
  private pending: RuleSignal[] = [];
  private flushScheduled = false;
  /** Open monitoring-lost signals by key: /readyz reports them. */
  private readonly lost = new Map<string, MonitoringLost>();
  private readonly healthyTimers = new Map<string, NodeJS.Timeout>();
  /** All-in-one: the scope over every site, whose state is saved to the data dir. */
  private localScope: RuleScope | undefined;
  /** Restores already reconciled (once per scope). */
  private readonly reconciled = new WeakSet<RestoredRuleState>();

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(PipelineBus) private readonly bus: PipelineBus,
    @Inject(AlarmService) private readonly alarms: AlarmService,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(PermitBoard) private readonly permits: PermitBoard,
    @Optional() @Inject(LocalSpool) private readonly spool?: LocalSpool,
  ) {}

  onModuleInit(): void {
    const stats = createRuleEngineStats();
    this.metrics.watchRuleEngine(stats);
    this.stats = stats;
    // Site rules and the grade start afresh on a reload: their isolated sites are evaluated again.
    this.subscription = this.registry.changes$.subscribe(() =>
      this.clearLost(scope => scope === 'area' || scope === 'site' || scope === 'grade'),
    );
    // The record feed: in one process (memory, mqtt bridge) every site, from the PipelineBus; on
    // the JetStream backbone each owned partition gets its own scope from PartitionedRules.
    if (this.config.bus.kind === 'jetstream') return;
    const saved = this.spool?.rulesState ? this.readLocalState() : undefined;
    const scope = this.startScope(
      'all',
      () => true,
      saved && {
        snapshot: saved.state,
        from: `${this.localStatePath()} at spool entry ${saved.seq}`,
      },
    );
    if (saved) this.warmFromSpool(scope, saved.seq, saved.deviceSeqs);
    this.subscription.add(this.bus.records$.subscribe(batch => scope.push(batch)));
    this.subscription.add(() => scope.stop());
    this.localScope = scope;
    if (this.spool?.rulesState) {
      let timer: NodeJS.Timeout | undefined;
      const next = (delayMs: number) => {
        timer = setTimeout(() => {
          void this.saveRuleState().then(() => {
            if (!this.subscription?.closed) next(ruleStateSaveDelayMs(this.lastSaveBusyMs));
          });
        }, delayMs);
        timer.unref();
      };
      next(RULE_STATE_EVERY_MS);
      this.subscription.add(() => clearTimeout(timer));
    }
  }

  /** How long the last rule state save kept the event loop busy, its steps added up (ms). */
  private lastSaveBusyMs = 0;

  private localStatePath(): string {
    return join(this.config.dataDir, 'rules-state.json');
  }

  /**
   * All-in-one: saves the rule state to `rules-state.json` in steps of RULE_STATE_DEVICES_PER_TURN
   * devices, one turn of the event loop each, so that no save holds the pipeline up. Each step
   * is taken between two record batches (the bus is synchronous), so the devices it saves reflect
   * exactly the spool entries evaluated by then: the file keeps that seq per step (`chunks`), and
   * a restart evaluates again, per device, only the entries after its own step's seq
   * (warmFromSpool). The `rules-state` cursor then moves to the first step's seq, so that the
   * entries after it stay for a restart. Written to a new file and renamed: a crash leaves the old
   * state or the new one, never half of one. One save at a time; resolves once it is written.
   */
  saveRuleState(): Promise<void> {
    this.saving ??= this.saveInSteps().finally(() => {
      this.saving = undefined;
    });
    return this.saving;
  }

  private saving: Promise<void> | undefined;

  private async saveInSteps(): Promise<void> {
    const scope = this.localScope;
    const cursor = this.spool?.rulesState;
    const firstSeq = this.spool?.rulesEvaluated() ?? 0;
    if (!scope || !cursor || firstSeq <= cursor.committed) return;
    let busyMs = 0;
    let stepStarted = performance.now();
    const devices = scope.deviceStates();
    busyMs += performance.now() - stepStarted;
    const path = this.localStatePath();
    try {
      mkdirSync(this.config.dataDir, { recursive: true });
      const file = await open(`${path}.new`, 'w');
      try {
        await file.write(
          `{"seq":${firstSeq},"at":${Date.now()},"state":{"v":${RULE_STATE_VERSION},"devices":[`,
        );
        /** `[seq, index of the step's first device in state.devices]` per step. */
        const chunks: [number, number][] = [];
        let saved = 0;
        for (let from = 0; from < devices.length; from += RULE_STATE_DEVICES_PER_TURN) {
          // A turn of its own, between record batches: what the step saves is as of `seq`.
          if (from > 0) await new Promise(resolve => setImmediate(resolve));
          if (this.localScope !== scope) return; // stopped meanwhile: nothing to save for it
          stepStarted = performance.now();
          const seq = this.spool?.rulesEvaluated() ?? firstSeq;
          const step: unknown[] = [];
          for (const device of devices.slice(from, from + RULE_STATE_DEVICES_PER_TURN)) {
            const each = saveDevice(device);
            if (each) step.push(each);
          }
          if (step.length === 0) continue;
          chunks.push([seq, saved]);
          const text = `${saved > 0 ? ',' : ''}${JSON.stringify(step).slice(1, -1)}`;
          busyMs += performance.now() - stepStarted;
          await file.write(text);
          saved += step.length;
        }
        await file.write(`]},"chunks":${JSON.stringify(chunks)}}`);
      } finally {
        await file.close();
      }
      await rename(`${path}.new`, path);
      cursor.commit(firstSeq);
      this.lastSaveBusyMs = busyMs;
    } catch (error) {
      this.metrics.rulesStateNotSaved.inc({ reason: 'error' });
      this.rateLimited.warn(
        'rules-state',
        `rule state not saved to ${path}: ${(error as Error)?.message}`,
      );
    }
  }

  private readLocalState(): SavedLocalState | undefined {
    const path = this.localStatePath();
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // First start (nothing evaluated yet) or a state never saved: said when it matters.
      if ((this.spool?.rulesEvaluated() ?? 0) > 0) {
        this.countUnrestored(1);
        this.logger.warn(
          `no saved rule state at ${path}: rules start as after a restart (pending on/off-delays and windows start over)`,
        );
      }
      return undefined;
    }
    try {
      const saved = JSON.parse(text) as { seq?: unknown; state?: unknown; chunks?: unknown };
      if (typeof saved.seq !== 'number' || !Number.isSafeInteger(saved.seq))
        throw new Error('no seq');
      return {
        seq: saved.seq,
        state: saved.state,
        deviceSeqs: deviceSeqsOf(saved.seq, saved.state, saved.chunks),
      };
    } catch (error) {
      this.countUnrestored(1);
      this.logger.warn(
        `saved rule state ${path} unreadable (${(error as Error)?.message}): rules start as after a restart`,
      );
      return undefined;
    }
  }

  /**
   * Brings the restored state from its spool entry up to the rules' cursor: the entries between
   * are evaluated again with their signals dropped (their transitions are in the alarm journal
   * already); LocalSpool then replays the entries after the cursor as live ones.
   */
  private warmFromSpool(
    scope: RuleScope,
    savedAt: number,
    deviceSeqs: ReadonlyMap<string, number>,
  ): void {
    const cursor = this.spool?.rulesState;
    const until = this.spool?.rulesEvaluated() ?? 0;
    if (!cursor || until <= savedAt) {
      scope.warm(false);
      return;
    }
    scope.warm(true);
    const skippedBefore = cursor.skipped;
    let entries = 0;
    try {
      for (let batch = cursor.read(WARM_BATCH_ENTRIES); batch.length > 0;) {
        const records: IngestRecord[] = [];
        let done = false;
        for (const entry of batch) {
          if (entry.seq > until) {
            done = true;
            break;
          }
          // Entries the saved state already reflects (the cursor lags a crash between the two).
          if (entry.seq <= savedAt) continue;
          entries += 1;
          try {
            for (const record of LocalSpool.recordsOf(entry.payload)) {
              // A device saved by a later step of the save reflects the entries up to its seq.
              if (deviceSeqs.size > 0 && record.kind !== 'canary') {
                const { siteId, deviceId } = recordBody(record);
                if (entry.seq <= (deviceSeqs.get(`${siteId}/${deviceId}`) ?? savedAt)) continue;
              }
              records.push(record);
            }
          } catch {
            // Unreadable: LocalSpool's replay said so already when it was evaluated.
          }
        }
        scope.push(records);
        scope.flush();
        if (done) break;
        batch = cursor.read(WARM_BATCH_ENTRIES);
      }
    } finally {
      cursor.rewind();
      if (cursor.skipped > skippedBefore) {
        this.countUnrestored(cursor.skipped - skippedBefore);
        this.logger.warn(
          `rule state: ${cursor.skipped - skippedBefore} spool entries between the saved state and the rules' cursor were dropped (spool full): the restored state misses them`,
        );
      }
      scope.warm(false);
    }
    this.logger.log(`rule state: ${entries} spool entries evaluated again (signals dropped)`);
  }

  /**
   * Starts the rule engine for the sites `includes` selects, as after a restart: devices not yet
   * heard from are expected from now, the rules of open alarms with an active condition start
   * active (activeAtStart) and open event alarms are seeded (eventAlarmsAtStart), so a return to
   * normal clears them and a still-abnormal reading raises nothing new. `push` evaluates records
   * synchronously; `flush` hands the signals raised so far to the alarm lifecycle at once.
   */
  startScope(
    name: string,
    includes: (siteId: string) => boolean,
    restore?: ScopeRestore,
  ): RuleScope {
    const stats = this.stats ?? createRuleEngineStats();
    const restored = restore ? new RestoredRuleState(restore.snapshot) : undefined;
    let engineState: RuleEngineState | undefined;
    let warming = false;
    let dropped = 0;
    const records = new Subject<IngestRecord>();
    const lookupDevice = (siteId: string, deviceId: string) => {
      if (!includes(siteId)) return undefined;
      const device = this.registry.current.device(siteId, deviceId);
      return device ? this.registry.rulesOf(device) : undefined;
    };
    const expectedDevices = (): DeviceRules[] =>
      [...this.registry.allDeviceRules()].filter(device => includes(device.siteId));
    const inputs$ = records.pipe(withTicks(this.config.ruleTickMs), share());
    // A device whose rules throw is isolated inside the engine; should the stream itself error,
    // it is resubscribed with fresh state (`restarting`), never left dead (issue 10).
    const device$ = defer(() =>
      inputs$.pipe(
        ruleEngine({
          lookupDevice,
          clock: Date.now,
          startedAt: Date.now(),
          expectedDevices: expectedDevices(),
          // Alarms restored from the journal (or still open after a restart of this stream): their
          // rules start active, so a return to normal clears them. Not while a saved rule state is
          // being restored: the devices start as they were at its snapshot (a rule left out of it
          // was inactive then) and the records since are evaluated again from there; seeded from
          // the alarms of the end instead, they would clear and raise again while warming, changes
          // that are dropped but that the chatter guard still counts, and it would then hold the
          // real return to normal back as chattering. The alarms win once warm (reconcileRuleState).
          activeAtStart: key =>
            (!restored || this.reconciled.has(restored)) && this.alarms.conditionActive(key),
          // Fire-panel points and per-channel device alarms: their active addresses, once.
          eventAlarmsAtStart: () => this.alarms.open().filter(alarm => includes(alarm.siteId)),
          stats,
          ...(restored ? { restoredState: restored } : {}),
          onState: state => (engineState = state),
        }),
        // ISA-18.2 chattering: ≥ 3 changes a minute hold the alarm active instead of re-annunciating.
        // The signals of records evaluated again while warming are dropped below: they must not
        // count as changes either, or the first live change of a key looks like chattering.
        chatterGuard({ tickMs: this.config.ruleTickMs, bypass: () => warming }),
      ),
    ).pipe(this.restarting('device-rules', includes), share());
    // Area and site rules (crowding, geofences, voting, muster) see the records, the ticks and the
    // device rules' signals; they and the major-hazard grade restart on a registry reload, while
    // the device engine keeps its per-device state (it notices reloaded devices itself).
    // Deferred: a stream restarted after a reload starts from the registry current then.
    // The live site-rules state (who is in which area), for the stop-work alarm's list of people.
    let sitesState: SiteRulesState | undefined;
    // The permit rule's live state: its raised alarms are forgotten when a warm-up ends.
    let permitState: PermitStopWorkState | undefined;
    const registries$ = concat(
      defer(() => of(this.registry.current)),
      this.registry.changes$,
    );
    const site$ = registries$.pipe(
      switchMap(registry =>
        merge(
          inputs$.pipe(filter(concernsSiteRules)),
          device$.pipe(
            filter(signal => signal.ruleId !== CANARY_RULE_ID),
            map(asSiteInput),
          ),
        ).pipe(
          // The same layouts the registry checked at load: this compile cannot refuse them.
          siteRules({
            sites: siteLayouts(registry).filter(site => includes(site.siteId)),
            clock: Date.now,
            // The named workers of an active special-operation permit (issue 15).
            geofenceExempt: this.permits.geofenceExempt,
            onState: state => (sitesState = state),
          }),
        ),
      ),
      this.restarting('site-rules', includes),
    );
    // GB 18218-2018 live index of each production or storage unit from its tank levels.
    const grade$ = registries$.pipe(
      switchMap(registry => {
        const units = registryMhsUnits(registry).filter(unit => includes(unit.siteId));
        return inputs$.pipe(
          filter(
            (input): input is Extract<IngestRecord, { kind: 'reading' }> =>
              input.kind === 'reading',
          ),
          map(input => input.reading),
          mhsGradeRule({ units, clock: Date.now }),
        );
      }),
      this.restarting('mhs-grade', includes),
    );
    // Special-operation permits: stop work on a gas or oxygen excursion in an active permit's area;
    // the latest gas readings of the areas of open permits, which a permit's start is checked
    // against (every other gas reading leaves the rule at once, keeping nothing).
    const permit$ = defer(() =>
      inputs$.pipe(
        filter(concernsPermits),
        permitStopWork({
          permits: this.permits.permits,
          keepsGasOf: this.permits.keepsGasOf,
          peopleInArea: (siteId, areaId) => {
            const site = sitesState?.sites.get(siteId);
            return site ? peopleInArea(site, areaId) : [];
          },
          clock: Date.now,
          // Only this scope's sites: a permit of a site no scope owns is reported (PermitBoard).
          includesSite: includes,
          maxGasSilenceMs: this.config.permitGasSilenceMs,
          onState: state => {
            permitState = state;
            this.permits.attachGas(name, state);
          },
        }),
      ),
    ).pipe(this.restarting('permits', includes));
    const subscription = merge(device$, site$, grade$, permit$).subscribe({
      next: signal => {
        if (warming) dropped += 1;
        else this.signal(signal);
      },
      // Unreachable while `restarting` retries for ever; said loudly should that ever change.
      error: (error: unknown) =>
        this.logger.fatal(`rule engine ${name} failed: ${(error as Error).stack ?? String(error)}`),
    });
    const scope: RuleScope = {
      push: batch => {
        for (const record of batch) records.next(record);
      },
      flush: () => this.flush(),
      stop: () => {
        subscription.unsubscribe();
        this.permits.attachGas(name, undefined);
        records.complete();
        // What this scope reported as not evaluated is no longer this instance's to report.
        for (const [key, lost] of this.lost) if (includes(lost.siteId)) this.lost.delete(key);
      },
      snapshot: () => (engineState ? snapshotRuleState(engineState) : undefined),
      deviceStates: () => (engineState ? deviceStatesOf(engineState) : []),
      warm: on => {
        if (on === warming) return;
        warming = on;
        this.permits.setWarming(name, on);
        // Stop-work and overstay signals raised while warming were dropped: raise them again.
        if (!on && permitState) forgetRaisedPermitAlarms(permitState);
        if (on || !restored || !engineState || !restore) return;
        this.restored(name, restore, restored, engineState, dropped, includes, stats);
      },
    };
    if (restored && restore && engineState) {
      // Nothing to evaluate again: the restored state is reconciled now.
      queueMicrotask(() => {
        if (!warming && engineState)
          this.restored(name, restore, restored, engineState, 0, includes, stats);
      });
    }
    return scope;
  }

  /**
   * The restored rule state, with the records since its snapshot evaluated again, meets the open
   * alarms: where they disagree the durable alarm wins (counted). What could not be restored is
   * counted and logged, never silently reset; so are the site rules, the chatter guard and the
   * MHS grade, which start afresh (docs/reliability.md, "Where the guarantee stops").
   */
  private restored(
    name: string,
    restore: ScopeRestore,
    restored: RestoredRuleState,
    state: RuleEngineState,
    replayedSignals: number,
    includes: (siteId: string) => boolean,
    stats: RuleEngineStats,
  ): void {
    if (this.reconciled.has(restored)) return;
    this.reconciled.add(restored);
    const byRule = new Map<string, number>();
    const reconciled = reconcileRuleState(
      state,
      key => this.alarms.conditionActive(key),
      (ruleId, active) => {
        const what = `${ruleId}→${active ? 'active' : 'inactive'}`;
        byRule.set(what, (byRule.get(what) ?? 0) + 1);
      },
    );
    const freshSites = this.registry.current.sites.filter(site => includes(site.id)).length;
    stats.restoredRuleStates += restored.restored;
    stats.unrestoredRuleStates += restored.unrestored;
    stats.reconciledRuleStates += reconciled;
    stats.freshSiteRuleScopes += freshSites;
    const message =
      `${name}: rule state restored from ${restore.from}: ${restored.restored} rule state(s) restored, ` +
      `${restored.unrestored} not restorable${restored.problems.length ? ` (${restored.problems.join('; ')})` : ''}, ` +
      `${reconciled} set to their open alarm${byRule.size ? ` (${[...byRule].map(([what, count]) => `${what} ${count}`).join(', ')})` : ''}, ${replayedSignals} signal(s) of records evaluated again dropped ` +
      `(already durable); site rules, chatter guard and MHS grade of ${freshSites} site(s) start afresh`;
    if (restored.unrestored > 0 || reconciled > 0) this.logger.warn(message);
    else this.logger.log(message);
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    for (const timer of this.healthyTimers.values()) clearTimeout(timer);
    this.flush();
  }

  /** What is not being evaluated now (isolated devices, sites, restarting streams), for /readyz. */
  monitoringLost(): readonly MonitoringLost[] {
    return [...this.lost.values()];
  }

  /**
   * Resubscribes a rule stream that errored, after STREAM_RESTART_DELAY_MS, for ever. Each error
   * is logged with its stack, counted (`scope="stream"`) and raises a P1 `monitoring-lost` on
   * every site; the alarm clears once the restarted stream has run STREAM_HEALTHY_AFTER_MS
   * without an error.
   */
  private restarting<T>(
    stream: string,
    includes: (siteId: string) => boolean,
  ): MonoTypeOperatorFunction<T> {
    return retry<T>({
      delay: error => {
        this.rateLimited.warn(
          `rule-stream:${stream}`,
          `rule stream ${stream} failed, restarting in ${STREAM_RESTART_DELAY_MS} ms: ` +
            `${(error as Error)?.stack ?? describeError(error)}`,
        );
        const now = Date.now();
        for (const site of this.registry.current.sites) {
          if (!includes(site.id)) continue;
          const source = {
            siteId: site.id,
            deviceId: `${MONITORING_LOST_SUBJECTS.stream}-${stream}`,
            deviceClass: undefined,
            areaId: undefined,
          };
          const signal = monitoringLostSignal(
            'stream',
            source,
            true,
            now,
            { clock: Date.now },
            error,
          );
          this.signal(signal);
          const previous = this.healthyTimers.get(signal.key);
          if (previous) clearTimeout(previous);
          const healthy = setTimeout(() => {
            this.healthyTimers.delete(signal.key);
            this.signal(
              monitoringLostSignal('stream', source, false, Date.now(), { clock: Date.now }),
            );
          }, STREAM_RESTART_DELAY_MS + STREAM_HEALTHY_AFTER_MS);
          healthy.unref();
          this.healthyTimers.set(signal.key, healthy);
        }
        return timer(STREAM_RESTART_DELAY_MS);
      },
    });
  }

  /** Clears the open monitoring-lost signals of the scopes given (their state was rebuilt). */
  private clearLost(which: (scope: IsolationScope) => boolean): void {
    for (const lost of [...this.lost.values()]) {
      if (!which(lost.scope)) continue;
      const source = {
        siteId: lost.siteId,
        deviceId: lost.deviceId,
        deviceClass: undefined,
        areaId: undefined,
      };
      this.signal(monitoringLostSignal(lost.scope, source, false, Date.now(), { clock: Date.now }));
    }
  }

  private signal(signal: RuleSignal): void {
    // The engine's answer to a canary: the proof that it is evaluating, reported, never an alarm.
    const canary = canaryOfSignal(signal);
    if (canary) {
      this.bus.publishCanary([canaryReport('rules', canary, Date.now())]);
      return;
    }
    this.metrics.signals.inc({ rule: signal.ruleId, active: String(signal.active) });
    if (signal.ruleId === MONITORING_LOST_RULE_ID) this.trackLost(signal);
    this.pending.push(signal);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private trackLost(signal: RuleSignal): void {
    const scope = signal.level as IsolationScope;
    if (!signal.active) {
      this.lost.delete(signal.key);
      return;
    }
    if (!this.lost.has(signal.key)) {
      this.metrics.rulesIsolated.inc({ scope });
      this.logger.error(signal.message);
    }
    this.lost.set(signal.key, {
      key: signal.key,
      scope,
      siteId: signal.siteId,
      deviceId: signal.deviceId,
      since: this.lost.get(signal.key)?.since ?? signal.detectedAt,
      message: signal.message,
    });
  }

  /** Rule states not restored outside a scope (a snapshot missing, too old, unreadable). */
  countUnrestored(count: number): void {
    if (this.stats) this.stats.unrestoredRuleStates += count;
  }

  /** Applies the signals raised so far now, not at the next microtask. */
  flushPending(): void {
    this.flush();
  }

  /** Hands the pending signals to the alarm lifecycle now (a scope's `flush`, or a microtask). */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const signals = this.pending;
    this.pending = [];
    try {
      this.alarms.applySignals(signals);
    } catch (error) {
      // The alarm lifecycle itself failed (its journal, or a bug): its in-memory state may now
      // differ from the journal, so this is not isolated here. Rethrown, it reaches the process
      // backstop, which exits non-zero; the supervisor restarts Vigil from the journal.
      this.logger.fatal(
        `alarm lifecycle failed on ${signals.length} signal(s) (${signals
          .slice(0, 5)
          .map(signal => signal.key)
          .join(', ')}): ${(error as Error)?.stack ?? describeError(error)}`,
      );
      throw error;
    }
    // The stop-work alarm is in the lifecycle now: its permit is suspended (PermitService).
    for (const signal of signals)
      if (signal.ruleId === STOP_WORK_RULE_ID && signal.active) this.permits.stopWork$.next(signal);
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

/** rules-state.json read back: the state, the seq of its first step, and later steps' seqs. */
interface SavedLocalState {
  readonly seq: number;
  readonly state: unknown;
  /** `site/device` → the seq its state was saved at, where later than `seq`. */
  readonly deviceSeqs: ReadonlyMap<string, number>;
}

/**
 * The seq each saved device's state reflects, from the file's `chunks` (`[seq, index of the
 * step's first device]`, RulesService.saveRuleState); only those later than the first step's.
 * A file without chunks (one step, as saved before issue 14) has none.
 */
export function deviceSeqsOf(first: number, state: unknown, chunks: unknown): Map<string, number> {
  const seqs = new Map<string, number>();
  const devices = (state as { devices?: unknown } | undefined)?.devices;
  if (!Array.isArray(chunks) || !Array.isArray(devices)) return seqs;
  chunks.forEach((chunk: unknown, index) => {
    if (!Array.isArray(chunk)) return;
    const [seq, from] = chunk as unknown[];
    const next = (chunks[index + 1] as unknown[] | undefined)?.[1];
    if (typeof seq !== 'number' || typeof from !== 'number' || seq <= first) return;
    const to = typeof next === 'number' ? next : devices.length;
    for (const device of devices.slice(from, to) as unknown[]) {
      if (Array.isArray(device) && typeof device[0] === 'string' && typeof device[1] === 'string')
        seqs.set(`${device[0]}/${device[1]}`, seq);
    }
  });
  return seqs;
}
