import type { DeviceClass } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { MeanReverting, Random, clamp, roundTo } from './random';
import { polygonCentroid, type Point, type SiteLayout } from './site-layout';

export type TelemetryValues = Record<string, number | boolean>;

/** Produces a device's next reading; `dtSeconds` is the simulated time since the previous one. */
export interface ValueGenerator {
  next(dtSeconds: number): TelemetryValues;
}

/** Device classes that report telemetry; fire panels and call points only send events. */
export function hasTelemetry(deviceClass: DeviceClass): boolean {
  return deviceClass !== 'fire-panel' && deviceClass !== 'call-point';
}

/**
 * The generator for a device's normal (healthy) behaviour, or `undefined` for classes without
 * telemetry. Deterministic for a given `random` stream.
 */
export function createValueGenerator(
  device: RegisteredDevice,
  site: SiteLayout,
  random: Random,
): ValueGenerator | undefined {
  switch (device.deviceClass) {
    case 'gas-combustible':
      return combustibleGas(random);
    case 'gas-toxic':
      return toxicGas(random, device.attributes);
    case 'gas-oxygen':
      return oxygen(random);
    case 'electrical-fire':
      return electricalFire(random);
    case 'mhs-tank':
      return tank(random, device.attributes);
    case 'tag':
      return new TagWalker(random, site);
    case 'fire-panel':
    case 'call-point':
      return undefined;
  }
}

/** Clean air on a catalytic or IR detector: a small zero offset and noise, 0–3 %LEL. */
export const COMBUSTIBLE_BASELINE_LEL: readonly [number, number] = [-0.5, 3];

function combustibleGas(random: Random): ValueGenerator {
  const zeroDrift = new MeanReverting(random, random.uniform(0.3, 1.5), 0.4, 600);
  return {
    next: dt => ({
      lel: roundTo(
        clamp(zeroDrift.next(dt) + 0.2 * random.normal(), ...COMBUSTIBLE_BASELINE_LEL),
        1,
      ),
    }),
  };
}

/**
 * Typical clean-air background by gas, ppm: what a healthy electrochemical cell reads in a plant
 * well below any alarm level. Unknown gases get 1 % of the detector's range.
 */
export const TOXIC_BACKGROUND_PPM: Readonly<Record<string, number>> = {
  H2S: 0.3,
  NH3: 2,
  CO: 3,
  Cl2: 0.1,
  SO2: 0.2,
  NO2: 0.2,
  HCN: 0.2,
  HCl: 0.3,
};

export function toxicBackgroundPpm(attributes: RegisteredDevice['attributes']): number {
  const gas = attributes['gas'];
  const known = typeof gas === 'string' ? TOXIC_BACKGROUND_PPM[gas] : undefined;
  if (known !== undefined) return known;
  const rangeHigh = attributes['rangeHigh'];
  return typeof rangeHigh === 'number' && rangeHigh > 0 ? rangeHigh / 100 : 1;
}

function toxicGas(random: Random, attributes: RegisteredDevice['attributes']): ValueGenerator {
  const background = toxicBackgroundPpm(attributes);
  const level = new MeanReverting(random, background * 0.4, background * 0.2, 600);
  return {
    next: dt => ({
      ppm: roundTo(
        clamp(level.next(dt) + background * 0.05 * random.normal(), -0.1 * background, background),
        2,
      ),
    }),
  };
}

/** Normal air is 20.9 %VOL oxygen; a healthy cell reads it to ±0.1 at 0.1 %VOL resolution. */
export const OXYGEN_NORMAL_PCT: readonly [number, number] = [20.8, 21.0];

function oxygen(random: Random): ValueGenerator {
  const level = new MeanReverting(random, 20.9, 0.04, 900);
  return {
    next: dt => ({
      o2: roundTo(clamp(level.next(dt) + 0.02 * random.normal(), ...OXYGEN_NORMAL_PCT), 1),
    }),
  };
}

/**
 * A healthy feeder: residual current from cable insulation leakage of 80–180 mA (well below
 * the usual 300 mA alarm setting), cabinet 25–45 °C, and an arc half-cycle now and then.
 */
export const ELECTRICAL_BASELINE = {
  leakMa: [80, 180] as const,
  tempC: [25, 45] as const,
  arcChancePerReading: 0.003,
};

function electricalFire(random: Random): ValueGenerator {
  const leak = new MeanReverting(random, random.uniform(100, 160), 12, 1800);
  const temp = new MeanReverting(random, random.uniform(29, 38), 2, 900);
  return {
    next: dt => ({
      leak_ma: roundTo(clamp(leak.next(dt) + random.normal(), ...ELECTRICAL_BASELINE.leakMa), 0),
      temp_c: roundTo(
        clamp(temp.next(dt) + 0.1 * random.normal(), ...ELECTRICAL_BASELINE.tempC),
        1,
      ),
      arc: random.chance(ELECTRICAL_BASELINE.arcChancePerReading) ? random.int(1, 2) : 0,
    }),
  };
}

/** Operating conditions by stored substance; anything else is an atmospheric tank at 20 °C. */
export const TANK_CONDITIONS: Readonly<Record<string, { pressureKpa: number; tempC: number }>> = {
  methanol: { pressureKpa: 102, tempC: 20 },
  // Liquefied under its own vapour pressure: about 857 kPa (absolute) at 20 °C.
  ammonia: { pressureKpa: 850, tempC: 18 },
  hydrogen: { pressureKpa: 2000, tempC: 80 },
};

export const TANK_LEVEL_PCT: readonly [number, number] = [40, 80];

type TankPhase = 'idle' | 'filling' | 'emptying';

