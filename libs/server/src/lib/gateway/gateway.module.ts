import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import { AlarmActivity } from '../alarms/alarm-activity';
import { AlarmCommands, LocalAlarmCommands, RemoteAlarmCommands } from '../alarms/alarm-commands';
import { AlarmView } from '../alarms/alarm-view';
import { AuthController } from '../auth/auth.controller';
import { AuthGuard } from '../auth/auth.guard';
import { AuthService } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { CanaryService } from '../canary/canary.service';
import type { VigilConfig } from '../config/vigil-config';
import { CONSOLE_API_CONTROLLERS, CONSOLE_API_PROVIDERS } from '../console-api';
import { exportsOf } from '../core/provided-tokens';
import { DutyController } from '../duty/duty.controller';
import { SHIFT_CLOCK, ShiftService } from '../duty/shift.service';
import { GuarantorsController } from '../guarantors/guarantors.controller';
import { GuarantorsService } from '../guarantors/guarantors.service';
import { HAZARD_CLOCK, HazardService } from '../hazards/hazard.service';
import { HazardsController } from '../hazards/hazards.controller';
import { INSPECTION_CLOCK, InspectionService } from '../inspections/inspection.service';
import { InspectionsController } from '../inspections/inspections.controller';
import { NotifyStatus, notifyParts } from '../notify';
import { PERMIT_CLOCK, PermitService } from '../permits/permit.service';
import { PermitsController } from '../permits/permits.controller';
import { MonthlyReportController, REPORT_CLOCK } from '../reports/monthly-report.controller';
import { ReportPrinter } from '../reports/report-printer';
import { UplinkController } from '../uplink/uplink.controller';
import { UplinkForwarder } from '../uplink/uplink-forwarder';
import { UplinkOrdersController } from '../uplink/uplink-orders.controller';
import { UplinkReceiver } from '../uplink/uplink-receiver';
import { AlarmsController, DevicesController, SitesController } from './api.controller';
import { gatewayJetstreamProviders } from './jetstream.providers';
import { RegistryController } from './registry.controller';
import { ReportsController } from './reports.controller';
import { WsHub } from './ws-hub';

/**
 * The gateway service: REST, WebSocket, the console's API and the control room's ledgers. Given
 * the rules module when the rules run in this process (VigilModule): it imports that module to
 * act on the alarms directly (LocalAlarmCommands), and its inspections raise their alarms there.
 */
@Module({})
export class GatewayModule {
  static forConfig(config: VigilConfig, rulesInProcess?: DynamicModule): DynamicModule {
    const controllers: Type[] = [
      AuthController,
      DevicesController,
      SitesController,
      AlarmsController,
      ReportsController,
      RegistryController,
      ...CONSOLE_API_CONTROLLERS,
    ];
    const providers: Provider[] = [
      AuthService,
      AuthorizationService,
      { provide: APP_GUARD, useClass: AuthGuard },
      ...CONSOLE_API_PROVIDERS,
      AlarmView,
      AlarmActivity,
      CanaryService,
      WsHub,
    ];
    if (config.bus.kind === 'jetstream')
      // Alarms from VIGIL_ALARMS, records from core NATS, commands to the partition's owner.
      providers.push(...gatewayJetstreamProviders());
    else
      providers.push({
        provide: AlarmCommands,
        useClass: rulesInProcess ? LocalAlarmCommands : RemoteAlarmCommands,
      });
    // The hazard ledger (issue 15) lives with the gateway: it links hazards to alarms it sees.
    controllers.push(HazardsController);
    providers.push(HazardService, { provide: HAZARD_CLOCK, useValue: Date.now });
    // Inspection schedules (issue 15): missed ones raise alarms in this process's lifecycle.
    controllers.push(InspectionsController);
    providers.push(InspectionService, { provide: INSPECTION_CLOCK, useValue: Date.now });
    // Special-operation permits (issue 15): handed to the rules through PermitBoard (CoreModule).
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
    return {
      module: GatewayModule,
      imports: rulesInProcess ? [rulesInProcess] : [],
      controllers,
      providers,
      // What readiness reads of the gateway (HealthModule).
      exports: exportsOf(providers, [
        AlarmView,
        CanaryService,
        NotifyStatus,
        ShiftService,
        InspectionService,
        UplinkForwarder,
      ]),
    };
  }
}
