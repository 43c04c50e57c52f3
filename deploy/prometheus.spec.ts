// The Prometheus configuration and Vigil's alert rules, checked with Debian's promtool (package
// `prometheus`, installed by scripts/install-system-deps.sh test): the config and the rules are
// valid, every alert behaves as its unit tests say (tests/vigil.rules.test.yml), every alert has
// a test and a runbook entry, and every series they read is one that Vigil exposes. A real
// prometheus scraping a running Vigil: test/system/src/prometheus.system.spec.ts.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';
import { z } from 'zod';

import { vigilMetricNames } from '@vigil/server';
import { promqlMetricNames as metricNamesIn } from '@vigil/testing';

const PROMETHEUS_DIR = join(__dirname, 'prometheus');
const RULES_PATH = join(PROMETHEUS_DIR, 'rules', 'vigil.rules.yml');
const TESTS_PATH = join(PROMETHEUS_DIR, 'tests', 'vigil.rules.test.yml');
const OBSERVABILITY_DOC = resolve(__dirname, '..', 'docs', 'observability.md');
const PROMTOOL = process.env['VIGIL_PROMTOOL'] ?? '/usr/bin/promtool';

/**
 * Series that other features of Vigil add (the pipeline canary):
 * their alerts are written so that they stay silent while the series does not exist.
 */
const SERIES_OF_OPTIONAL_FEATURES = new Set(['vigil_canary_age_seconds']);
/** Series Prometheus itself makes for every target. */
const PROMETHEUS_SERIES = new Set(['up']);

const rulesSchema = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      rules: z.array(
        z.strictObject({
          alert: z.string(),
          expr: z.string(),
          for: z.string().optional(),
          labels: z.object({ severity: z.enum(['critical', 'warning']) }),
          annotations: z.looseObject({ summary: z.string(), runbook: z.string() }),
        }),
      ),
    }),
  ),
});
const rules = rulesSchema
  .parse(parse(readFileSync(RULES_PATH, 'utf8')))
  .groups.flatMap(group => group.rules);

function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise(done =>
    execFile(PROMTOOL, args, { cwd: PROMETHEUS_DIR }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  );
}

describe('deploy/prometheus', () => {
  it('prometheus.yml is a valid configuration, rules included (promtool check config)', async () => {
    const { code, output } = await promtool('check', 'config', 'prometheus.yml');
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    expect(output).toContain('rules/vigil.rules.yml');
  });

  it('the alert rules are valid (promtool check rules)', async () => {
    const { code, output } = await promtool('check', 'rules', RULES_PATH);
    expect({ code, output }).toEqual({
      code: 0,
      output: expect.stringContaining(`${rules.length} rules found`),
    });
  });

  it('every alert fires where it must and stays silent where it must not (promtool test rules)', async () => {
    const { code, output } = await promtool('test', 'rules', TESTS_PATH);
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('has a unit test that fires each alert', () => {
    const tests = z
      .object({
        tests: z.array(
          z.looseObject({
            alert_rule_test: z.array(
              z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()) }),
            ),
          }),
        ),
      })
      .parse(parse(readFileSync(TESTS_PATH, 'utf8')));
    const fired = new Set(
      tests.tests.flatMap(test =>
        test.alert_rule_test.filter(step => step.exp_alerts.length > 0).map(step => step.alertname),
      ),
    );
    expect(rules.map(rule => rule.alert).filter(name => !fired.has(name))).toEqual([]);
  });

  it('has unique alert names, each with a runbook entry in docs/observability.md', () => {
    const names = rules.map(rule => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    const doc = readFileSync(OBSERVABILITY_DOC, 'utf8');
    for (const rule of rules) {
      expect(rule.annotations.runbook).toBe(`docs/observability.md#${rule.alert.toLowerCase()}`);
      expect({
        alert: rule.alert,
        documented: new RegExp(`^#+ ${rule.alert}$`, 'm').test(doc),
      }).toEqual({
        alert: rule.alert,
        documented: true,
      });
    }
  });

  it('reads only series that Vigil exposes (or optional features add)', async () => {
    const exposed = new Set(await vigilMetricNames());
    const unknown = rules.flatMap(rule =>
      metricNamesIn(rule.expr)
        .filter(
          name =>
            !exposed.has(name) &&
            !PROMETHEUS_SERIES.has(name) &&
            !SERIES_OF_OPTIONAL_FEATURES.has(name),
        )
        .map(name => `${rule.alert}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // Every alert reads at least one series (the extraction works).
    for (const rule of rules) expect(metricNamesIn(rule.expr).length).toBeGreaterThan(0);
  });

  it('finds the metric names of a PromQL expression', () => {
    expect(
      metricNamesIn(
        'sum by (job, le) (rate(vigil_a_bucket{x="y"}[5m])) > 0.5 and vigil_b / vigil_c offset 5m',
      ),
    ).toEqual(['vigil_a_bucket', 'vigil_b', 'vigil_c']);
  });
});

describe('deploy/compose/monitoring.yml', () => {
  const COMPOSE_DIR = join(__dirname, 'compose');
  const overlay = parse(readFileSync(join(COMPOSE_DIR, 'monitoring.yml'), 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
  };
  const base = parse(readFileSync(join(COMPOSE_DIR, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, { environment?: Record<string, string> }> };
  const envNames = (file: string) =>
    new Set(
      readFileSync(join(__dirname, 'env', file), 'utf8')
        .split('\n')
        .map(line => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? '')
        .filter(name => name !== ''),
    );

  it.each(['prometheus', 'grafana'])(
    '%s is hardened, health-checked and mounts files that exist, read-only',
    name => {
      const service = overlay.services[name] ?? {};
      expect(service).toMatchObject({
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
        read_only: true,
        restart: 'unless-stopped',
      });
      expect(service['healthcheck']).toBeDefined();
      for (const volume of service['volumes'] as string[]) {
        const [source = '', , mode] = volume.split(':');
        if (!source.startsWith('.')) continue;
        expect({ source, exists: existsSync(resolve(COMPOSE_DIR, source)), mode }).toEqual({
          source,
          exists: true,
          mode: 'ro',
        });
      }
    },
  );

  it('uses only variables of deploy/env/.env.example and monitoring.env.example, and all of the latter', () => {
    const text = readFileSync(join(COMPOSE_DIR, 'monitoring.yml'), 'utf8').replace(
      /^\s*#.*$/gm,
      '',
    );
    const used = new Set(
      [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map(match => match[1] ?? ''),
    );
    const monitoring = envNames('monitoring.env.example');
    const main = envNames('.env.example');
    expect([...used].filter(name => !monitoring.has(name) && !main.has(name))).toEqual([]);
    expect([...monitoring].filter(name => !used.has(name))).toEqual([]);
  });

  it('scrapes every Vigil service of the stack at its VIGIL_HTTP_PORT', () => {
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs
      .find(job => job.job_name === 'vigil')
      ?.static_configs.flatMap(entry => entry.targets)
      .sort();
    const expected = ['gateway', 'ingest', 'persister', 'rules']
      .map(name => `${name}:${base.services[name]?.environment?.['VIGIL_HTTP_PORT']}`)
      .sort();
    expect(targets).toEqual(expected);
  });

  it("mounts the dashboards where Grafana's dashboard provisioning reads them", () => {
    const provider = parse(
      readFileSync(join(__dirname, 'grafana', 'provisioning', 'dashboards', 'vigil.yaml'), 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    const volumes = overlay.services['grafana']?.['volumes'] as string[];
    expect(volumes).toContain(`../grafana/dashboards:${provider.providers[0]?.options.path}:ro`);
  });
});
