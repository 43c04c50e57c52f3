import { parse } from 'yaml';

import { DEVICE_CLASS_DEFINITIONS } from '@vigil/contracts';
import { MEASUREMENT_COLUMNS, MEASUREMENT_RETENTION, RETENTION_POLICIES } from '@vigil/storage';
import { promqlMetricNames } from '@vigil/testing';

const GRID_COLUMNS = 24;

interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly gridPos?: GridPos;
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: readonly Record<string, unknown>[];
  readonly panels?: readonly Panel[];
}

interface DashboardJson {
  readonly uid?: string;
  readonly title?: string;
  readonly panels?: readonly Panel[];
  readonly templating?: { list?: readonly Record<string, unknown>[] };
}

export interface LintContext {
  /** Every series name Vigil exposes (`vigilMetricNames()` of @vigil/server). */
  readonly metricNames: ReadonlySet<string>;
}

/** Telemetry fields: `seq` and the metrics of every device class (channels `temp_c_1` … too). */
function telemetryFieldAllowed(field: string): boolean {
  if (MEASUREMENT_COLUMNS.telemetry.fields.includes(field)) return true;
  return Object.values(DEVICE_CLASS_DEFINITIONS).some(
    definition =>
      field in definition.metrics ||
      (definition.channelPrefixes ?? []).some(prefix => field.startsWith(prefix)),
  );
}

/**
 * What is wrong with one InfluxQL query: its FROM names `"rp"."measurement"` of the storage
 * schema (MEASUREMENT_RETENTION), and every other double-quoted identifier is a tag or field of
 * that measurement (or a name it gives with AS). SELECTs are bounded by `$timeFilter`.
 */
