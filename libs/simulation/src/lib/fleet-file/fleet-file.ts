import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';

import { parse } from 'yaml';
import { z } from 'zod';

import {
  DEVICE_CLASSES,
  IDENTIFIER_PATTERN,
  RISK_LEVELS,
  type DeviceClass,
} from '@vigil/contracts';
import {
  RegistryError,
  areaSchema,
  buildRegistry,
  type Registry,
  type RegistrySource,
} from '@vigil/registry';

import { hasTelemetry } from '../fleet/generators';

/**
 * A fleet file describes a fleet by counts rather than device by device: sites (each possibly
 * repeated `count` times), their areas (also repeated), and how many devices of each class stand
 * in each area, with their reporting intervals. It expands into a registry that Vigil loads with
 * `VIGIL_REGISTRY` and the simulator drives. It may also include an existing registry as is.
 *
 * ```yaml
 * name: plant-100k
 * registry: ../../registry/sample    # optional: include these registry files as they are
 * sites:
 *   - id: plant                       # with count > 1: plant-01, plant-02, …
 *     count: 20
 *     areas:
 *       - id: unit                    # unit-01 … unit-10 in every site
 *         count: 10
 *         kind: production
 *         devices:
 *           gas-combustible: 400      # a count, or { count, intervalSeconds, attributes }
 *           gas-toxic: { count: 50, attributes: { gas: H2S } }
 *     devices:                        # devices of the site outside any area
 *       tag: 20
 * ```
 */

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const deviceGroupSchema = z.union([
  z.number().int().min(0),
  z
    .object({
      count: z.number().int().min(0),
      intervalSeconds: z.number().positive().optional(),
      attributes: attributes.optional(),
      rules: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    })
    .strict(),
]);

const devicesByClass = z.partialRecord(z.enum(DEVICE_CLASSES), deviceGroupSchema);

export const areaTemplateSchema = z
  .object({
    id: identifier,
    count: z.number().int().min(1).max(10_000).default(1),
    name: z.string().min(1).optional(),
    kind: areaSchema.shape.kind.default('production'),
    risk: z.enum(RISK_LEVELS).default('blue'),
    maxPeople: z.number().int().positive().optional(),
    rules: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    /** Side of the square each area occupies in the site frame, metres (default 100). */
    sizeMetres: z.number().positive().default(100),
    devices: devicesByClass.default({}),
  })
  .strict();

export const siteTemplateSchema = z
  .object({
    id: identifier,
    count: z.number().int().min(1).max(10_000).default(1),
    name: z.string().min(1).optional(),
    /** An organisation node of kind enterprise; default: one the fleet generates. */
    enterprise: identifier.optional(),
    areas: z.array(areaTemplateSchema).default([]),
    devices: devicesByClass.default({}),
  })
  .strict();

export const fleetFileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** A registry directory or file to include as it is; relative to the fleet file. */
    registry: z.string().min(1).optional(),
    /**
     * The organisation node generated sites belong to: `enterprise` (default `fleet-enterprise`),
     * hung under `parent` (an existing node, e.g. from the included registry) or else under a
     * generated city and park. Vigil's demo users are scoped to the sample's `city-demo`, so a
     * fleet for a demo-mode Vigil includes `registry/sample/organisation.yaml` and sets
     * `parent: park-chem`.
     */
    organisation: z
      .object({ enterprise: identifier.optional(), parent: identifier.optional() })
      .strict()
      .default({}),
    sites: z.array(siteTemplateSchema).default([]),
  })
  .strict()
  .refine(fleet => fleet.registry !== undefined || fleet.sites.length > 0, {
    message: 'a fleet needs sites, a registry to include, or both',
  });

export type FleetFile = z.infer<typeof fleetFileSchema>;
export type DeviceGroup = z.infer<typeof deviceGroupSchema>;

export class FleetFileError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Fleet file is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FleetFileError';
  }
}

/** Short id prefixes, so that 100,000 ids stay readable and well under 64 characters. */
export const CLASS_ID_PREFIX: Readonly<Record<DeviceClass, string>> = {
  'gas-combustible': 'gc',
  'gas-toxic': 'gt',
  'gas-oxygen': 'go',
  'electrical-fire': 'ef',
  'mhs-tank': 'tk',
  'fire-panel': 'fp',
  'call-point': 'cp',
  tag: 'tag',
};

