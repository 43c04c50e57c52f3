import { z } from 'zod';

import { durationSchema, formatDuration } from '../util/duration';

/**
 * How the offered rate (readings per second) moves during a load run.
 * - `steady`: one rate for the whole run.
 * - `ramp`: linear from `from` to `to` over the run (finds the knee in one run).
 * - `burst`: `rate`, with `peak` for `burstMs` every `everyMs` (shift changes, alarm storms).
 * - `steps`: a list of (rate, duration) steps, run one after the other.
 */
export type LoadProfile =
  | { readonly kind: 'steady'; readonly rate: number; readonly durationMs: number }
  | {
      readonly kind: 'ramp';
      readonly from: number;
      readonly to: number;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'burst';
      readonly rate: number;
      readonly peak: number;
      readonly everyMs: number;
      readonly burstMs: number;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'steps';
      readonly steps: readonly { readonly rate: number; readonly durationMs: number }[];
    };

const rate = z.number().min(0).max(10_000_000);
const positiveDuration = durationSchema({ min: 1 });

export const loadProfileSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('steady'), rate, durationMs: positiveDuration }),
  z.object({ kind: z.literal('ramp'), from: rate, to: rate, durationMs: positiveDuration }),
  z
    .object({
      kind: z.literal('burst'),
      rate,
      peak: rate,
      everyMs: positiveDuration,
      burstMs: positiveDuration,
      durationMs: positiveDuration,
    })
    .refine(profile => profile.burstMs < profile.everyMs, {
      message: 'a burst must be shorter than its period',
    }),
  z.object({
    kind: z.literal('steps'),
    steps: z.array(z.object({ rate, durationMs: positiveDuration })).min(1),
  }),
]);

export function profileDurationMs(profile: LoadProfile): number {
  return profile.kind === 'steps'
    ? profile.steps.reduce((sum, step) => sum + step.durationMs, 0)
    : profile.durationMs;
}

/** Offered rate `elapsedMs` into the run; `undefined` once the run is over. */
export function rateAt(profile: LoadProfile, elapsedMs: number): number | undefined {
  if (elapsedMs < 0 || elapsedMs >= profileDurationMs(profile)) return undefined;
  switch (profile.kind) {
    case 'steady':
      return profile.rate;
    case 'ramp':
      return profile.from + ((profile.to - profile.from) * elapsedMs) / profile.durationMs;
    case 'burst':
      return elapsedMs % profile.everyMs >= profile.everyMs - profile.burstMs
        ? profile.peak
        : profile.rate;
    case 'steps': {
      let start = 0;
      for (const step of profile.steps) {
        if (elapsedMs < start + step.durationMs) return step.rate;
        start += step.durationMs;
      }
      return undefined;
    }
  }
}

/** Highest rate the profile ever asks for. */
export function peakRate(profile: LoadProfile): number {
  switch (profile.kind) {
    case 'steady':
      return profile.rate;
    case 'ramp':
      return Math.max(profile.from, profile.to);
    case 'burst':
      return Math.max(profile.rate, profile.peak);
    case 'steps':
      return Math.max(...profile.steps.map(step => step.rate));
  }
}

/** Readings the profile offers in total (the integral of its rate). */
export function offeredReadings(profile: LoadProfile): number {
  switch (profile.kind) {
    case 'steady':
      return (profile.rate * profile.durationMs) / 1000;
    case 'ramp':
      return (((profile.from + profile.to) / 2) * profile.durationMs) / 1000;
    case 'burst': {
      const periods = Math.floor(profile.durationMs / profile.everyMs);
      const rest = profile.durationMs - periods * profile.everyMs;
      const restBurst = Math.max(0, rest - (profile.everyMs - profile.burstMs));
      const burstMs = periods * profile.burstMs + restBurst;
      return (profile.peak * burstMs + profile.rate * (profile.durationMs - burstMs)) / 1000;
    }
    case 'steps':
      return profile.steps.reduce((sum, step) => sum + (step.rate * step.durationMs) / 1000, 0);
  }
}

export function describeProfile(profile: LoadProfile): string {
  switch (profile.kind) {
    case 'steady':
      return `steady ${profile.rate}/s for ${formatDuration(profile.durationMs)}`;
    case 'ramp':
      return `ramp ${profile.from}/s → ${profile.to}/s over ${formatDuration(profile.durationMs)}`;
    case 'burst':
      return (
        `burst ${profile.rate}/s with ${profile.peak}/s for ${formatDuration(profile.burstMs)} ` +
        `every ${formatDuration(profile.everyMs)}, ${formatDuration(profile.durationMs)}`
      );
    case 'steps':
      return `steps ${profile.steps.map(step => `${step.rate}/s×${formatDuration(step.durationMs)}`).join(', ')}`;
  }
}
