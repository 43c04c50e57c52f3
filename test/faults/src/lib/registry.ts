import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FAULT_SITE = 'faults';

export function deviceIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `fd-${String(i).padStart(5, '0')}`);
}

/**
 * A one-site registry of combustible-gas detectors (L1 25 %LEL, L2 50 %LEL): the load generator
 * drives each through a known excursion, so every expected alarm change is known exactly. The
 * organisation is the demo users' tree, so `admin` sees the site.
 */
export function writeFaultRegistry(dir: string, devices: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  const side = Math.ceil(Math.sqrt(devices.length));
  writeFileSync(
    join(dir, 'site.json'),
    JSON.stringify({
      organisation: [
        { id: 'city-demo', name: 'City', kind: 'city' },
        { id: 'ent-faults', name: 'Fault drill', kind: 'enterprise', parent: 'city-demo' },
      ],
      sites: [
        {
          id: FAULT_SITE,
          name: 'Fault-injection site',
          enterprise: 'ent-faults',
          frame: { width: side * 10 + 20, height: side * 10 + 20 },
          areas: [
            {
              id: 'unit-1',
              name: 'Unit 1',
              kind: 'production',
              polygon: [
                [0, 0],
                [side * 10 + 20, 0],
                [side * 10 + 20, side * 10 + 20],
                [0, side * 10 + 20],
              ],
            },
          ],
          devices: devices.map((id, i) => ({
            id,
            class: 'gas-combustible',
            attributes: { gas: 'CH4' },
            area: 'unit-1',
            position: [10 + (i % side) * 10, 10 + Math.floor(i / side) * 10],
          })),
        },
      ],
    }),
  );
}
