import type { RegisteredDevice } from '@vigil/registry';

import type { FleetDefinition } from './site-layout';

export class LookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookupError';
  }
}

/** Splits `site/id` or a bare `id`. */
function splitRef(ref: string): { siteId: string | undefined; id: string } {
  const slash = ref.indexOf('/');
  return slash < 0
    ? { siteId: undefined, id: ref }
    : { siteId: ref.slice(0, slash), id: ref.slice(slash + 1) };
}

/**
 * Finds a device by `deviceId` or `siteId/deviceId`. Device ids are unique per site only, so a
 * bare id that several sites use is refused with the qualified names to pick from.
 */
export function findDevice(fleet: FleetDefinition, ref: string): RegisteredDevice {
  const { siteId, id } = splitRef(ref);
  const matches = fleet.devices.filter(
    device => device.deviceId === id && (siteId === undefined || device.siteId === siteId),
  );
  const [first] = matches;
  if (!first) throw new LookupError(`unknown device "${ref}"`);
  if (matches.length > 1) {
    const names = matches.map(device => `${device.siteId}/${device.deviceId}`).join(', ');
    throw new LookupError(`device "${ref}" exists in several sites: use one of ${names}`);
  }
  return first;
}

/** Finds an area by `areaId` or `siteId/areaId`, with the same rule for ambiguous ids. */
export function findArea(fleet: FleetDefinition, ref: string): { siteId: string; areaId: string } {
  const { siteId, id } = splitRef(ref);
  const matches = fleet.sites.filter(
    site => (siteId === undefined || site.id === siteId) && site.areas.some(area => area.id === id),
  );
  const [first] = matches;
  if (!first) throw new LookupError(`unknown area "${ref}"`);
  if (matches.length > 1) {
    const names = matches.map(site => `${site.id}/${id}`).join(', ');
    throw new LookupError(`area "${ref}" exists in several sites: use one of ${names}`);
  }
  return { siteId: first.id, areaId: id };
}
