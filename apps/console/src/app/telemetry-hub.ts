import type { TelemetryUpdate } from './alarm-socket';

export interface TelemetrySink {
  subscribe(devices: readonly string[]): void;
  unsubscribe(devices: readonly string[]): void;
}

/**
 * Shares the socket's telemetry subscriptions between views: each device is subscribed while at
 * least one view watches it (the site plan and a device panel may watch the same tag).
 */
export class TelemetryHub {
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<(update: TelemetryUpdate) => void>();

  constructor(private readonly sink: TelemetrySink) {}

  watch(devices: readonly string[], listener: (update: TelemetryUpdate) => void): () => void {
    const added: string[] = [];
    for (const device of new Set(devices)) {
      const count = this.counts.get(device) ?? 0;
      this.counts.set(device, count + 1);
      if (count === 0) added.push(device);
    }
    if (added.length > 0) this.sink.subscribe(added);
    const wanted = new Set(devices);
    const filtered = (update: TelemetryUpdate) => {
      if (wanted.has(`${update.siteId}/${update.deviceId}`)) listener(update);
    };
    this.listeners.add(filtered);
    return () => {
      this.listeners.delete(filtered);
      const removed: string[] = [];
      for (const device of wanted) {
        const count = (this.counts.get(device) ?? 1) - 1;
        if (count <= 0) {
          this.counts.delete(device);
          removed.push(device);
        } else this.counts.set(device, count);
      }
      if (removed.length > 0) this.sink.unsubscribe(removed);
    };
  }

  dispatch(update: TelemetryUpdate): void {
    for (const listener of this.listeners) listener(update);
  }
}
