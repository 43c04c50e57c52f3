import { findBinary, hasBinary, requireBinary } from './binaries';
import { freePort } from './free-port';
import { WaitForTimeoutError, waitFor } from './wait-for';

describe(waitFor.name, () => {
  it('returns the first truthy value of the probe', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), {
      what: 'three calls',
      intervalMs: 1,
    });
    expect(value).toEqual({ calls: 3 });
  });

  it('names what it waited for and the last error on timeout', async () => {
    const probe = async (): Promise<boolean> => {
      throw new Error('connection refused');
    };
    const failure = waitFor(probe, { what: 'the widget to answer', timeoutMs: 30, intervalMs: 5 });
    await expect(failure).rejects.toBeInstanceOf(WaitForTimeoutError);
    await expect(failure).rejects.toThrow(
      /timed out after 30 ms \(\d+ attempts\) waiting for the widget to answer; last error: connection refused/,
    );
  });
});

describe('binaries and ports', () => {
  it('finds installed binaries, including those in /usr/sbin', () => {
    expect(hasBinary('node')).toBe(true);
    expect(findBinary('mosquitto')).toMatch(/\/mosquitto$/);
    expect(hasBinary('no-such-binary-vigil')).toBe(false);
    expect(() => requireBinary('no-such-binary-vigil', 'vigil-pkg')).toThrow(
      /apt-get install -y vigil-pkg/,
    );
  });

  it('hands out unprivileged loopback ports', async () => {
    const [a, b] = await Promise.all([freePort(), freePort()]);
    expect(a).toBeGreaterThan(1024);
    expect(b).toBeGreaterThan(1024);
  });
});
