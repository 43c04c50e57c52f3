import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';

import { RegistryError } from '@vigil/registry';
import type { RunningVigil } from '@vigil/server';
import { waitFor } from '@vigil/testing';

import {
  SAMPLE_REGISTRY,
  WsRecorder,
  loginAs,
  mqttClient,
  startSystem,
  telemetry,
} from './support';

/**
 * Issue 10 findings 2 and 5: configuration that would make Vigil wrong is refused at start and at
 * reload with every problem listed, and a refused reload leaves the running configuration (and
 * every alarm) working.
 */

const SITE_FILE = 'site-plant-1.yaml';
const TANK_FARM = `        polygon: [[20, 160], [180, 160], [180, 280], [20, 280]]
        maxPeople: 3`;
/** Finding 2: a lower-case typo in an area's site-rule override. */
const CROWDING_TYPO = `${TANK_FARM}
        rules: { crowding: { minpeople: 2 } }`;

function registryCopy(edit: (site: string) => string = site => site): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  cpSync(SAMPLE_REGISTRY, dir, { recursive: true });
  const file = join(dir, SITE_FILE);
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  return dir;
}

function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`sample registry changed: "${from}" not found`);
  return text.replace(from, to);
}

async function startProblems(registryDir: string): Promise<readonly string[]> {
  try {
    const vigil = await startSystem({ env: { VIGIL_REGISTRY: registryDir } });
    await vigil.stop();
  } catch (error) {
    if (error instanceof RegistryError) return error.problems;
    throw error;
  }
  return [];
}

describe('finding 2: a typo in an area rule is refused, never switches alarms off', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(dir => rmSync(dir, { recursive: true, force: true })));

  it('refuses to start, naming the path and the key it meant', async () => {
    const dir = registryCopy(site => replaceOnce(site, TANK_FARM, CROWDING_TYPO));
    dirs.push(dir);
    const problems = await startProblems(dir);
    expect(problems).toEqual([
      expect.stringMatching(/tank-farm.*rules\.crowding.*minpeople.*did you mean "minPeople"/),
    ]);
  });

  describe('on a running Vigil', () => {
    let registryDir: string;
    let vigil: RunningVigil & { mqttUrl: string };
    let device: MqttClient;
    let ws: WsRecorder;
    let seq = 0;

    beforeAll(async () => {
      registryDir = registryCopy();
      dirs.push(registryDir);
      vigil = await startSystem({ env: { VIGIL_REGISTRY: registryDir } });
      device = await mqttClient(vigil.mqttUrl);
      ws = await WsRecorder.open(vigil.httpUrl);
    });

    afterAll(async () => {
      ws?.close();
      await device?.endAsync();
      await vigil?.stop();
    });

    /**
     * A combustible at 90 %LEL, a toxic detector far past L2 and a fire-panel or call-point event
     * each raise their alarm (different devices each time: the first alarms stay active).
     */
    async function everyAlarmStillRaises(devices: {
      combustible: string;
      toxic: string;
      ppm: number;
      event: string;
      code: string;
    }): Promise<void> {
      seq += 1;
      const before = ws.messages.length;
      const fresh = () =>
        ws.messages.slice(before).flatMap(m => (m.type === 'alarm' ? [m.alarm] : []));
      await device.publishAsync(
        `vigil/v1/plant-1/${devices.combustible}/telemetry`,
        telemetry({ lel: 90 }, seq),
        { qos: 1 },
      );
      await device.publishAsync(
        `vigil/v1/plant-1/${devices.toxic}/telemetry`,
        telemetry({ ppm: devices.ppm }, seq),
        { qos: 1 },
      );
      await device.publishAsync(
        `vigil/v1/plant-1/${devices.event}/event`,
        JSON.stringify({ code: devices.code }),
        { qos: 1 },
      );
      await waitFor(
        () => {
          const alarms = fresh();
          return (
            alarms.some(a => a.deviceId === devices.combustible && a.level === 'L2') &&
            alarms.some(a => a.deviceId === devices.toxic && a.level === 'L2') &&
            alarms.some(a => a.deviceId === devices.event)
          );
        },
        { what: `gas L2, toxic L2 and the ${devices.code} alarm`, timeoutMs: 10_000 },
      );
    }

    it('answers 422 listing the problem, keeps the running configuration and every alarm', async () => {
      const admin = await loginAs(vigil.httpUrl, 'admin');
      const file = join(registryDir, SITE_FILE);
      const original = readFileSync(file, 'utf8');

      writeFileSync(file, replaceOnce(original, TANK_FARM, CROWDING_TYPO));
      const refused = await admin.post('/api/v1/registry/reload');
      expect(refused.status).toBe(422);
      const body = (await refused.json()) as { problems: string[] };
      expect(body.problems).toEqual([
        expect.stringMatching(/tank-farm.*rules\.crowding.*minpeople.*did you mean "minPeople"/),
      ]);
      await everyAlarmStillRaises({
        combustible: 'gc-tf-01',
        toxic: 'gt-ru-h2s',
        ppm: 50,
        event: 'fp-main',
        code: 'fire',
      });

      // Fixed: the reload applies, and alarms keep working.
      writeFileSync(
        file,
        replaceOnce(
          original,
          TANK_FARM,
          `${TANK_FARM}\n        rules: { crowding: { minPeople: 2 } }`,
        ),
      );
      const applied = await admin.post('/api/v1/registry/reload');
      expect(applied.status).toBe(200);
      // NH3: 200 % OEL = 40 mg/m³ ≈ 56.5 ppm, so 100 ppm is past L2.
      await everyAlarmStillRaises({
        combustible: 'gc-tf-02',
        toxic: 'gt-tf-nh3',
        ppm: 100,
        event: 'cp-tf-01',
        code: 'alarm',
      });
    });
  });
});

