import type { RegisteredDevice } from '@vigil/registry';
import { SITE_RULE_IDS, firePanelMapFromJson, resolveDeviceRules } from '@vigil/rules';

import type { FleetDefinition, SiteLayout } from '../fleet/site-layout';

/** Talks to a Vigil gateway's REST API, with a token when it is not in demo mode. */
export class GatewayClient {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  /** `ws://…/ws`, with the token. */
  get webSocketUrl(): string {
    const ws = new URL('/ws', this.url.replace(/^http/, 'ws'));
    if (this.token) ws.searchParams.set('token', this.token);
    return ws.toString();
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(new URL(path, this.url), {
      headers: this.token ? { Authorization: `Bearer ${this.token}` } : {},
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok)
      throw new Error(
        `GET ${path}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`,
      );
    return (await response.json()) as T;
  }

  /** The devices and sites the gateway serves: the fleet a scenario is played against. */
  async fleet(): Promise<FleetDefinition> {
    const [devices, sites] = await Promise.all([
      this.get<RegisteredDevice[]>('/api/v1/devices'),
      this.get<{ sites: SiteLayout[] }>('/api/v1/sites'),
    ]);
    // A fire panel's points and zones come as arrays: rebuild the map the compiler looks up.
    const located = devices.map(device =>
      device.firePanel === undefined
        ? device
        : { ...device, firePanel: firePanelMapFromJson(device.firePanel) },
    );
    return { devices: located, sites: sites.sites };
  }
}

/**
 * The rule ids site rules raise alarms under: their configuration keys (`SITE_RULE_IDS` in
 * @vigil/rules), except man-down, which raises a pre-alarm and an alarm under two ids, and voting,
 * whose id an area names (`vote-gas-l2` by default).
 */
export function siteAlarmRuleIds(): string[] {
  return SITE_RULE_IDS.flatMap(id =>
    id === 'man-down' ? ['man-down-l1', 'man-down-l2'] : id === 'voting' ? ['vote-gas-l2'] : [id],
  );
}

/**
 * Rule ids the devices of a fleet have under this build's rule catalogue (class defaults and
 * their registry overrides), plus the site rules. Used to tell a scenario whose rule does not
 * exist yet ("pending rule") from one that failed.
 */
export function knownRuleIds(
  devices: readonly RegisteredDevice[],
  siteRuleIds: readonly string[] = siteAlarmRuleIds(),
): Set<string> {
  const ids = new Set<string>(siteRuleIds);
  const cache = new Set<string>();
  for (const device of devices) {
    // Devices of one profile resolve alike: resolve each distinct shape once (100,000 devices).
    const shape = JSON.stringify([
      device.deviceClass,
      device.attributes,
      device.intervalSeconds,
      device.ruleOverrides,
    ]);
    if (cache.has(shape)) continue;
    cache.add(shape);
    for (const rule of resolveDeviceRules(device, device.ruleOverrides ?? []).rules) {
      ids.add(rule.ruleId);
    }
  }
  return ids;
}
