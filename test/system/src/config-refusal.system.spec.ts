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
