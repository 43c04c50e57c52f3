import type { DeviceTopicKind } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { type FirePanelEvent, firePanelEvent } from '../fleet/fire-panel';
import { gasLeakLevel, type GasLeakProfile } from '../fleet/gas-leak';
import {
  COMBUSTIBLE_BASELINE_LEL,
  createValueGenerator,
  hasTelemetry,
  type TelemetryValues,
} from '../fleet/generators';
import { Random, clamp, roundTo } from '../fleet/random';
import type { FleetDefinition, Point, SiteLayout } from '../fleet/site-layout';
import type { Scenario, ScenarioStep, Signal } from './scenario-schema';

/** One message the runner sends, `atMs` after the scenario's start. */
export interface Emission {
  readonly atMs: number;
  readonly siteId: string;
  readonly deviceId: string;
  readonly kind: DeviceTopicKind;
  /** A telemetry sample; `tsOffsetMs` is its `ts` relative to the start (skew included). */
  readonly sample?: {
    readonly tsOffsetMs: number;
    readonly seq: number | undefined;
    readonly values: TelemetryValues;
  };
  readonly event?: {
    readonly tsOffsetMs: number;
    readonly code: string;
    readonly detail: Record<string, unknown>;
  };
  readonly status?: { readonly tsOffsetMs: number; readonly online: boolean };
  /** A payload sent as it is (malformed input). */
  readonly raw?: string;
  /** Times the message is sent (duplicates share the `seq`). */
  readonly copies: number;
  /** Index of the step that produced it, or `baseline` for a controlled device's normal readings. */
  readonly step: number | 'baseline';
  /** The sample's clock is skewed: excluded from the stored-readings comparison. */
  readonly skewed: boolean;
}

export interface PlumeTarget {
  readonly deviceId: string;
  /** %LEL the plume adds at this detector at its peak. */
  readonly peakLel: number;
  /** When the plume reaches it, ms after the leak step starts. */
  readonly arrivalMs: number;
}

export interface CompiledScenario {
  readonly scenario: Scenario;
  /** Sorted by time. */
  readonly emissions: readonly Emission[];
  /** `siteId/deviceId` of devices the scenario drives; the background fleet leaves them out. */
  readonly controlled: ReadonlySet<string>;
  /** Leak steps: what each detector sees. */
  readonly plumes: ReadonlyMap<number, readonly PlumeTarget[]>;
  /** Unknown devices, wrong classes: the scenario does not fit the fleet. */
  readonly problems: readonly string[];
  readonly durationMs: number;
}

const key = (siteId: string, deviceId: string): string => `${siteId}/${deviceId}`;

/** Resolves `deviceId` or `siteId/deviceId` in the scenario's site. */
export function resolveDevice(
  ref: string,
  scenario: Pick<Scenario, 'site'>,
  devices: ReadonlyMap<string, RegisteredDevice>,
): RegisteredDevice | undefined {
  const slash = ref.indexOf('/');
  return slash < 0 ? devices.get(key(scenario.site, ref)) : devices.get(ref);
}

/** The value of a step's signal at `elapsedMs` into the step (sample `index` of it). */
export function signalValue(
  signal: Signal,
  elapsedMs: number,
  stepMs: number,
  everyMs: number,
  index: number,
): number | boolean {
  if (typeof signal === 'number' || typeof signal === 'boolean') return signal;
  if ('ramp' in signal) {
    const [from, to] = signal.ramp;
    // The last sample of the step reaches `to`.
    const span = Math.max(1, stepMs - everyMs);
    return roundTo(from + (to - from) * clamp(elapsedMs / span, 0, 1), 3);
  }
  if ('wave' in signal) {
    const { around, amplitude, period } = signal.wave;
    return roundTo(elapsedMs % period < period / 2 ? around + amplitude : around - amplitude, 3);
  }
  return signal.sequence[index % signal.sequence.length] as number | boolean;
}

/**
 * What a detector sees of a leak carried by the wind: the plume reaches it after
 * `downwind distance / wind speed`, its peak falls off exponentially downwind (`reach`) and as a
 * Gaussian crosswind (half-width 5 m + `spread` × downwind distance); upwind detectors see only
 * what diffuses a few metres. Without wind the leak spreads evenly, falling off with distance.
 * A rough stand-in for a dispersion model: enough to make detectors trip in a realistic order.
 */
