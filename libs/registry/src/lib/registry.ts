import { DEVICE_CLASS_DEFINITIONS, type DeviceClass } from '@vigil/contracts';
import { deviceRuleOverrides, mhsUnitsOf, type FirePanelMap } from '@vigil/rules';

import { buildFirePanelMap } from './fire-panel';
import { registryFileSchema, type Area, type OrgNode, type Site } from './registry.schema';

/** A device with everything resolved: profile merged, area and site attached. */
export interface RegisteredDevice {
  readonly siteId: string;
  readonly deviceId: string;
  readonly deviceClass: DeviceClass;
  readonly name: string;
  readonly areaId: string | undefined;
  readonly profileId: string | undefined;
  readonly gatewayId: string | undefined;
  readonly position: readonly [number, number] | undefined;
  readonly intervalSeconds: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** Rule overrides from the least to the most specific layer: profile, area, device. */
  readonly ruleOverrides: ReadonlyArray<
    Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined
  >;
  /** Fire panels: their points and zones located in the site (registry `points` / `zones`). */
  readonly firePanel?: FirePanelMap | undefined;
}

/** A site as the registry holds it: its devices are in `Registry.devices`. */
export type RegistrySite = Omit<Site, 'devices'>;

export interface Registry {
  readonly organisation: readonly OrgNode[];
  /** Sites without their raw device entries: `devices` holds the registered devices. */
  readonly sites: readonly RegistrySite[];
  readonly devices: readonly RegisteredDevice[];
  /** `${siteId}/${deviceId}` → device; a map, not a scan, because ingest looks up every message. */
  device(siteId: string, deviceId: string): RegisteredDevice | undefined;
  site(siteId: string): RegistrySite | undefined;
  area(siteId: string, areaId: string): Area | undefined;
  /** Organisation path from the root (city) down to the node, inclusive. */
  orgPath(nodeId: string): readonly OrgNode[];
}

export interface RegistrySource {
  /** Where the document came from, for error messages (a file path). */
  readonly source: string;
  readonly content: unknown;
}

export class RegistryError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Registry is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RegistryError';
  }
}

export function deviceKey(siteId: string, deviceId: string): string {
  return `${siteId}/${deviceId}`;
}

/**
 * Validates and merges registry documents. Throws a RegistryError listing every problem found
 * (schema errors with file and path, duplicate ids, dangling references), never only the first.
 */
