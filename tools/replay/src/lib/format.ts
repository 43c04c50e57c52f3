import type { RuleSignal } from '@vigil/contracts';

import type { ReplaySummary } from './replay';

/** `2025-11-23T08:00:35.000Z` */
function instant(ms: number | undefined): string {
  return ms === undefined ? '—' : new Date(ms).toISOString();
}

function state(signal: RuleSignal): string {
  if (signal.chattering === true) return 'HELD (chattering)';
  if (signal.chattering === false) return `${signal.active ? 'ACTIVE' : 'CLEARED'} (chatter end)`;
  return signal.active ? 'ACTIVE' : 'CLEARED';
}

function value(signal: RuleSignal): string {
  if (signal.value === undefined) return '-';
  return typeof signal.value === 'number'
    ? String(Number(signal.value.toPrecision(6)))
    : String(signal.value);
}

/**
 * One signal per line: time, device, rule, level, state, value, message. The time is when the
 * engine decided (`detectedAt`, virtual time: the console would have shown it then), so lines are
 * in time order; the event time of the reading behind it is `at` in `--json`.
 * `2025-11-23T08:04:15.150Z  plant-1/gc-tf-01  gas-l1  L1  ACTIVE  25.4  Combustible gas 25.4 …`
 */
export function formatSignal(signal: RuleSignal): string {
  return [
    instant(signal.detectedAt),
    `${signal.siteId}/${signal.deviceId}`.padEnd(18),
    signal.ruleId.padEnd(14),
    signal.level.padEnd(12),
    state(signal).padEnd(21),
    value(signal).padStart(6),
    signal.message,
  ].join('  ');
}

/** A signal as one JSON line (`--json`). */
export function signalJson(signal: RuleSignal): string {
  return JSON.stringify({ type: 'signal', ...signal });
}

export function summaryJson(summary: ReplaySummary): string {
  return JSON.stringify({ type: 'summary', ...summary });
}

function table(title: string, counts: Readonly<Record<string, number>>, empty: string): string[] {
  const entries = Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  if (entries.length === 0) return [`${title}: ${empty}`];
  const width = Math.max(...entries.map(([name]) => name.length));
  return [
    `${title}:`,
    ...entries.map(([name, count]) => `  ${name.padEnd(width)}  ${String(count).padStart(5)}`),
  ];
}

/** The summary table printed after the signals. */
export function formatSummary(summary: ReplaySummary): string {
  const { records, engine } = summary;
  return [
    '',
    `Replayed ${records.readings} readings, ${records.events} events and ${records.status} status ` +
      `messages from ${instant(summary.from)} to ${instant(summary.to)}.`,
    `${summary.signals} signals, ${summary.raised} raised; ${engine.outOfOrderReadings} readings out ` +
      `of order (${engine.lateReadings} late, not evaluated); ${engine.unknownDeviceRecords} records of ` +
      `unknown devices; ${engine.suppressedOffline} offline signals held back by a gateway.`,
    ...table('Raised per rule', summary.raisedByRule, 'none'),
    ...table('Raised per device', summary.raisedByDevice, 'none'),
    ...table('Chattering keys (times held)', summary.chattering, 'none'),
  ].join('\n');
}
