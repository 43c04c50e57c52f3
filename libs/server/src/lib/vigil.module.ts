import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import {
  AlarmCommandServer,
  AlarmCommands,
  LocalAlarmCommands,
  RemoteAlarmCommands,
} from './alarms/alarm-commands';
import { ALARM_LOG } from './alarms/alarm-journal';
import { ALARM_CLOCK, AlarmService } from './alarms/alarm.service';
import { AuthController } from './auth/auth.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { AuthorizationService } from './auth/authorization.service';
import { RegistryController } from './gateway/registry.controller';
import { ReportsController } from './gateway/reports.controller';
import { PipelineBus } from './bus/pipeline-bus';
import { VIGIL_CONFIG, type VigilConfig } from './config/vigil-config';
import { CanaryService } from './canary/canary.service';
import { CONSOLE_API_CONTROLLERS, CONSOLE_API_PROVIDERS } from './console-api';
import { AlarmView } from './alarms/alarm-view';
import { AlarmsController, DevicesController, SitesController } from './gateway/api.controller';
import { HealthController } from './gateway/health.controller';
import { HealthExchange } from './health/health-exchange';
import { ReadinessService } from './health/readiness.service';
import { ServicesHealth } from './health/services-health';
import { StorageStatus } from './gateway/storage-status';
import { telemetryStoreProvider } from './storage/telemetry-store.provider';
import { JournalStatus } from './journal/journal-status';
import { WsHub } from './gateway/ws-hub';
import { gatewayJetstreamProviders } from './gateway/jetstream.providers';
import { IngestController } from './ingest/ingest.controller';
import { IngestBrokerLink } from './ingest/ingest-broker-link';
import { IngestService } from './ingest/ingest.service';
import { VigilMetrics } from './metrics/metrics';
import { MqttPublisher } from './mqtt/mqtt-publisher';
import { Lifecycle } from './lifecycle';
import { notifyParts } from './notify';
import { PersisterService } from './persister/persister.service';
import { RegistryHolder } from './registry/registry-holder';
import { RulesService } from './rules/rules.service';
import { InternalInbox } from './bus/internal-inbox';
import { spoolProviders } from './bus/spool/spool-parts';
import { BACKBONE, BackboneCloser, backboneProvider } from './bus/jetstream/backbone.provider';
import type { Backbone } from './bus/jetstream/backbone';
import { StreamAlarmJournal } from './bus/jetstream/stream-alarm-journal';
import { PartitionedRules } from './rules/partitioned-rules';
import { HAZARD_CLOCK, HazardService } from './hazards/hazard.service';
import { HazardsController } from './hazards/hazards.controller';
import { INSPECTION_CLOCK, InspectionService } from './inspections/inspection.service';
import { InspectionsController } from './inspections/inspections.controller';
import { GuarantorsController } from './guarantors/guarantors.controller';
import { GuarantorsService } from './guarantors/guarantors.service';
import { PermitBoard } from './permits/permit-board';
import { PERMIT_CLOCK, PermitService } from './permits/permit.service';
import { PermitsController } from './permits/permits.controller';
import { DutyController } from './duty/duty.controller';
import { SHIFT_CLOCK, ShiftService } from './duty/shift.service';
import { AlarmActivity } from './alarms/alarm-activity';
import { MonthlyReportController, REPORT_CLOCK } from './reports/monthly-report.controller';
import { ReportPrinter } from './reports/report-printer';
import { BackboneHealth } from './bus/jetstream/backbone-health';
import { jetstreamProviders } from './bus/jetstream/jetstream.providers';
import { UplinkController } from './uplink/uplink.controller';
import { UplinkForwarder } from './uplink/uplink-forwarder';
import { UplinkOrdersController } from './uplink/uplink-orders.controller';
import { UplinkReceiver } from './uplink/uplink-receiver';

/**
 * One module whose contents depend on which services this process runs, so the same code runs
 * as one process for a small site or as one process per service.
 */
