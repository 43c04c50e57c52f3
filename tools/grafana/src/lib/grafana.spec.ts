import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

import { vigilMetricNames } from '@vigil/server';

import { grafanaFiles } from './generate';
import { influxqlProblems, lintGrafana } from './lint';

const DEPLOY_GRAFANA = join(__dirname, '../../../../deploy/grafana');

function committedFiles(
  dir = DEPLOY_GRAFANA,
  files = new Map<string, string>(),
): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) committedFiles(path, files);
    else files.set(relative(DEPLOY_GRAFANA, path), readFileSync(path, 'utf8'));
  }
  return files;
}

describe('deploy/grafana', () => {
  it('is exactly what `npm run grafana` generates (regenerate and commit after changing tools/grafana)', () => {
    const generated = grafanaFiles();
    const committed = committedFiles();
    expect([...committed.keys()].sort()).toEqual([...generated.keys()].sort());
    for (const [path, text] of generated)
      expect({ path, text: committed.get(path) }).toEqual({ path, text });
  });

  it('generates the same bytes every time', () => {
    expect([...grafanaFiles()]).toEqual([...grafanaFiles()]);
  });

  it('has four dashboards: site overview, tanks and grade, alarm KPIs, self-monitoring', () => {
    const titles = [...grafanaFiles()]
      .filter(([path]) => path.startsWith('dashboards/'))
      .map(([, text]) => (JSON.parse(text) as { uid: string }).uid)
      .sort();
    expect(titles).toEqual([
      'vigil-alarm-kpis',
      'vigil-self',
      'vigil-site-overview',
      'vigil-tanks',
    ]);
  });

  it('passes the lint: datasources provisioned, InfluxQL on the storage schema, PromQL on Vigil metrics, unique ids, valid grid', async () => {
    const metricNames = new Set(await vigilMetricNames());
    expect(lintGrafana(committedFiles(), { metricNames })).toEqual([]);
  });
});

describe(lintGrafana.name, () => {
  const metricNames = new Set(['vigil_ingest_readings_total']);
  const files = (
    panels: unknown[],
    datasources = 'datasources:\n  - { uid: ds-i, type: influxdb }\n  - { uid: ds-p, type: prometheus }\n',
  ) =>
    new Map([
      ['provisioning/datasources/vigil.yaml', datasources],
      ['provisioning/dashboards/vigil.yaml', 'providers: []\n'],
      ['dashboards/d.json', JSON.stringify({ uid: 'd', panels })],
    ]);
  const prom = (id: number, expr: string, x = 0, y = 0, uid = 'ds-p') => ({
    id,
    type: 'timeseries',
    title: `p${id}`,
    gridPos: { x, y, w: 12, h: 8 },
    datasource: { type: 'prometheus', uid },
    targets: [{ refId: 'A', datasource: { type: 'prometheus', uid }, expr }],
  });

  it('accepts a good dashboard', () => {
    expect(
      lintGrafana(files([prom(1, 'rate(vigil_ingest_readings_total[5m])')]), { metricNames }),
    ).toEqual([]);
  });

  it('finds an unknown metric, a missing datasource, a reused id and overlapping or off-grid panels', () => {
    const problems = lintGrafana(
      files([
        prom(1, 'rate(vigil_persister_lines[5m])'),
        prom(1, 'vigil_ingest_readings_total', 6, 0, 'nowhere'),
        { ...prom(3, 'vigil_ingest_readings_total'), gridPos: { x: 20, y: 20, w: 12, h: 8 } },
      ]),
      { metricNames },
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('vigil_persister_lines is not a Vigil metric'),
        expect.stringContaining('datasource nowhere is not provisioned'),
        expect.stringContaining('id used twice'),
        expect.stringContaining('overlaps "p1"'),
        expect.stringContaining('not on the 24-column grid'),
      ]),
    );
  });
});

describe(influxqlProblems.name, () => {
  it('accepts the schema: measurements in their retention policy, tags, fields and class metrics', () => {
    expect(
      influxqlProblems(
        `SELECT max("lel"), last("temp_c_2") AS "t" FROM "raw"."telemetry" WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY time($__interval), "device", "t"`,
      ),
    ).toEqual([]);
    expect(
      influxqlProblems(
        `SELECT "level"::tag, "value" FROM "events"."alarm_event" WHERE $timeFilter`,
      ),
    ).toEqual([]);
  });

  it('names an unknown measurement, a wrong retention policy, unknown columns and an unbounded SELECT', () => {
    expect(influxqlProblems(`SELECT "x" FROM "raw"."telemetri" WHERE $timeFilter`)).toEqual([
      'unknown measurement "telemetri"',
    ]);
    expect(influxqlProblems(`SELECT "value" FROM "raw"."alarm_event" WHERE $timeFilter`)).toEqual([
      '"alarm_event" is written to "events", not "raw"',
    ]);
    expect(
      influxqlProblems(
        `SELECT max("lell") FROM "raw"."telemetry" WHERE "zone" = 'a' AND $timeFilter`,
      ),
    ).toEqual([
      '"lell" is not a tag or field of telemetry',
      '"zone" is not a tag or field of telemetry',
    ]);
    expect(influxqlProblems(`SELECT "seq"::tag FROM "raw"."telemetry"`)).toEqual([
      '"seq"::tag is not a tag of telemetry',
      'a SELECT without $timeFilter reads all history: SELECT "seq"::tag FROM "raw"."telemetry"',
    ]);
  });
});
