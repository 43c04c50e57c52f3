import { Module, type DynamicModule, type Provider } from '@nestjs/common';

import { AlarmCommandServer } from '../alarms/alarm-commands';
import { ALARM_LOG } from '../alarms/alarm-journal';
import { ALARM_CLOCK, AlarmService } from '../alarms/alarm.service';
import type { Backbone } from '../bus/jetstream/backbone';
import { BACKBONE } from '../bus/jetstream/backbone.provider';
import { StreamAlarmJournal } from '../bus/jetstream/stream-alarm-journal';
import type { VigilConfig } from '../config/vigil-config';
import { exportsOf } from '../core/provided-tokens';
import { PartitionedRules } from './partitioned-rules';
import { RulesService } from './rules.service';

/**
 * The rules service: the rule engine and the alarm lifecycle. A gateway in the same process
 * imports this very module (GatewayModule.forConfig) to act on its alarms without a broker hop.
 */
@Module({})
export class RulesModule {
  static forConfig(config: VigilConfig): DynamicModule {
    const providers: Provider[] = [
      RulesService,
      AlarmService,
      { provide: ALARM_CLOCK, useValue: Date.now },
    ];
    // JetStream: partitions by lease, the alarm journal is VIGIL_ALARMS, commands on vigil.cmd.<p>.
    if (config.bus.kind === 'jetstream')
      providers.push(PartitionedRules, {
        provide: ALARM_LOG,
        inject: [BACKBONE],
        useFactory: (backbone: Backbone) =>
          new StreamAlarmJournal(backbone.js, config.bus.nats.partitions),
      });
    // Otherwise the operators' commands come over the internal broker, unless a gateway runs in
    // this process (it calls the alarm service directly: LocalAlarmCommands).
    else if (!config.services.includes('gateway')) providers.push(AlarmCommandServer);
    return {
      module: RulesModule,
      providers,
      // The gateway beside it acts on its alarms and its inspections raise alarms; readiness
      // reads the rules' coverage and partitions.
      exports: exportsOf(providers, [AlarmService, RulesService, PartitionedRules]),
    };
  }
}
