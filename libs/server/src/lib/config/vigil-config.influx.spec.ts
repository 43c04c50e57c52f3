import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { InfluxV1Store, InfluxV2Store, InfluxV3Store } from '@vigil/storage';

import { telemetryStoreFor } from '../storage/telemetry-store.provider';
import { ConfigError, loadConfig } from './vigil-config';

describe('InfluxDB credentials in the configuration (issue 13)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-config-'));
    await writeFile(join(dir, 'password'), 's3cret\n');
    await writeFile(join(dir, 'token'), 'tok-en\n');
    await writeFile(join(dir, 'empty'), '');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  function problems(env: Record<string, string>): readonly string[] {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  it('reads user, password and token from variables', () => {
    const { influx } = loadConfig({
      VIGIL_INFLUX_USERNAME: 'vigil',
      VIGIL_INFLUX_PASSWORD: 'pw',
      VIGIL_INFLUX_TOKEN: 'tk',
      VIGIL_INFLUX_MANAGE_SCHEMA: 'false',
    });
    expect(influx).toMatchObject({
      username: 'vigil',
      password: 'pw',
      token: 'tk',
      manageSchema: false,
      trendRetention: '365d',
    });
  });

  it('reads secrets from files, without the trailing newline', () => {
    const { influx } = loadConfig({
      VIGIL_INFLUX_USERNAME: 'vigil',
      VIGIL_INFLUX_PASSWORD_FILE: join(dir, 'password'),
      VIGIL_INFLUX_TOKEN_FILE: join(dir, 'token'),
    });
    expect(influx).toMatchObject({ password: 's3cret', token: 'tok-en', manageSchema: true });
  });

  it('lists every credential problem', () => {
    expect(
      problems({
        VIGIL_INFLUX_PASSWORD: 'a',
        VIGIL_INFLUX_PASSWORD_FILE: join(dir, 'password'),
        VIGIL_INFLUX_TOKEN_FILE: join(dir, 'missing'),
      }),
    ).toEqual([
      'VIGIL_INFLUX_PASSWORD: set either VIGIL_INFLUX_PASSWORD or VIGIL_INFLUX_PASSWORD_FILE, not both',
      expect.stringMatching(/^VIGIL_INFLUX_TOKEN_FILE: cannot read .*missing/),
    ]);
    expect(problems({ VIGIL_INFLUX_USERNAME: 'u' })).toEqual([
      'VIGIL_INFLUX_USERNAME: set VIGIL_INFLUX_PASSWORD or VIGIL_INFLUX_PASSWORD_FILE',
    ]);
    expect(problems({ VIGIL_INFLUX_PASSWORD: 'p' })).toEqual([
      'VIGIL_INFLUX_PASSWORD: set VIGIL_INFLUX_USERNAME too',
    ]);
    expect(
      problems({ VIGIL_INFLUX_USERNAME: 'u', VIGIL_INFLUX_PASSWORD_FILE: join(dir, 'empty') }),
    ).toEqual([
      expect.stringMatching(/VIGIL_INFLUX_PASSWORD_FILE: .* is empty/),
      'VIGIL_INFLUX_USERNAME: set VIGIL_INFLUX_PASSWORD or VIGIL_INFLUX_PASSWORD_FILE',
    ]);
  });

  it('selects the 2.x client with VIGIL_INFLUX_API=v2, which needs a token and an organisation', () => {
    expect(problems({ VIGIL_INFLUX_API: 'v2' })).toEqual([
      'VIGIL_INFLUX_TOKEN: required with VIGIL_INFLUX_API=v2 (or VIGIL_INFLUX_TOKEN_FILE)',
      'VIGIL_INFLUX_ORG: required with VIGIL_INFLUX_API=v2',
    ]);
    const v2 = loadConfig({
      VIGIL_INFLUX_API: 'v2',
      VIGIL_INFLUX_TOKEN: 't',
      VIGIL_INFLUX_ORG: 'o',
    });
    expect(telemetryStoreFor(v2)).toBeInstanceOf(InfluxV2Store);
    expect(telemetryStoreFor(loadConfig({}))).toBeInstanceOf(InfluxV1Store);
  });

  it('selects the 3.x client with VIGIL_INFLUX_API=v3, which needs a token (no organisation)', () => {
    expect(problems({ VIGIL_INFLUX_API: 'v3' })).toEqual([
      'VIGIL_INFLUX_TOKEN: required with VIGIL_INFLUX_API=v3 (or VIGIL_INFLUX_TOKEN_FILE)',
      'VIGIL_INFLUX_API: v3 needs VIGIL_INFLUX_MODE=external (Vigil can only start an influxd 1.x)',
    ]);
    expect(
      problems({ VIGIL_INFLUX_API: 'v3', VIGIL_INFLUX_MODE: 'external', VIGIL_INFLUX_TOKEN: 't' }),
    ).toEqual([]);
    const v3 = telemetryStoreFor(
      loadConfig({
        VIGIL_INFLUX_API: 'v3',
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_INFLUX_TOKEN_FILE: join(dir, 'token'),
        VIGIL_INFLUX_DB: 'plant',
      }),
    );
    expect(v3).toBeInstanceOf(InfluxV3Store);
    expect((v3 as InfluxV3Store).databases).toEqual({ raw: 'plant/raw', events: 'plant/events' });
    expect(v3?.schemaNotice).toMatch(/InfluxDB 3\.x: Vigil sends no DDL/);
    expect(problems({ VIGIL_INFLUX_API: 'v4' })).toEqual([
      expect.stringMatching(/^VIGIL_INFLUX_API: /),
    ]);
  });
});