/** Attributes a class needs to be valid and realistic when the fleet file gives none. */
export const CLASS_DEFAULT_ATTRIBUTES: Readonly<
  Partial<Record<DeviceClass, Readonly<Record<string, string | number>>>>
> = {
  'gas-combustible': { gas: 'CH4', rangeLow: 0, rangeHigh: 100 },
  'gas-toxic': { gas: 'H2S', rangeLow: 0, rangeHigh: 100 },
  'mhs-tank': { substance: 'methanol', capacityT: 500 },
};

export const FLEET_ORGANISATION = {
  city: 'fleet-city',
  park: 'fleet-park',
  enterprise: 'fleet-enterprise',
} as const;

export interface ExpandedFleet {
  readonly name: string;
  /** Registry documents, one per generated site plus the organisation and any included files. */
  readonly documents: readonly RegistrySource[];
  readonly registry: Registry;
  readonly stats: FleetStatsSummary;
}

export interface FleetStatsSummary {
  readonly sites: number;
  readonly areas: number;
  readonly devices: number;
  readonly byClass: Readonly<Partial<Record<DeviceClass, number>>>;
  /** Readings per second when every device reports at its interval. */
  readonly nominalReadingsPerSecond: number;
  /** Time spent expanding and validating, ms. */
  readonly expandMs: number;
}

/** Reads, validates and expands a fleet file (YAML or JSON). Throws a FleetFileError or RegistryError. */
export function loadFleetFile(path: string): ExpandedFleet {
  let content: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    content = extname(path) === '.json' ? JSON.parse(text) : parse(text);
  } catch (error) {
    throw new FleetFileError([`${path}: ${(error as Error).message.split('\n')[0]}`]);
  }
  return expandFleet(parseFleetFile(content, path), dirname(resolve(path)));
}

