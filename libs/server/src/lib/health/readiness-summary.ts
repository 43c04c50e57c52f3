import type { Readiness } from '../gateway/api-responses';

/** A failing check's reason is cut to this (the process's own /readyz has the whole story). */
const MAX_REASON_CHARS = 300;

/**
 * Checks a process does not publish to `vigil_health`: `services` is the exchange itself (a
 * gateway's view of the others; published, two gateways would hold each other not ready for ever).
 */
const NOT_PUBLISHED = new Set(['services']);

/** The failing checks of one /readyz answer, each with a short reason, in the answer's order. */
export function failingChecks(body: Readiness): { check: string; reason: string }[] {
  const failing: { check: string; reason: string }[] = [];
  for (const [check, passing] of Object.entries(body.checks)) {
    if (passing !== false || NOT_PUBLISHED.has(check)) continue;
    failing.push({ check, reason: cut(reasonOf(check, body)) });
  }
  return failing;
}

/** What a failing check means, from the details the same answer carries. */
function reasonOf(check: string, body: Readiness): string {
  const details = body.details;
  switch (check) {
    case 'broker':
      return 'not connected to the MQTT broker';
    case 'storage':
      return `history is not kept${details?.storage?.reason ? `: ${details.storage.reason}` : ''}`;
    case 'rules': {
      const first = body.monitoringLost?.[0];
      return `monitoring lost (${body.monitoringLostCount ?? 0})${first ? `: ${first.message}` : ''}`;
    }
    case 'partitions': {
      const unowned = details?.partitions?.unowned ?? [];
      return `partitions nobody evaluates: ${unowned.map(entry => entry.partition).join(', ')}`;
    }
    case 'pipeline':
      return `pipeline canary stalled at ${body.pipeline?.stalled.join(', ') ?? '?'}`;
    case 'backbone':
      return (
        Object.entries(details?.backbone ?? {})
          .filter(([, condition]) => !condition.ok)
          .map(([part, condition]) => `${part}: ${condition.reason ?? 'not ok'}`)
          .join('; ') || 'JetStream backbone not ok'
      );
    case 'spool':
      return details?.spool?.reason ?? 'local spool not ok';
    case 'ingest':
      return details?.ingest?.reason ?? 'ingest not ok';
    case 'journals':
      return Object.entries(details?.journals ?? {})
        .map(([journal, state]) => `${journal}: ${state.lastError}`)
        .join('; ');
    case 'started':
      return body.phase ?? 'not started';
    case 'permits':
      return `active permits no rule engine evaluates: ${details?.permits?.unevaluatedCount ?? 0}`;
    case 'alarmListeners':
      return `alarm updates not handled by ${(details?.alarmListeners?.failed ?? [])
        .map(failure => `${failure.listener} (${failure.lastError})`)
        .join(', ')}`;
    default:
      return check;
  }
}

function cut(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}
