import { pointInRing } from '@vigil/contracts';
import type { RegisteredDevice } from '@vigil/registry';

import { distance, polygonCentroid, type Point, type SiteLayout } from './site-layout';

/** How a leak looks at the detector nearest to it: linear ramp, plateau, smooth decay to zero. */
export interface GasLeakProfile {
  /** %LEL added on top of the detector's clean-air reading at the plateau. */
  readonly peakLel: number;
  readonly rampSeconds: number;
  readonly holdSeconds: number;
  /** Time from the plateau back to clean air (ventilation or isolation of the source). */
  readonly decaySeconds: number;
}

export interface GasLeakOptions {
  readonly siteId: string;
  /** The detector at the source. With `areaId` as well, the whole area sees the leak from there. */
  readonly deviceId?: string;
  /** Every combustible detector of the area; the one nearest the source sees the peak. */
  readonly areaId?: string;
  /** Source position in the site frame; defaults to `deviceId`'s position, else the area centroid. */
  readonly source?: Point;
  readonly peakLel?: number;
  readonly rampSeconds?: number;
  readonly holdSeconds?: number;
  readonly decaySeconds?: number;
}

export const GAS_LEAK_DEFAULTS = {
  peakLel: 65,
  rampSeconds: 10,
  holdSeconds: 60,
  decaySeconds: 30,
} as const;

/**
 * Distance over which the peak seen by a detector falls to 1/e. A rough stand-in for dispersion,
 * which in reality depends on wind, release height and obstacles.
 */
export const LEAK_FALLOFF_METRES = 30;

export interface GasLeakTarget {
  readonly deviceId: string;
  /** Peak %LEL this detector sees. */
  readonly peakLel: number;
  /** Metres from the source, when positions are known. */
  readonly distanceM: number | undefined;
}

export interface GasLeakPlan {
  readonly siteId: string;
  readonly profile: GasLeakProfile;
  readonly targets: readonly GasLeakTarget[];
}

export class GasLeakError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GasLeakError';
  }
}

/** %LEL the leak adds `elapsedSeconds` after it started, for a detector whose peak is `peakLel`. */
export function gasLeakLevel(profile: GasLeakProfile, elapsedSeconds: number): number {
  const { peakLel, rampSeconds, holdSeconds, decaySeconds } = profile;
  if (elapsedSeconds < 0) return 0;
  if (elapsedSeconds < rampSeconds) return (peakLel * elapsedSeconds) / rampSeconds;
  const decaying = elapsedSeconds - rampSeconds - holdSeconds;
  if (decaying < 0) return peakLel;
  if (decaying >= decaySeconds) return 0;
  return (peakLel * (1 + Math.cos((Math.PI * decaying) / decaySeconds))) / 2;
}

export function gasLeakDurationSeconds(profile: GasLeakProfile): number {
  return profile.rampSeconds + profile.holdSeconds + profile.decaySeconds;
}

/**
 * Works out which combustible detectors see a leak and how strongly. Pure: throws a
 * {@link GasLeakError} naming the problem for unknown ids, wrong classes or bad numbers.
 */
export function planGasLeak(
  options: GasLeakOptions,
  devices: readonly RegisteredDevice[],
  site: SiteLayout | undefined,
): GasLeakPlan {
  const { siteId, deviceId, areaId } = options;
  if (!site) throw new GasLeakError(`unknown site "${siteId}"`);
  const profile: GasLeakProfile = {
    peakLel: options.peakLel ?? GAS_LEAK_DEFAULTS.peakLel,
    rampSeconds: options.rampSeconds ?? GAS_LEAK_DEFAULTS.rampSeconds,
    holdSeconds: options.holdSeconds ?? GAS_LEAK_DEFAULTS.holdSeconds,
    decaySeconds: options.decaySeconds ?? GAS_LEAK_DEFAULTS.decaySeconds,
  };
  if (!(profile.peakLel > 0 && profile.peakLel <= 100)) {
    throw new GasLeakError(`peakLel must be in (0, 100], got ${profile.peakLel}`);
  }
  for (const key of ['rampSeconds', 'holdSeconds', 'decaySeconds'] as const) {
    if (!(profile[key] >= 0 && Number.isFinite(profile[key]))) {
      throw new GasLeakError(`${key} must be a finite number >= 0, got ${profile[key]}`);
    }
  }
  if (deviceId === undefined && areaId === undefined) {
    throw new GasLeakError('a gas leak needs a deviceId or an areaId');
  }

  const onSite = devices.filter(device => device.siteId === siteId);
  let sourceDevice: RegisteredDevice | undefined;
  if (deviceId !== undefined) {
    sourceDevice = onSite.find(device => device.deviceId === deviceId);
    if (!sourceDevice) throw new GasLeakError(`unknown device "${deviceId}" in site "${siteId}"`);
    if (sourceDevice.deviceClass !== 'gas-combustible') {
      throw new GasLeakError(
        `device "${deviceId}" is a ${sourceDevice.deviceClass} detector, not gas-combustible`,
      );
    }
  }

  if (areaId === undefined) {
    return {
      siteId,
      profile,
      targets: [{ deviceId: deviceId as string, peakLel: profile.peakLel, distanceM: 0 }],
    };
  }

  const area = site.areas.find(candidate => candidate.id === areaId);
  if (!area) throw new GasLeakError(`unknown area "${areaId}" in site "${siteId}"`);
  const centroid = polygonCentroid(area.polygon);
  const inArea = onSite.filter(
    device =>
      device.deviceClass === 'gas-combustible' &&
      (device.areaId === areaId ||
        (device.position !== undefined && pointInRing(device.position, area.polygon))),
  );
  if (sourceDevice && !inArea.includes(sourceDevice)) inArea.push(sourceDevice);
  if (inArea.length === 0) {
    throw new GasLeakError(`area "${areaId}" has no gas-combustible detector`);
  }
  const source = options.source ?? sourceDevice?.position ?? centroid;
  const distances = inArea.map(device => distance(device.position ?? centroid, source));
  const nearest = Math.min(...distances);
  return {
    siteId,
    profile,
    targets: inArea.map((device, index) => {
      const distanceM = distances[index] as number;
      return {
        deviceId: device.deviceId,
        peakLel: profile.peakLel * Math.exp(-(distanceM - nearest) / LEAK_FALLOFF_METRES),
        distanceM,
      };
    }),
  };
}