@Module({})
export class VigilModule {
  static forConfig(config: VigilConfig): DynamicModule {
    const has = (service: VigilConfig['services'][number]) => config.services.includes(service);
    const controllers: Type[] = [HealthController];
    const providers: Provider[] = [
      { provide: VIGIL_CONFIG, useValue: config },
      VigilMetrics,
      Lifecycle,
      PipelineBus,
      RegistryHolder,
      MqttPublisher,
      // The one storage port: persister, storage status, history and reports inject it.
      telemetryStoreProvider,
      StorageStatus,
      JournalStatus,
      InternalInbox,
      // Permits meet the rule engine here (only in one process: see PermitBoard).
      PermitBoard,
      backboneProvider,
      BackboneCloser,
      ...spoolProviders(config),
      BackboneHealth,
      ...jetstreamProviders(config),
      ReadinessService,
    ];
    // JetStream: each process publishes its readiness to vigil_health, a gateway watches it.
    if (config.bus.kind === 'jetstream') providers.push(ServicesHealth, HealthExchange);
    if (has('ingest')) {
      controllers.push(IngestController);
      providers.push(IngestService, IngestBrokerLink);
    }
    if (has('rules'))
      providers.push(RulesService, AlarmService, { provide: ALARM_CLOCK, useValue: Date.now });
    // JetStream: partitions by lease, the alarm journal is VIGIL_ALARMS, commands on vigil.cmd.<p>.
    if (has('rules') && config.bus.kind === 'jetstream')
      providers.push(PartitionedRules, {
        provide: ALARM_LOG,
        inject: [BACKBONE],
        useFactory: (backbone: Backbone) =>
          new StreamAlarmJournal(backbone.js, config.bus.nats.partitions),
      });
    else if (has('rules') && !has('gateway')) providers.push(AlarmCommandServer);
    if (has('persister')) providers.push(PersisterService);
    if (has('gateway')) {
      controllers.push(
        AuthController,
        DevicesController,
        SitesController,
        AlarmsController,
        ReportsController,
        RegistryController,
        ...CONSOLE_API_CONTROLLERS,
      );
      providers.push(
        AuthService,
        AuthorizationService,
        { provide: APP_GUARD, useClass: AuthGuard },
        ...CONSOLE_API_PROVIDERS,
      );
      providers.push(AlarmView, AlarmActivity, CanaryService, WsHub);
      if (config.bus.kind === 'jetstream')
        // Alarms from VIGIL_ALARMS, records from core NATS, commands to the partition's owner.
        providers.push(...gatewayJetstreamProviders());
      else
        providers.push({
          provide: AlarmCommands,
          useClass: has('rules') ? LocalAlarmCommands : RemoteAlarmCommands,
        });
      // The hazard ledger (issue 15) lives with the gateway: it links hazards to alarms it sees.
      controllers.push(HazardsController);
      providers.push(HazardService, { provide: HAZARD_CLOCK, useValue: Date.now });
      // Inspection schedules (issue 15): missed ones raise alarms in this process's lifecycle.
      controllers.push(InspectionsController);
      providers.push(InspectionService, { provide: INSPECTION_CLOCK, useValue: Date.now });
      // Special-operation permits (issue 15): with the gateway, handed to the rules in-process.
      controllers.push(PermitsController);
      providers.push(PermitService, { provide: PERMIT_CLOCK, useValue: Date.now });
      // Major-hazard-source guarantors (issue 15): their duties are inspection schedules.
      controllers.push(GuarantorsController);
      providers.push(GuarantorsService);
      // Duty and shift hand-over (issue 15): beside the alarms, hazards and permits it hands over.
      controllers.push(DutyController);
      providers.push(ShiftService, { provide: SHIFT_CLOCK, useValue: Date.now });
      // The monthly report (issue 15): JSON, HTML, and PDF printed by headless Chromium.
      controllers.push(MonthlyReportController);
      providers.push(ReportPrinter, { provide: REPORT_CLOCK, useValue: Date.now });
      // The uplink (issue 15): forward to the Vigil above, and/or accept the Vigils below.
      if (config.uplink.lower) {
        controllers.push(UplinkOrdersController);
        providers.push(UplinkForwarder);
      }
      if (config.uplink.links.length > 0) {
        controllers.push(UplinkController);
        providers.push(UplinkReceiver);
      }
      const notify = notifyParts(config);
      controllers.push(...notify.controllers);
      providers.push(...notify.providers);
    }
    return { module: VigilModule, controllers, providers };
  }
}
