import { ConfigError, loadConfig } from '../config/vigil-config';

describe('canary configuration', () => {
  it('defaults to a canary every 2 s, stalled after 6 s', () => {
    expect(loadConfig({}).canary).toEqual({ intervalMs: 2000, timeoutMs: 6000 });
  });

  it('accepts 0 (off, warned about loudly at start) and refuses a timeout under two intervals', () => {
    expect(loadConfig({ VIGIL_CANARY_INTERVAL_MS: '0' }).canary.intervalMs).toBe(0);
    expect(() =>
      loadConfig({ VIGIL_CANARY_INTERVAL_MS: '5000', VIGIL_CANARY_TIMEOUT_MS: '6000' }),
    ).toThrow(ConfigError);
    // Every problem listed.
    expect(() =>
      loadConfig({ VIGIL_CANARY_INTERVAL_MS: '-1', VIGIL_CANARY_TIMEOUT_MS: '10' }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^VIGIL_CANARY_INTERVAL_MS/),
          expect.stringMatching(/^VIGIL_CANARY_TIMEOUT_MS/),
        ],
      }),
    );
  });
});
