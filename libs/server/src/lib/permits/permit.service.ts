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
import type { Subscription } from 'rxjs';

import {
  PERMIT_SYSTEM,
  applyPermitCommand,
  permitRuleViews,
  requestPermit,
  type PermitActor,
  type PermitCommand,
  type PermitRequest,
  type PermitResult,
} from '@vigil/alarms';
import {
  permitIdOfStopWorkKey,
  type Permit,
  type PermitAction,
  type PermitView,
  type RuleSignal,
} from '@vigil/contracts';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { JournalStatus } from '../journal/journal-status';
import { LedgerJournal } from '../journal/ledger-journal';
import { PermitBoard } from './permit-board';

/** Injected so that tests drive the work window in virtual time. */
export const PERMIT_CLOCK = Symbol('PERMIT_CLOCK');
export type PermitClock = () => number;

/** A refusal the service adds to the lifecycle's: no rule engine evaluates the permit here. */
export type PermitServiceResult = PermitResult | { ok: false; status: 503; message: string };

/**
 * Owns the special-operation permits (issue 15): every step goes through the pure lifecycle
 * (`@vigil/alarms` permit-lifecycle), is journaled and fdatasync'd, and only then applied,
 * handed to the rule engine (PermitBoard) and answered. A stop-work alarm from the engine
 * suspends its permit, signed by Vigil. A timer (VIGIL_ALARM_TICK_MS) asks the board for active
 * permits that no rule engine evaluates (counted, logged, /readyz); the API shows it on each
 * permit, with `overdue` for a permit still open after its window.
 */
@Injectable()
export class PermitService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PermitService.name);
  private readonly permits = new Map<string, Permit>();
  /**
   * `<dataDir>/permits/permit-journal.jsonl` (`permits` on /readyz). Closed permits stay: the
   * permit is the record of who worked where and who signed it.
   */
  private readonly journal: LedgerJournal<'permit', Permit, PermitAction>;
  private lastNo = 0;
  private opened = false;
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    @Inject(PermitBoard) private readonly board: PermitBoard,
    @Inject(PERMIT_CLOCK) private readonly clock: PermitClock,
    @Optional() @Inject(JournalStatus) journalStatus?: JournalStatus,
  ) {
    this.journal = new LedgerJournal(
      join(config.dataDir, 'permits'),
      'permit',
      'permits',
      journalStatus,
    );
  }

  onModuleInit(): void {
    this.open();
    this.subscription = this.board.stopWork$.subscribe(signal => this.stopWork(signal));
    if (this.config.alarmTickMs > 0) {
      this.timer = setInterval(() => this.board.check(this.clock()), this.config.alarmTickMs);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
    this.journal.close();
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    const restored = this.journal.open();
    for (const permit of restored.records.values()) this.remember(permit);
    this.board.setPermits(
      permitRuleViews(this.permits.values()),
      this.clock(),
      this.permits.values(),
    );
    this.logger.log(
      `permit journal ${this.journal.path}: ${restored.entries} entries, ${this.permits.size} permit(s)` +
        (restored.skipped > 0 ? `, ${restored.skipped} torn line(s) skipped` : ''),
    );
  }

  list(): Permit[] {
    return [...this.permits.values()];
  }

  get(id: string): Permit | undefined {
    return this.permits.get(id);
  }

  /**
   * A permit as the API answers it: `overdue` while active or suspended after its window,
   * `unevaluated` while active and no rule engine evaluates its stop-work rule.
   */
  view(permit: Permit): PermitView {
    const now = this.clock();
    const unevaluated = this.board.check(now).get(permit.id);
    const open = permit.state === 'active' || permit.state === 'suspended';
    return {
      ...permit,
      ...(open && now >= permit.to ? { overdue: true } : {}),
      ...(unevaluated ? { unevaluated } : {}),
    };
  }

  request(request: PermitRequest, actor: PermitActor): PermitResult {
    const result = requestPermit(request, actor, {
      now: this.clock(),
      id: randomUUID(),
      no: this.lastNo + 1,
    });
    if (result.ok) this.commit(result);
    return result;
  }

  execute(id: string, command: PermitCommand, actor: PermitActor): PermitServiceResult {
    const permit = this.permits.get(id);
    const checksGas = command.action === 'start' || command.action === 'resume';
    // Fail closed: without the stop-work rule evaluated in this process, no work starts.
    if (checksGas && permit && !this.board.rulesAttached())
      return {
        ok: false,
        status: 503,
        message:
          'no rule engine evaluates permits in this process (gateway and rules split): ' +
          'the stop-work rule would not run, so the work cannot start',
      };
    const result = applyPermitCommand(permit, command, actor, {
      now: this.clock(),
      gasReadings: permit && checksGas ? this.board.gasReadings(permit.siteId, permit.areaId) : [],
    });
    if (result.ok) this.commit(result);
    return result;
  }

  /** The engine raised a stop-work alarm: its permit is suspended, signed by Vigil. */
  private stopWork(signal: RuleSignal): void {
    const id = permitIdOfStopWorkKey(signal.key);
    const permit = id === undefined ? undefined : this.permits.get(id);
    if (!permit || permit.state !== 'active') return;
    let result: PermitServiceResult;
    try {
      result = this.execute(
        permit.id,
        { action: 'suspend', note: signal.message, alarmKey: signal.key },
        PERMIT_SYSTEM,
      );
    } catch (error) {
      // The journal refused the step (JournalWriteError: counted, on /readyz): the permit stays
      // active in the ledger, its P1 stop-work alarm stands; said loudly, never thrown into the
      // engine's subject.
      this.logger.error(
        `permit No. ${permit.no}: stop work NOT recorded, the permit still shows active: ${(error as Error).message}`,
      );
      return;
    }
    if (result.ok)
      this.logger.warn(`permit No. ${permit.no} suspended (stop work): ${signal.message}`);
    else this.logger.error(`permit No. ${permit.no}: stop work not recorded: ${result.message}`);
  }

  private commit(result: Extract<PermitResult, { ok: true }>): void {
    // Durable first: nobody hears of a step that a crash could take back.
    this.journal.append([this.journal.entry(result.permit, result.action)]);
    this.remember(result.permit);
    this.board.setPermits(
      permitRuleViews(this.permits.values()),
      this.clock(),
      this.permits.values(),
    );
  }

  private remember(permit: Permit): void {
    this.permits.set(permit.id, permit);
    if (permit.no > this.lastNo) this.lastNo = permit.no;
  }
}
