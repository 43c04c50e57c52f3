import { DEVICE_CLASS_DEFINITIONS, type DeviceClass } from '@vigil/contracts';

import { resolveDeviceRules } from '../lib/resolve-device-rules';
import type { DeviceRules } from '../lib/rule-signal';
import { SITE } from './fixtures';

/** A device as the registry would hand it to the engine: class defaults plus overrides. */
export function registered(
  deviceId: string,
  deviceClass: DeviceClass,
  options: {
    readonly attributes?: Readonly<Record<string, string | number | boolean>>;
    readonly overrides?: ReadonlyArray<Readonly<Record<string, unknown>> | undefined>;
    readonly intervalSeconds?: number;
  } = {},
): DeviceRules {
  const { rules, errors } = resolveDeviceRules(
    {
      deviceClass,
      attributes: options.attributes ?? {},
      intervalSeconds:
        options.intervalSeconds ?? DEVICE_CLASS_DEFINITIONS[deviceClass].intervalSeconds,
    },
    options.overrides ?? [],
  );
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return { siteId: SITE, deviceId, deviceClass, areaId: 'tank-farm', rules };
}
