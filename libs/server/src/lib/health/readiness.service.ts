import { Inject, Injectable, Optional } from '@nestjs/common';

import { AlarmView } from '../alarms/alarm-view';
import { BackboneHealth } from '../bus/jetstream/backbone-health';
import { CanaryService } from '../canary/canary.service';
import { MqttPublisher } from '../mqtt/mqtt-publisher';
import { PartitionedRules } from '../rules/partitioned-rules';
import { RulesService } from '../rules/rules.service';
import { NotifyStatus } from '../notify/notify-status';
import { RegistryHolder } from '../registry/registry-holder';
import type { Readiness } from '../gateway/api-responses';
import { StorageStatus } from '../gateway/storage-status';
import { LocalSpool } from '../bus/spool/local-spool';
import { IngestBrokerLink } from '../ingest/ingest-broker-link';
import { JournalStatus } from '../journal/journal-status';
import { Lifecycle } from '../lifecycle';
import { PermitBoard } from '../permits/permit-board';
import { InspectionService } from '../inspections/inspection.service';
import { ShiftService } from '../duty/shift.service';
import { UplinkForwarder } from '../uplink/uplink-forwarder';

import { ServicesHealth } from './services-health';

type Details = NonNullable<Readiness['details']>;

/** Monitoring-lost entries listed on /readyz at most (the count says how many there are). */
const MAX_LISTED = 100;

/**
 * What `/readyz` answers, computed in one place: the controller serves it, and on the JetStream
 * backbone the health exchange publishes its failing checks to `vigil_health` for the gateway.
 */
@Injectable()
export class ReadinessService {
  constructor(
    @Inject(MqttPublisher) private readonly broker: MqttPublisher,
    @Inject(StorageStatus) private readonly storage: StorageStatus,
    /** Present in a process that runs the rules service. */
    @Optional() @Inject(RulesService) private readonly rules?: RulesService,
    /** In the gateway process only: it judges the pipeline canary. */
    @Optional() @Inject(CanaryService) private readonly canary?: CanaryService,
    @Optional() @Inject(NotifyStatus) private readonly notify?: NotifyStatus,
    /** VIGIL_BUS=memory: the local spool (a drop or a nearly full lane is degraded). */
    @Optional() @Inject(LocalSpool) private readonly spool?: LocalSpool,
    /** A rules instance on the JetStream backbone: the partitions it owns. */
    @Optional() @Inject(PartitionedRules) private readonly partitions?: PartitionedRules,
    @Optional() @Inject(RegistryHolder) private readonly registry?: RegistryHolder,
    /** JetStream data path: ingest's spool, the persister's backlog and losses. */
    @Optional() @Inject(BackboneHealth) private readonly backbone?: BackboneHealth,
    /** In a process that runs ingest: held PUBACKs and broker sessions lost. */
    @Optional() @Inject(IngestBrokerLink) private readonly ingest?: IngestBrokerLink,
    /** The local alarm and hazard journals: listed while their last append failed. */
    @Optional() @Inject(JournalStatus) private readonly journals?: JournalStatus,
    /** Where the start and stop order stands: not ready until ingest takes device messages. */
    @Optional() @Inject(Lifecycle) private readonly lifecycle?: Lifecycle,
    /** Special-operation permits: an active one that no rule engine evaluates is degraded. */
    @Optional() @Inject(PermitBoard) private readonly permits?: PermitBoard,
    /** VIGIL_BUS=jetstream: this process's readiness published, and (gateway) the others'. */
    @Optional() @Inject(ServicesHealth) private readonly services?: ServicesHealth,
    /** Duty (gateway): control rooms unmanned now, reported (their P2 alarm is the signal). */
    @Optional() @Inject(ShiftService) private readonly duty?: ShiftService,
    /** Inspection schedules: listed (not failed) when this process cannot watch them. */
    @Optional() @Inject(InspectionService) private readonly inspections?: InspectionService,
    /** A gateway: listeners of the alarm updates (WebSocket, notifier) that threw. */
    @Optional() @Inject(AlarmView) private readonly alarmView?: AlarmView,
    /** A lower Vigil (VIGIL_UPLINK_URL): the link to the upper, its backlog and failures. */
    @Optional() @Inject(UplinkForwarder) private readonly uplink?: UplinkForwarder,
  ) {}

