import { type DeviceClass, metricDefinition } from '@vigil/contracts';

import { type Gas, findGas, knownGases } from './gases';
import { MOLAR_VOLUME_L_PER_MOL } from './toxic-gases';

/**
 * Units: a closed list. Vigil evaluates every metric in its class's unit (`DEVICE_CLASS_DEFINITIONS`:
 * %LEL, ppm, %VOL, mA, °C, kPa, …). A device that reports another unit says so in a registry
 * attribute `unit_<metric>`; the unit must be in this list and convertible to Vigil's unit (with the
 * device's gas where the conversion depends on it), or the registry is refused at load. Nothing
 * is ignored: an unknown spelling (`%volume`) is a load error, not an unconverted reading.
 */

/** Accepted spellings → the unit they mean. Anything not listed is refused. */
const SPELLINGS: Readonly<Record<string, string>> = {
  '%LEL': '%LEL',
  '%lel': '%LEL',
  'LEL%': '%LEL',
  '%VOL': '%VOL',
  '%vol': '%VOL',
  '%Vol': '%VOL',
  'vol%': '%VOL',
  '%v/v': '%VOL',
  ppm: 'ppm',
  PPM: 'ppm',
  ppb: 'ppb',
  PPB: 'ppb',
  'mg/m³': 'mg/m³',
  'mg/m3': 'mg/m³',
  '°C': '°C',
  degC: '°C',
  '℃': '°C',
  '°F': '°F',
  degF: '°F',
  K: 'K',
  kPa: 'kPa',
  MPa: 'MPa',
  Pa: 'Pa',
  bar: 'bar',
  mA: 'mA',
  A: 'A',
  '%': '%',
  m: 'm',
  'm³/h': 'm³/h',
  'm3/h': 'm³/h',
  'half-cycles/s': 'half-cycles/s',
};

/** `vigil = raw × scale + offset`: every conversion here is affine, so ingest applies two numbers. */
export interface LinearConversion {
  /** The unit the device reports (as spelled in this list). */
  readonly from: string;
  /** Vigil's unit of the metric. */
  readonly to: string;
  readonly scale: number;
  readonly offset: number;
}

type ConversionFactory = (gas: Gas | undefined) => { scale: number; offset?: number } | string;

/** `scale(lel)` by the gas's LEL, or why there is none. */
const byLel =
  (why: string, scale: (lelPercentVol: number) => number): ConversionFactory =>
  gas =>
    gas?.lelPercentVol === undefined
      ? `${why} needs the device's flammable gas (attribute gas or calibration_gas; known: ${knownGases(true)})`
      : { scale: scale(gas.lelPercentVol) };

/** Vigil's unit → the units it can be converted from (identity is implicit). */
const CONVERSIONS: Readonly<Record<string, Readonly<Record<string, ConversionFactory>>>> = {
  '%LEL': {
    // %VOL / LEL(%VOL) × 100: 2.5 %VOL methane (LEL 5.0) = 50 %LEL.
    '%VOL': byLel('%VOL → %LEL', lel => 100 / lel),
    // 10,000 ppm = 1 %VOL.
    ppm: byLel('ppm → %LEL', lel => 0.01 / lel),
  },
  ppm: {
    ppb: () => ({ scale: 0.001 }),
    // GBZ 2.1 convention: ppm = mg/m³ × 24.04 / M (20 °C, 101.3 kPa).
    'mg/m³': gas =>
      gas === undefined
        ? `mg/m³ → ppm needs the device's gas (attribute gas; known: ${knownGases()})`
        : { scale: MOLAR_VOLUME_L_PER_MOL / gas.molarMass },
    '%VOL': () => ({ scale: 10_000 }),
  },
  '%VOL': { ppm: () => ({ scale: 0.0001 }) },
  '°C': {
    '°F': () => ({ scale: 5 / 9, offset: -160 / 9 }),
    K: () => ({ scale: 1, offset: -273.15 }),
  },
  kPa: {
    MPa: () => ({ scale: 1000 }),
    Pa: () => ({ scale: 0.001 }),
    bar: () => ({ scale: 100 }),
  },
  mA: { A: () => ({ scale: 1000 }) },
};

/** The units a metric whose Vigil unit is `to` may be reported in. */
export function unitsConvertibleTo(to: string): readonly string[] {
  return [to, ...Object.keys(CONVERSIONS[to] ?? {})];
}

/** Every spelling this list accepts, for documentation and tests. */
export function knownUnitSpellings(): readonly string[] {
  return Object.keys(SPELLINGS);
}

