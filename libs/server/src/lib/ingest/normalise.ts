import type { MetricValue } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

/**
 * Lower explosive limits in %VOL for detectors that report %VOL instead of %LEL
 * (textbook values, domain-standards §1.3, tag U: verify against the site's SDS).
 */
const LEL_PERCENT_VOL: Readonly<Record<string, number>> = {
  CH4: 5.0,
  H2: 4.0,
  C2H2: 2.5,
  C2H4: 2.7,
  C3H8: 2.1,
  C3H6: 2.0,
  C4H10: 1.8,
  LPG: 1.8,
  CO: 12.5,
  NH3: 15,
  H2S: 4.0,
  CH3OH: 6.0,
  C6H6: 1.2,
  C7H8: 1.1,
};

type Converter = (value: number, device: RegisteredDevice) => number | undefined;

/** Unit a device reports in (profile attribute `unit_<metric>`) → converter to Vigil's unit. */
const CONVERTERS: Readonly<Record<string, Converter>> = {
  '%VOL->%LEL': (value, device) => {
    const lel = LEL_PERCENT_VOL[String(device.attributes['gas'] ?? 'CH4')];
    return lel === undefined ? undefined : (value / lel) * 100;
  },
  'degF->degC': value => ((value - 32) * 5) / 9,
  'K->degC': value => value - 273.15,
  'MPa->kPa': value => value * 1000,
  'bar->kPa': value => value * 100,
  'A->mA': value => value * 1000,
  'ppb->ppm': value => value / 1000,
};

const TARGET_UNIT: Readonly<Record<string, string>> = {
  lel: '%LEL',
  temp_c: 'degC',
  pressure_kpa: 'kPa',
  leak_ma: 'mA',
  ppm: 'ppm',
};

export type NormaliseResult =
  { readonly ok: true } | { readonly ok: false; readonly problem: string };

/**
 * Converts values reported in a device's own units to Vigil's units, in place. Devices without
 * `unit_*` attributes (the common case) pay one attribute scan per device, cached by the caller.
 */
export function unitConversions(
  device: RegisteredDevice,
): ReadonlyArray<readonly [string, Converter, string]> {
  const conversions: Array<readonly [string, Converter, string]> = [];
  for (const [key, unit] of Object.entries(device.attributes)) {
    if (!key.startsWith('unit_') || typeof unit !== 'string') continue;
    const metric = key.slice(5);
    const base = metric.replace(/_\d+$/, '');
    const target = TARGET_UNIT[base];
    const converter = target ? CONVERTERS[`${unit}->${target}`] : undefined;
    if (target && unit !== target && converter)
      conversions.push([metric, converter, `${unit}->${target}`]);
  }
  return conversions;
}

export function applyConversions(
  values: Record<string, MetricValue>,
  conversions: ReadonlyArray<readonly [string, Converter, string]>,
  device: RegisteredDevice,
): NormaliseResult {
  for (const [metric, convert, name] of conversions) {
    const value = values[metric];
    if (typeof value !== 'number') continue;
    const converted = convert(value, device);
    if (converted === undefined)
      return { ok: false, problem: `cannot convert ${metric} (${name})` };
    values[metric] = converted;
  }
  return { ok: true };
}

export function knownConversions(): readonly string[] {
  return Object.keys(CONVERTERS);
}