  /**
   * Ready when the broker is connected, history is kept (an authenticated query on InfluxDB
   * passed; while it is not, each request probes again, so readiness follows a fix at once), in a
   * process that runs the rules every device, site and stream is evaluated, and (gateway) no hop
   * of the pipeline has stalled (`pipeline.stalled` names the hops whose canary is overdue).
   * Monitoring lost or a stalled hop with the broker and storage reachable answers 503 `degraded`
   * with what is wrong (docs/safety.md: a plant partly unmonitored is not ready, and the
   * operators must hear it). While the process starts (until ingest takes device messages, after
   * the rule state and the spool replay) or stops: 503 `not-ready`, `phase` says which.
   */
  async compute(): Promise<{ readonly ready: boolean; readonly body: Readiness }> {
    if (!this.storage.kept) await this.storage.probe();
    const lost = this.rules?.monitoringLost() ?? [];
    const pipeline = this.canary?.status;
    const backbone = this.backbone?.report();
    const spool = this.spool?.health();
    const ingest = this.ingest?.report();
    const journalsFailing = this.journals && !this.journals.ok ? this.journals.report() : undefined;
    const partitions = this.partitions?.status();
    const phase = this.lifecycle?.phase ?? 'running';
    const unevaluated = this.permitsUnevaluated();
    const services = this.services?.report();
    const unmanned = this.dutyUnmanned();
    const listenerFailures = this.alarmView?.listenerFailures() ?? [];
    const uplink = this.uplink?.status();
    const checks = {
      broker: this.broker.connected,
      storage: this.storage.kept,
      ...(this.rules ? { rules: lost.length === 0 } : {}),
      ...(partitions ? { partitions: partitions.unowned.length === 0 } : {}),
      ...(pipeline ? { pipeline: pipeline.canary !== 'stalled' } : {}),
      ...(backbone && this.backbone ? { backbone: this.backbone.ok } : {}),
      ...(spool ? { spool: spool.ok } : {}),
      ...(ingest ? { ingest: ingest.ok } : {}),
      ...(journalsFailing ? { journals: false } : {}),
      ...(phase !== 'running' ? { started: false } : {}),
      ...(unevaluated ? { permits: false } : {}),
      ...(services ? { services: services.ok } : {}),
      ...(listenerFailures.length > 0 ? { alarmListeners: false } : {}),
      ...(uplink ? { uplink: uplink.ok } : {}),
    };
    const reachable = checks.broker && checks.storage && phase === 'running';
    const ready = Object.values(checks).every(Boolean);
    const storage = this.storage.current;
    // Notifications are reported, not required: alarms still reach the console without them.
    // Storage says why it is not kept (or what it carries on with), never silently.
    // A refused reload leaves the last good registry running (ready), but the files on disk say
    // something else: reported until a reload is applied, never only in the log.
    const refused = this.registry?.refused;
    // Each part typed on its own: spreads escape the excess-property check, and the document
    // says `additionalProperties: false` (api-responses.ts).
    const reported: NonNullable<Readiness['details']> = {
      ...(this.notify ? { notify: this.notify.report() } : {}),
      ...(spool && !spool.ok ? { spool } : {}),
      ...(ingest && (!ingest.ok || ingest.sessionsLost > 0)
        ? { ingest: ingest satisfies Details['ingest'] }
        : {}),
      ...(partitions ? { partitions: partitions satisfies Details['partitions'] } : {}),
      ...(refused
        ? { registry: { reloadRefused: true, at: refused.at, problems: refused.problems } }
        : {}),
      ...(backbone ? { backbone } : {}),
      ...(journalsFailing ? { journals: journalsFailing } : {}),
      ...this.inspectionsUnwatched(),
      ...(unevaluated ? { permits: unevaluated } : {}),
      // Reported, not a check: Vigil still monitors; the plant's staffing is the P2 alarm's.
      ...(unmanned ? { duty: unmanned } : {}),
      ...(services?.details ? { services: services.details } : {}),
      ...(listenerFailures.length > 0 ? { alarmListeners: { failed: listenerFailures } } : {}),
      // A backlog is listed while it lasts even when posts succeed: how far the upper is behind.
      ...(uplink && (!uplink.ok || uplink.backlog > 0) ? { uplink } : {}),
      ...(!storage.kept || storage.reason
        ? { storage: { kept: storage.kept, kind: storage.kind, reason: storage.reason } }
        : {}),
    };
    // Typed from the schema the OpenAPI document publishes (api-responses.ts `readiness`).
    const body: Readiness = {
      status: ready ? 'ready' : reachable ? 'degraded' : 'not-ready',
      ...(phase !== 'running' ? { phase } : {}),
      checks,
      ...(pipeline ? { pipeline } : {}),
      ...(Object.keys(reported).length > 0 ? { details: reported } : {}),
      ...(lost.length > 0
        ? {
            monitoringLost: lost
              .slice(0, MAX_LISTED)
              .map(({ scope, siteId, deviceId, since, message }) => ({
                scope,
                siteId,
                deviceId,
                since,
                message,
              })),
            monitoringLostCount: lost.length,
          }
        : {}),
    };
    return { ready, body };
  }

  /** Active permits nobody evaluates (at most MAX_LISTED listed), or undefined when none. */
  /**
   * Schedules nobody watches here (split deployment): reported, not a failed check, since that
   * deployment runs inspections nowhere by design (docs/interfaces.md §Inspections).
   */
  private inspectionsUnwatched(): Pick<Details, 'inspections'> {
    const reason = this.inspections?.unavailable;
    if (!this.inspections || reason === undefined) return {};
    const unwatched = this.inspections.schedules().length;
    return unwatched > 0 ? { inspections: { unwatched, reason } } : {};
  }

  /** Control rooms unmanned now (at most MAX_LISTED listed), or undefined when none. */
  private dutyUnmanned(): Details['duty'] {
    if (!this.duty) return undefined;
    const rooms = this.duty.unmannedRooms();
    if (rooms.size === 0) return undefined;
    const unmanned = [...rooms].slice(0, MAX_LISTED).map(([room, status]) => {
      const [siteId = '', roomId = ''] = room.split('/');
      return { siteId, roomId, ...status };
    });
    return { unmanned, unmannedCount: rooms.size };
  }

  private permitsUnevaluated(): Details['permits'] {
    if (!this.permits) return undefined;
    const lost = this.permits.check(Date.now());
    if (lost.size === 0) return undefined;
    const views = new Map(this.permits.permits().map(view => [view.id, view]));
    const unevaluated: NonNullable<Details['permits']>['unevaluated'][number][] = [];
    for (const [id, status] of lost) {
      const view = views.get(id);
      if (!view || unevaluated.length >= MAX_LISTED) continue;
      unevaluated.push({
        id,
        no: view.no,
        siteId: view.siteId,
        areaId: view.areaId,
        ...status,
      });
    }
    return { unevaluated, unevaluatedCount: lost.size };
  }
}