function tank(random: Random, attributes: RegisteredDevice['attributes']): ValueGenerator {
  const substance = attributes['substance'];
  const conditions = (typeof substance === 'string' ? TANK_CONDITIONS[substance] : undefined) ?? {
    pressureKpa: 101.3,
    tempC: 20,
  };
  const capacity = attributes['design_max_t'] ?? attributes['capacityT'];
  // Tonnes taken as cubic metres: density near 1 is close enough for a level that moves.
  const volumeM3 = typeof capacity === 'number' && capacity > 0 ? capacity : 500;
  const temp = new MeanReverting(random, conditions.tempC + random.uniform(-2, 2), 1, 3600);
  const pressure = new MeanReverting(
    random,
    conditions.pressureKpa,
    conditions.pressureKpa * 0.01,
    900,
  );
  let level = random.uniform(45, 75);
  let phase: TankPhase = 'idle';
  let phaseLeftSeconds = random.uniform(0, 1200);
  let transferM3h = 0;

  const nextPhase = (): void => {
    const [low, high] = TANK_LEVEL_PCT;
    if (phase !== 'idle') phase = 'idle';
    else if (level < low + 10) phase = 'filling';
    else if (level > high - 10) phase = 'emptying';
    else phase = random.chance(0.5) ? 'filling' : 'emptying';
    phaseLeftSeconds = random.uniform(600, 1800);
    // A transfer moves 5–15 % of the tank an hour.
    transferM3h = phase === 'idle' ? 0 : volumeM3 * random.uniform(0.05, 0.15);
  };

  return {
    next: dt => {
      phaseLeftSeconds -= dt;
      const direction = phase === 'filling' ? 1 : phase === 'emptying' ? -1 : 0;
      level += (direction * transferM3h * (dt / 3600) * 100) / volumeM3;
      const [low, high] = TANK_LEVEL_PCT;
      if (level >= high || level <= low || phaseLeftSeconds <= 0) {
        level = clamp(level, low, high);
        nextPhase();
      }
      const flow = transferM3h > 0 ? Math.max(0, transferM3h * (1 + 0.01 * random.normal())) : 0;
      return {
        level_pct: roundTo(clamp(level + 0.05 * random.normal(), low, high), 1),
        temp_c: roundTo(temp.next(dt) + 0.05 * random.normal(), 1),
        pressure_kpa: roundTo(pressure.next(dt), 1),
        flow_m3h: roundTo(flow, 2),
      };
    },
  };
}

/** Walking pace of a person on a plant, m/s. */
export const TAG_WALKING_SPEED = 1;
export const TAG_START_BATTERY_PCT = 95;

/**
 * A person with a positioning tag: walks at about 1 m/s between the centroids of areas that are not
 * restricted (where the work is), lingers there a while, and never leaves the site frame. The battery drains slowly.
 */
export class TagWalker implements ValueGenerator {
  private readonly waypoints: readonly Point[];
  private x: number;
  private y: number;
  private target: Point;
  private lingerSeconds: number;
  private battery: number;
  private readonly drainPerSecond: number;

  constructor(
    private readonly random: Random,
    private readonly site: SiteLayout,
  ) {
    // People go where the work is, but not into restricted areas (confined spaces need a permit):
    // a background walker must not trip intrusion or man-down rules by itself.
    const open = site.areas.filter(area => area.kind !== 'restricted');
    this.waypoints = (open.length > 0 ? open : site.areas).map(area =>
      polygonCentroid(area.polygon),
    );
    const start = this.pickWaypoint();
    this.x = clamp(start[0] + random.uniform(-5, 5), 0, site.frame.width);
    this.y = clamp(start[1] + random.uniform(-5, 5), 0, site.frame.height);
    this.target = this.pickWaypoint();
    this.lingerSeconds = random.uniform(0, 60);
    this.battery = TAG_START_BATTERY_PCT + random.uniform(-3, 3);
    // About 0.5 %/h: a tag lasts a week or so between charges.
    this.drainPerSecond = random.uniform(0.4, 0.6) / 3600;
  }

  next(dtSeconds: number): TelemetryValues {
    const dt = Math.max(0, dtSeconds);
    let walk = TAG_WALKING_SPEED * dt;
    if (this.lingerSeconds > 0) {
      const lingered = Math.min(this.lingerSeconds, dt);
      this.lingerSeconds -= lingered;
      walk = TAG_WALKING_SPEED * (dt - lingered);
      if (this.lingerSeconds <= 0) this.target = this.pickWaypoint();
    }
    if (walk > 0) {
      const dx = this.target[0] - this.x;
      const dy = this.target[1] - this.y;
      const remaining = Math.hypot(dx, dy);
      if (remaining <= walk) {
        [this.x, this.y] = this.target;
        this.lingerSeconds = this.random.uniform(10, 120);
      } else {
        // Sideways wobble keeps the path from being a ruler line without changing the pace much.
        const wobble = 0.1 * walk * this.random.normal();
        this.x += (dx / remaining) * walk - (dy / remaining) * wobble;
        this.y += (dy / remaining) * walk + (dx / remaining) * wobble;
      }
    }
    this.x = clamp(this.x, 0, this.site.frame.width);
    this.y = clamp(this.y, 0, this.site.frame.height);
    this.battery = Math.max(0, this.battery - this.drainPerSecond * dt);
    return {
      x: roundTo(this.x, 1),
      y: roundTo(this.y, 1),
      floor: 0,
      battery_pct: roundTo(this.battery, 1),
      still: false,
    };
  }

  private pickWaypoint(): Point {
    if (this.waypoints.length > 0) return this.random.pick(this.waypoints);
    const { width, height } = this.site.frame;
    return [this.random.uniform(0, width), this.random.uniform(0, height)];
  }
}
