import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ModulesContainer } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';

import { startNats, type NatsHandle } from '@vigil/testing';

import {
  AlarmCommandServer,
  AlarmCommands,
  LocalAlarmCommands,
  RemoteAlarmCommands,
} from './alarms/alarm-commands';
import { ALARM_LOG } from './alarms/alarm-journal';
import { AlarmService } from './alarms/alarm.service';
import { AlarmView } from './alarms/alarm-view';
import { StreamAlarmJournal } from './bus/jetstream/stream-alarm-journal';
import { loadConfig } from './config/vigil-config';
import { CoreModule } from './core/core.module';
import { GatewayModule } from './gateway/gateway.module';
import { NatsAlarmCommands } from './gateway/nats-alarm-commands';
import { HealthExchange } from './health/health-exchange';
import { ReadinessService } from './health/readiness.service';
import { IngestBrokerLink } from './ingest/ingest-broker-link';
import { IngestModule } from './ingest/ingest.module';
import { IngestService } from './ingest/ingest.service';
import { InspectionService } from './inspections/inspection.service';
import { PermitBoard } from './permits/permit-board';
import { PermitService } from './permits/permit.service';
import { PersisterModule } from './persister/persister.module';
import { PersisterService } from './persister/persister.service';
import { PartitionedRules } from './rules/partitioned-rules';
import { RulesModule } from './rules/rules.module';
import { RulesService } from './rules/rules.service';
import { VigilModule } from './vigil.module';

/** A private field of a part (the test looks at the wiring, the code never does). */
const field = (part: object, name: string): unknown => Reflect.get(part, name);

/** How many instances of a Nest module the process holds. */
function instancesOf(module: TestingModule, metatype: object): number {
  return [...module.get(ModulesContainer).values()].filter(ref => ref.metatype === metatype).length;
}

/**
 * The process as startVigil composes it (issue 14: a module per service), compiled: constructors
 * and factories run, nothing starts. The cross-service wiring must hold in each combination.
 */