/**
 * The conversion of a value reported in `from` to Vigil's unit `to`, or the reason there is none.
 * `undefined` conversion: the units are the same.
 */
export function unitConversion(
  from: string,
  to: string,
  gas?: Gas,
): { readonly conversion: LinearConversion | undefined } | { readonly problem: string } {
  const unit = SPELLINGS[from.trim()];
  const known = unitsConvertibleTo(to).join(', ');
  if (unit === undefined)
    return { problem: `unknown unit "${from}" (convertible to ${to}: ${known})` };
  if (unit === to) return { conversion: undefined };
  const factory = CONVERSIONS[to]?.[unit];
  if (!factory)
    return { problem: `cannot convert ${unit} to ${to} (convertible to ${to}: ${known})` };
  const made = factory(gas);
  if (typeof made === 'string') return { problem: made };
  return { conversion: { from: unit, to, scale: made.scale, offset: made.offset ?? 0 } };
}

export interface MetricConversion extends LinearConversion {
  readonly metric: string;
}

export interface DeviceMeasurement {
  /** The gas the device measures (`gas`, else `calibration_gas`), when it names a known one. */
  readonly gas: Gas | undefined;
  /** Conversions ingest applies to this device's readings (empty for most devices). */
  readonly conversions: readonly MetricConversion[];
  /** One line per problem, `attributes.<name>: …`; the registry refuses the device on any. */
  readonly problems: readonly string[];
}

type Attributes = Readonly<Record<string, string | number | boolean>>;

/**
 * What a device's registry attributes say about how it measures: its gas, and the unit
 * conversions of its metrics. Pure; the registry checks `problems` at load, ingest applies
 * `conversions` to every reading.
 *
 * - A combustible-gas detector must name its gas (`gas`) or its calibration gas
 *   (`calibration_gas`), a known flammable one: its %LEL means nothing without it, and assuming
 *   methane reads 1.2 %VOL propane (57 %LEL) as 24 %LEL.
 * - `unit_<metric>` must name a metric of the device's class and a unit of the closed list that
 *   converts to Vigil's unit of that metric.
 */
export function deviceMeasurement(
  deviceClass: DeviceClass,
  attributes: Attributes,
): DeviceMeasurement {
  const problems: string[] = [];
  let gas: Gas | undefined;
  const named = (key: 'gas' | 'calibration_gas'): Gas | undefined => {
    const value = attributes[key];
    if (value === undefined) return undefined;
    const found = typeof value === 'string' ? findGas(value) : undefined;
    if (deviceClass === 'gas-combustible') {
      if (!found) {
        problems.push(
          `attributes.${key}: unknown gas ${JSON.stringify(value)} (known flammable gases: ${knownGases(true)})`,
        );
      } else if (found.lelPercentVol === undefined) {
        problems.push(
          `attributes.${key}: ${found.formula} has no LEL in Vigil's gas table, so a combustible ` +
            `detector cannot measure it in %LEL (known flammable gases: ${knownGases(true)})`,
        );
        return undefined;
      }
    }
    return found;
  };
  if (deviceClass === 'gas-combustible' || deviceClass === 'gas-toxic') {
    const measured = named('gas');
    const calibration = named('calibration_gas');
    gas = measured ?? calibration;
    if (
      deviceClass === 'gas-combustible' &&
      attributes['gas'] === undefined &&
      attributes['calibration_gas'] === undefined
    ) {
      problems.push(
        'attributes.gas: a combustible-gas detector must name its gas (gas) or its calibration gas ' +
          `(calibration_gas); Vigil never assumes methane (known flammable gases: ${knownGases(true)})`,
      );
    }
  }

  const conversions: MetricConversion[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (!key.startsWith('unit_')) continue;
    const metric = key.slice('unit_'.length);
    const definition = metricDefinition(deviceClass, metric);
    if (!definition) {
      problems.push(
        `attributes.${key}: ${metric} is not a metric of ${deviceClass}, so it has no unit to convert to`,
      );
      continue;
    }
    if (typeof value !== 'string') {
      problems.push(`attributes.${key}: must be a unit such as "${definition.unit}"`);
      continue;
    }
    const result = unitConversion(value, definition.unit, gas);
    if ('problem' in result) problems.push(`attributes.${key}: ${result.problem}`);
    else if (result.conversion) conversions.push({ metric, ...result.conversion });
  }
  return { gas, conversions, problems };
}

/** Applies one conversion. */
export function convertValue(value: number, conversion: LinearConversion): number {
  return value * conversion.scale + conversion.offset;
}
