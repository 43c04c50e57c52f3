import type { Provider, Type } from '@nestjs/common';

import type { VigilConfig } from '../config/vigil-config';
import { AlertNotifier } from './alert-notifier.service';
import { NotifyStatus } from './notify-status';
import { NotifyRelay, NotifyRelayController } from './relay.controller';

export { AlertNotifier, type NotifyHealth } from './alert-notifier.service';
export * from './alertmanager-config';
export * from './alerts';
export * from './hazard-alerts';
export * from './notify-config';
export { NotifyStatus, type NotifyStatusReport } from './notify-status';
export * from './relay-messages';

/** The gateway's notification parts, each enabled by its own setting (docs/notifications.md). */
export function notifyParts(config: VigilConfig): { controllers: Type[]; providers: Provider[] } {
  const controllers: Type[] = [];
  const providers: Provider[] = [];
  if (config.notify.alertmanagerUrl) providers.push(AlertNotifier);
  if (config.notify.configFile) {
    controllers.push(NotifyRelayController);
    providers.push(NotifyRelay);
  }
  if (providers.length > 0) providers.push(NotifyStatus);
  return { controllers, providers };
}
