import { ManualClock } from './clock';
import { MeanReverting, Random, clamp, hashString, roundTo } from './random';

describe(Random.name, () => {
  it('replays the same sequence for the same seed and key', () => {
    const draw = (random: Random) => Array.from({ length: 20 }, () => random.next());
    expect(draw(Random.forKey(7, 'plant-1/gc-tf-01'))).toEqual(
      draw(Random.forKey(7, 'plant-1/gc-tf-01')),
    );
    expect(draw(Random.forKey(7, 'plant-1/gc-tf-01'))).not.toEqual(
      draw(Random.forKey(8, 'plant-1/gc-tf-01')),
    );
    expect(draw(Random.forKey(7, 'plant-1/gc-tf-01'))).not.toEqual(
      draw(Random.forKey(7, 'plant-1/gc-tf-02')),
    );
  });

  it('draws uniform numbers in range with a plausible mean, and normals with unit spread', () => {
    const random = new Random(42);
    const uniforms = Array.from({ length: 10_000 }, () => random.uniform(2, 4));
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...uniforms)).toBeLessThan(4);
    expect(uniforms.reduce((a, b) => a + b, 0) / uniforms.length).toBeCloseTo(3, 1);
    const normals = Array.from({ length: 10_000 }, () => random.normal());
    const mean = normals.reduce((a, b) => a + b, 0) / normals.length;
    const variance = normals.reduce((a, b) => a + (b - mean) ** 2, 0) / normals.length;
    expect(mean).toBeCloseTo(0, 1);
    expect(Math.sqrt(variance)).toBeCloseTo(1, 1);
    const ints = new Set(Array.from({ length: 1000 }, () => random.int(1, 3)));
    expect([...ints].sort()).toEqual([1, 2, 3]);
  });

  it('refuses to pick from an empty list', () => {
    expect(() => new Random(1).pick([])).toThrow('empty');
  });

  it('hashes similar keys far apart', () => {
    expect(hashString('a')).not.toBe(hashString('b'));
    expect(hashString('device-1')).toBe(hashString('device-1'));
  });
});

describe(MeanReverting.name, () => {
  it('wanders around its mean with the configured spread, for small and large steps alike', () => {
    for (const dt of [1, 30, 3600]) {
      const process = new MeanReverting(new Random(3), 100, 5, 20);
      const samples = Array.from({ length: 5000 }, () => process.next(dt));
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
      expect(Math.abs(mean - 100)).toBeLessThan(1.5);
      expect(sd).toBeGreaterThan(4);
      expect(sd).toBeLessThan(6);
    }
  });
});

describe('helpers', () => {
  it('clamps and rounds without negative zero', () => {
    expect(clamp(5, 0, 3)).toBe(3);
    expect(clamp(-5, 0, 3)).toBe(0);
    expect(roundTo(1.26, 1)).toBe(1.3);
    expect(Object.is(roundTo(-0.01, 1), 0)).toBe(true);
  });
});

describe(ManualClock.name, () => {
  it('fires timers in due order, including ones set while advancing', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cancelled);
    clock.advance(100);
    expect(fired).toEqual(['a@10', 'c@15', 'b@20']);
    expect(clock.now()).toBe(100);
    expect(clock.pending).toBe(0);
  });
});
