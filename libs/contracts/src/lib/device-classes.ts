import { METRIC_NAME_PATTERN } from './identifiers';

/**
 * The eight built-in device classes and their default metrics and events (spec §1 table).
 * A device profile in the registry may add metrics; these are the ones every device of a class has.
 */
export const DEVICE_CLASSES = [
  'gas-combustible',
  'gas-toxic',
  'gas-oxygen',
  'electrical-fire',
  'mhs-tank',
  'fire-panel',
  'call-point',
  'tag',
] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

export type MetricKind = 'number' | 'boolean';

export interface MetricDefinition {
  readonly unit: string;
  readonly kind: MetricKind;
  /** Physical measuring range: values outside it are data-quality problems, not alarms. */
  readonly range?: readonly [number, number];
}

export interface DeviceClassDefinition {
  readonly metrics: Readonly<Record<string, MetricDefinition>>;
  /** `temp_c_1`, `temp_c_2` … channels share the definition of their prefix. */
  readonly channelPrefixes?: readonly string[];
  readonly events: readonly string[];
  /** Usual reporting interval in seconds; the offline rule derives its timeout from it. */
  readonly intervalSeconds: number;
}

export const DEVICE_CLASS_DEFINITIONS: Readonly<Record<DeviceClass, DeviceClassDefinition>> = {
  'gas-combustible': {
    metrics: { lel: { unit: '%LEL', kind: 'number', range: [-10, 120] } },
    // `alarm`: the detector's or gas controller's own alarm decision (GB 16808), detail.level L1/L2.
    events: ['fault', 'alarm', 'reset'],
    intervalSeconds: 5,
  },
  'gas-toxic': {
    metrics: { ppm: { unit: 'ppm', kind: 'number', range: [-10, 10_000] } },
    events: ['fault', 'alarm', 'reset'],
    intervalSeconds: 5,
  },
  'gas-oxygen': {
    metrics: { o2: { unit: '%VOL', kind: 'number', range: [0, 30] } },
    events: ['fault', 'alarm', 'reset'],
    intervalSeconds: 5,
  },
  'electrical-fire': {
    metrics: {
      leak_ma: { unit: 'mA', kind: 'number', range: [0, 2000] },
      temp_c: { unit: '°C', kind: 'number', range: [-40, 200] },
      arc: { unit: 'half-cycles/s', kind: 'number', range: [0, 100] },
    },
    channelPrefixes: ['temp_c_'],
    // `alarm` (detail.level pre-alarm / alarm) and `arc_fault`: the monitor's own decisions
    // (GB 14287.1 / .4), raised at once instead of sampling `arc`.
    events: ['fault', 'alarm', 'arc_fault', 'reset'],
    intervalSeconds: 30,
  },
  'mhs-tank': {
    metrics: {
      level_pct: { unit: '%', kind: 'number', range: [-5, 105] },
      temp_c: { unit: '°C', kind: 'number', range: [-60, 400] },
      pressure_kpa: { unit: 'kPa', kind: 'number', range: [-100, 10_000] },
      flow_m3h: { unit: 'm³/h', kind: 'number', range: [-1000, 10_000] },
    },
    events: ['valve_closed', 'valve_open', 'fault'],
    intervalSeconds: 10,
  },
  'fire-panel': {
    metrics: {},
    // GB 4717 / GB 26875 signal classes (docs/interfaces.md "Fire panels"); appended, not reordered.
    events: [
      'fire',
      'fault',
      'supervisory',
      'feedback',
      'reset',
      'isolation',
      'start',
      'mains_fault',
      'backup_fault',
      'manual_mode',
      'auto_mode',
    ],
    intervalSeconds: 300,
  },
  'call-point': { metrics: {}, events: ['alarm'], intervalSeconds: 300 },
  tag: {
    metrics: {
      x: { unit: 'm', kind: 'number' },
      y: { unit: 'm', kind: 'number' },
      floor: { unit: '', kind: 'number', range: [-10, 200] },
      battery_pct: { unit: '%', kind: 'number', range: [0, 100] },
      still: { unit: '', kind: 'boolean' },
    },
    events: ['sos'],
    intervalSeconds: 5,
  },
};

