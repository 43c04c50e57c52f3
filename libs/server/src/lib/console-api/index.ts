import type { Provider, Type } from '@nestjs/common';

import { AlarmHistoryController } from './alarm-history.controller';
import { DeviceHealthController } from './device-health.controller';
import { HistoryStore } from './history-store';
import { LiveDevices } from './live-devices';
import { PositionsController } from './positions.controller';
import { RiskController } from './risk.controller';
import { TelemetryController } from './telemetry.controller';

/**
 * Read-side endpoints the console needs beyond devices and alarms (history, trends, risk map,
 * device health, site plan). Registered by GatewayModule.
 */
export const CONSOLE_API_CONTROLLERS: Type[] = [
  AlarmHistoryController,
  TelemetryController,
  DeviceHealthController,
  RiskController,
  PositionsController,
];
export const CONSOLE_API_PROVIDERS: Provider[] = [HistoryStore, LiveDevices];