export function plumeAt(
  leak: NonNullable<ScenarioStep['leak']>,
  source: Point,
  position: Point,
): { peakLel: number; arrivalMs: number } {
  const dx = position[0] - source[0];
  const dy = position[1] - source[1];
  const distance = Math.hypot(dx, dy);
  if (!leak.wind) {
    return { peakLel: leak.peakLel * Math.exp(-distance / leak.reach), arrivalMs: 0 };
  }
  const theta = (leak.wind.towards * Math.PI) / 180;
  const wx = Math.sin(theta);
  const wy = Math.cos(theta);
  const along = dx * wx + dy * wy;
  const cross = Math.abs(dx * wy - dy * wx);
  if (along < 0) return { peakLel: leak.peakLel * Math.exp(-distance / 5), arrivalMs: 0 };
  const halfWidth = 5 + leak.spread * along;
  return {
    peakLel: leak.peakLel * Math.exp(-along / leak.reach) * Math.exp(-((cross / halfWidth) ** 2)),
    arrivalMs: (along / leak.wind.speed) * 1000,
  };
}

interface Override {
  readonly fromMs: number;
  readonly toMs: number;
  readonly everyMs: number;
  readonly step: number;
  apply(values: TelemetryValues, atMs: number, index: number): void;
  readonly skewMs: number;
  readonly copies: number;
  readonly outOfOrder: boolean;
  readonly noSeq: boolean;
}

interface DevicePlan {
  readonly device: RegisteredDevice;
  readonly overrides: Override[];
  readonly silences: [number, number][];
}

/** Detectors seeing less than this (%LEL) are not driven by a leak step. */
const PLUME_VISIBLE_LEL = 0.5;

/**
 * Turns a scenario into the exact list of messages to send, against a fleet. Pure and
 * deterministic for a seed: the unit tests check the timeline without a broker.
 */