describe('finding 5: units and gases never fail open', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(dir => rmSync(dir, { recursive: true, force: true })));

  it('refuses at start a combustible detector without a gas, unknown units, set-points beyond the range and ids shared by two sites', async () => {
    const dir = registryCopy(site =>
      replaceOnce(
        replaceOnce(
          replaceOnce(
            site,
            'attributes: { gas: CH4, rangeLow: 0, rangeHigh: 100 }',
            'attributes: { rangeLow: 0, rangeHigh: 100 }',
          ),
          '{ id: gt-ru-h2s, class: gas-toxic, profile: ec-h2s,',
          '{ id: gt-ru-h2s, class: gas-toxic, profile: ec-h2s, attributes: { unit_ppm: "mg/l" }, rules: { gas-l2: { setpoint: 150 } },',
        ),
        'sites:\n',
        `sites:
  - id: plant-2
    name: Plant 2
    enterprise: ent-huaxin
    frame: { width: 100, height: 100 }
    devices:
      - { id: fp-main, class: fire-panel }
`,
      ),
    );
    dirs.push(dir);
    const problems = await startProblems(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^sites\.plant-1\.devices\.gc-tf-01\.attributes\.gas: a combustible-gas detector must name its gas/,
        ),
        'sites.plant-1.devices.gt-ru-h2s.attributes.unit_ppm: unknown unit "mg/l" (convertible to ppm: ppm, ppb, mg/m³, %VOL)',
        'sites.plant-1.devices.fp-main: duplicate device id (also a device of site plant-2)',
        expect.stringMatching(
          /^sites\.plant-1\.devices\.gt-ru-h2s: rules\.gas-l2\.setpoint: 150 is above the measuring range \(rangeHigh 100\)/,
        ),
      ]),
    );
    // Every combustible detector of the profile is listed, not only the first.
    expect(
      problems.filter(p => /attributes\.gas: a combustible-gas detector/.test(p)),
    ).toHaveLength(6);
  });

  describe('converted in ingest by the gas and the unit the registry names', () => {
    let vigil: RunningVigil & { mqttUrl: string };
    let device: MqttClient;
    let ws: WsRecorder;

    beforeAll(async () => {
      const dir = registryCopy(site =>
        replaceOnce(
          replaceOnce(
            replaceOnce(
              site,
              'profile: catalytic-ch4, area: tank-farm, position: [50, 200],',
              'profile: catalytic-ch4, area: tank-farm, position: [50, 200], attributes: { gas: propane, unit_lel: "%vol" },',
            ),
            'profile: catalytic-ch4, area: tank-farm, position: [100, 200],',
            'profile: catalytic-ch4, area: tank-farm, position: [100, 200], attributes: { unit_lel: "%VOL" },',
          ),
          '{ id: gt-ru-h2s, class: gas-toxic, profile: ec-h2s,',
          '{ id: gt-ru-h2s, class: gas-toxic, profile: ec-h2s, attributes: { unit_ppm: mg/m3 },',
        ),
      );
      dirs.push(dir);
      vigil = await startSystem({ env: { VIGIL_REGISTRY: dir } });
      device = await mqttClient(vigil.mqttUrl);
      ws = await WsRecorder.open(vigil.httpUrl);
    });

    afterAll(async () => {
      ws?.close();
      await device?.endAsync();
      await vigil?.stop();
    });

    const alarmOf = (deviceId: string, level: string) =>
      waitFor(
        () => ws.alarms().find(m => m.alarm.deviceId === deviceId && m.alarm.level === level),
        { what: `${level} on ${deviceId}`, timeoutMs: 10_000 },
      );

    it('1.2 %VOL propane is 57 %LEL (L2), not 24 %LEL read as methane nor a dead letter', async () => {
      await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 1.2 }, 1), {
        qos: 1,
      });
      const l2 = await alarmOf('gc-tf-01', 'L2');
      expect(l2.alarm.value).toBeCloseTo(57.14, 1);
    });

    it('2.5 %VOL methane is 50 %LEL (L2)', async () => {
      await device.publishAsync('vigil/v1/plant-1/gc-tf-02/telemetry', telemetry({ lel: 2.5 }, 1), {
        qos: 1,
      });
      const l2 = await alarmOf('gc-tf-02', 'L2');
      expect(l2.alarm.value).toBeCloseTo(50, 6);
    });

    it('15 mg/m³ H2S is 10.6 ppm (L1 at 100 % OEL, not L2 as 15 ppm would be)', async () => {
      await device.publishAsync('vigil/v1/plant-1/gt-ru-h2s/telemetry', telemetry({ ppm: 15 }, 1), {
        qos: 1,
      });
      const l1 = await alarmOf('gt-ru-h2s', 'L1');
      expect(l1.alarm.value).toBeCloseTo((15 * 24.04) / 34.076, 2);
      await new Promise(resolve => setTimeout(resolve, 500));
      expect(
        ws.alarms().some(m => m.alarm.deviceId === 'gt-ru-h2s' && m.alarm.level === 'L2'),
      ).toBe(false);
    });
  });
});
