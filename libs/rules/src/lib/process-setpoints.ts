import type { ThresholdRuleConfig } from './rule-config';

/**
 * H / HH / L / LL set-points of major-hazard process points (tank level, temperature, pressure,
 * flow), domain-standards §9.4. The plant's DCS/SIS tag list owns these numbers ("never invent
 * them", HG/T 20511): the registry gives them as device attributes named `<metric>_<h|hh|l|ll>`,
 * e.g. `pressure_kpa_hh: 1600`, with the instrument span as `<metric>_span` for the deadband.
 * Only `level_pct` has defaults (the brief's typical H 85 / HH 95 / L 10 / LL 5 %); a metric without
 * any set-point attribute gets no H/HH/L/LL rules at all.
 */
export interface ProcessMetric {
  readonly metric: string;
  /** Rule id prefix: `level-hh`, `pressure-h`, … */
  readonly prefix: string;
  readonly label: string;
  readonly unit: string;
  /** Deadband as a fraction of the span (ISA / EEMUA typical values, domain-standards §9.4, U). */
  readonly deadbandFraction: number;
  /** On/off-delay of H and L (same source, U); HH and LL act at once (§9.4, P). */
  readonly delayMs: number;
  /** Defaults per level key, only for level_pct (proposal: no standard sets tank levels, typical H 85 / HH 95 / L 10 / LL 5 %; §9.4 says use the plant's DCS/SIS set-points, which replace them). */
  readonly defaults?: Readonly<Partial<Record<ProcessLevelKey, number>>>;
  /** Span assumed when the registry gives none (level: 0–100 %). */
  readonly defaultSpan?: number;
}

export const PROCESS_METRICS: readonly ProcessMetric[] = [
  {
    metric: 'level_pct',
    prefix: 'level',
    label: 'Level',
    unit: '%',
    deadbandFraction: 0.05,
    delayMs: 60_000,
    defaults: { h: 85, hh: 95, l: 10, ll: 5 },
    defaultSpan: 100,
  },
  {
    metric: 'temp_c',
    prefix: 'temp',
    label: 'Temperature',
    unit: '°C',
    deadbandFraction: 0.01,
    delayMs: 60_000,
  },
  {
    metric: 'pressure_kpa',
    prefix: 'pressure',
    label: 'Pressure',
    unit: 'kPa',
    deadbandFraction: 0.02,
    delayMs: 15_000,
  },
  {
    metric: 'flow_m3h',
    prefix: 'flow',
    label: 'Flow',
    unit: 'm³/h',
    deadbandFraction: 0.05,
    delayMs: 15_000,
  },
];

export type ProcessLevelKey = 'h' | 'hh' | 'l' | 'll';

interface ProcessLevel {
  readonly key: ProcessLevelKey;
  readonly level: string;
  readonly direction: 'high' | 'low';
  /** §9.4 mapping: H/L → P3, HH/LL → P2 (P); HH/LL with interlock trip feedback → P1 is left out. */
  readonly priority: 2 | 3;
  readonly immediate: boolean;
}

/** Evaluation order: the less severe level first, so one reading past both raises H then HH. */
const LEVELS: readonly ProcessLevel[] = [
  { key: 'h', level: 'H', direction: 'high', priority: 3, immediate: false },
  { key: 'hh', level: 'HH', direction: 'high', priority: 2, immediate: true },
  { key: 'l', level: 'L', direction: 'low', priority: 3, immediate: false },
  { key: 'll', level: 'LL', direction: 'low', priority: 2, immediate: true },
];

export interface ProcessRules {
  readonly rules: readonly ThresholdRuleConfig[];
  readonly errors: readonly string[];
}

/**
 * The H/HH/L/LL threshold rules of a process device from its attributes (and the level
 * defaults). Errors, one per line, for a set-point that is not a number, a span that is not
 * positive, or levels out of order (LL < L < H < HH must hold for those given).
 */
export function processRules(
  attributes: Readonly<Record<string, string | number | boolean>>,
): ProcessRules {
  const rules: ThresholdRuleConfig[] = [];
  const errors: string[] = [];
  for (const point of PROCESS_METRICS) {
    const setpoints = new Map<ProcessLevelKey, number>();
    for (const { key } of LEVELS) {
      const name = `${point.metric}_${key}`;
      const raw = attributes[name];
      if (raw === undefined) {
        const fallback = point.defaults?.[key];
        if (fallback !== undefined) setpoints.set(key, fallback);
        continue;
      }
      if (typeof raw !== 'number' || !Number.isFinite(raw)) {
        errors.push(`attributes.${name}: must be a number (got ${JSON.stringify(raw)})`);
        continue;
      }
      setpoints.set(key, raw);
    }
    if (setpoints.size === 0) continue;

    const ordered = (['ll', 'l', 'h', 'hh'] as const).filter(key => setpoints.has(key));
    for (let index = 1; index < ordered.length; index += 1) {
      const lower = ordered[index - 1] as ProcessLevelKey;
      const upper = ordered[index] as ProcessLevelKey;
      if ((setpoints.get(lower) as number) >= (setpoints.get(upper) as number)) {
        errors.push(
          `attributes.${point.metric}_${lower} (${setpoints.get(lower)}) must be below ` +
            `${point.metric}_${upper} (${setpoints.get(upper)}): LL < L < H < HH`,
        );
      }
    }

    const spanName = `${point.metric}_span`;
    const rawSpan = attributes[spanName];
    let span = point.defaultSpan ?? Math.max(1, ...[...setpoints.values()].map(Math.abs));
    if (rawSpan !== undefined) {
      if (typeof rawSpan === 'number' && Number.isFinite(rawSpan) && rawSpan > 0) span = rawSpan;
      else
        errors.push(
          `attributes.${spanName}: must be a positive number (got ${JSON.stringify(rawSpan)})`,
        );
    }
    const deadband = Number((point.deadbandFraction * span).toPrecision(6));

    for (const level of LEVELS) {
      const setpoint = setpoints.get(level.key);
      if (setpoint === undefined) continue;
      const delayMs = level.immediate ? 0 : point.delayMs;
      rules.push({
        ruleId: `${point.prefix}-${level.key}`,
        kind: 'threshold',
        metric: point.metric,
        direction: level.direction,
        setpoint,
        deadband,
        onDelayMs: delayMs,
        offDelayMs: delayMs,
        // "Latched while HH/LL persists, requires ack" (§9.4) is an ordinary alarm that needs an
        // acknowledgement, not a latch that outlives the condition.
        latched: false,
        priority: level.priority,
        category: 'process',
        level: level.level,
        enabled: true,
        label: point.label,
        unit: point.unit,
      });
    }
  }
  return { rules, errors };
}
