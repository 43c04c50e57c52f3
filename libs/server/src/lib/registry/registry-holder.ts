import { Inject, Injectable, Logger } from '@nestjs/common';
import { Subject } from 'rxjs';

import { loadRegistry, type Registry } from '@vigil/registry';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';

/**
 * Holds the current registry. `reload()` validates the files again and swaps the registry only
 * when they are valid, so a bad edit never takes a running site down.
 */
@Injectable()
export class RegistryHolder {
  private readonly logger = new Logger(RegistryHolder.name);
  private readonly changes = new Subject<Registry>();
  readonly changes$ = this.changes.asObservable();
  current: Registry;

  constructor(@Inject(VIGIL_CONFIG) private readonly config: VigilConfig) {
    this.current = loadRegistry(config.registryPath);
    this.logger.log(
      `registry ${config.registryPath}: ${this.current.sites.length} site(s), ${this.current.devices.length} device(s)`,
    );
  }

  reload(): Registry {
    const next = loadRegistry(this.config.registryPath);
    this.current = next;
    this.changes.next(next);
    this.logger.log(`registry reloaded: ${next.devices.length} device(s)`);
    return next;
  }
}
