/**
 * JSON text of device-supplied data (an event's `detail`) for storage and consoles, that can never
 * throw and never grows without bound. Ingest already refuses payloads deeper, wider or longer
 * than `DEVICE_JSON_LIMITS`, so this is the second line: whatever reaches a serialiser through
 * another path (a bug, an internal message) costs at most `maxChars` and one log line upstream,
 * never the process (issue 10, finding 1).
 */
export const MAX_DETAIL_JSON_CHARS = 4096;

/** What is stored instead of a value that cannot be serialised (a cycle, a BigInt, too deep). */
export const UNSERIALISABLE_JSON = '"[unserialisable]"';

export function boundedJson(value: unknown, maxChars = MAX_DETAIL_JSON_CHARS): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return UNSERIALISABLE_JSON;
  }
  if (text === undefined) return 'null';
  if (text.length <= maxChars) return text;
  // Cut text is no longer JSON: store it as a JSON string saying so, still parseable by readers.
  return JSON.stringify(`[truncated ${text.length} chars] ${text.slice(0, maxChars - 64)}`);
}
