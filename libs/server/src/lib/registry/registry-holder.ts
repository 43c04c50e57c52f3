import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Subject } from 'rxjs';

import { RegistryError, type RegisteredDevice, type Registry } from '@vigil/registry';
import { loadCheckedRegistry } from '@vigil/registry-node';
import { mhsUnitsOf, type DeviceRules, type MhsUnit } from '@vigil/rules';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { VigilMetrics } from '../metrics/metrics';

// Moved to @vigil/registry (one place for the whole registry check); re-exported for callers.
export { resolveRegistryRules } from '@vigil/registry';

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
  /**
   * The last reload, when it was refused: the files on disk are not what runs (an edit someone
   * believes applied). Reported on /readyz until a reload is applied.
   */
  refused: { readonly at: number; readonly problems: readonly string[] } | undefined;
  /**
   * Checks of the registry against what lives outside it (the users file: guarantors and other
   * assignees), added by their owners; a reload runs them before anything is swapped.
   */
  private readonly checks: Array<(registry: Registry) => readonly string[]> = [];

  constructor(
    @Inject(VIGIL_CONFIG) private readonly config: VigilConfig,
    // Optional so that tests (and other helpers' specs) can build a holder from a config alone.
    @Optional() @Inject(VigilMetrics) private readonly metrics?: VigilMetrics,
  ) {
    const checked = loadCheckedRegistry(config.registryPath);
    this.current = checked.registry;
    this.deviceRules = checked.deviceRules;
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

  /**
   * Adds a check that a reload must pass; the caller checks the running registry itself (and
   * refuses to start with its problems).
   */
  addCheck(check: (registry: Registry) => readonly string[]): void {
    this.checks.push(check);
  }

  /**
   * Throws RegistryError (and keeps the running registry) when the files or rules are invalid:
   * the whole check (structure, gases, units, area, site and device rules) runs before anything
   * is swapped, so nothing is ever half applied. Every problem of a refused reload is logged.
   */
  reload(): Registry {
    let checked;
    try {
      const loaded = loadCheckedRegistry(this.config.registryPath);
      const problems = this.checks.flatMap(check => check(loaded.registry));
      if (problems.length > 0) throw new RegistryError(problems);
      checked = loaded;
    } catch (error) {
      this.metrics?.registryReloads.inc({ result: 'refused' });
      this.metrics?.registryReloadRefused.set(1);
      this.refused = {
        at: Date.now(),
        problems:
          error instanceof RegistryError
            ? error.message.split('\n').slice(0, 20)
            : [String((error as Error)?.message ?? error)],
      };
      if (error instanceof RegistryError)
        this.logger.error(`registry reload refused, the running registry stays: ${error.message}`);
      throw error;
    }
    const { registry: next, deviceRules } = checked;
    const previous = this.current;
    this.metrics?.registryReloads.inc({ result: 'applied' });
    this.metrics?.registryReloadRefused.set(0);
    this.refused = undefined;
    this.current = next;
    this.deviceRules = deviceRules;
    this.changes.next(next);
    this.logger.log(`registry reloaded: ${next.devices.length} device(s)`);
    // Devices taken out of the registry are no longer watched (not even for offline): say which.
    const removed = previous.devices.filter(d => !next.device(d.siteId, d.deviceId));
    if (removed.length > 0)
      this.logger.warn(
        `registry reload removed ${removed.length} device(s), no longer monitored: ` +
          removed
            .slice(0, 20)
            .map(d => `${d.siteId}/${d.deviceId}`)
            .join(', ') +
          (removed.length > 20 ? ', …' : ''),
      );
    return next;
  }
}
