import type { z } from 'zod';

import {
  DEVICE_CLASS_DEFINITIONS,
  EXTRA_METRICS_ATTRIBUTE,
  deviceMetrics,
  GUARANTOR_TIERS,
  inspectionItemSchema,
  inspectionScheduleSchema,
  type DeviceClass,
} from '@vigil/contracts';
import {
  SITE_RULE_IDS,
  deviceMeasurement,
  deviceRuleOverrides,
  issueMessage,
  mhsUnitsOf,
  resolveSiteLayouts,
  suggestKey,
  type FirePanelMap,
  type SiteLayout,
} from '@vigil/rules';

import { buildFirePanelMap } from './fire-panel';
import { guarantorDuties } from './guarantors';
import {
  areaSchema,
  deviceSchema,
  orgNodeSchema,
  profileSchema,
  registryFileSchema,
  siteSchema,
  type Area,
  type OrgNode,
  type Site,
} from './registry.schema';

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

/**
 * One site's layout as the area and site rules take it. The rule engine and the registry's own
 * check both use this mapping, so what the registry accepted is what the engine compiles.
 */
export function siteLayout(
  site: Pick<RegistrySite, 'id' | 'areas'>,
  devices: readonly RegisteredDevice[],
): SiteLayout {
  return { siteId: site.id, areas: site.areas, devices };
}

/** Every site's layout (see `siteLayout`). */
export function siteLayouts(registry: Registry): SiteLayout[] {
  const bySite = new Map<string, RegisteredDevice[]>();
  for (const device of registry.devices) {
    let list = bySite.get(device.siteId);
    if (!list) bySite.set(device.siteId, (list = []));
    list.push(device);
  }
  return registry.sites.map(site => siteLayout(site, bySite.get(site.id) ?? []));
}

/** The keys the schema allows where an unknown-key issue was found, for "did you mean" hints. */
function knownKeysAt(issue: z.core.$ZodIssue): readonly string[] | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const path = issue.path.map(String);
  const keysOf = (schema: { shape: object }) => Object.keys(schema.shape);
  if (path.length === 0) return keysOf(registryFileSchema);
  if (path.length === 2 && path[0] === 'organisation') return keysOf(orgNodeSchema);
  if (path[0] !== 'sites') return undefined;
  if (path.length === 2) return keysOf(siteSchema);
  if (path.length === 3 && path[2] === 'frame') return ['width', 'height'];
  if (path.length === 4) {
    const schemas: Record<string, { shape: object }> = {
      areas: areaSchema,
      profiles: profileSchema,
      devices: deviceSchema,
      inspections: inspectionScheduleSchema,
    };
    const schema = schemas[path[2] ?? ''];
    return schema ? keysOf(schema) : undefined;
  }
  if (path.length === 6 && path[2] === 'inspections' && path[4] === 'items')
    return keysOf(inspectionItemSchema);
  if (path.length === 5 && path[2] === 'hazardUnits' && path[4] === 'guarantors')
    return GUARANTOR_TIERS;
  return undefined;
}

export function deviceKey(siteId: string, deviceId: string): string {
  return `${siteId}/${deviceId}`;
}

/**
 * Validates and merges registry documents. Throws a RegistryError listing every problem found
 * (schema errors with file and path, duplicate ids, dangling references), never only the first.
 */
export function buildRegistry(sources: readonly RegistrySource[]): Registry {
  const { registry, problems } = assembleRegistry(sources);
  if (problems.length > 0) throw new RegistryError(problems);
  return registry;
}

/**
 * `buildRegistry` without the throw: the registry as far as it could be assembled, and every
 * problem found. With problems the registry is not fit to run; `checkRegistry` uses it only to
 * check device rules too, so that one load lists every problem.
 */
