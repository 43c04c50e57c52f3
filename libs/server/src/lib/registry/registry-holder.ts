import { Inject, Injectable, Logger } from '@nestjs/common';
import { Subject } from 'rxjs';

import { RegistryError, loadRegistry, type RegisteredDevice, type Registry } from '@vigil/registry';
import { mhsUnitsOf, resolveDeviceRules, type DeviceRules, type MhsUnit } from '@vigil/rules';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';

/**
 * Resolves every device's rules; throws listing every problem, like the registry itself.
 *
 * Devices with the same class, attributes, interval and override layers get the same resolved
 * rule list (one array of frozen-by-convention configs shared by all of them): a fleet of 100,000
 * detectors of a few kinds holds a few hundred rule lists instead of a million config objects
 * (~150 MB of heap, measured with a heap snapshot of the 100k fleet).
 */
export function resolveRegistryRules(registry: Registry): Map<RegisteredDevice, DeviceRules> {
  const resolved = new Map<RegisteredDevice, DeviceRules>();
  const shared = new Map<string, ReturnType<typeof resolveDeviceRules>>();
  const problems: string[] = [];
  for (const device of registry.devices) {
    const input = {
      deviceClass: device.deviceClass,
      attributes: device.attributes,
      intervalSeconds: device.intervalSeconds,
    };
    const key = JSON.stringify([input, device.ruleOverrides]);
    let resolution = shared.get(key);
    if (!resolution) {
      resolution = resolveDeviceRules(input, device.ruleOverrides);
      shared.set(key, resolution);
    }
    const { rules, errors } = resolution;
    for (const error of errors)
      problems.push(`sites.${device.siteId}.devices.${device.deviceId}: ${error}`);
    resolved.set(device, {
      siteId: device.siteId,
      deviceId: device.deviceId,
      deviceClass: device.deviceClass,
      areaId: device.areaId,
      gatewayId: device.gatewayId,
      rules,
      ...(device.firePanel ? { firePanel: device.firePanel } : {}),
    });
  }
  if (problems.length > 0) throw new RegistryError(problems);
  return resolved;
}

const unitsCache = new WeakMap<Registry, readonly MhsUnit[]>();

/** The GB 18218-2018 units of a registry, worked out once per registry object. */
export function registryMhsUnits(registry: Registry): readonly MhsUnit[] {
  let units = unitsCache.get(registry);
  if (!units) {
    const bySite = new Map<string, Registry['devices'][number][]>();
    for (const device of registry.devices) {
      const list = bySite.get(device.siteId);
      if (list) list.push(device);
      else bySite.set(device.siteId, [device]);
    }
    units = registry.sites.flatMap(site => mhsUnitsOf(site, bySite.get(site.id) ?? []).units);
    unitsCache.set(registry, units);
  }
  return units;
}

/**
 * Holds the current registry and every device's resolved rules. `reload()` validates the files and
 * the rule overrides again and swaps them only when both are valid, so a bad edit never takes a
 * running site down. The rule engine notices reloaded devices by object identity.
 */
@Injectable()
export class RegistryHolder {
  private readonly logger = new Logger(RegistryHolder.name);
  private readonly changes = new Subject<Registry>();
  readonly changes$ = this.changes.asObservable();
  current: Registry;
  private deviceRules: Map<RegisteredDevice, DeviceRules>;

  constructor(@Inject(VIGIL_CONFIG) private readonly config: VigilConfig) {
    this.current = loadRegistry(config.registryPath);
    this.deviceRules = resolveRegistryRules(this.current);
    this.logger.log(
      `registry ${config.registryPath}: ${this.current.sites.length} site(s), ${this.current.devices.length} device(s)`,
    );
  }

  rulesOf(device: RegisteredDevice): DeviceRules | undefined {
    return this.deviceRules.get(device);
  }

  allDeviceRules(): Iterable<DeviceRules> {
    return this.deviceRules.values();
  }

  /** GB 18218-2018 units of every site with their tanks (the registry has validated them). */
  mhsUnits(registry: Registry = this.current): readonly MhsUnit[] {
    return registryMhsUnits(registry);
  }

  /** Throws RegistryError (and keeps the running registry) when the files or rules are invalid. */
  reload(): Registry {
    const next = loadRegistry(this.config.registryPath);
    const rules = resolveRegistryRules(next);
    this.current = next;
    this.deviceRules = rules;
    this.changes.next(next);
    this.logger.log(`registry reloaded: ${next.devices.length} device(s)`);
    return next;
  }
}
