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