export function buildRegistry(sources: readonly RegistrySource[]): Registry {
  const problems: string[] = [];
  const organisation: OrgNode[] = [];
  const sites: Site[] = [];

  for (const { source, content } of sources) {
    const parsed = registryFileSchema.safeParse(content ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      }
      continue;
    }
    organisation.push(...parsed.data.organisation);
    sites.push(...parsed.data.sites);
  }

  const orgById = new Map<string, OrgNode>();
  for (const node of organisation) {
    if (orgById.has(node.id)) problems.push(`organisation: duplicate id "${node.id}"`);
    orgById.set(node.id, node);
  }
  for (const node of organisation) {
    if (node.parent !== undefined && !orgById.has(node.parent)) {
      problems.push(`organisation.${node.id}: parent "${node.parent}" does not exist`);
    }
  }
  for (const node of organisation) {
    const seen = new Set<string>();
    for (
      let cursor: OrgNode | undefined = node;
      cursor;
      cursor = cursor.parent ? orgById.get(cursor.parent) : undefined
    ) {
      if (seen.has(cursor.id)) {
        problems.push(`organisation.${node.id}: parent chain has a cycle`);
        break;
      }
      seen.add(cursor.id);
    }
  }

  const siteById = new Map<string, Site>();
  const areaByKey = new Map<string, Area>();
  const devices: RegisteredDevice[] = [];
  const deviceByKey = new Map<string, RegisteredDevice>();
  // Devices of one profile in one area without rules of their own share one list of override
  // layers, and an area's device overrides are worked out once: per device they were 300,000
  // small objects for the 100k fleet (heap snapshot).
  type Layers = RegisteredDevice['ruleOverrides'];
  type Layer = Layers[number];
  const areaOverrides = new Map<object, Layer>();
  const sharedAttributes = new Map<object | undefined, RegisteredDevice['attributes']>();
  const profileAttributes = (
    profile: { readonly attributes?: RegisteredDevice['attributes'] } | undefined,
  ) => {
    let attributes = sharedAttributes.get(profile);
    if (!attributes) sharedAttributes.set(profile, (attributes = { ...profile?.attributes }));
    return attributes;
  };
  const sharedLayers = new Map<Layer, Map<object | undefined, Layers>>();
  const overrideLayers = (
    profileRules: Layer,
    area: { readonly rules?: Readonly<Record<string, unknown>> } | undefined,
    deviceRules: Layer,
  ): Layers => {
    let areaLayer: Layer;
    if (area?.rules !== undefined) {
      if (!areaOverrides.has(area))
        areaOverrides.set(area, deviceRuleOverrides(area.rules) as Layer);
      areaLayer = areaOverrides.get(area);
    }
    if (deviceRules !== undefined) return [profileRules, areaLayer, deviceRules];
    let byArea = sharedLayers.get(profileRules);
    if (!byArea) sharedLayers.set(profileRules, (byArea = new Map()));
    let layers = byArea.get(area);
    if (!layers) byArea.set(area, (layers = [profileRules, areaLayer, undefined]));
    return layers;
  };

  for (const site of sites) {
    const where = `sites.${site.id}`;
    if (siteById.has(site.id)) problems.push(`${where}: duplicate site id`);
    siteById.set(site.id, site);
    const enterprise = orgById.get(site.enterprise);
    if (!enterprise)
      problems.push(`${where}.enterprise: "${site.enterprise}" is not in the organisation`);
    else if (enterprise.kind !== 'enterprise') {
      problems.push(
        `${where}.enterprise: "${site.enterprise}" is a ${enterprise.kind}, not an enterprise`,
      );
    }

    const inFrame = ([x, y]: readonly [number, number]): boolean =>
      x >= 0 && y >= 0 && x <= site.frame.width && y <= site.frame.height;

    for (const area of site.areas) {
      const key = deviceKey(site.id, area.id);
      if (areaByKey.has(key)) problems.push(`${where}.areas.${area.id}: duplicate area id`);
      areaByKey.set(key, area);
      if (!area.polygon.every(inFrame))
        problems.push(`${where}.areas.${area.id}: polygon leaves the site frame`);
    }
    const profiles = new Map(site.profiles.map(profile => [profile.id, profile]));
    if (profiles.size !== site.profiles.length)
      problems.push(`${where}.profiles: duplicate profile id`);

    const siteDevicesFrom = devices.length;
    for (const entry of site.devices) {
      const at = `${where}.devices.${entry.id}`;
      const key = deviceKey(site.id, entry.id);
      if (deviceByKey.has(key)) {
        problems.push(`${at}: duplicate device id`);
        continue;
      }
      const profile = entry.profile ? profiles.get(entry.profile) : undefined;
      if (entry.profile && !profile)
        problems.push(`${at}.profile: "${entry.profile}" does not exist`);
      if (profile && profile.class !== entry.class) {
        problems.push(
          `${at}.profile: "${profile.id}" is for class ${profile.class}, device is ${entry.class}`,
        );
      }
      const area = entry.area ? areaByKey.get(deviceKey(site.id, entry.area)) : undefined;
      if (entry.area && !area)
        problems.push(`${at}.area: "${entry.area}" does not exist in site ${site.id}`);
      if (entry.position && !inFrame(entry.position))
        problems.push(`${at}.position: outside the site frame`);
      const attributes = entry.attributes
        ? { ...profile?.attributes, ...entry.attributes }
        : profileAttributes(profile);
      if (entry.class === 'gas-toxic' && typeof attributes['gas'] !== 'string') {
        problems.push(`${at}.attributes.gas: a toxic-gas detector must name its gas (e.g. H2S)`);
      }
      const firePanel = buildFirePanelMap(
        entry,
        at,
        areaId => areaByKey.has(deviceKey(site.id, areaId)),
        inFrame,
        problems,
      );
      const device: RegisteredDevice = {
        ...(firePanel ? { firePanel } : {}),
        siteId: site.id,
        deviceId: entry.id,
        deviceClass: entry.class,
        name: entry.name ?? entry.id,
        areaId: entry.area,
        profileId: entry.profile,
        gatewayId: entry.gateway,
        position: entry.position,
        intervalSeconds:
          entry.intervalSeconds ??
          profile?.intervalSeconds ??
          DEVICE_CLASS_DEFINITIONS[entry.class].intervalSeconds,
        attributes,
        // Site-rule keys (crowding, voting, …) in an area's rules belong to the site rules, not to devices.
        ruleOverrides: overrideLayers(profile?.rules, area, entry.rules),
      };
      deviceByKey.set(key, device);
      devices.push(device);
    }
    // GB 18218-2018 units and their tanks (unit, substance, design maximum): refused when incomplete.
    for (const problem of mhsUnitsOf(site, devices.slice(siteDevicesFrom)).errors)
      problems.push(`${where}.${problem}`);
    for (const device of devices) {
      if (
        device.siteId === site.id &&
        device.gatewayId &&
        !deviceByKey.has(deviceKey(site.id, device.gatewayId))
      ) {
        problems.push(
          `${where}.devices.${device.deviceId}.gateway: "${device.gatewayId}" is not a device of the site`,
        );
      }
    }
  }

  if (problems.length > 0) throw new RegistryError(problems);

  // siteId → deviceId → device: ingest looks a device up per message, without building a key.
  const devicesBySite = new Map<string, Map<string, RegisteredDevice>>();
  for (const device of devices) {
    let bySite = devicesBySite.get(device.siteId);
    if (!bySite) devicesBySite.set(device.siteId, (bySite = new Map()));
    bySite.set(device.deviceId, device);
  }

  // The files' device entries are not kept: 100,000 of them (and their positions) were ~15 MB of
  // heap beside the registered devices built from them (heap snapshot of the 100k fleet).
  const registrySites = sites.map(({ devices: _entries, ...site }) => site);
  const registrySiteById = new Map(registrySites.map(site => [site.id, site]));

  return {
    organisation,
    sites: registrySites,
    devices,
    device: (siteId, deviceId) => devicesBySite.get(siteId)?.get(deviceId),
    site: siteId => registrySiteById.get(siteId),
    area: (siteId, areaId) => areaByKey.get(deviceKey(siteId, areaId)),
    orgPath: nodeId => {
      const path: OrgNode[] = [];
      for (
        let cursor = orgById.get(nodeId);
        cursor;
        cursor = cursor.parent ? orgById.get(cursor.parent) : undefined
      ) {
        path.unshift(cursor);
        if (path.length > orgById.size) break;
      }
      return path;
    },
  };
}
