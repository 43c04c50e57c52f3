// The notifications overlay is never started in CI (no Docker engine): hold it to the code instead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { vigilEnvSchema } from '@vigil/server';

const overlay = parse(
  readFileSync(join(__dirname, 'compose', 'alertmanager.compose.yml'), 'utf8'),
) as {
  services: Record<
    string,
    {
      image?: string;
      cap_drop?: string[];
      security_opt?: string[];
      read_only?: boolean;
      command?: string[];
      healthcheck?: unknown;
      environment?: Record<string, string>;
      secrets?: string[];
    }
  >;
  secrets: Record<string, unknown>;
  volumes: Record<string, unknown>;
};

describe('deploy/compose/alertmanager.compose.yml', () => {
  const alertmanager = overlay.services['alertmanager'];
  const gateway = overlay.services['gateway'];

  it('runs a pinned, hardened, health-checked Alertmanager without clustering', () => {
    expect(alertmanager?.image).toMatch(/^prom\/alertmanager:v\d+\.\d+\.\d+$/);
    expect(alertmanager?.cap_drop).toEqual(['ALL']);
    expect(alertmanager?.security_opt).toEqual(['no-new-privileges:true']);
    expect(alertmanager?.read_only).toBe(true);
    expect(alertmanager?.healthcheck).toBeDefined();
    expect(alertmanager?.command).toContain('--cluster.listen-address=');
  });

  it('gives the gateway only variables the code reads, and the secrets it names', () => {
    const read = Object.keys(vigilEnvSchema.shape);
    for (const name of Object.keys(gateway?.environment ?? {})) expect(read).toContain(name);
    expect(gateway?.environment?.['VIGIL_NOTIFY_CONFIG']).toBe('/run/secrets/vigil_notify');
    for (const secret of [...(gateway?.secrets ?? []), ...(alertmanager?.secrets ?? [])])
      expect(Object.keys(overlay.secrets)).toContain(secret);
    expect(Object.keys(overlay.volumes)).toContain('alertmanager-data');
  });
});
