import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from './vigil-config';

const CODE = '91310000MA1K4XY83B';
const TOKEN = 'a-link-token-of-at-least-thirty-two-characters';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('uplink configuration (issue 15)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-uplink-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is off by default', () => {
    expect(loadConfig({}).uplink).toEqual({ lower: undefined, links: [] });
  });

  it('takes a lower side with an https URL, a token and an enterprise code', () => {
    const config = loadConfig({
      VIGIL_UPLINK_URL: 'https://city.example:8443/',
      VIGIL_UPLINK_TOKEN: TOKEN,
      VIGIL_UPLINK_ENTERPRISE_CODE: CODE,
    });
    expect(config.uplink.lower).toMatchObject({
      url: 'https://city.example:8443',
      token: TOKEN,
      enterpriseCode: CODE,
      outboxMax: 200_000,
      batch: 500,
      sampleMs: 60_000,
    });
  });

  it('refuses, all at once, a URL without a token or code, and plain http to another machine', () => {
    expect(
      problemsOf({ VIGIL_UPLINK_URL: 'http://city.example', VIGIL_SERVICES: 'rules' }),
    ).toEqual([
      expect.stringMatching(/^VIGIL_UPLINK_TOKEN: required with VIGIL_UPLINK_URL/),
      expect.stringMatching(/^VIGIL_UPLINK_ENTERPRISE_CODE: required/),
      expect.stringMatching(/^VIGIL_UPLINK_URL: plain http:\/\/ to city\.example/),
      expect.stringMatching(/^VIGIL_UPLINK_URL: the uplink runs with the gateway/),
    ]);
    expect(
      problemsOf({
        VIGIL_UPLINK_URL: 'https://city.example',
        VIGIL_UPLINK_TOKEN: 'short',
        VIGIL_UPLINK_ENTERPRISE_CODE: 'ABC',
      }),
    ).toEqual([expect.stringMatching(/^VIGIL_UPLINK_ENTERPRISE_CODE: not a 统一社会信用代码/)]);
    expect(
      problemsOf({
        VIGIL_UPLINK_URL: 'https://city.example',
        VIGIL_UPLINK_TOKEN: 'short',
        VIGIL_UPLINK_ENTERPRISE_CODE: CODE,
      }),
    ).toEqual(['VIGIL_UPLINK_TOKEN: at least 32 characters (a random link token)']);
    expect(problemsOf({ VIGIL_UPLINK_TOKEN: TOKEN })).toEqual([
      expect.stringMatching(/^VIGIL_UPLINK_URL: .* no uplink URL/),
    ]);
  });

  it('allows plain http to loopback, or elsewhere only when told', () => {
    const lower = { VIGIL_UPLINK_TOKEN: TOKEN, VIGIL_UPLINK_ENTERPRISE_CODE: CODE };
    expect(problemsOf({ ...lower, VIGIL_UPLINK_URL: 'http://127.0.0.1:8080' })).toEqual([]);
    expect(
      problemsOf({
        ...lower,
        VIGIL_UPLINK_URL: 'http://10.0.0.5:8080',
        VIGIL_UPLINK_ALLOW_HTTP: 'true',
      }),
    ).toEqual([]);
  });

  it('reads the upper side links file, refusing a bad one with every problem', () => {
    const file = join(dir, 'links.json');
    const digest = createHash('sha256').update(TOKEN).digest('hex');
    writeFileSync(
      file,
      JSON.stringify({
        links: [{ enterpriseCode: CODE, name: 'Huaxin', node: 'park-chem', tokenSha256: digest }],
      }),
    );
    expect(loadConfig({ VIGIL_UPLINK_LINKS: file }).uplink.links).toEqual([
      { enterpriseCode: CODE, name: 'Huaxin', node: 'park-chem', tokenSha256: digest },
    ]);
    writeFileSync(
      file,
      JSON.stringify({
        links: [
          { enterpriseCode: CODE, name: 'a', node: 'p', tokenSha256: digest },
          { enterpriseCode: CODE, name: 'b', node: 'p', tokenSha256: digest },
          { enterpriseCode: CODE, name: 'c', node: 'p', tokenSha256: TOKEN },
        ],
      }),
    );
    expect(problemsOf({ VIGIL_UPLINK_LINKS: file })).toEqual([
      'VIGIL_UPLINK_LINKS: links.2.tokenSha256: the sha256 of the token, 64 hex digits',
    ]);
    writeFileSync(
      file,
      JSON.stringify({
        links: [
          { enterpriseCode: CODE, name: 'a', node: 'p', tokenSha256: digest },
          { enterpriseCode: CODE, name: 'b', node: 'p', tokenSha256: digest },
        ],
      }),
    );
    expect(problemsOf({ VIGIL_UPLINK_LINKS: file })).toEqual([
      `VIGIL_UPLINK_LINKS: enterprise ${CODE} is listed twice`,
      'VIGIL_UPLINK_LINKS: two links share a token; each link has its own',
    ]);
    expect(problemsOf({ VIGIL_UPLINK_LINKS: join(dir, 'missing.json') })).toEqual([
      expect.stringMatching(/^VIGIL_UPLINK_LINKS: .*missing\.json: ENOENT/),
    ]);
  });
});