export function assembleRegistry(sources: readonly RegistrySource[]): {
  readonly registry: Registry;
  readonly problems: readonly string[];
} {
  const problems: string[] = [];
  const organisation: OrgNode[] = [];
  const sites: Site[] = [];

  for (const { source, content } of sources) {
    const parsed = registryFileSchema.safeParse(content ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(
          `${source}: ${issue.path.join('.') || '(root)'}: ${issueMessage(issue, knownKeysAt(issue))}`,
        );
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
  // Device ids are unique across sites too: a device's topic names its site, but operators,
  // dispatch and reports name devices by id, and two sites' "gc-01" would be confused.
  const siteOfDevice = new Map<string, string>();
  // Gas and unit checks per distinct attribute object (devices of a profile share one).
  const measurementProblems = new Map<object, Map<DeviceClass, readonly string[]>>();
  const measurementProblemsOf = (
    deviceClass: DeviceClass,
    attributes: RegisteredDevice['attributes'],
  ): readonly string[] => {
    let byClass = measurementProblems.get(attributes);
    if (!byClass) measurementProblems.set(attributes, (byClass = new Map()));
    let found = byClass.get(deviceClass);
    if (!found)
      byClass.set(deviceClass, (found = deviceMeasurement(deviceClass, attributes).problems));
    return found;
  };
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
      const otherSite = siteOfDevice.get(entry.id);
      if (otherSite !== undefined && otherSite !== site.id)
        problems.push(`${at}: duplicate device id (also a device of site ${otherSite})`);
      siteOfDevice.set(entry.id, site.id);
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
      for (const problem of measurementProblemsOf(entry.class, attributes))
        problems.push(`${at}.${problem}`);
      // Read here as ingest, the telemetry API and the console read it: a misspelt name would
      // otherwise dead-letter every reading of that metric as unknown.
      for (const problem of deviceMetrics({ deviceClass: entry.class, attributes }).problems)
        problems.push(`${at}.attributes.${EXTRA_METRICS_ATTRIBUTE}: ${problem}`);
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
    // Guarantors' duties (包保责任人, issue 15) are inspection schedules of the site, derived here
    // so that they are checked, watched and alarmed like the hand-written ones.
    const siteDevices = devices.slice(siteDevicesFrom);
    const duties = guarantorDuties(site, unitId =>
      siteDevices
        .filter(device => device.attributes['unit'] === unitId)
        .map(device => device.deviceId),
    );
    for (const problem of duties.problems) problems.push(`${where}.${problem}`);
    if (duties.schedules.length > 0)
      site.inspections = [...(site.inspections ?? []), ...duties.schedules];
    for (const problem of inspectionProblems(site, deviceByKey))
      problems.push(`${where}.${problem}`);
    // GB 18218-2018 units and their tanks (unit, substance, design maximum): refused when incomplete.
    for (const problem of mhsUnitsOf(site, siteDevices).errors)
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

  // Area and site rules (crowding, geofences, voting, …) are checked here, with the layouts the
  // rule engine will compile, so a reload can never hand it a configuration it would refuse
  // (issue 10 finding 2: a refused compile inside the running stream stopped every alarm). When
  // the structure itself has problems, the areas are still checked, without their devices.
  const structural = problems.length > 0;
  for (const site of sites) {
    const siteDevices = devices.filter(device => device.siteId === site.id);
    const { errors } = resolveSiteLayouts([siteLayout(site, structural ? [] : siteDevices)]);
    for (const error of errors) problems.push(`sites.${error}`);
    for (const area of site.areas) {
      const used = siteDevices.some(device => device.areaId === area.id);
      for (const key of Object.keys(area.rules ?? {})) {
        if ((SITE_RULE_IDS as readonly string[]).includes(key) || used) continue;
        // A device-rule key in an area without devices is checked by no device: most likely a
        // misspelt site rule, which would otherwise be ignored.
        const meant = suggestKey(key, SITE_RULE_IDS);
        problems.push(
          `sites.${site.id}.areas.${area.id}.rules.${key}: not a site rule ` +
            `(${SITE_RULE_IDS.join(', ')}) and no device in the area has device rules` +
            (meant ? `; did you mean "${meant}"?` : ''),
        );
      }
    }
  }

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

  const registry: Registry = {
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
  return { registry, problems };
}

/**
 * Inspection schedules refer to the site's own areas and devices, ids and item ids are unique:
 * a schedule that names a missing area would be inspected nowhere, and its missed inspections
 * would name nothing.
 */
function inspectionProblems(
  site: Site,
  deviceByKey: ReadonlyMap<string, RegisteredDevice>,
): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const schedule of site.inspections ?? []) {
    const at = `inspections.${schedule.id}`;
    if (ids.has(schedule.id)) problems.push(`${at}: duplicate inspection schedule id`);
    ids.add(schedule.id);
    if (schedule.area !== undefined && !site.areas.some(area => area.id === schedule.area))
      problems.push(`${at}.area: "${schedule.area}" does not exist in site ${site.id}`);
    for (const deviceId of schedule.devices ?? [])
      if (!deviceByKey.has(deviceKey(site.id, deviceId)))
        problems.push(`${at}.devices: "${deviceId}" is not a device of site ${site.id}`);
    const items = new Set<string>();
    for (const item of schedule.items) {
      if (items.has(item.id)) problems.push(`${at}.items.${item.id}: duplicate item id`);
      items.add(item.id);
    }
  }
  return problems;
}
