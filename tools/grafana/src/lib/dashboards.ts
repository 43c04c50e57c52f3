import {
  DashboardBuilder,
  DashboardCursorSync,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder as PromQueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

import { DEVICE_CLASS_DEFINITIONS, type DeviceClass } from '@vigil/contracts';
import { MEASUREMENTS, retentionPath } from '@vigil/storage';

import { INFLUXDB, PROMETHEUS } from './datasources';
import { InfluxQLQueryBuilder } from './influxql';

type AnyPanel = TimeseriesPanelBuilder | StatPanelBuilder | TablePanelBuilder;

/** The measurements the panels read, from the storage schema (the datasource names the database). */
const TELEMETRY = retentionPath(MEASUREMENTS.telemetry);
const ALARM_EVENTS = retentionPath(MEASUREMENTS.alarmEvent);

/** Filters every InfluxDB panel of a site dashboard by the template variables. */
const SITE_FILTER = `"site" =~ /^$site$/`;
const AREA_FILTER = `"area" =~ /^$area$/`;

/** A stat panel showing each series' latest value. */
function statPanel(): StatPanelBuilder {
  return new StatPanelBuilder().reduceOptions(
    new ReduceDataOptionsBuilder().calcs(['lastNotNull']),
  );
}

/** Numbers a dashboard's panels 1, 2, … in the order they are added: stable ids. */
function panels(builder: DashboardBuilder) {
  let id = 0;
  return {
    add(panel: AnyPanel): void {
      builder.withPanel(panel.id((id += 1)));
    },
    row(title: string): void {
      builder.withRow(new RowBuilder(title).id((id += 1)));
    },
  };
}

function influx(query: string, alias = '$tag_device'): InfluxQLQueryBuilder {
  return new InfluxQLQueryBuilder(INFLUXDB, query).alias(alias);
}

function prom(expr: string, legend: string, refId = 'A'): PromQueryBuilder {
  return new PromQueryBuilder().datasource(PROMETHEUS).expr(expr).legendFormat(legend).refId(refId);
}

function tagVariable(name: string, label: string, key: string, where = ''): QueryVariableBuilder {
  const query = `SHOW TAG VALUES FROM ${TELEMETRY} WITH KEY = "${key}"${where ? ` WHERE ${where}` : ''}`;
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(INFLUXDB)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

function thresholds(...steps: readonly [number | null, string][]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps(steps.map(([value, color]) => ({ value, color })));
}

function base(uid: string, title: string, tags: string[], description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['vigil', ...tags])
    .timezone('browser')
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly();
}

const CLASS_TITLES: Readonly<Record<DeviceClass, string>> = {
  'gas-combustible': 'Combustible gas 可燃气体',
  'gas-toxic': 'Toxic gas 有毒气体',
  'gas-oxygen': 'Oxygen 氧气',
  'electrical-fire': 'Electrical fire 电气火灾',
  'mhs-tank': 'Tanks 储罐',
  'fire-panel': 'Fire panels 火灾报警控制器',
  'call-point': 'Call points 手动报警按钮',
  tag: 'Personnel tags 人员定位',
};

/** Grafana's unit for a metric unit of the device classes. */
const GRAFANA_UNITS: Readonly<Record<string, string>> = {
  '%LEL': 'percent',
  '%VOL': 'percent',
  '%': 'percent',
  ppm: 'ppm',
  mA: 'mamp',
  '°C': 'celsius',
  kPa: 'pressurekpa',
  'm³/h': 'flowcms',
};

/** One timeseries per numeric metric of a class, one series per device, per area and site. */
function metricPanels(
  deviceClass: DeviceClass,
  skip: readonly string[] = [],
): TimeseriesPanelBuilder[] {
  const metrics = Object.entries(DEVICE_CLASS_DEFINITIONS[deviceClass].metrics).filter(
    ([metric, definition]) => definition.kind === 'number' && !skip.includes(metric),
  );
  return metrics.map(([metric, definition]) =>
    new TimeseriesPanelBuilder()
      .title(`${CLASS_TITLES[deviceClass]}: ${metric} (${definition.unit})`)
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT max("${metric}") FROM ${TELEMETRY} WHERE "class" = '${deviceClass}' AND ${SITE_FILTER} AND ${AREA_FILTER} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`,
        ),
      )
      .unit(GRAFANA_UNITS[definition.unit] ?? 'none')
      .height(8)
      .span(metrics.length === 1 ? 24 : 12),
  );
}

/** Site overview: every device class's readings by area, device status and events. */
export function siteOverview(): Dashboard {
  const builder = base(
    'vigil-site-overview',
    'Vigil: site overview 站点总览',
    ['site'],
    'Readings of every device class by area (max per interval: a peak is never averaged away), device status and device events, from InfluxDB.',
  )
    .withVariable(tagVariable('site', 'Site 站点', 'site'))
    .withVariable(tagVariable('area', 'Area 区域', 'area', SITE_FILTER))
    .withVariable(tagVariable('class', 'Device class 设备类别', 'class', SITE_FILTER));
  const board = panels(builder);
  board.add(
    new TablePanelBuilder()
      .title('Devices offline now 离线设备')
      .description(
        'Last status message of each device that reported one (online = false: offline).',
      )
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT last("online") AS "online" FROM "raw"."device_status" WHERE ${SITE_FILTER} AND "class" =~ /^$class$/ AND $timeFilter GROUP BY "site", "device", "class"`,
        ).table(),
      )
      .height(8)
      .span(12),
  );
  board.add(
    new TablePanelBuilder()
      .title('Device events 设备事件')
      .description('Fire, fault, supervisory, SOS … as the devices reported them.')
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT "code"::tag, "device"::tag, "detail" FROM "raw"."device_event" WHERE ${SITE_FILTER} AND "class" =~ /^$class$/ AND $timeFilter ORDER BY time DESC LIMIT 200`,
        ).table(),
      )
      .height(8)
      .span(12),
  );
  board.add(
    new TimeseriesPanelBuilder()
      .title('Readings per area 各区域读数')
      .description(
        'Readings stored per interval, by area and device class: a gap is a silent area.',
      )
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT count("seq") FROM ${TELEMETRY} WHERE ${SITE_FILTER} AND ${AREA_FILTER} AND "class" =~ /^$class$/ AND $timeFilter GROUP BY time($__interval), "area", "class" fill(0)`,
          '$tag_area $tag_class',
        ),
      )
      .height(8)
      .span(24),
  );
  for (const deviceClass of [
    'gas-combustible',
    'gas-toxic',
    'gas-oxygen',
    'electrical-fire',
  ] as const) {
    board.row(CLASS_TITLES[deviceClass]);
    for (const panel of metricPanels(deviceClass)) board.add(panel);
  }
  board.row(CLASS_TITLES.tag);
  for (const panel of metricPanels('tag', ['x', 'y'])) board.add(panel);
  return builder.build();
}

