import { LoginLimiter, type LoginLimits, type LoginPermit } from './login-limiter';

const LIMITS: LoginLimits = {
  attemptsPerAddress: 4,
  addressWindowMs: 60_000,
  failuresPerUser: 3,
  userLockMs: 120_000,
  maxConcurrent: 2,
  maxQueued: 2,
  maxTracked: 100,
};

function setup() {
  let now = 1_000_000;
  const limiter = new LoginLimiter(() => now, LIMITS);
  return {
    limiter,
    advance: (ms: number) => (now += ms),
    async attempt(address: string, user: string, success: boolean) {
      const admitted = limiter.admit(address, user);
      if (!(admitted instanceof Promise)) return admitted.reason;
      (await admitted).done(success);
      return success ? 'ok' : 'failed';
    },
  };
}

describe('LoginLimiter', () => {
  it('locks a user name after repeated failures, whatever the address, and unlocks after the lock', async () => {
    const { attempt, advance, limiter } = setup();
    expect(await attempt('a1', 'op1', false)).toBe('failed');
    expect(await attempt('a2', 'op1', false)).toBe('failed');
    expect(await attempt('a3', 'op1', false)).toBe('failed');
    expect(limiter.lockedUntil('op1')).toBeDefined();
    expect(await attempt('a4', 'op1', true)).toBe('user-locked');
    advance(120_001);
    expect(await attempt('a4', 'op1', true)).toBe('ok');
  });

  it('a success resets the user failure count', async () => {
    const { attempt } = setup();
    await attempt('a1', 'op1', false);
    await attempt('a1', 'op1', false);
    expect(await attempt('a1', 'op1', true)).toBe('ok');
    await attempt('a2', 'op1', false);
    await attempt('a2', 'op1', false);
    expect(await attempt('a2', 'op1', true)).toBe('ok');
  });

  it('limits attempts per address in a sliding window; successes are refunded', async () => {
    const { attempt, advance } = setup();
    for (let i = 0; i < 10; i += 1) expect(await attempt('a1', `u${i % 2}`, true)).toBe('ok');
    for (let i = 0; i < 4; i += 1) expect(await attempt('a1', `x${i}`, false)).toBe('failed');
    expect(await attempt('a1', 'y', true)).toBe('address-limited');
    expect(await attempt('a2', 'y', true)).toBe('ok');
    advance(60_001);
    expect(await attempt('a1', 'y', true)).toBe('ok');
  });

  it('runs at most maxConcurrent checks, queues maxQueued, refuses the rest at once', async () => {
    const { limiter } = setup();
    const admitted = Array.from({ length: 6 }, (_, i) => limiter.admit(`addr${i}`, `user${i}`));
    const refused = admitted.filter(a => !(a instanceof Promise));
    expect(refused.map(r => (r as { reason: string }).reason)).toEqual(['busy', 'busy']);
    expect(limiter.checksInFlight).toBe(2);
    const permits = admitted.filter((a): a is Promise<LoginPermit> => a instanceof Promise);
    const [first, second] = await Promise.all(permits.slice(0, 2));
    let thirdStarted = false;
    void permits[2]?.then(() => (thirdStarted = true));
    await Promise.resolve();
    expect(thirdStarted).toBe(false);
    first?.done(false);
    await new Promise(resolve => setImmediate(resolve));
    expect(thirdStarted).toBe(true);
    expect(limiter.checksInFlight).toBe(2);
    second?.done(false);
    for (const permit of await Promise.all(permits.slice(2))) permit.done(false);
    expect(limiter.checksInFlight).toBe(0);
  });

  it('keeps at most maxTracked names and addresses', async () => {
    const { attempt, limiter } = setup();
    for (let i = 0; i < 300; i += 1) await attempt(`addr${i}`, `user${i}`, false);
    const internals = limiter as unknown as {
      attempts: Map<string, unknown>;
      users: Map<string, unknown>;
    };
    expect(internals.attempts.size).toBeLessThanOrEqual(100);
    expect(internals.users.size).toBeLessThanOrEqual(100);
  });
});
