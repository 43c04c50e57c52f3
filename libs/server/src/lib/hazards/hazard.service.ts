import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';

import {
  DEFAULT_HAZARD_POLICY,
  applyHazardCommand,
  attachHazardPhoto,
  dueHazardTransition,
  reportHazard,
  type HazardActor,
  type HazardCommand,
  type HazardPhotoResult,
  type HazardPolicy,
  type HazardReport,
  type HazardResult,
} from '@vigil/alarms';
import {
  hazardOverdue,
  type Hazard,
  type HazardAction,
  type HazardCounts,
  type HazardPhotoStep,
  type HazardPhotoType,
  type HazardStatsRow,
} from '@vigil/contracts';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { JournalStatus } from '../journal/journal-status';
import { LedgerJournal } from '../journal/ledger-journal';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { HazardPhotoStore, PhotoWriteError } from './hazard-photo-store';

/** One row of the statistics: its key, and the fields that name it in the answer. */
export interface HazardStatsGroup {
  readonly key: string;
  readonly row: Pick<HazardStatsRow, 'enterprise' | 'siteId' | 'nodeId'>;
}

/** Hears each durable step of the ledger: the hazard after it, and the step. */
export type HazardStepListener = (
  steps: readonly { hazard: Hazard; action: HazardAction }[],
) => void;

/** Injected so that tests drive deadlines and escalation in virtual time. */
export const HAZARD_CLOCK = Symbol('HAZARD_CLOCK');
export type HazardClock = () => number;

/**
 * Owns the hazard ledger: every step goes through the pure lifecycle (`@vigil/alarms`
 * hazard-lifecycle), is journaled and fdatasync'd, and only then applied and answered. The ledger
 * is rebuilt from the journal at start. A timer applies Vigil's own steps (reminders, escalation
 * up the organisation tree) as deadlines pass. The event loop serialises all steps.
 */
