import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { AuthenticatedUser } from '../auth/auth.service';

/**
 * Test fixture: a city with a park holding `ent-huaxin` (site `plant-a`) and `ent-other` (site
 * `plant-b`) directly beneath the city, one gas detector `gc-<site>` per site in area `unit-1`.
 * `names` overrides the organisation's display names (e.g. to test escaping).
 */
export function writeTwoEnterpriseRegistry(
  dir: string,
  names: { city?: string; park?: string; huaxin?: string } = {},
): void {
  const site = (id: string, enterprise: string) => ({
    id,
    name: id,
    enterprise,
    frame: { width: 100, height: 100 },
    areas: [
      {
        id: 'unit-1',
        name: 'Unit 1',
        kind: 'production',
        polygon: [
          [0, 0],
          [100, 0],
          [100, 100],
          [0, 100],
        ],
      },
    ],
    devices: [
      {
        id: `gc-${id}`,
        class: 'gas-combustible',
        attributes: { gas: 'CH4' },
        area: 'unit-1',
        position: [10, 10],
      },
    ],
  });
  writeFileSync(
    join(dir, 'site.json'),
    JSON.stringify({
      organisation: [
        { id: 'city-demo', name: names.city ?? 'City', kind: 'city' },
        { id: 'park-chem', name: names.park ?? 'Park', kind: 'park', parent: 'city-demo' },
        {
          id: 'ent-huaxin',
          name: names.huaxin ?? 'Huaxin',
          kind: 'enterprise',
          parent: 'park-chem',
        },
        { id: 'ent-other', name: 'Other', kind: 'enterprise', parent: 'city-demo' },
      ],
      sites: [site('plant-a', 'ent-huaxin'), site('plant-b', 'ent-other')],
    }),
  );
}

/** An authenticated user of `role` scoped to the organisation node `scope`. */
export const testUser = (
  id: string,
  role: AuthenticatedUser['role'],
  scope: string,
): AuthenticatedUser => ({ id, name: id, role, scope, scopePath: [] });