/**
 * Major hazard installation grade (GB 18218-2018; grading of MEM Decree 40 Annex 1): R ≥ 100
 * grade 1, ≥ 50 grade 2, ≥ 10 grade 3, below grade 4 (libs/rules mhs-grade.ts).
 */
const GRADE_THRESHOLDS = thresholds([null, 'blue'], [10, 'yellow'], [50, 'orange'], [100, 'red']);

/** Tank levels, temperatures, pressures, flows and the live major-hazard grade. */
export function tanks(): Dashboard {
  const builder = base(
    'vigil-tanks',
    'Vigil: tanks and major hazard grade 储罐与重大危险源分级',
    ['tanks', 'mhs'],
    'Major-hazard-source tanks: level, temperature, pressure, flow; the grade index R (GB 18218-2018) from the mhs-grade rule.',
  )
    .withVariable(tagVariable('site', 'Site 站点', 'site'))
    .withVariable(
      tagVariable('area', 'Area 区域', 'area', `${SITE_FILTER} AND "class" = 'mhs-tank'`),
    );
  const board = panels(builder);
  board.add(
    statPanel()
      .title('Major hazard index R 重大危险源分级指标')
      .description(
        'Latest R per unit. Grade 1 R ≥ 100 (red), 2 ≥ 50 (orange), 3 ≥ 10 (yellow), 4 below (blue); GB 18218-2018, MEM Decree 40 Annex 1.',
      )
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT last("value") FROM ${ALARM_EVENTS} WHERE "rule" = 'mhs-grade' AND ${SITE_FILTER} AND $timeFilter GROUP BY "device"`,
        ),
      )
      .thresholds(GRADE_THRESHOLDS)
      .decimals(1)
      .height(6)
      .span(12),
  );
  board.add(
    new TablePanelBuilder()
      .title('Grade changes 分级变化')
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT "level"::tag, "value", "message" FROM ${ALARM_EVENTS} WHERE "rule" = 'mhs-grade' AND ${SITE_FILTER} AND $timeFilter ORDER BY time DESC LIMIT 100`,
        ).table(),
      )
      .height(6)
      .span(12),
  );
  board.add(
    new TimeseriesPanelBuilder()
      .title('Major hazard index R over time')
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT last("value") FROM ${ALARM_EVENTS} WHERE "rule" = 'mhs-grade' AND ${SITE_FILTER} AND $timeFilter GROUP BY time($__interval), "device" fill(previous)`,
        ),
      )
      .thresholds(GRADE_THRESHOLDS)
      .height(8)
      .span(24),
  );
  board.row(CLASS_TITLES['mhs-tank']);
  for (const panel of metricPanels('mhs-tank')) board.add(panel);
  return builder.build();
}

/**
 * Alarm system performance (ISA-18.2 / IEC 62682, EEMUA 191; domain-standards §8): < 1 alarm per
 * 10 min per operator is the target, > 10 in 10 min is a flood.
 */
export function alarmKpis(): Dashboard {
  const builder = base(
    'vigil-alarm-kpis',
    'Vigil: alarm KPIs 报警绩效',
    ['alarms', 'kpi'],
    'Alarm load and its sources from the alarm journal in InfluxDB (alarm_event): EEMUA 191 target < 1 per 10 min per operator, flood > 10 in 10 min (ISA-18.2).',
  ).withVariable(
    new QueryVariableBuilder('site')
      .label('Site 站点')
      .datasource(INFLUXDB)
      .query(`SHOW TAG VALUES FROM ${ALARM_EVENTS} WITH KEY = "site"`)
      .definition(`SHOW TAG VALUES FROM ${ALARM_EVENTS} WITH KEY = "site"`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*'),
  );
  const board = panels(builder);
  const raised = `FROM ${ALARM_EVENTS} WHERE "action" = 'raise' AND ${SITE_FILTER} AND $timeFilter`;
  board.add(
    new TimeseriesPanelBuilder()
      .title('Alarms raised per 10 min 每10分钟报警数')
      .description(
        'EEMUA 191: < 1 per 10 min per operator is manageable; > 10 is a flood (red line).',
      )
      .datasource(INFLUXDB)
      .withTarget(influx(`SELECT count("alarm_id") ${raised} GROUP BY time(10m) fill(0)`, 'raised'))
      .thresholds(thresholds([null, 'green'], [1, 'yellow'], [10, 'red']))
      .height(8)
      .span(24),
  );
  board.add(
    new TimeseriesPanelBuilder()
      .title('Raised per hour by priority 按优先级')
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT count("alarm_id") ${raised} GROUP BY time(1h), "priority" fill(0)`,
          'P$tag_priority',
        ),
      )
      .height(8)
      .span(12),
  );
  board.add(
    new TimeseriesPanelBuilder()
      .title('Raised per hour by category 按类别')
      .description(
        'process: the plant is unsafe; warning: a trend says it soon will be; quality: the measurement cannot be trusted.',
      )
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT count("alarm_id") ${raised} GROUP BY time(1h), "category" fill(0)`,
          '$tag_category',
        ),
      )
      .height(8)
      .span(12),
  );
  board.add(
    new TablePanelBuilder()
      .title('Top alarm sources 报警源排行')
      .description(
        'ISA-18.2: the ten most frequent sources should be 1–5 % of the load; more is a bad actor to fix.',
      )
      .datasource(INFLUXDB)
      .withTarget(
        influx(`SELECT count("alarm_id") AS "raised" ${raised} GROUP BY "device", "rule"`).table(),
      )
      .height(10)
      .span(12),
  );
  board.add(
    new TablePanelBuilder()
      .title('Operator actions 操作员操作')
      .description('Acknowledgements, shelving, escalations … by action and user.')
      .datasource(INFLUXDB)
      .withTarget(
        influx(
          `SELECT "action", "by", "device"::tag, "rule"::tag, "note" FROM ${ALARM_EVENTS} WHERE "action" != 'raise' AND "action" != 'clear' AND "action" != 'update' AND ${SITE_FILTER} AND $timeFilter ORDER BY time DESC LIMIT 200`,
        ).table(),
      )
      .height(10)
      .span(12),
  );
  return builder.build();
}

/** Vigil's own health, from Prometheus (docs/observability.md; the alerts read the same series). */
export function selfMonitoring(): Dashboard {
  const builder = base(
    'vigil-self',
    'Vigil: self-monitoring 系统自监控',
    ['self-monitoring'],
    "Vigil's own health from Prometheus: every hop's counters, the write buffer, readiness, latency and the processes. Alerts: deploy/prometheus/rules/vigil.rules.yml.",
  );
  const board = panels(builder);
  const stat = (title: string, expr: string, legend: string) =>
    statPanel()
      .title(title)
      .datasource(PROMETHEUS)
      .withTarget(prom(expr, legend))
      .height(4)
      .span(6);
  board.add(
    stat('Processes up 在线进程', 'sum(up{job="vigil"})', 'up').thresholds(
      thresholds([null, 'red'], [1, 'green']),
    ),
  );
  board.add(
    stat(
      'Broker and InfluxDB ready 就绪',
      'min by (check) (vigil_ready_check)',
      '{{check}}',
    ).thresholds(thresholds([null, 'red'], [1, 'green'])),
  );
  board.add(stat('Open alarms 未恢复报警', 'sum(vigil_alarms_open)', 'open'));
  board.add(stat('Console clients 控制台连接', 'sum(vigil_ws_clients)', 'clients'));
  board.row('Pipeline 数据管道');
  const series = (title: string, unit: string, ...targets: PromQueryBuilder[]) => {
    const panel = new TimeseriesPanelBuilder()
      .title(title)
      .datasource(PROMETHEUS)
      .unit(unit)
      .height(8)
      .span(12);
    for (const target of targets) panel.withTarget(target);
    return panel;
  };
  board.add(
    series(
      'Readings accepted and stored /s 读数',
      'reqps',
      prom('sum(rate(vigil_ingest_readings_total[$__rate_interval]))', 'accepted'),
      prom(
        'sum(rate(vigil_persister_lines_total{outcome="written"}[$__rate_interval]))',
        'stored',
        'B',
      ),
    ),
  );
  board.add(
    series(
      'Dead letters /s by reason 死信',
      'reqps',
      prom(
        'sum by (reason) (rate(vigil_ingest_dead_letters_total[$__rate_interval]))',
        '{{reason}}',
      ),
    ),
  );
  board.add(
    series(
      'Rule engine records and late readings /s 规则引擎',
      'reqps',
      prom('sum(rate(vigil_rules_engine_records_total[$__rate_interval]))', 'records'),
      prom('sum(rate(vigil_rules_engine_late_readings_total[$__rate_interval]))', 'late', 'B'),
      prom('sum(rate(vigil_rules_engine_ticks_total[$__rate_interval]))', 'ticks', 'C'),
    ),
  );
  board.add(
    series(
      'Missing and duplicate samples /s 丢失/重复',
      'reqps',
      prom('sum(rate(vigil_ingest_missing_samples_total[$__rate_interval]))', 'missing'),
      prom('sum(rate(vigil_ingest_duplicate_samples_total[$__rate_interval]))', 'duplicate', 'B'),
    ),
  );
  board.add(
    series(
      'Monitoring lost: isolations by scope 监测中断',
      'short',
      prom('sum by (scope) (increase(vigil_rules_isolated_total[$__range]))', '{{scope}}'),
    ),
  );
  board.add(
    series(
      'Internal messages rejected /s 内部消息拒收',
      'reqps',
      prom('sum by (topic) (rate(vigil_internal_rejected_total[$__rate_interval]))', '{{topic}}'),
    ),
  );
  board.row('Storage 存储');
  board.add(
    series(
      'Write buffer fill 写缓冲',
      'percentunit',
      prom(
        'vigil_persister_buffered_lines / vigil_persister_buffer_capacity_lines',
        '{{instance}}',
      ),
    )
      .min(0)
      .max(1)
      .thresholds(thresholds([null, 'green'], [0.5, 'orange'], [0.9, 'red'])),
  );
  board.add(
    series(
      'Lines not stored /s 未存储',
      'reqps',
      prom(
        'sum by (outcome) (rate(vigil_persister_lines_total{outcome!="written"}[$__rate_interval]))',
        '{{outcome}}',
      ),
    ),
  );
  board.row('Alarms and latency 报警与延迟');
  board.add(
    series(
      'Detection latency 检测延迟',
      's',
      prom(
        'histogram_quantile(0.5, sum by (le) (rate(vigil_alarm_detection_seconds_bucket[$__rate_interval])))',
        'p50',
      ),
      prom(
        'histogram_quantile(0.99, sum by (le) (rate(vigil_alarm_detection_seconds_bucket[$__rate_interval])))',
        'p99',
        'B',
      ),
    ),
  );
  board.add(
    series(
      'Alarm transitions /s and suppressed 报警变化',
      'short',
      prom('sum by (action) (rate(vigil_alarm_transitions_total[$__rate_interval]))', '{{action}}'),
      prom('sum by (cause) (vigil_alarms_suppressed)', 'suppressed {{cause}}', 'B'),
    ),
  );
  board.row('Processes 进程');
  board.add(
    series(
      'Event loop lag p99 事件循环延迟',
      's',
      prom('vigil_nodejs_eventloop_lag_p99_seconds', '{{service}}'),
    ),
  );
  board.add(
    series(
      'Resident memory 内存',
      'bytes',
      prom('vigil_process_resident_memory_bytes', '{{service}}'),
    ),
  );
  board.add(
    series(
      'CPU 处理器',
      'percentunit',
      prom('rate(vigil_process_cpu_seconds_total[$__rate_interval])', '{{service}}'),
    ),
  );
  board.add(
    series(
      'Logins by result /s 登录',
      'reqps',
      prom('sum by (result) (rate(vigil_auth_logins_total[$__rate_interval]))', '{{result}}'),
    ),
  );
  return builder.build();
}

/** Every dashboard, by file name (deploy/grafana/dashboards/<name>.json). */
export const DASHBOARDS: Readonly<Record<string, () => Dashboard>> = {
  'vigil-site-overview': siteOverview,
  'vigil-tanks': tanks,
  'vigil-alarm-kpis': alarmKpis,
  'vigil-self': selfMonitoring,
};