@Injectable()
export class HazardService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HazardService.name);
  private readonly hazards = new Map<string, Hazard>();
  /** Alarm id → the hazard its disposal opened: one hazard per alarm. */
  private readonly byAlarm = new Map<string, string>();
  /** `${recordId}/${itemId}` → the hazard an inspection's failed item opened: one per item. */
  private readonly byInspectionItem = new Map<string, string>();
  /** `<dataDir>/hazards/hazard-journal.jsonl` (`hazards` on /readyz). */
  private readonly journal: LedgerJournal<'hazard', Hazard, HazardAction>;
  private readonly policy: HazardPolicy;
  /** `<dataDir>/hazards/photos/`: the photos, content-addressed (docs/interfaces.md §Hazards). */
  readonly photos: HazardPhotoStore;
  private lastNo = 0;
  /**
   * Told of every step once it is durable: the uplink's outbox (issue 15) and the notifier
   * (reminders, escalations, approvals).
   */
  private readonly listeners = new Set<HazardStepListener>();
  private timer: NodeJS.Timeout | undefined;
  private opened = false;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(HAZARD_CLOCK) private readonly clock: HazardClock,
    @Optional() @Inject(JournalStatus) journalStatus?: JournalStatus,
    @Optional() @Inject(VigilMetrics) private readonly metrics?: VigilMetrics,
  ) {
    this.journal = new LedgerJournal(
      join(config.dataDir, 'hazards'),
      'hazard',
      'hazards',
      journalStatus,
    );
    this.policy = {
      ...DEFAULT_HAZARD_POLICY,
      escalateEveryMs: config.hazardEscalateMs,
      maxPhotos: config.hazardPhotos.maxPerHazard,
    };
    this.photos = new HazardPhotoStore(
      join(config.dataDir, 'hazards', 'photos'),
      config.hazardPhotos.reserveBytes,
    );
  }

  onModuleInit(): void {
    this.open();
    if (this.config.alarmTickMs > 0) {
      this.timer = setInterval(() => this.tick(this.clock()), this.config.alarmTickMs);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.journal.close();
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    const leftovers = this.photos.open();
    if (leftovers > 0)
      this.logger.warn(
        `hazard photos ${this.photos.directory}: ${leftovers} unfinished upload(s) from before a crash removed (never referenced)`,
      );
    const restored = this.journal.open();
    for (const hazard of restored.records.values()) this.remember(hazard);
    this.logger.log(
      `hazard journal ${this.journal.path}: ${restored.entries} entries, ${this.hazards.size} hazard(s) in the ledger` +
        (restored.skipped > 0 ? `, ${restored.skipped} torn line(s) skipped` : ''),
    );
  }

  /** Calls `listener` with the hazards each durable commit changed; returns the unsubscribe. */
  onChange(listener: (hazards: readonly Hazard[]) => void): () => void {
    return this.onSteps(steps => listener(steps.map(({ hazard }) => hazard)));
  }

  /** Calls `listener` with every step from now on, after it is durable; returns the detach. */
  onSteps(listener: HazardStepListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): Hazard[] {
    return [...this.hazards.values()];
  }

  get(id: string): Hazard | undefined {
    return this.hazards.get(id);
  }

  /** The hazard an alarm's disposal opened, if any. */
  forAlarm(alarmId: string): Hazard | undefined {
    const id = this.byAlarm.get(alarmId);
    return id === undefined ? undefined : this.hazards.get(id);
  }

  /** The hazard an inspection record's failed item opened, if any. */
  forInspectionItem(recordId: string, itemId: string): Hazard | undefined {
    const id = this.byInspectionItem.get(`${recordId}/${itemId}`);
    return id === undefined ? undefined : this.hazards.get(id);
  }

  report(report: HazardReport, actor: HazardActor): HazardResult {
    if (report.inspection !== undefined) {
      const existing = this.forInspectionItem(report.inspection.recordId, report.inspection.itemId);
      if (existing)
        return {
          ok: false,
          status: 409,
          message: `item ${report.inspection.itemId} of inspection ${report.inspection.recordId} already opened hazard ${existing.id} (No. ${existing.no})`,
        };
    }
    if (report.alarmId !== undefined) {
      const existing = this.forAlarm(report.alarmId);
      if (existing)
        return {
          ok: false,
          status: 409,
          message: `alarm ${report.alarmId} already opened hazard ${existing.id} (No. ${existing.no})`,
        };
    }
    const result = reportHazard(report, actor, {
      now: this.clock(),
      id: randomUUID(),
      no: this.lastNo + 1,
    });
    if (result.ok) this.commit([result]);
    return result;
  }

  execute(id: string, command: HazardCommand, actor: HazardActor): HazardResult {
    const hazard = this.hazards.get(id);
    const result = applyHazardCommand(hazard, command, actor, {
      now: this.clock(),
      siteOrgPath: hazard ? this.orgPathOf(hazard.enterprise) : [],
      policy: this.policy,
    });
    if (result.ok) this.commit([result]);
    return result;
  }

  /**
   * Applies an approval of a major hazard that an upper Vigil's user gave (issue 15), carried
   * down as the order `orderId`: the hazard's `approve` step signed `by` (the upper's user, e.g.
   * `city:wang`). Idempotent by the order: a hazard whose history already holds a step of this
   * order answers that step again (`duplicate`) and nothing is journaled. Refused like any
   * approval when the hazard is not (or no longer) an accepted, unapproved major hazard. Throws
   * JournalWriteError when the disk refuses.
   */
  approveFromUpper(
    id: string,
    order: { readonly orderId: string; readonly by: string; readonly role: string },
    note: string | undefined,
  ): HazardResult & { readonly duplicate?: boolean } {
    const hazard = this.hazards.get(id);
    const done = hazard?.history.find(action => action.upperOrder === order.orderId);
    if (hazard && done) return { ok: true, hazard, action: done, duplicate: true };
    const role = order.role === 'admin' ? 'admin' : 'supervisor';
    const result = applyHazardCommand(
      hazard,
      { action: 'approve', ...(note ? { note } : {}) },
      { id: order.by, role },
      {
        now: this.clock(),
        siteOrgPath: hazard ? this.orgPathOf(hazard.enterprise) : [],
        policy: this.policy,
        fromUpper: { orderId: order.orderId },
      },
    );
    if (result.ok) this.commit([result]);
    return result;
  }

  /**
   * Stores a photo and signs it into the hazard's history. The lifecycle is asked first (no file
   * is written for a step it refuses), then the file is made durable (temp file, fsync, rename,
   * fsync of the directory), then the lifecycle is asked again on the hazard as it is now and the
   * step journaled: a photo is referenced only once it is whole on disk. The same bytes on the same
   * hazard are answered with the photo already there (`duplicate`). Throws PhotoWriteError (the
   * disk refused: counted, logged, nothing referenced) and JournalWriteError (the step did not
   * happen; the file stays, unreferenced, and a retry finds it).
   */
  async attachPhoto(
    id: string,
    upload: {
      readonly bytes: Buffer;
      readonly type: HazardPhotoType;
      readonly step: HazardPhotoStep;
    },
    actor: HazardActor,
  ): Promise<HazardPhotoResult> {
    const file = {
      sha256: HazardPhotoStore.hash(upload.bytes),
      type: upload.type,
      bytes: upload.bytes.length,
      step: upload.step,
    };
    const attach = () =>
      attachHazardPhoto(this.hazards.get(id), file, actor, {
        now: this.clock(),
        policy: this.policy,
      });
    const before = attach();
    if (!before.ok) {
      this.metrics?.hazardPhotos.inc({ outcome: 'refused' });
      return before;
    }
    // A duplicate whose file is somehow gone (restored journal, lost disk) is written again.
    if ('duplicate' in before && (await this.photos.has(file.sha256))) {
      this.metrics?.hazardPhotos.inc({ outcome: 'duplicate' });
      return before;
    }
    try {
      await this.photos.put(upload.bytes);
    } catch (error) {
      const reason = error instanceof PhotoWriteError ? error.reason : 'write-error';
      this.metrics?.hazardPhotos.inc({ outcome: reason });
      this.logger.error(
        `hazard ${id}: photo ${file.sha256} from ${actor.id} NOT stored: ${(error as Error).message}`,
      );
      throw error;
    }
    const result = attach();
    if (result.ok && !('duplicate' in result)) this.commit([result]);
    this.metrics?.hazardPhotos.inc({
      outcome: !result.ok ? 'refused' : 'duplicate' in result ? 'duplicate' : 'stored',
    });
    return result;
  }

  /** Applies Vigil's steps due at `now`: reminders past the deadline, then escalations. */
  tick(now: number): void {
    const steps: Extract<HazardResult, { ok: true }>[] = [];
    for (const hazard of this.hazards.values()) {
      const path = [...this.orgPathOf(hazard.enterprise)].reverse();
      let current = hazard;
      for (let step = 0; step < 8; step += 1) {
        const due = dueHazardTransition(current, now, path, this.policy);
        if (!due?.ok) break;
        steps.push(due);
        current = due.hazard;
      }
    }
    this.commit(steps);
    for (const { hazard, action } of steps)
      this.logger.warn(
        `hazard No. ${hazard.no} "${hazard.title}" (${hazard.siteId}): ${action.action} ${action.note ?? ''}`,
      );
  }

  /**
   * Counts per level (open, overdue now, closed) of `hazards` in `groups` (enterprises, sites or
   * regions, listed even with nothing in them: 动态清零 shows as zeros); `keysOf` names the groups
   * a hazard counts in (a region counts every hazard beneath it).
   */
  stats(
    hazards: readonly Hazard[],
    groups: readonly HazardStatsGroup[],
    keysOf: (hazard: Hazard) => readonly string[],
    now: number,
  ): HazardStatsRow[] {
    type Counts = { -readonly [K in keyof HazardCounts]: HazardCounts[K] };
    const zero = (): Counts => ({ open: 0, overdue: 0, closed: 0 });
    const rows = new Map(
      groups.map(group => [
        group.key,
        { ...group.row, levels: { general: zero(), major: zero() }, total: zero() },
      ]),
    );
    for (const hazard of hazards) {
      for (const key of keysOf(hazard)) {
        const row = rows.get(key);
        if (!row) continue;
        for (const counts of [row.levels[hazard.level], row.total]) {
          if (hazard.state === 'closed') counts.closed += 1;
          else counts.open += 1;
          if (hazardOverdue(hazard, now)) counts.overdue += 1;
        }
      }
    }
    return [...rows.values()];
  }

  /** Organisation node ids of an enterprise, root first (the site's own node last). */
  private orgPathOf(enterprise: string): string[] {
    return this.registry.current.orgPath(enterprise).map(node => node.id);
  }

  private commit(steps: readonly Extract<HazardResult, { ok: true }>[]): void {
    if (steps.length === 0) return;
    // Durable first: nobody hears of a step that a crash could take back.
    this.journal.append(steps.map(({ hazard, action }) => this.journal.entry(hazard, action)));
    for (const { hazard } of steps) this.remember(hazard);
    for (const listener of this.listeners) {
      try {
        listener(steps);
      } catch (error) {
        // The step is durable already; a listener's defect must not make it look failed.
        this.logger.error(`hazard listener failed: ${(error as Error).stack ?? String(error)}`);
      }
    }
  }

  private remember(hazard: Hazard): void {
    this.hazards.set(hazard.id, hazard);
    if (hazard.alarmId !== undefined) this.byAlarm.set(hazard.alarmId, hazard.id);
    if (hazard.inspection !== undefined)
      this.byInspectionItem.set(
        `${hazard.inspection.recordId}/${hazard.inspection.itemId}`,
        hazard.id,
      );
    if (hazard.no > this.lastNo) this.lastNo = hazard.no;
  }
}