export function compileScenario(
  scenario: Scenario,
  fleet: FleetDefinition,
  seed = 1,
): CompiledScenario {
  const problems: string[] = [];
  const devices = new Map(
    fleet.devices.map(device => [key(device.siteId, device.deviceId), device]),
  );
  const sites = new Map(fleet.sites.map(site => [site.id, site]));
  if (!sites.has(scenario.site)) problems.push(`site "${scenario.site}" is not in the fleet`);
  const emissions: Emission[] = [];
  const plans = new Map<string, DevicePlan>();
  const plumes = new Map<number, PlumeTarget[]>();
  const durationMs = scenario.duration;

  const find = (ref: string, where: string): RegisteredDevice | undefined => {
    const device = resolveDevice(ref, scenario, devices);
    if (!device) problems.push(`${where}: unknown device "${ref}" in site ${scenario.site}`);
    return device;
  };
  const plan = (device: RegisteredDevice): DevicePlan => {
    const k = key(device.siteId, device.deviceId);
    let existing = plans.get(k);
    if (!existing) {
      existing = { device, overrides: [], silences: [] };
      plans.set(k, existing);
    }
    return existing;
  };

  scenario.steps.forEach((step, index) => {
    const where = `steps[${index}]`;
    if (step.at > durationMs)
      problems.push(`${where}: at ${step.at} ms is after the scenario ends`);
    if (step.telemetry) {
      const t = step.telemetry;
      const device = find(t.device, `${where}.telemetry`);
      if (!device) return;
      if (!hasTelemetry(device.deviceClass)) {
        problems.push(
          `${where}.telemetry: ${t.device} is a ${device.deviceClass}, which sends no telemetry`,
        );
        return;
      }
      plan(device).overrides.push({
        fromMs: step.at,
        toMs: step.at + t.for,
        everyMs: t.every,
        step: index,
        skewMs: t.skew ?? 0,
        copies: t.copies,
        outOfOrder: t.outOfOrder,
        noSeq: t.noSeq,
        apply: (values, atMs, sampleIndex) => {
          for (const [metric, signal] of Object.entries(t.values)) {
            values[metric] = signalValue(signal, atMs - step.at, t.for, t.every, sampleIndex);
          }
        },
      });
    } else if (step.leak) {
      const leak = step.leak;
      const site = sites.get(scenario.site);
      const at = leak.device ? find(leak.device, `${where}.leak`) : undefined;
      const source = leak.source ?? at?.position;
      if (!site || !source) {
        if (site && !source) problems.push(`${where}.leak: the source device has no position`);
        return;
      }
      const profile: Omit<GasLeakProfile, 'peakLel'> = {
        rampSeconds: leak.ramp / 1000,
        holdSeconds: leak.hold / 1000,
        decaySeconds: leak.decay / 1000,
      };
      const leakMs = leak.ramp + leak.hold + leak.decay;
      const targets: PlumeTarget[] = [];
      for (const device of fleet.devices) {
        if (
          device.siteId !== site.id ||
          device.deviceClass !== 'gas-combustible' ||
          !device.position
        )
          continue;
        const seen = plumeAt(leak, source, device.position);
        if (seen.peakLel < PLUME_VISIBLE_LEL) continue;
        targets.push({
          deviceId: device.deviceId,
          peakLel: roundTo(seen.peakLel, 2),
          arrivalMs: Math.round(seen.arrivalMs),
        });
        const detectorProfile: GasLeakProfile = { ...profile, peakLel: seen.peakLel };
        plan(device).overrides.push({
          fromMs: step.at,
          toMs: Math.min(durationMs, step.at + seen.arrivalMs + leakMs),
          everyMs: leak.every,
          step: index,
          skewMs: 0,
          copies: 1,
          outOfOrder: false,
          noSeq: false,
          apply: (values, atMs) => {
            const added = gasLeakLevel(detectorProfile, (atMs - step.at - seen.arrivalMs) / 1000);
            const lel = typeof values['lel'] === 'number' ? values['lel'] : 0;
            values['lel'] = roundTo(clamp(lel + added, COMBUSTIBLE_BASELINE_LEL[0], 100), 1);
          },
        });
      }
      if (targets.length === 0)
        problems.push(`${where}.leak: no combustible detector of ${site.id} sees this leak`);
      plumes.set(index, targets);
    } else if (step.move) {
      const move = step.move;
      const group = move.devices
        .map(ref => find(ref, `${where}.move`))
        .filter((d): d is RegisteredDevice => d !== undefined);
      group.forEach((device, memberIndex) => {
        if (device.deviceClass !== 'tag') {
          problems.push(`${where}.move: ${device.deviceId} is a ${device.deviceClass}, not a tag`);
          return;
        }
        // Spread a group on a circle around the destination, `spacing` metres apart.
        const radius = group.length > 1 ? (move.spacing * group.length) / (2 * Math.PI) : 0;
        const angle = (2 * Math.PI * memberIndex) / Math.max(1, group.length);
        const target: Point = [
          move.to[0] + radius * Math.cos(angle),
          move.to[1] + radius * Math.sin(angle),
        ];
        let from: Point | undefined;
        plan(device).overrides.push({
          fromMs: step.at,
          toMs: step.at + move.for,
          everyMs: move.every,
          step: index,
          skewMs: 0,
          copies: 1,
          outOfOrder: false,
          noSeq: false,
          apply: (values, atMs) => {
            from ??= [Number(values['x'] ?? target[0]), Number(values['y'] ?? target[1])];
            const distance = Math.hypot(target[0] - from[0], target[1] - from[1]);
            const travelled = (move.speed * (atMs - step.at)) / 1000;
            const share = distance > 0 ? Math.min(1, travelled / distance) : 1;
            values['x'] = roundTo(from[0] + (target[0] - from[0]) * share, 1);
            values['y'] = roundTo(from[1] + (target[1] - from[1]) * share, 1);
            values['still'] = move.still && share >= 1;
          },
        });
      });
    } else if (step.silence) {
      const device = find(step.silence.device, `${where}.silence`);
      if (device) plan(device).silences.push([step.at, step.at + step.silence.for]);
    } else if (step.event) {
      const device = find(step.event.device, `${where}.event`);
      if (device) {
        emissions.push({
          atMs: step.at,
          siteId: device.siteId,
          deviceId: device.deviceId,
          kind: 'event',
          event: { tsOffsetMs: step.at, code: step.event.code, detail: step.event.detail ?? {} },
          copies: 1,
          step: index,
          skewed: false,
        });
      }
    } else if (step.panel) {
      const device = find(step.panel.device, `${where}.panel`);
      let event: FirePanelEvent | undefined;
      try {
        event = device && firePanelEvent(device, step.panel.state, step.panel.address);
      } catch (error) {
        problems.push(`${where}.panel: ${(error as Error).message}`);
      }
      if (device && event) {
        emissions.push({
          atMs: step.at,
          siteId: device.siteId,
          deviceId: device.deviceId,
          kind: 'event',
          event: { tsOffsetMs: step.at, code: event.code, detail: { ...event.detail } },
          copies: 1,
          step: index,
          skewed: false,
        });
      }
    } else if (step.status) {
      const device = find(step.status.device, `${where}.status`);
      if (device) {
        emissions.push({
          atMs: step.at,
          siteId: device.siteId,
          deviceId: device.deviceId,
          kind: 'status',
          status: { tsOffsetMs: step.at, online: step.status.online },
          copies: 1,
          step: index,
          skewed: false,
        });
      }
    } else if (step.raw) {
      const raw = step.raw;
      const device = find(raw.device, `${where}.raw`);
      if (device) {
        raw.payloads.forEach((payload, payloadIndex) =>
          emissions.push({
            atMs: step.at + payloadIndex * raw.every,
            siteId: device.siteId,
            deviceId: device.deviceId,
            kind: raw.kind,
            raw: payload,
            copies: 1,
            step: index,
            skewed: false,
          }),
        );
      }
    }
  });

  for (const devicePlan of plans.values()) {
    const site = sites.get(devicePlan.device.siteId);
    if (!site) continue;
    emissions.push(...deviceTimeline(devicePlan, site, durationMs, seed));
  }
  emissions.sort((a, b) => a.atMs - b.atMs);
  return {
    scenario,
    emissions,
    controlled: new Set(plans.keys()),
    plumes,
    problems,
    durationMs,
  };
}

