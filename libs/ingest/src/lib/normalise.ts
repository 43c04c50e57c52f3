import type { MetricValue } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';
import { convertValue, deviceMeasurement, type MetricConversion } from '@vigil/rules';

export type NormaliseResult =
  { readonly ok: true } | { readonly ok: false; readonly problem: string };

/**
 * The unit conversions of a device's readings (`unit_<metric>` attributes), from the closed unit
 * list and gas table of `@vigil/rules` (`units.ts`, `gases.ts`): one place decides what a unit
 * means, and the registry has already refused any unit or gas it cannot convert, so every
 * conversion here is known and complete. Devices without `unit_*` attributes (the common case)
 * get an empty list; the caller caches the result per device.
 */
export function unitConversions(device: RegisteredDevice): readonly MetricConversion[] {
  return deviceMeasurement(device.deviceClass, device.attributes).conversions;
}

/** Converts values reported in a device's own units to Vigil's units, in place. */
export function applyConversions(
  values: Record<string, MetricValue>,
  conversions: readonly MetricConversion[],
  _device?: RegisteredDevice,
): NormaliseResult {
  for (const conversion of conversions) {
    const value = values[conversion.metric];
    if (typeof value !== 'number') continue;
    const converted = convertValue(value, conversion);
    if (!Number.isFinite(converted))
      return {
        ok: false,
        problem: `cannot convert ${conversion.metric} (${conversion.from}->${conversion.to})`,
      };
    values[conversion.metric] = converted;
  }
  return { ok: true };
}
