import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RegistryError } from '@vigil/registry';

import { loadCheckedRegistry, loadRegistry, readRegistrySources } from './load-registry';

const SAMPLE = join(__dirname, '../../../../registry/sample');

function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof RegistryError) return error.problems;
    throw error;
  }
  throw new Error('expected a RegistryError');
}

describe('loading a registry from disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the sample site (YAML files of a directory, in name order) with its device rules', () => {
    const checked = loadCheckedRegistry(SAMPLE);
    expect(checked.registry.devices.length).toBeGreaterThan(0);
    expect(checked.deviceRules.size).toBe(checked.registry.devices.length);
    expect(loadRegistry(SAMPLE).devices.length).toBe(checked.registry.devices.length);
  });

  it('refuses an empty file (most often a truncated save), a broken one and an empty folder, naming each', () => {
    writeFileSync(join(dir, 'a.yaml'), '');
    writeFileSync(join(dir, 'b.json'), '{"sites": [');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const problems = problemsOf(() => readRegistrySources(dir));
    expect(problems).toEqual([
      `${join(dir, 'a.yaml')}: the file is empty`,
      expect.stringMatching(new RegExp(`^${join(dir, 'b.json')}: `)),
    ]);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(problemsOf(() => loadRegistry(empty))).toEqual([
      `${empty}: no .yaml, .yml or .json files`,
    ]);
    expect(problemsOf(() => loadRegistry(join(dir, 'missing')))).toEqual([
      expect.stringMatching(/missing: cannot read/),
    ]);
  });
});