/** Looks a metric up for a class, honouring channel prefixes such as `temp_c_1`. */
export function metricDefinition(
  deviceClass: DeviceClass,
  metric: string,
): MetricDefinition | undefined {
  const definition = DEVICE_CLASS_DEFINITIONS[deviceClass];
  const direct = definition.metrics[metric];
  if (direct) return direct;
  for (const prefix of definition.channelPrefixes ?? []) {
    if (metric.startsWith(prefix)) return definition.metrics[prefix.slice(0, -1)];
  }
  return undefined;
}

/**
 * The registry attribute that names a device's metrics beyond its class's, comma-separated
 * (`extraMetrics: "flow_lpm, valve_pct"`, docs/interfaces.md "Attributes Vigil reads").
 */
export const EXTRA_METRICS_ATTRIBUTE = 'extraMetrics';

export interface DeviceMetrics {
  /** The class's metrics, numeric first (the first is the trend's default), then the extra ones. */
  readonly names: readonly string[];
  /** The extra metrics (not the class's): ingest takes them as sent, a number or a boolean. */
  readonly extra: ReadonlySet<string>;
  /** What is wrong with the attribute: the registry refuses the device, so none at run time. */
  readonly problems: readonly string[];
}

/** What `deviceMetrics` reads: a registered device, or one as `GET /api/v1/devices` answers it. */
export interface MetricsOfDevice {
  readonly deviceClass: DeviceClass;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
}

const NO_EXTRA: ReadonlySet<string> = new Set();
const CLASS_METRICS = Object.fromEntries(
  DEVICE_CLASSES.map((deviceClass): [DeviceClass, DeviceMetrics] => [
    deviceClass,
    {
      names: Object.entries(DEVICE_CLASS_DEFINITIONS[deviceClass].metrics)
        .sort(([, a], [, b]) => Number(a.kind === 'boolean') - Number(b.kind === 'boolean'))
        .map(([name]) => name),
      extra: NO_EXTRA,
      problems: [],
    },
  ]),
) as Readonly<Record<DeviceClass, DeviceMetrics>>;

/** By attributes object (devices of one profile share theirs), then class. */
const metricsByAttributes = new WeakMap<object, Map<DeviceClass, DeviceMetrics>>();

/**
 * The metrics a device may report: its class's and its `extraMetrics`, read and checked here
 * only (the registry refuses a device whose list has problems; ingest, the telemetry API and the
 * console's trends read the same list). Worked out once per attributes object.
 */
export function deviceMetrics(device: MetricsOfDevice): DeviceMetrics {
  const classMetrics = CLASS_METRICS[device.deviceClass];
  const listed = device.attributes[EXTRA_METRICS_ATTRIBUTE];
  if (listed === undefined) return classMetrics;
  let byClass = metricsByAttributes.get(device.attributes);
  if (!byClass) metricsByAttributes.set(device.attributes, (byClass = new Map()));
  let metrics = byClass.get(device.deviceClass);
  if (!metrics) byClass.set(device.deviceClass, (metrics = readExtraMetrics(classMetrics, listed)));
  return metrics;
}

function readExtraMetrics(
  classMetrics: DeviceMetrics,
  listed: string | number | boolean,
): DeviceMetrics {
  if (typeof listed !== 'string')
    return {
      ...classMetrics,
      problems: [`must be a comma-separated list of metric names, not a ${typeof listed}`],
    };
  const names = [...classMetrics.names];
  const extra = new Set<string>();
  const problems: string[] = [];
  for (const entry of listed.split(',')) {
    const name = entry.trim();
    if (!METRIC_NAME_PATTERN.test(name))
      problems.push(`"${name}" is not a metric name ([a-z][a-z0-9_]{0,63})`);
    else if (!names.includes(name)) {
      names.push(name);
      extra.add(name);
    }
  }
  return { names, extra, problems };
}
