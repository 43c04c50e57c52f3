import { Inject, Injectable, Logger } from '@nestjs/common';
import { Subject } from 'rxjs';

import { loadCheckedRegistry, type RegisteredDevice, type Registry } from '@vigil/registry';
import type { DeviceRules } from '@vigil/rules';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';

// Moved to @vigil/registry (one place for the whole registry check); re-exported for callers.
export { resolveRegistryRules } from '@vigil/registry';

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

  /** Throws RegistryError (and keeps the running registry) when the files or rules are invalid. */
  reload(): Registry {
    const { registry: next, deviceRules } = loadCheckedRegistry(this.config.registryPath);
    this.current = next;
    this.deviceRules = deviceRules;
    this.changes.next(next);
    this.logger.log(`registry reloaded: ${next.devices.length} device(s)`);
    return next;
  }
}
