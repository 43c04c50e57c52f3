import { Inject, Injectable, Optional } from '@nestjs/common';

import { AlertNotifier, type NotifyHealth } from './alert-notifier.service';
import { NotifyRelay, type RelayHealth } from './relay.controller';

export interface NotifyStatusReport {
  readonly status: 'ok' | 'degraded';
  readonly alertmanager?: NotifyHealth;
  readonly relay?: RelayHealth;
}

/** `/readyz` `details.notify`: posting to Alertmanager and the webhook relay, whichever run here. */
@Injectable()
export class NotifyStatus {
  constructor(
    @Optional() @Inject(AlertNotifier) private readonly notifier?: AlertNotifier,
    @Optional() @Inject(NotifyRelay) private readonly relay?: NotifyRelay,
  ) {}

  report(): NotifyStatusReport {
    const alertmanager = this.notifier?.health();
    const relay = this.relay?.health();
    const degraded = alertmanager?.status === 'degraded' || relay?.status === 'degraded';
    return {
      status: degraded ? 'degraded' : 'ok',
      ...(alertmanager ? { alertmanager } : {}),
      ...(relay ? { relay } : {}),
    };
  }
}
