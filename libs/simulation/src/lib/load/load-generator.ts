import { deviceTopic, type DeviceClass } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { hasTelemetry } from '../fleet/generators';
import type { SiteLayout } from '../fleet/site-layout';
import type { ReadingPublisher } from './fast-publisher';
import { TokenBucket } from './token-bucket';
import { profileDurationMs, rateAt, type LoadProfile } from './load-profile';

/** An alarm the generator provoked on purpose, and when the reading that provokes it left. */
export interface Trigger {
  readonly siteId: string;
  readonly deviceId: string;
  /** The triggering reading's `ts` (= the alarm's `raisedAt`). */
  readonly ts: number;
  /** Wall-clock time its PUBLISH was handed to the socket. */
  publishedAt: number;
  /** Alarms it must raise, exactly once each. */
  readonly expects: readonly { readonly ruleId: string; readonly level: string }[];
}

export interface InjectionOptions {
  /** Alarms provoked per second (default 10); each uses a detector not provoked before. */
  readonly perSecond: number;
  /** %LEL of the provoking reading: above both gas set-points (25 and 50), default 60. */
  readonly lel?: number;
}

export interface LoadGeneratorOptions {
  readonly devices: readonly RegisteredDevice[];
  readonly sites?: readonly SiteLayout[];
  readonly profile: LoadProfile;
  readonly publisher: ReadingPublisher;
  readonly qos?: 0 | 1;
  /**
   * Samples per message (default 1). Above 1 every message is a gateway batch `{"batch": […]}` of
   * that many samples of one device, spaced by the device's period as if a gateway had held them.
   */
  readonly batch?: number;
  /** Publishing tick (default 10 ms): each tick takes the tokens accrued and sends them at once. */
  readonly tickMs?: number;
  readonly injection?: InjectionOptions;
  readonly now?: () => number;
  readonly onTrigger?: (trigger: Trigger) => void;
}

export interface GeneratorSecond {
  /** Seconds since start. */
  readonly t: number;
  readonly offered: number;
  readonly sent: number;
  readonly messages: number;
}

export interface GeneratorStats {
  readonly readingsSent: number;
  readonly messagesSent: number;
  /** Readings the bucket held back because the connection pushed back (socket or QoS 1 window). */
  readonly deferredTicks: number;
  /** Readings the generator could not send in time (bucket overflow: it fell behind). */
  readonly missed: number;
  readonly refused: number;
  readonly triggers: number;
  /** Combustible detectors left for provoking alarms. */
  readonly freshDetectors: number;
}

interface DeviceState {
  readonly siteId: string;
  readonly deviceId: string;
  readonly topic: string;
  readonly deviceClass: DeviceClass;
  seq: number;
  readonly x: number;
  readonly y: number;
}

/**
 * Offers readings at the profile's rate, round-robin over the fleet's telemetry devices, through
 * a token bucket drained once per tick. Values stay in each class's healthy band (with noise, so
 * that no stuck-sensor rule fires); on top of that it provokes `injection.perSecond` gas alarms
 * per second on fresh combustible detectors and reports each as a {@link Trigger}.
 * Everything is bounded: the bucket's capacity (one tick's worth, ×4), the publisher's socket and
 * in-flight window; what could not be sent is counted, never queued.
 */
export class LoadGenerator {
  private readonly devices: DeviceState[];
  private readonly detectors: DeviceState[];
  private readonly publisher: ReadingPublisher;
  private readonly qos: 0 | 1;
  private readonly batch: number;
  private readonly tickMs: number;
  private readonly now: () => number;
  private cursor = 0;
  private detectorCursor = 0;
  private noise = 0x9e3779b9;
  private timer: NodeJS.Timeout | undefined;
  private bucket: TokenBucket | undefined;
  private startedAt = 0;
  private injectionDue = 0;
  private readonly seconds: { offered: number; sent: number; messages: number }[] = [];
  private counters = { readings: 0, messages: 0, deferredTicks: 0, refused: 0, triggers: 0 };
  private done: (() => void) | undefined;
  private backdateMs = 0;
  readonly triggers: Trigger[] = [];

