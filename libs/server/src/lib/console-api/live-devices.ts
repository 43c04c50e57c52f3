import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';

import { type IngestRecord, type MetricValue, isRetainedRecord } from '@vigil/contracts';
import { recordBody } from '@vigil/rules';

import { PipelineBus } from '../bus/pipeline-bus';
import { RegistryHolder } from '../registry/registry-holder';

/** What the gateway last heard from one device (server time), and its latest value per metric. */
export interface LiveDevice {
  /** Server receive time of the last record of any kind (reading, event, status). */
  lastSeenAt: number;
  /** Event time of the last reading. */
  lastReadingTs: number | undefined;
  /** The MQTT status of the device (retained `online`, or its last will), when it sent one. */
  online: boolean | undefined;
  clockSkewMs: number | undefined;
  /** Latest value of each metric; updated in place, so a reading allocates nothing here. */
  readonly values: Record<string, MetricValue>;
  /** Event time of the latest `x`/`y` fix (tags). */
  positionTs: number | undefined;
}

/**
 * The gateway's memory of each device's latest data, fed from the records stream: last seen,
 * latest values (tag positions, battery), MQTT status. Bounded by the registry: ingest only lets
 * registered devices through, and a registry reload drops devices that are gone.
 */
@Injectable()
export class LiveDevices implements OnModuleDestroy {
  /** siteId → deviceId → state: two lookups, and no key string built per reading. */
  private readonly sites = new Map<string, Map<string, LiveDevice>>();
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(PipelineBus) bus: PipelineBus,
    @Inject(RegistryHolder) registry: RegistryHolder,
  ) {
    this.subscriptions.push(bus.records$.subscribe(records => this.apply(records)));
    this.subscriptions.push(
      registry.changes$.subscribe(next => {
        for (const [siteId, devices] of this.sites) {
          for (const deviceId of devices.keys())
            if (!next.device(siteId, deviceId)) devices.delete(deviceId);
        }
      }),
    );
  }

  get(siteId: string, deviceId: string): LiveDevice | undefined {
    return this.sites.get(siteId)?.get(deviceId);
  }

  onModuleDestroy(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  /** Runs for every record batch: two map lookups and a few assignments per record. */
  private apply(records: readonly IngestRecord[]): void {
    for (const record of records) {
      if (record.kind === 'canary') continue; // Vigil's own canary is never a device
      const body = recordBody(record);
      let devices = this.sites.get(body.siteId);
      if (!devices) {
        devices = new Map();
        this.sites.set(body.siteId, devices);
      }
      let device = devices.get(body.deviceId);
      // A retained message (the broker's memory of a device, finding 7) is no sign of life: it
      // creates no entry and moves no last-seen time; a status fills `online` only when nothing
      // live has.
      if (isRetainedRecord(record)) {
        if (record.kind !== 'status') continue;
        if (device && device.online === undefined) device.online = record.status.online;
        continue;
      }
      if (!device) {
        device = {
          lastSeenAt: body.receivedAt,
          lastReadingTs: undefined,
          online: undefined,
          clockSkewMs: undefined,
          values: {},
          positionTs: undefined,
        };
        devices.set(body.deviceId, device);
      }
      if (body.receivedAt > device.lastSeenAt) device.lastSeenAt = body.receivedAt;
      if (record.kind === 'status') {
        device.online = record.status.online;
      } else if (record.kind === 'reading') {
        const { reading } = record;
        // Readings can arrive out of order (batches, retries): keep the newest values.
        if (device.lastReadingTs !== undefined && reading.ts < device.lastReadingTs) continue;
        device.lastReadingTs = reading.ts;
        device.clockSkewMs = reading.clockSkewMs;
        device.online = true;
        for (const metric in reading.values) {
          device.values[metric] = reading.values[metric] as MetricValue;
        }
        if ('x' in reading.values || 'y' in reading.values) device.positionTs = reading.ts;
      }
    }
  }
}