export function parseFleetFile(content: unknown, source = 'fleet'): FleetFile {
  const parsed = fleetFileSchema.safeParse(content);
  if (!parsed.success) {
    throw new FleetFileError(
      parsed.error.issues.map(
        issue => `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    );
  }
  return parsed.data;
}

/**
 * Expands a fleet into registry documents and the validated registry. Deterministic: the same
 * file gives the same ids and positions. Areas are laid out as a grid of squares in the site
 * frame, devices as a grid inside their area.
 */
export function expandFleet(fleet: FleetFile, baseDir = process.cwd()): ExpandedFleet {
  const started = performance.now();
  const documents: RegistrySource[] = [];
  if (fleet.registry !== undefined) {
    const path = isAbsolute(fleet.registry) ? fleet.registry : join(baseDir, fleet.registry);
    documents.push(...readRegistrySources(path));
  }

  const enterprise = fleet.organisation.enterprise ?? FLEET_ORGANISATION.enterprise;
  if (fleet.sites.some(site => site.enterprise === undefined)) {
    const parent = fleet.organisation.parent;
    const enterpriseNode = {
      id: enterprise,
      name: `${fleet.name} enterprise`,
      kind: 'enterprise',
      parent: parent ?? FLEET_ORGANISATION.park,
    };
    documents.push({
      source: `${fleet.name}/organisation`,
      content: {
        organisation:
          parent !== undefined
            ? [enterpriseNode]
            : [
                { id: FLEET_ORGANISATION.city, name: `${fleet.name} city`, kind: 'city' },
                {
                  id: FLEET_ORGANISATION.park,
                  name: `${fleet.name} park`,
                  kind: 'park',
                  parent: FLEET_ORGANISATION.city,
                },
                enterpriseNode,
              ],
      },
    });
  }

  // Device ids are unique across sites (the registry refuses one id in two sites): with more
  // than one site, ids carry the site's id (`gc-plant-01-unit-01-001`).
  const multiSite = fleet.sites.reduce((sum, template) => sum + template.count, 0) > 1;
  for (const template of fleet.sites) {
    for (let index = 1; index <= template.count; index += 1) {
      const siteId = numbered(template.id, index, template.count);
      documents.push({
        source: `${fleet.name}/site-${siteId}`,
        content: { sites: [expandSite(template, siteId, enterprise, multiSite)] },
      });
    }
  }

  const registry = buildRegistry(documents);
  const byClass: Partial<Record<DeviceClass, number>> = {};
  let nominal = 0;
  for (const device of registry.devices) {
    byClass[device.deviceClass] = (byClass[device.deviceClass] ?? 0) + 1;
    if (hasTelemetry(device.deviceClass)) nominal += 1 / device.intervalSeconds;
  }
  return {
    name: fleet.name,
    documents,
    registry,
    stats: {
      sites: registry.sites.length,
      areas: registry.sites.reduce((sum, site) => sum + site.areas.length, 0),
      devices: registry.devices.length,
      byClass,
      nominalReadingsPerSecond: Math.round(nominal * 1000) / 1000,
      expandMs: Math.round(performance.now() - started),
    },
  };
}

/**
 * Writes the documents as JSON files into `dir`, for `VIGIL_REGISTRY=dir`. The directory must be
 * new or empty (a registry is every file of its folder: stale files would merge in), unless
 * `replace` is set, which first deletes the folder's registry files.
 */
export function writeRegistry(
  fleet: Pick<ExpandedFleet, 'documents'>,
  dir: string,
  { replace = false } = {},
): string[] {
  mkdirSync(dir, { recursive: true });
  const existing = readdirSync(dir).filter(file =>
    ['.yaml', '.yml', '.json'].includes(extname(file)),
  );
  if (existing.length > 0) {
    if (!replace) {
      throw new FleetFileError([`${dir}: already holds registry files; choose an empty folder`]);
    }
    for (const file of existing) rmSync(join(dir, file));
  }
  const written: string[] = [];
  fleet.documents.forEach((document, index) => {
    const base = document.source
      .split(/[\\/]/)
      .pop()
      ?.replace(/\.(ya?ml|json)$/, '')
      .replace(/[^A-Za-z0-9_-]/g, '_');
    const file = join(dir, `${String(index).padStart(4, '0')}-${base ?? 'registry'}.json`);
    writeFileSync(file, JSON.stringify(document.content));
    written.push(file);
  });
  return written;
}

/** The raw documents of a registry directory or file, as `loadRegistry` reads them. */
export function readRegistrySources(path: string): RegistrySource[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter(file => ['.yaml', '.yml', '.json'].includes(extname(file)))
          .sort()
          .map(file => join(path, file))
      : [path];
  } catch (error) {
    throw new RegistryError([`${path}: cannot read (${(error as Error).message})`]);
  }
  return files.map(file => {
    const text = readFileSync(file, 'utf8');
    return { source: file, content: extname(file) === '.json' ? JSON.parse(text) : parse(text) };
  });
}

function numbered(prefix: string, index: number, count: number): string {
  if (count === 1) return prefix;
  return `${prefix}-${String(index).padStart(Math.max(2, String(count).length), '0')}`;
}

interface GroupSpec {
  readonly count: number;
  readonly intervalSeconds: number | undefined;
  readonly attributes: Record<string, string | number | boolean>;
  readonly rules: Record<string, Record<string, unknown>> | undefined;
}

function groupSpec(deviceClass: DeviceClass, group: DeviceGroup): GroupSpec {
  const defaults = CLASS_DEFAULT_ATTRIBUTES[deviceClass] ?? {};
  if (typeof group === 'number') {
    return {
      count: group,
      intervalSeconds: undefined,
      attributes: { ...defaults },
      rules: undefined,
    };
  }
  return {
    count: group.count,
    intervalSeconds: group.intervalSeconds,
    attributes: { ...defaults, ...group.attributes },
    rules: group.rules,
  };
}

type SiteTemplate = z.infer<typeof siteTemplateSchema>;

function expandSite(
  template: SiteTemplate,
  siteId: string,
  defaultEnterprise: string,
  multiSite: boolean,
): Record<string, unknown> {
  const sitePart = multiSite ? `${siteId}-` : '';
  const areas: Array<{ template: SiteTemplate['areas'][number]; id: string }> = [];
  for (const area of template.areas) {
    for (let index = 1; index <= area.count; index += 1) {
      areas.push({ template: area, id: numbered(area.id, index, area.count) });
    }
  }
  const cell = Math.max(100, ...template.areas.map(area => area.sizeMetres));
  const columns = Math.max(1, Math.ceil(Math.sqrt(areas.length)));
  const rows = Math.max(1, Math.ceil(areas.length / columns));
  const frame = { width: columns * cell, height: rows * cell };

  const profiles: Record<string, unknown>[] = [];
  const profileIds = new Map<string, string>();
  const profileFor = (scope: string, deviceClass: DeviceClass, spec: GroupSpec): string => {
    const key = `${scope}/${deviceClass}`;
    let id = profileIds.get(key);
    if (id === undefined) {
      id = `p${profileIds.size + 1}-${CLASS_ID_PREFIX[deviceClass]}`;
      profileIds.set(key, id);
      profiles.push({
        id,
        class: deviceClass,
        ...(spec.intervalSeconds === undefined ? {} : { intervalSeconds: spec.intervalSeconds }),
        attributes: spec.attributes,
        ...(spec.rules === undefined ? {} : { rules: spec.rules }),
      });
    }
    return id;
  };

  const devices: Record<string, unknown>[] = [];
  // GB 18218-2018 grades per unit: one storage unit per area with tanks (and one for site-wide
  // tanks), α 1.0 (1–29 people within 500 m) for a synthetic fleet.
  const hazardUnits: Record<string, unknown>[] = [];
  const unitFor = (id: string, area: string | undefined): string => {
    const unitId = `mhs-${id}`;
    if (!hazardUnits.some(unit => unit['id'] === unitId))
      hazardUnits.push({
        id: unitId,
        name: unitId,
        kind: 'storage',
        ...(area === undefined ? {} : { area }),
        alpha: 1,
      });
    return unitId;
  };
  const areaDocuments = areas.map(({ template: area, id }, index) => {
    const x0 = (index % columns) * cell;
    const y0 = Math.floor(index / columns) * cell;
    // A 5 % margin keeps neighbouring areas apart and every device strictly inside its own.
    const margin = cell * 0.05;
    const inner = cell - 2 * margin;
    const groups = DEVICE_CLASSES.flatMap(deviceClass => {
      const group = area.devices[deviceClass];
      return group === undefined ? [] : [{ deviceClass, spec: groupSpec(deviceClass, group) }];
    });
    const positioned = groups.reduce(
      (sum, { deviceClass, spec }) => sum + (deviceClass === 'tag' ? 0 : spec.count),
      0,
    );
    const side = Math.max(1, Math.ceil(Math.sqrt(positioned)));
    let slot = 0;
    for (const { deviceClass, spec } of groups) {
      const profile = profileFor(`a:${area.id}`, deviceClass, spec);
      const width = String(spec.count).length;
      for (let n = 1; n <= spec.count; n += 1) {
        const entry: Record<string, unknown> = {
          id: `${CLASS_ID_PREFIX[deviceClass]}-${sitePart}${id}-${String(n).padStart(width, '0')}`,
          class: deviceClass,
          profile,
          area: id,
        };
        if (deviceClass === 'mhs-tank') entry['attributes'] = { unit: unitFor(id, id) };
        if (deviceClass !== 'tag') {
          const column = slot % side;
          const row = Math.floor(slot / side);
          entry['position'] = [
            round1(x0 + margin + ((column + 0.5) * inner) / side),
            round1(y0 + margin + ((row + 0.5) * inner) / side),
          ];
          slot += 1;
        }
        devices.push(entry);
      }
    }
    return {
      id,
      name: area.name ? (area.count > 1 ? `${area.name} ${id}` : area.name) : id,
      kind: area.kind,
      risk: area.risk,
      polygon: [
        [x0 + margin, y0 + margin],
        [x0 + cell - margin, y0 + margin],
        [x0 + cell - margin, y0 + cell - margin],
        [x0 + margin, y0 + cell - margin],
      ].map(([x, y]) => [round1(x as number), round1(y as number)]),
      ...(area.maxPeople === undefined ? {} : { maxPeople: area.maxPeople }),
      ...(area.rules === undefined ? {} : { rules: area.rules }),
    };
  });

  for (const deviceClass of DEVICE_CLASSES) {
    const group = template.devices[deviceClass];
    if (group === undefined) continue;
    const spec = groupSpec(deviceClass, group);
    const profile = profileFor('site', deviceClass, spec);
    const width = String(spec.count).length;
    for (let n = 1; n <= spec.count; n += 1) {
      devices.push({
        id: `${CLASS_ID_PREFIX[deviceClass]}-${sitePart}${String(n).padStart(width, '0')}`,
        class: deviceClass,
        profile,
        ...(deviceClass === 'mhs-tank' ? { attributes: { unit: unitFor('site', undefined) } } : {}),
      });
    }
  }

  return {
    id: siteId,
    name: template.name
      ? template.count > 1
        ? `${template.name} ${siteId}`
        : template.name
      : siteId,
    enterprise: template.enterprise ?? defaultEnterprise,
    frame,
    areas: areaDocuments,
    profiles,
    devices,
    ...(hazardUnits.length > 0 ? { hazardUnits } : {}),
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