describe('VigilModule: the modules of the services a process runs', () => {
  let dir: string;
  let module: TestingModule | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-module-'));
  });
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function compose(env: Record<string, string>): Promise<TestingModule> {
    const config = loadConfig({ VIGIL_INFLUX_MODE: 'off', VIGIL_DATA_DIR: dir, ...env });
    module = await Test.createTestingModule({ imports: [VigilModule.forConfig(config)] }).compile();
    return module;
  }

  it('all in one, memory bus: one rules module, the gateway acts on its alarm service directly', async () => {
    const app = await compose({});
    expect(instancesOf(app, CoreModule)).toBe(1);
    expect(instancesOf(app, RulesModule)).toBe(1);
    for (const service of [IngestModule, PersisterModule, GatewayModule])
      expect(instancesOf(app, service)).toBe(1);
    const alarms = app.get(AlarmService);
    const commands = app.get(AlarmCommands);
    expect(commands).toBeInstanceOf(LocalAlarmCommands);
    expect(field(commands, 'alarms')).toBe(alarms);
    expect(field(app.get(RulesService), 'alarms')).toBe(alarms);
    // Missed inspections raise their alarms in this process's lifecycle.
    expect(field(app.get(InspectionService), 'alarms')).toBe(alarms);
    // Permits (gateway) and the rule engine share the one board.
    expect(field(app.get(PermitService), 'board')).toBe(app.get(PermitBoard));
    expect(field(app.get(RulesService), 'permits')).toBe(app.get(PermitBoard));
    expect(() => app.get(AlarmCommandServer)).toThrow();
    // Readiness sees every service's state.
    const readiness = app.get(ReadinessService);
    expect(field(readiness, 'rules')).toBe(app.get(RulesService));
    expect(field(readiness, 'ingest')).toBe(app.get(IngestBrokerLink));
    expect(field(readiness, 'alarmView')).toBe(app.get(AlarmView));
    expect(field(readiness, 'inspections')).toBe(app.get(InspectionService));
    expect(field(readiness, 'spool')).toBeDefined();
    expect(field(readiness, 'partitions')).toBeUndefined();
  });

  it('VIGIL_BUS=mqtt, one process per service: commands cross the broker', async () => {
    const env = { VIGIL_BUS: 'mqtt', VIGIL_MQTT_URL: 'mqtt://127.0.0.1:1' };
    const gateway = await compose({ ...env, VIGIL_SERVICES: 'gateway' });
    expect(gateway.get(AlarmCommands)).toBeInstanceOf(RemoteAlarmCommands);
    expect(field(gateway.get(InspectionService), 'alarms')).toBeUndefined();
    expect(instancesOf(gateway, RulesModule)).toBe(0);
    expect(field(gateway.get(ReadinessService), 'alarmView')).toBe(gateway.get(AlarmView));
    expect(field(gateway.get(ReadinessService), 'spool')).toBeUndefined();
    await gateway.close();

    const rules = await compose({ ...env, VIGIL_SERVICES: 'rules' });
    expect(rules.get(AlarmCommandServer)).toBeInstanceOf(AlarmCommandServer);
    expect(field(rules.get(AlarmCommandServer), 'alarms')).toBe(rules.get(AlarmService));
    expect(field(rules.get(ReadinessService), 'rules')).toBe(rules.get(RulesService));
    expect(() => rules.get(AlarmCommands)).toThrow();
    await rules.close();

    const ingest = await compose({ ...env, VIGIL_SERVICES: 'ingest' });
    expect(ingest.get(IngestService)).toBeInstanceOf(IngestService);
    expect(field(ingest.get(ReadinessService), 'ingest')).toBe(ingest.get(IngestBrokerLink));
    expect(() => ingest.get(RulesService)).toThrow();
    await ingest.close();

    const persister = await compose({ ...env, VIGIL_SERVICES: 'persister' });
    expect(persister.get(PersisterService)).toBeInstanceOf(PersisterService);
    expect(() => persister.get(AlarmView)).toThrow();
  });

  it('VIGIL_BUS=mqtt with rules and gateway in one process: no command server, local commands', async () => {
    const app = await compose({
      VIGIL_BUS: 'mqtt',
      VIGIL_MQTT_URL: 'mqtt://127.0.0.1:1',
      VIGIL_SERVICES: 'rules,gateway',
    });
    expect(app.get(AlarmCommands)).toBeInstanceOf(LocalAlarmCommands);
    expect(() => app.get(AlarmCommandServer)).toThrow();
    expect(instancesOf(app, RulesModule)).toBe(1);
  });

  describe('VIGIL_BUS=jetstream (real nats-server)', () => {
    let nats: NatsHandle;
    beforeAll(async () => {
      nats = await startNats();
    }, 30_000);
    afterAll(async () => {
      await nats?.stop();
    });

    it('rules and gateway in one process: commands to the partition owner, alarms journalled in VIGIL_ALARMS', async () => {
      const app = await compose({
        VIGIL_BUS: 'jetstream',
        VIGIL_NATS_URL: nats.url,
        VIGIL_MQTT_URL: 'mqtt://127.0.0.1:1',
        VIGIL_SERVICES: 'rules,gateway',
      });
      expect(app.get(AlarmCommands)).toBeInstanceOf(NatsAlarmCommands);
      expect(app.get(ALARM_LOG)).toBeInstanceOf(StreamAlarmJournal);
      expect(field(app.get(PartitionedRules), 'journal')).toBe(app.get(ALARM_LOG));
      expect(field(app.get(InspectionService), 'alarms')).toBe(app.get(AlarmService));
      expect(() => app.get(AlarmCommandServer)).toThrow();
      expect(field(app.get(ReadinessService), 'partitions')).toBe(app.get(PartitionedRules));
      expect(app.get(HealthExchange)).toBeInstanceOf(HealthExchange);
    });
  });
});