/** A controlled device's readings: its healthy baseline, with the steps' overrides, minus silences. */
function deviceTimeline(
  plan: DevicePlan,
  site: SiteLayout,
  durationMs: number,
  seed: number,
): Emission[] {
  const { device } = plan;
  const k = key(device.siteId, device.deviceId);
  const generator = createValueGenerator(device, site, Random.forKey(seed, `${k}/values`));
  if (!generator) return [];
  const silent = (t: number): boolean => plan.silences.some(([from, to]) => t >= from && t < to);
  const covering = (t: number): Override[] =>
    plan.overrides.filter(o => t >= o.fromMs && t < o.toMs);

  const times = new Set<number>();
  const intervalMs = device.intervalSeconds * 1000;
  const phase = Math.floor(Random.forKey(seed, `${k}/phase`).next() * Math.min(intervalMs, 5000));
  for (let t = phase; t < durationMs; t += intervalMs) if (covering(t).length === 0) times.add(t);
  for (const override of plan.overrides) {
    for (let t = override.fromMs; t < Math.min(override.toMs, durationMs); t += override.everyMs)
      times.add(t);
  }
  const sorted = [...times].filter(t => !silent(t)).sort((a, b) => a - b);

  const emissions: Emission[] = [];
  const indexInStep = new Map<Override, number>();
  let seq = 0;
  let previous: number | undefined;
  for (const t of sorted) {
    const values = generator.next(
      previous === undefined ? device.intervalSeconds : (t - previous) / 1000,
    );
    previous = t;
    const active = covering(t);
    for (const override of active) {
      const index = indexInStep.get(override) ?? 0;
      indexInStep.set(override, index + 1);
      override.apply(values, t, index);
    }
    const last = active[active.length - 1];
    const skewMs = active.reduce((sum, o) => sum + o.skewMs, 0);
    emissions.push({
      atMs: t,
      siteId: device.siteId,
      deviceId: device.deviceId,
      kind: 'telemetry',
      sample: { tsOffsetMs: t + skewMs, seq: last?.noSeq ? undefined : seq, values: { ...values } },
      copies: last?.copies ?? 1,
      step: last ? last.step : 'baseline',
      skewed: skewMs !== 0,
    });
    seq += 1;
  }
  // Out of order: within such a step, each pair of samples leaves newest first.
  for (const override of plan.overrides) {
    if (!override.outOfOrder) continue;
    const mine = emissions.filter(e => e.step === override.step);
    for (let i = 0; i + 1 < mine.length; i += 2) {
      const a = mine[i] as Emission;
      const b = mine[i + 1] as Emission;
      const ai = emissions.indexOf(a);
      const bi = emissions.indexOf(b);
      emissions[ai] = { ...b, atMs: a.atMs };
      emissions[bi] = { ...a, atMs: b.atMs };
    }
  }
  return emissions;
}

/** Sent readings that should be stored: unique (device, seq) samples with an unskewed clock. */
export function storableReadings(emissions: readonly Emission[]): number {
  const seen = new Set<string>();
  let count = 0;
  for (const emission of emissions) {
    if (!emission.sample || emission.skewed) continue;
    const id = `${emission.siteId}/${emission.deviceId}/${emission.sample.seq ?? `t${emission.sample.tsOffsetMs}`}`;
    if (seen.has(id)) continue;
    seen.add(id);
    count += 1;
  }
  return count;
}
