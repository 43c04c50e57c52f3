import { buildRegistry, type Registry } from '@vigil/registry';

const siteOf = (id: string, devices: unknown[]) => ({
  id,
  name: id,
  enterprise: 'ent',
  frame: { width: 100, height: 100 },
  devices,
});

/** Two sites; `gas-1` exists in both, `gw` is a fire panel with a call point behind it. */
export function testRegistry(): Registry {
  return buildRegistry([
    { source: 'org', content: { organisation: [{ id: 'ent', name: 'Ent', kind: 'enterprise' }] } },
    {
      source: 'sites',
      content: {
        sites: [
          siteOf('s1', [
            { id: 'gas-1', class: 'gas-combustible' },
            { id: 'gas-2', class: 'gas-combustible' },
            { id: 'gw', class: 'fire-panel' },
            { id: 'cp-1', class: 'call-point', gateway: 'gw' },
          ]),
          siteOf('s2', [{ id: 'gas-1', class: 'gas-combustible' }]),
        ],
      },
    },
  ]);
}