export function influxqlProblems(query: string): string[] {
  const problems: string[] = [];
  const from = /\bFROM\s+"([^"]+)"\."([^"]+)"/i.exec(query);
  if (!from) return [`no FROM "rp"."measurement": ${query}`];
  const [, rp, measurement] = from as unknown as [string, string, string];
  const columns = MEASUREMENT_COLUMNS[measurement as keyof typeof MEASUREMENT_COLUMNS];
  if (!columns) return [`unknown measurement "${measurement}"`];
  if (!(RETENTION_POLICIES as readonly string[]).includes(rp))
    problems.push(`unknown retention policy "${rp}"`);
  else if (MEASUREMENT_RETENTION[measurement as keyof typeof MEASUREMENT_RETENTION] !== rp)
    problems.push(
      `"${measurement}" is written to "${MEASUREMENT_RETENTION[measurement as keyof typeof MEASUREMENT_RETENTION]}", not "${rp}"`,
    );
  const rest = query.replace(from[0], '');
  const aliases = new Set([...rest.matchAll(/\bAS\s+"([^"]+)"/gi)].map(match => match[1]));
  for (const match of rest.matchAll(/"([^"]+)"(::(tag|field))?/g)) {
    const [, name = '', , cast] = match;
    if (aliases.has(name)) continue;
    const isTag = columns.tags.includes(name);
    const isField =
      columns.fields.includes(name) || (measurement === 'telemetry' && telemetryFieldAllowed(name));
    if (cast === 'tag' ? !isTag : cast === 'field' ? !isField : !isTag && !isField)
      problems.push(
        `"${name}"${cast ? `::${cast}` : ''} is not a ${cast ?? 'tag or field'} of ${measurement}`,
      );
  }
  if (/^\s*SELECT\b/i.test(query) && !query.includes('$timeFilter'))
    problems.push(`a SELECT without $timeFilter reads all history: ${query}`);
  return problems;
}

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Problems in the generated files (deploy/grafana, by relative path): every panel, target and
 * variable names a provisioned datasource of the right type; InfluxQL names the storage schema's
 * measurements, tags and fields; PromQL names Vigil's metrics; uids and panel ids are unique;
 * every gridPos lies on the 24-column grid without overlapping another.
 */
export function lintGrafana(files: ReadonlyMap<string, string>, context: LintContext): string[] {
  const problems: string[] = [];
  const datasourceFile = files.get('provisioning/datasources/vigil.yaml');
  const provisioned = new Map<string, string>();
  if (!datasourceFile) problems.push('no provisioning/datasources/vigil.yaml');
  else {
    const { datasources = [] } = parse(datasourceFile) as {
      datasources?: { uid: string; type: string }[];
    };
    for (const { uid, type } of datasources) provisioned.set(uid, type);
  }
  if (!files.has('provisioning/dashboards/vigil.yaml'))
    problems.push('no provisioning/dashboards/vigil.yaml');

  const uids = new Set<string>();
  for (const [path, text] of files) {
    if (!path.startsWith('dashboards/')) continue;
    const dashboard = JSON.parse(text) as DashboardJson;
    const where = (what: string) => `${path}: ${what}`;
    if (!dashboard.uid) problems.push(where('no uid'));
    else if (uids.has(dashboard.uid)) problems.push(where(`uid ${dashboard.uid} used twice`));
    else uids.add(dashboard.uid);
    if (dashboard.uid && `dashboards/${dashboard.uid}.json` !== path)
      problems.push(where(`uid ${dashboard.uid} does not match the file name`));

    const datasource = (what: string, ref: { type?: string; uid?: string } | undefined) => {
      if (!ref?.uid) problems.push(where(`${what}: no datasource`));
      else if (provisioned.get(ref.uid) === undefined)
        problems.push(where(`${what}: datasource ${ref.uid} is not provisioned`));
      else if (provisioned.get(ref.uid) !== ref.type)
        problems.push(
          where(`${what}: datasource ${ref.uid} is ${provisioned.get(ref.uid)}, not ${ref.type}`),
        );
    };

    for (const variable of dashboard.templating?.list ?? []) {
      const name = `variable ${String(variable['name'])}`;
      datasource(name, variable['datasource'] as Panel['datasource']);
      if (typeof variable['query'] === 'string')
        for (const problem of influxqlProblems(variable['query']))
          problems.push(where(`${name}: ${problem}`));
    }

    const all = (dashboard.panels ?? []).flatMap(panel => [panel, ...(panel.panels ?? [])]);
    const ids = new Set<number>();
    const placed: { title: string; pos: GridPos }[] = [];
    if (all.length === 0) problems.push(where('no panels'));
    for (const panel of all) {
      const name = `panel ${panel.id} "${panel.title}"`;
      if (typeof panel.id !== 'number') problems.push(where(`${name}: no id`));
      else if (ids.has(panel.id)) problems.push(where(`${name}: id used twice`));
      else ids.add(panel.id);
      const pos = panel.gridPos;
      if (
        !pos ||
        ![pos.x, pos.y, pos.w, pos.h].every(Number.isInteger) ||
        pos.x < 0 ||
        pos.y < 0 ||
        pos.w < 1 ||
        pos.h < 1 ||
        pos.x + pos.w > GRID_COLUMNS
      )
        problems.push(
          where(`${name}: gridPos ${JSON.stringify(pos)} is not on the 24-column grid`),
        );
      else {
        const other = placed.find(candidate => overlaps(candidate.pos, pos));
        if (other) problems.push(where(`${name}: overlaps "${other.title}"`));
        placed.push({ title: String(panel.title), pos });
      }
      if (panel.type === 'row') continue;
      datasource(name, panel.datasource);
      if (!panel.targets?.length) problems.push(where(`${name}: no query`));
      for (const target of panel.targets ?? []) {
        const ref = target['datasource'] as Panel['datasource'];
        datasource(`${name} target ${String(target['refId'])}`, ref);
        if (ref?.type === 'influxdb') {
          if (target['rawQuery'] !== true)
            problems.push(where(`${name}: InfluxDB target not in raw InfluxQL`));
          for (const problem of influxqlProblems(String(target['query'] ?? '')))
            problems.push(where(`${name}: ${problem}`));
        } else if (ref?.type === 'prometheus') {
          const names = promqlMetricNames(String(target['expr'] ?? ''));
          if (names.length === 0) problems.push(where(`${name}: PromQL reads no metric`));
          for (const metric of names)
            if (!context.metricNames.has(metric) && metric !== 'up')
              problems.push(where(`${name}: ${metric} is not a Vigil metric`));
        }
      }
    }
  }
  return problems;
}
