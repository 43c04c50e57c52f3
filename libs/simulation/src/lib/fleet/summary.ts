import { DEVICE_CLASSES } from '@vigil/contracts';

import type { FleetStats } from './fleet-simulator';

/**
 * One line for the operator: totals, rate since the previous line, per-class counts and the
 * problem counters, e.g.
 * `sent 1204 (24.1/s) gas-combustible 301, tag 290 | failed 0 dropped 0 | connected 25/25 | leaks 0`.
 */
export function formatSummary(
  stats: FleetStats,
  previous?: { readonly stats: FleetStats; readonly elapsedMs: number },
): string {
  const rate =
    previous && previous.elapsedMs > 0
      ? ` (${(((stats.sent - previous.stats.sent) * 1000) / previous.elapsedMs).toFixed(1)}/s)`
      : '';
  const byClass = DEVICE_CLASSES.filter(name => stats.sentByClass[name] > 0)
    .map(name => `${name} ${stats.sentByClass[name]}`)
    .join(', ');
  return [
    `sent ${stats.sent}${rate}${byClass ? ` ${byClass}` : ''}`,
    `failed ${stats.failed} dropped ${stats.dropped} connection errors ${stats.connectionErrors}`,
    `connected ${stats.connected}/${stats.connections}`,
    `leaks ${stats.activeLeaks}`,
  ].join(' | ');
}