  constructor(private readonly options: LoadGeneratorOptions) {
    const frames = new Map((options.sites ?? []).map(site => [site.id, site.frame]));
    this.devices = options.devices
      .filter(device => hasTelemetry(device.deviceClass))
      .map((device, index) => {
        const frame = frames.get(device.siteId) ?? { width: 400, height: 300 };
        // Tags stand still, spread over the site on a fixed scatter: no crowd, no zone entry.
        const [px, py] = device.position ?? [
          (((index * 7919) % 1000) / 1000) * frame.width,
          (((index * 104_729) % 1000) / 1000) * frame.height,
        ];
        return {
          siteId: device.siteId,
          deviceId: device.deviceId,
          topic: deviceTopic(device.siteId, device.deviceId, 'telemetry'),
          deviceClass: device.deviceClass,
          seq: 0,
          x: px,
          y: py,
        };
      });
    if (this.devices.length === 0)
      throw new Error('the fleet has no device that reports telemetry');
    this.detectors = this.devices.filter(device => device.deviceClass === 'gas-combustible');
    this.publisher = options.publisher;
    this.qos = options.qos ?? 0;
    this.batch = Math.max(1, Math.floor(options.batch ?? 1));
    this.tickMs = options.tickMs ?? 10;
    this.now = options.now ?? Date.now;
  }

  get stats(): GeneratorStats {
    return {
      readingsSent: this.counters.readings,
      messagesSent: this.counters.messages,
      deferredTicks: this.counters.deferredTicks,
      missed: this.bucket?.missed ?? 0,
      refused: this.counters.refused,
      triggers: this.counters.triggers,
      freshDetectors: this.detectors.length - this.detectorCursor,
    };
  }

  /** Wall-clock time the run started (epoch ms); per-second counts are seconds from it. */
  get startedAtMs(): number {
    return this.startedAt;
  }

  /** How far before its send time the oldest sample of a batch was stamped, ms (0 without batches). */
  get maxBackdateMs(): number {
    return this.backdateMs;
  }

  /** Per-second counts so far. */
  perSecond(): GeneratorSecond[] {
    return this.seconds.map((second, t) => ({ t, ...second }));
  }

