import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import { windowAt } from '@vigil/alarms';
import type { Alarm, InspectionRecord, MhsGuarantorsView } from '@vigil/contracts';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { journalWatching, loginAs, mqttClient, registryWithGuarantors, telemetry } from './support';

type Client = Awaited<ReturnType<typeof loginAs>>;

const DAY = 24 * 3_600_000;
const SHANGHAI = 'Asia/Shanghai';
const DUTY = 'mhs-reactor-unit-1-operational';

/**
 * Major-hazard-source guarantors (包保责任人, issue 15, RSP-01) on the built Vigil process, over MQTT
 * and HTTP only. The sample plant's reactor unit names wang (principal), li (technical) and zhang
 * (operational). zhang's weekly duty has been watched since two Shanghai weeks ago with nothing
 * recorded: each closed week is an `inspection-missed` alarm naming zhang, and the source shows the
 * duty overdue. A gas alarm in the reactor unit names the unit's guarantors; li may not sign
 * zhang's duty; zhang's own record makes it up.
 */
describe('guarantors: each source names its guarantors, their duties are watched', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  let device: MqttClient | undefined;
  let zhang: Client;
  let li: Client;
  let plantFile: string;
  const thisWeek = windowAt('weekly', Date.now(), SHANGHAI);
  /** Two whole Shanghai weeks before this one. */
  const watchedSince = windowAt('weekly', thisWeek.start - 14 * DAY + 3_600_000, SHANGHAI).start;

  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const body = (await response.json()) as T;
    if (response.status !== status)
      throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const alarms = async () => json<Alarm[]>(await zhang.call('/api/v1/alarms?site=plant-1'));
  const sources = async () =>
    json<MhsGuarantorsView[]>(await zhang.call('/api/v1/guarantors?site=plant-1'));
  const reactor = async () => (await sources()).find(source => source.unitId === 'reactor-unit-1');

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-guarantors-'));
    plantFile = registryWithGuarantors(join(work, 'registry'));
    // An earlier run began watching zhang's weekly duty two weeks ago; nothing recorded since.
    journalWatching(join(work, 'data'), DUTY, watchedSince);
    influx = await startInfluxd();
    vigil = await startBuiltVigil({
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_WRITE_FLUSH_MS: '50',
      VIGIL_REGISTRY: join(work, 'registry'),
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_RULE_TICK_MS: '200',
      VIGIL_ALARM_TICK_MS: '200',
    });
    device = await mqttClient(vigil.mqttUrl);
    zhang = await loginAs(vigil.httpUrl, 'zhang'); // operator, ent-huaxin
    li = await loginAs(vigil.httpUrl, 'li'); // operator, ent-huaxin
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('lists each source with its guarantors and their duty; a missed week is an alarm naming the guarantor', async () => {
    const missed = await waitFor(
      async () => {
        const found = (await alarms()).filter(alarm => alarm.deviceId === `inspection-${DUTY}`);
        return found.length >= 2 ? found : undefined;
      },
      { what: 'the missed weeks of zhang’s duty' },
    );
    expect(missed.map(alarm => alarm.ruleId)).toEqual(['inspection-missed', 'inspection-missed']);
    expect(missed[0]?.message).toContain('operational guarantor: zhang');
    expect(missed[0]?.areaId).toBe('reactor-unit');

    const source = await reactor();
    expect(source).toMatchObject({
      siteId: 'plant-1',
      enterprise: 'ent-huaxin',
      unitName: '反应装置生产单元 Reactor production unit',
    });
    expect(
      source?.guarantors.map(each => [each.tier, each.userId, each.name, each.duty?.cadence]),
    ).toEqual([
      ['principal', 'wang', '王强 Wang Qiang', 'quarterly'],
      ['technical', 'li', '李娜 Li Na', 'monthly'],
      ['operational', 'zhang', '张伟 Zhang Wei', 'weekly'],
    ]);
    const operational = source?.guarantors[2]?.duty;
    expect(operational).toMatchObject({
      scheduleId: DUTY,
      overdue: true,
      doneInCurrent: false,
      current: { id: thisWeek.id },
    });
    expect(operational?.missed).toHaveLength(2);
    // The missed alarms are the source's: counted on it, and routed to its guarantors.
    expect(source?.openAlarms).toBeGreaterThanOrEqual(2);
    const ofMissed = await json<MhsGuarantorsView[]>(
      await zhang.call(`/api/v1/guarantors/alarm/${missed[0]?.id}`),
    );
    expect(ofMissed.map(each => each.unitId)).toEqual(['reactor-unit-1']);
    // The tank farm names none: listed, with no guarantors (a gap the console shows).
    expect((await sources()).find(each => each.unitId === 'tank-farm-1')?.guarantors).toEqual([]);
    // A guarantor's own list.
    expect(
      (await json<MhsGuarantorsView[]>(await zhang.call('/api/v1/guarantors?user=wang'))).map(
        each => each.unitId,
      ),
    ).toEqual(['reactor-unit-1']);
  }, 120_000);

  it('a gas alarm in the reactor unit names the unit’s guarantors', async () => {
    await device?.publishAsync('vigil/v1/plant-1/gc-ru-01/telemetry', telemetry({ lel: 60 }), {
      qos: 1,
    });
    const gas = await waitFor(
      async () => (await alarms()).find(alarm => alarm.deviceId === 'gc-ru-01'),
      { what: 'the gas alarm of gc-ru-01' },
    );
    const ofGas = await json<MhsGuarantorsView[]>(
      await zhang.call(`/api/v1/guarantors/alarm/${gas.id}`),
    );
    expect(ofGas.map(each => [each.unitId, each.guarantors.map(g => g.userId)])).toEqual([
      ['reactor-unit-1', ['wang', 'li', 'zhang']],
    ]);
    expect((await zhang.call('/api/v1/guarantors/alarm/no-such-alarm')).status).toBe(404);
  }, 60_000);

  it('the duty is signed by its guarantor only; zhang’s record makes up the missed weeks', async () => {
    const answers = ['parameters', 'equipment', 'alarms'].map(itemId => ({
      itemId,
      answer: 'pass',
    }));
    const body = { siteId: 'plant-1', scheduleId: DUTY, answers };
    const byLi = await li.post('/api/v1/inspections/records', body);
    expect(byLi.status).toBe(403);
    expect(JSON.stringify(await byLi.json())).toContain('only they may record it');

    const record = await json<InspectionRecord>(
      await zhang.post('/api/v1/inspections/records', body),
      201,
    );
    expect(record).toMatchObject({ by: 'zhang', scheduleId: DUTY, windowId: thisWeek.id });
    expect(record.resolvedWindows).toHaveLength(2);
    expect((await reactor())?.guarantors[2]?.duty).toMatchObject({
      overdue: false,
      doneInCurrent: true,
      missed: [],
      lastRecord: { id: record.id, by: 'zhang' },
    });
  }, 60_000);

  it('a reload naming a guarantor who cannot see the site is refused; the running one stays', async () => {
    const admin = await loginAs(vigil?.httpUrl ?? '', 'admin');
    const running = readFileSync(plantFile, 'utf8');
    // rival is no user here; chen (city) sees the site: two tiers changed, one refused.
    writeFileSync(
      plantFile,
      running.replace(
        'exposedPopulation: 40, guarantors: { principal: wang, technical: li, operational: zhang }',
        'exposedPopulation: 40, guarantors: { principal: chen, technical: li, operational: rival }',
      ),
    );
    const refused = await admin.post('/api/v1/registry/reload');
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { problems: string[] }).problems).toEqual([
      'sites.plant-1.inspections.mhs-reactor-unit-1-operational.assignee: "rival" (the operational guarantor of unit reactor-unit-1) is not a user of the users file',
    ]);
    expect((await reactor())?.guarantors.map(each => each.userId)).toEqual(['wang', 'li', 'zhang']);
    writeFileSync(plantFile, running);
  }, 60_000);
});
