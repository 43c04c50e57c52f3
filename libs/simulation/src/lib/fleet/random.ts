/**
 * Small seeded pseudo-random source (mulberry32). Not for cryptography: it exists so that a run
 * can be replayed exactly from its seed.
 */
export class Random {
  private state: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /**
   * An independent stream for `key` under `seed`: a device's values do not change when other
   * devices are added to or removed from the fleet.
   */
  static forKey(seed: number, key: string): Random {
    return new Random(hashString(`${seed >>> 0}:${key}`));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer uniform in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Standard normal deviate (Box–Muller; the second deviate of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

/** 32-bit FNV-1a with a final avalanche (murmur3 fmix32), to spread similar keys apart. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Ornstein–Uhlenbeck process: a value that wanders but keeps returning to its mean, which is how
 * a healthy sensor's baseline drifts. Uses the exact discretisation, so it is stable for any step.
 */
export class MeanReverting {
  private current: number;

  constructor(
    private readonly random: Random,
    private readonly mean: number,
    /** Standard deviation of the wandering in the long run. */
    private readonly sd: number,
    /** How long a departure from the mean takes to fade to 1/e. */
    private readonly tauSeconds: number,
    initial?: number,
  ) {
    this.current = initial ?? mean + sd * random.normal();
  }

  get value(): number {
    return this.current;
  }

  next(dtSeconds: number): number {
    const decay = Math.exp(-Math.max(0, dtSeconds) / this.tauSeconds);
    this.current =
      this.mean +
      (this.current - this.mean) * decay +
      this.sd * Math.sqrt(1 - decay * decay) * this.random.normal();
    return this.current;
  }
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Rounds to a sensor's resolution; `+ 0` turns `-0` into `0` so payloads never say `-0`. */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor + 0;
}
