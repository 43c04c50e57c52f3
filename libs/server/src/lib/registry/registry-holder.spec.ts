import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';

import { RegistryError } from '@vigil/registry';
import { loadRegistry } from '@vigil/registry-node';
import { mhsRegulatory } from '@vigil/rules';

import { loadConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder, registryMhsUnits } from './registry-holder';

const SAMPLE = join(__dirname, '../../../../../registry/sample');
const SITE = 'site-plant-1.yaml';

describe(RegistryHolder.name, () => {
  let dir: string;
  let original: string;
  let holder: RegistryHolder;
  let metrics: VigilMetrics;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-holder-'));
    cpSync(SAMPLE, dir, { recursive: true });
    original = readFileSync(join(dir, SITE), 'utf8');
    metrics = new VigilMetrics();
    holder = new RegistryHolder(loadConfig({ VIGIL_REGISTRY: dir }), metrics);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What a refused reload must leave exactly as it was. */
  function snapshot() {
    const device = holder.current.device('plant-1', 'gc-tf-01');
    return { registry: holder.current, device, rules: device && holder.rulesOf(device) };
  }

  it('never applies part of a refused reload (property over broken site files)', () => {
    const edits = fc.oneof(
      fc.constant(
        original.replace(
          'maxPeople: 3',
          'maxPeople: 3\n        rules: { crowding: { minpeople: 2 } }',
        ),
      ),
      fc.constant(original.replace('attributes: { gas: CH4, ', 'attributes: { ')),
      fc.constant(
        original.replace('gas: H2S, rangeLow: 0', 'gas: H2S, unit_ppm: "mg/l", rangeLow: 0'),
      ),
      fc.constant(original.replace('class: fire-panel', 'class: fire-panel, colour: red')),
      fc.string({ maxLength: 200 }),
      fc.anything().map(value => JSON.stringify({ sites: [value] }) ?? ''),
    );
    fc.assert(
      fc.property(edits, text => {
        writeFileSync(join(dir, SITE), text);
        const before = snapshot();
        let emitted = false;
        const subscription = holder.changes$.subscribe(() => (emitted = true));
        try {
          holder.reload();
        } catch (error) {
          expect(error).toBeInstanceOf(RegistryError);
          expect((error as RegistryError).problems.length).toBeGreaterThan(0);
          expect(snapshot()).toEqual(before);
          expect(snapshot().registry).toBe(before.registry);
          expect(emitted).toBe(false);
          return;
        } finally {
          subscription.unsubscribe();
        }
        // Accepted (e.g. a file of only comments adds nothing): then it is complete.
        expect(holder.current.devices.every(device => holder.rulesOf(device))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('counts applied and refused reloads', async () => {
    writeFileSync(join(dir, SITE), original);
    holder.reload();
    writeFileSync(
      join(dir, SITE),
      original.replace('kind: storage', 'kind: storage\n        colour: red'),
    );
    expect(() => holder.reload()).toThrow(RegistryError);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/vigil_registry_reload_refused 1/);
    writeFileSync(join(dir, SITE), original);
    holder.reload();
    expect(await metrics.registry.metrics()).toMatch(/vigil_registry_reload_refused 0/);
  });
});

describe(registryMhsUnits.name, () => {
  it('grades the sample site per GB 18218-2018 unit, once per registry', () => {
    const registry = loadRegistry(SAMPLE);
    const units = registryMhsUnits(registry);
    expect(registryMhsUnits(registry)).toBe(units);
    expect(
      units.map(unit => {
        const { index, grade } = mhsRegulatory(unit);
        return [unit.unitId, unit.alpha, unit.tanks.map(tank => tank.deviceId), grade, index.r];
      }),
    ).toEqual([
      // 120 people → α 2: 2 × (2 × 50/10 + 800/500) = 23.2 → grade III
      ['tank-farm-1', 2, ['tk-101', 'tk-102'], 3, expect.closeTo(23.2, 10)],
      // 40 people → α 1.2; 2 t of hydrogen: S = 0.4 < 1, not a major hazard installation
      ['reactor-unit-1', 1.2, ['r-201'], undefined, expect.closeTo(0.72, 10)],
    ]);
  });
});
