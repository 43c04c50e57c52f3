import { hashPassword, passwordProblems, verifyPassword, verifyPasswordAsync } from './passwords';

describe('passwords', () => {
  const hash = hashPassword('correct horse battery');

  it('verifies off the event loop with the same answer as the synchronous check', async () => {
    await expect(verifyPasswordAsync('correct horse battery', hash)).resolves.toBe(true);
    await expect(verifyPasswordAsync('wrong', hash)).resolves.toBe(false);
    expect(verifyPassword('correct horse battery', hash)).toBe(true);
  });

  it('refuses malformed or absurdly expensive hashes instead of running them', async () => {
    await expect(verifyPasswordAsync('x', 'scrypt$1048576$8$1$c2FsdA$aGFzaA')).resolves.toBe(false);
    await expect(verifyPasswordAsync('x', 'bcrypt$whatever')).resolves.toBe(false);
    await expect(verifyPasswordAsync('x', 'scrypt$16384$8$1$c2FsdA$')).resolves.toBe(false);
  });

  it('keeps the event loop free while many checks run', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 5);
    await Promise.all(Array.from({ length: 8 }, () => verifyPasswordAsync('wrong', hash)));
    clearInterval(timer);
    // Eight synchronous checks would have blocked every tick; off the loop, the timer kept firing.
    expect(ticks).toBeGreaterThan(0);
  });

  it('has a password policy for new passwords', () => {
    expect(passwordProblems('short')).toContain('at least 12 characters');
    expect(passwordProblems('aaaaaaaaaaaaaaa')).toContain('at least 5 different characters');
    expect(passwordProblems('my-vigil-demo-pass')).toContain('not the demo password');
    expect(passwordProblems('operator-zhang-2026', 'zhang')).toContain(
      'must not contain the user id',
    );
    expect(passwordProblems('correct horse battery staple')).toEqual([]);
  });
});
