import { RegistryError, assembleRegistry, type Registry } from '@vigil/registry';

const GAS = { gas: 'CH4' };

const siteOf = (id: string, devices: unknown[]) => ({
  id,
  name: id,
  enterprise: 'ent',
  frame: { width: 100, height: 100 },
  devices,
});

/**
 * Two sites; `gas-1` exists in both, `gw` is a fire panel with a call point behind it. The
 * registry refuses one device id in two sites; the broker's handling of it is still tested (defence
 * in depth), so this fixture ignores that one problem and no other.
 */
export function testRegistry(): Registry {
  const { registry, problems } = assembleRegistry([
    { source: 'org', content: { organisation: [{ id: 'ent', name: 'Ent', kind: 'enterprise' }] } },
    {
      source: 'sites',
      content: {
        sites: [
          siteOf('s1', [
            { id: 'gas-1', class: 'gas-combustible', attributes: GAS },
            { id: 'gas-2', class: 'gas-combustible', attributes: GAS },
            { id: 'gw', class: 'fire-panel' },
            { id: 'cp-1', class: 'call-point', gateway: 'gw' },
          ]),
          siteOf('s2', [{ id: 'gas-1', class: 'gas-combustible', attributes: GAS }]),
        ],
      },
    },
  ]);
  const others = problems.filter(problem => !problem.includes('duplicate device id'));
  if (others.length > 0) throw new RegistryError(others);
  return registry;
}
