import { resolveDeviceRules, type DeviceRules } from '@vigil/rules';

import {
  RegistryError,
  assembleRegistry,
  type RegisteredDevice,
  type Registry,
  type RegistrySource,
} from './registry';

/**
 * Resolves every device's rules; throws listing every problem, like the registry itself.
 *
 * Devices with the same class, attributes, interval and override layers get the same resolved
 * rule list (one array of frozen-by-convention configs shared by all of them): a fleet of 100,000
 * detectors of a few kinds holds a few hundred rule lists instead of a million config objects
 * (~150 MB of heap, measured with a heap snapshot of the 100k fleet).
 */
export function resolveRegistryRules(registry: Registry): Map<RegisteredDevice, DeviceRules> {
  const { resolved, problems } = collectRegistryRules(registry);
  if (problems.length > 0) throw new RegistryError(problems);
  return resolved;
}

type RuleLayers = RegisteredDevice['ruleOverrides'];

/** What one device's rules are resolved from, and a key equal for devices that resolve alike. */
function ruleInput(device: RegisteredDevice, layers: RuleLayers) {
  const input = {
    deviceClass: device.deviceClass,
    attributes: device.attributes,
    intervalSeconds: device.intervalSeconds,
  };
  return { input, key: JSON.stringify([input, layers]) };
}

function deviceRulesOf(device: RegisteredDevice, rules: DeviceRules['rules']): DeviceRules {
  return {
    siteId: device.siteId,
    deviceId: device.deviceId,
    deviceClass: device.deviceClass,
    areaId: device.areaId,
    gatewayId: device.gatewayId,
    rules,
    ...(device.firePanel ? { firePanel: device.firePanel } : {}),
  };
}

/** Where a device's rule problem is in the registry, as every registry problem names its place. */
export function deviceRuleProblem(device: RegisteredDevice, problem: string): string {
  return `sites.${device.siteId}.devices.${device.deviceId}: ${problem}`;
}

/**
 * One device's rules as a Vigil process runs them: the class defaults, then the registry's
 * override layers (profile, area, device) or the `layers` given instead (the replay tool adds its
 * what-if layer last). The problems are the resolver's, without the device's place.
 */
export function resolveRegisteredDeviceRules(
  device: RegisteredDevice,
  layers: RuleLayers = device.ruleOverrides,
): { readonly deviceRules: DeviceRules; readonly errors: readonly string[] } {
  const { rules, errors } = resolveDeviceRules(ruleInput(device, layers).input, layers);
  return { deviceRules: deviceRulesOf(device, rules), errors };
}

function collectRegistryRules(registry: Registry): {
  resolved: Map<RegisteredDevice, DeviceRules>;
  problems: string[];
} {
  const resolved = new Map<RegisteredDevice, DeviceRules>();
  const shared = new Map<string, ReturnType<typeof resolveDeviceRules>>();
  const problems: string[] = [];
  for (const device of registry.devices) {
    const { input, key } = ruleInput(device, device.ruleOverrides);
    let resolution = shared.get(key);
    if (!resolution) {
      resolution = resolveDeviceRules(input, device.ruleOverrides);
      shared.set(key, resolution);
    }
    const { rules, errors } = resolution;
    for (const error of errors) problems.push(deviceRuleProblem(device, error));
    resolved.set(device, deviceRulesOf(device, rules));
  }
  return { resolved, problems };
}

/** A registry with every device's rules: what a Vigil process runs on. */
export interface CheckedRegistry {
  readonly registry: Registry;
  readonly deviceRules: Map<RegisteredDevice, DeviceRules>;
}

/**
 * The whole check a process makes at start and on every reload: files, structure, gases and
 * units, area and site rules (`buildRegistry`), then every device's rules. Throws only
 * RegistryError, listing every problem; returns nothing partial.
 */
export function checkRegistry(sources: readonly RegistrySource[]): CheckedRegistry {
  const assembled = assembleRegistry(sources);
  const { registry } = assembled;
  const problems = [...assembled.problems];
  // A registry without devices monitors nothing: most likely the wrong path or a lost file.
  if (problems.length === 0 && registry.devices.length === 0)
    problems.push('(registry): no devices: Vigil would monitor nothing');
  // Device rules are checked even when the structure has problems, so one load lists them all.
  const rules = collectRegistryRules(registry);
  if (problems.length > 0 || rules.problems.length > 0)
    throw new RegistryError([...problems, ...rules.problems]);
  return { registry, deviceRules: rules.resolved };
}
