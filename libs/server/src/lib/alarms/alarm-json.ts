import type { Alarm, AlarmAction } from '@vigil/contracts';

/**
 * The JSON of each alarm state, made once: a transition's alarm (with its history of up to 100
 * actions) is written to the alarm journal, to the spool's alarm lane and to every console's
 * WebSocket, and each used to stringify it again. Under the offline cascade of a Vigil that fell
 * behind at 50,000 readings/s, those three JSON.stringify calls of the same objects were ~19 % of
 * the main thread (bench/README.md, "The alarm transitions' JSON"). Alarms are immutable (every
 * transition makes a new object), so the text of an object never changes; the cache holds it only
 * as long as the alarm object itself lives.
 */
const texts = new WeakMap<Alarm, string>();

export function alarmJson(alarm: Alarm): string {
  let text = texts.get(alarm);
  if (text === undefined) {
    text = JSON.stringify(alarm);
    texts.set(alarm, text);
  }
  return text;
}

/**
 * `JSON.stringify({ alarm, action })`'s text (an AlarmUpdate, a journal entry without its `t`),
 * with the alarm's cached JSON: the same bytes, key for key.
 */
export function alarmUpdateJson(alarm: Alarm, action: AlarmAction): string {
  return `{"alarm":${alarmJson(alarm)},"action":${JSON.stringify(action)}}`;
}
