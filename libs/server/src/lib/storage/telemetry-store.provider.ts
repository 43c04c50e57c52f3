import type { Provider } from '@nestjs/common';

import { createTelemetryStore, type TelemetryStore } from '@vigil/storage';

import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';

/**
 * The process's one storage port (`TelemetryStore | null`): persister, storage status, history
 * and reports all inject it. `null` when VIGIL_INFLUX_MODE=off, and each of them says so loudly
 * (history 503, storage status not kept, reports from memory).
 */
export const TELEMETRY_STORE = Symbol('TELEMETRY_STORE');

/** The store the configuration asks for, built by the storage lib's one factory; null when off. */
export function telemetryStoreFor(config: VigilConfig): TelemetryStore | null {
  return config.influx.mode === 'off' ? null : createTelemetryStore(config.influx);
}

export const telemetryStoreProvider: Provider = {
  provide: TELEMETRY_STORE,
  inject: [VIGIL_CONFIG],
  useFactory: telemetryStoreFor,
};