  /** Runs the profile to its end; resolves when it is over (or {@link stop} is called). */
  run(): Promise<void> {
    this.startedAt = this.now();
    const firstRate = rateAt(this.options.profile, 0) ?? 0;
    this.bucket = new TokenBucket(firstRate, this.capacityFor(firstRate), this.startedAt);
    this.injectionDue = this.startedAt + 1000;
    return new Promise(resolve => {
      this.done = resolve;
      this.timer = setInterval(() => this.tick(), this.tickMs);
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.publisher.flush();
    this.done?.();
    this.done = undefined;
  }

  private capacityFor(rate: number): number {
    return Math.max(this.batch, (rate * this.tickMs * 4) / 1000);
  }

  private tick(): void {
    const now = this.now();
    const elapsed = now - this.startedAt;
    const bucket = this.bucket as TokenBucket;
    const rate = rateAt(this.options.profile, elapsed);
    if (rate === undefined || elapsed >= profileDurationMs(this.options.profile)) {
      this.stop();
      return;
    }
    bucket.setRate(rate, now);
    bucket.setCapacity(this.capacityFor(rate));
    const second = Math.floor(elapsed / 1000);
    while (this.seconds.length <= second) this.seconds.push({ offered: 0, sent: 0, messages: 0 });
    const slot = this.seconds[second] as { offered: number; sent: number; messages: number };
    slot.offered = Math.round(rate);

    if (!this.publisher.writable) {
      // Back-pressure from the socket or the QoS 1 window: leave the tokens; overflow is counted.
      this.counters.deferredTicks += 1;
      bucket.take(now, 0);
      return;
    }
    // Whole messages only: a partial batch's tokens stay in the bucket for the next tick.
    const messages =
      bucket.take(now, Math.floor(bucket.peek(now) / this.batch) * this.batch) / this.batch;
    let sent = 0;
    for (let m = 0; m < messages; m += 1) {
      const device = this.devices[this.cursor] as DeviceState;
      this.cursor = this.cursor + 1 === this.devices.length ? 0 : this.cursor + 1;
      const payload =
        this.batch === 1 ? this.sample(device, now) : this.batchPayload(device, now, rate);
      if (this.publisher.publish(device.topic, payload, this.qos)) {
        sent += this.batch;
        this.counters.messages += 1;
        slot.messages += 1;
      } else {
        this.counters.refused += 1;
      }
    }
    let pending: Trigger[] | undefined;
    const injection = this.options.injection;
    if (injection && injection.perSecond > 0) {
      const gap = 1000 / injection.perSecond;
      while (now >= this.injectionDue && this.detectorCursor < this.detectors.length) {
        this.injectionDue += gap;
        const trigger = this.provoke(
          this.detectors[this.detectorCursor++] as DeviceState,
          now,
          injection,
        );
        if (trigger) {
          sent += 1;
          slot.messages += 1;
          this.counters.messages += 1;
          (pending ??= []).push(trigger);
        }
      }
    }
    this.publisher.flush();
    if (pending) {
      const publishedAt = this.now();
      for (const trigger of pending) {
        trigger.publishedAt = publishedAt;
        this.triggers.push(trigger);
        this.counters.triggers += 1;
        this.options.onTrigger?.(trigger);
      }
    }
    slot.sent += sent;
    this.counters.readings += sent;
  }

  private provoke(
    device: DeviceState,
    now: number,
    injection: InjectionOptions,
  ): Trigger | undefined {
    const lel = injection.lel ?? 60;
    const seq = device.seq++;
    // 1 ms after this tick's readings, so that it never shares a timestamp (an InfluxDB point)
    // with a reading of the same device sent in the same tick.
    const ts = now + 1;
    const payload = `{"ts":${ts},"seq":${seq},"values":{"lel":${lel}}}`;
    if (!this.publisher.publish(device.topic, payload, 1)) {
      this.counters.refused += 1;
      return undefined;
    }
    return {
      siteId: device.siteId,
      deviceId: device.deviceId,
      ts,
      publishedAt: now,
      expects: [
        { ruleId: 'gas-l1', level: 'L1' },
        { ruleId: 'gas-l2', level: 'L2' },
      ],
    };
  }

  /** A cheap noise source in [-1, 1) (xorshift32): values move, so no stuck-sensor rule fires. */
  private jitter(): number {
    let x = this.noise;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.noise = x >>> 0;
    return this.noise / 2_147_483_648 - 1;
  }

  private values(device: DeviceState): string {
    const j = this.jitter();
    switch (device.deviceClass) {
      case 'gas-combustible':
        return `{"lel":${(1 + j).toFixed(1)}}`;
      case 'gas-toxic':
        return `{"ppm":${(0.2 + 0.1 * j).toFixed(2)}}`;
      case 'gas-oxygen':
        return `{"o2":${(20.9 + 0.1 * j).toFixed(1)}}`;
      case 'electrical-fire':
        return `{"leak_ma":${Math.round(130 + 20 * j)},"temp_c":${(32 + 3 * j).toFixed(1)},"arc":0}`;
      case 'mhs-tank':
        return `{"level_pct":${(60 + j).toFixed(1)},"temp_c":${(20 + 0.5 * j).toFixed(1)},"pressure_kpa":${(102 + j).toFixed(1)},"flow_m3h":0}`;
      case 'tag':
        return `{"x":${(device.x + 0.5 * j).toFixed(1)},"y":${device.y.toFixed(1)},"floor":0,"battery_pct":${(90 + j).toFixed(1)},"still":false}`;
      default:
        return '{}';
    }
  }

  private sample(device: DeviceState, now: number): string {
    return `{"ts":${now},"seq":${device.seq++},"values":${this.values(device)}}`;
  }

  private batchPayload(device: DeviceState, now: number, rate: number): string {
    // The device's period at this rate: a gateway that held `batch` samples collected them so far apart.
    const periodMs = Math.max(1, Math.round((this.devices.length / Math.max(1, rate)) * 1000));
    const samples: string[] = [];
    const backdate = (this.batch - 1) * periodMs;
    if (backdate > this.backdateMs) this.backdateMs = backdate;
    for (let k = this.batch - 1; k >= 0; k -= 1) {
      samples.push(
        `{"ts":${now - k * periodMs},"seq":${device.seq++},"values":${this.values(device)}}`,
      );
    }
    return `{"batch":[${samples.join(',')}]}`;
  }
}
