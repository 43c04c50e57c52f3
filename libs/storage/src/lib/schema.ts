import {
  boundedJson,
  type Alarm,
  type AlarmAction,
  type AlarmState,
  type CanaryStamp,
  type DeviceEvent,
  type DeviceStatus,
  type Reading,
} from '@vigil/contracts';

import {
  LineProtocolError,
  escapeFieldKey,
  escapeKey,
  formatFloat,
  formatInteger,
  formatString,
  msToNs,
} from './line-protocol';

/**
 * Retention classes, named after the InfluxDB 1.x retention policies that hold them. Another
 * adapter maps them to its own containers (e.g. two InfluxDB 2.x buckets).
 */
export const RETENTION_POLICIES = ['raw', 'events'] as const;
export type RetentionPolicy = (typeof RETENTION_POLICIES)[number];

/** One encoded point and where it goes. */
export interface WriteLine {
  readonly rp: RetentionPolicy;
  /** Line protocol with a nanosecond timestamp, no trailing newline. */
  readonly line: string;
}

/**
 * Several encoded points of one retention class as one string: what the BatchingWriter buffers
 * and a TelemetryStore sends. Lines wait in the buffer until InfluxDB acknowledges them, long
 * enough to be promoted to V8's old generation; one large string per record batch is far cheaper
 * for the GC than an object and a string per point. Build chunks with `toWriteChunks`.
 */
export interface WriteChunk {
  readonly rp: RetentionPolicy;
  /**
   * `lines` lines of line protocol joined by `\n`, no trailing newline. Never split it at `\n`:
   * a string field may hold a newline of its own. As UTF-8 bytes (`encodeChunks`) the text waits
   * outside V8's heap: a string of a few hundred lines reaches the old generation (or, over
   * 128 KB, is allocated there) and brings on full collections; a Buffer does not.
   */
  readonly text: string | Uint8Array;
  /** How many lines (points) `text` holds, at least 1: every bound and counter is in lines. */
  readonly lines: number;
}

/** The same chunks with their text as UTF-8 bytes (what the persister buffers). */
export function encodeChunks(chunks: readonly WriteChunk[]): WriteChunk[] {
  return chunks.map(chunk =>
    typeof chunk.text === 'string' ? { ...chunk, text: Buffer.from(chunk.text, 'utf8') } : chunk,
  );
}

/**
 * One chunk per retention class, each holding that class's lines in their order (the classes go
 * to separate policies, so their relative order does not matter). `[]` for no lines.
 */
export function toWriteChunks(lines: readonly WriteLine[]): WriteChunk[] {
  if (lines.length === 0) return [];
  const texts = new Map<RetentionPolicy, string[]>();
  for (const { rp, line } of lines) {
    const group = texts.get(rp);
    if (group) group.push(line);
    else texts.set(rp, [line]);
  }
  const chunks: WriteChunk[] = [];
  // join() builds one flat string; a single line is returned as it is, so flatten it here.
  for (const [rp, group] of texts) {
    chunks.push({ rp, text: flattened(group.join('\n')), lines: group.length });
  }
  return chunks;
}

export const MEASUREMENTS = {
  telemetry: 'telemetry',
  deviceEvent: 'device_event',
  deviceStatus: 'device_status',
  alarmEvent: 'alarm_event',
  canary: 'canary',
} as const;

export const MEASUREMENT_RETENTION: Readonly<
  Record<(typeof MEASUREMENTS)[keyof typeof MEASUREMENTS], RetentionPolicy>
> = {
  telemetry: 'raw',
  device_event: 'raw',
  device_status: 'raw',
  alarm_event: 'events',
  canary: 'raw',
};

const SEQ_FIELD = 'seq';

// Tags are written sorted by key because influxd sorts every point's tags that arrive unsorted.
function tag(key: string, value: string | undefined): string {
  return value === undefined || value === '' ? '' : `,${key}=${escapeKey(value, `tag ${key}`)}`;
}

function integerMs(value: number, what: string): string {
  if (!Number.isFinite(value)) throw new LineProtocolError(`${what} is not finite: ${value}`);
  return formatInteger(Math.trunc(value));
}

/**
 * `telemetry`: tags area, class, device, site; one float (number) or boolean field per metric,
 * plus `seq` as an integer when the device sent one; time = the reading's event time.
 * Throws LineProtocolError for a reading that cannot be written (no fields, a metric named `seq`
 * or `time`, a non-finite number): the caller counts and dead-letters it.
 */
export function readingLine(reading: Reading): WriteLine {
  let line =
    MEASUREMENTS.telemetry +
    tag('area', reading.areaId) +
    tag('class', reading.deviceClass) +
    tag('device', reading.deviceId) +
    tag('site', reading.siteId);
  let separator = ' ';
  for (const metric in reading.values) {
    const value = reading.values[metric];
    if (value === undefined) continue;
    if (metric === SEQ_FIELD) {
      throw new LineProtocolError(`metric name "seq" is reserved in ${MEASUREMENTS.telemetry}`);
    }
    line += `${separator}${escapeFieldKey(metric, 'metric name')}=${
      typeof value === 'boolean' ? (value ? 'true' : 'false') : formatFloat(value)
    }`;
    separator = ',';
  }
  if (reading.seq !== undefined) {
    line += `${separator}${SEQ_FIELD}=${formatInteger(reading.seq)}`;
    separator = ',';
  }
  if (separator === ' ') {
    throw new LineProtocolError(
      `reading of ${reading.siteId}/${reading.deviceId} at ${reading.ts} has no values and no seq`,
    );
  }
  return { rp: 'raw', line: `${line} ${msToNs(reading.ts)}` };
}

/**
 * V8 keeps a string built piece by piece as a tree of the pieces until something reads it: about
 * 650 B per reading line instead of 200 B once flat (measured). Whatever waits in the writer's
 * buffer lives long enough to reach the old generation, so at 50,000 readings/s the trees alone
 * were most of what the pipeline promoted; reading one character flattens the string once. The
 * line builders leave their lines as trees (they die young, joined into a chunk right away);
 * toWriteChunks flattens what the writer buffers.
 */
function flattened(line: string): string {
  line.charCodeAt(0);
  return line;
}

/** `device_event`: tags class, code, device, site; fields detail (JSON), received_at (ms). */
export function deviceEventLine(event: DeviceEvent): WriteLine {
  let line =
    MEASUREMENTS.deviceEvent +
    tag('class', event.deviceClass) +
    tag('code', event.code) +
    tag('device', event.deviceId) +
    tag('site', event.siteId) +
    ' ';
  // Device-supplied: bounded and unable to throw (a 6,000-deep detail once killed the process).
  if (event.detail !== undefined) line += `detail=${formatString(boundedJson(event.detail))},`;
  line += `received_at=${integerMs(event.receivedAt, 'receivedAt')}`;
  return { rp: 'raw', line: `${line} ${msToNs(event.ts)}` };
}

/** `device_status`: tags class, device, site; field online. */
export function deviceStatusLine(status: DeviceStatus): WriteLine {
  const line =
    MEASUREMENTS.deviceStatus +
    tag('class', status.deviceClass) +
    tag('device', status.deviceId) +
    tag('site', status.siteId) +
    ` online=${status.online ? 'true' : 'false'}`;
  return { rp: 'raw', line: `${line} ${msToNs(status.ts)}` };
}

const ACTIVE_STATES: ReadonlySet<AlarmState> = new Set([
  'active-unacknowledged',
  'active-acknowledged',
]);
const NS_SLOTS_PER_MS = 1_000_000;

export type AlarmEventEncoder = (alarm: Alarm, action: AlarmAction) => WriteLine;

/**
 * `alarm_event`, one point per lifecycle action: tags category, device, level, priority, rule,
 * site; fields alarm_id, state (after the action), action, active, value (float) or value_bool,
 * threshold, metric, message, by, note, detected_at (ms); location (JSON) and area for alarms
 * located inside a device (fire-panel points, channels).
 *
 * Time = the action's ms × 1e6 + a slot in [0, 1e6) derived from the event itself (alarm id,
 * its history length, action, time; the history length picks a band, so an alarm's changes in
 * one millisecond stay in order): InfluxDB keeps one point per series and timestamp, so two
 * events of one series in one millisecond (a clear and an acknowledge; two fire-panel points of
 * one device) need different slots, and the same event written again (a JetStream redelivery
 * after the ack wait, a spool replay after a crash, another process) must land on the same point,
 * never a second row. An encoder remembers the slots it gave (up to `remember` events) and moves
 * a different event whose slot is taken to the next free one, so within that memory no event
 * overwrites another; beyond it (a restart), two events of one series, millisecond and band
 * (about 1 in 9,900 per pair) that had been moved apart could land on one point again.
 */
/** Bands of a millisecond's slots by history length (lifecycle.ts keeps at most 100 actions). */
const HISTORY_BANDS = 101;
const SLOTS_PER_BAND = Math.floor(NS_SLOTS_PER_MS / HISTORY_BANDS);

export function createAlarmEventEncoder({
  remember = 100_000,
}: { remember?: number } = {}): AlarmEventEncoder {
  if (!Number.isInteger(remember) || remember < 1) {
    throw new RangeError(`remember must be a positive integer: ${remember}`);
  }
  /** `series time slot` → the event that holds it, oldest first (a Map keeps insertion order). */
  const taken = new Map<string, string>();
  const slotFor = (series: string, alarm: Alarm, action: AlarmAction): number => {
    const event = `${alarm.id}\u0000${alarm.history.length}\u0000${action.action}\u0000${action.at}`;
    // An alarm's own changes in one millisecond keep their order (its history's), the rest of
    // the band spreads the alarms of one series.
    const band = Math.min(alarm.history.length, HISTORY_BANDS - 1);
    let slot = band * SLOTS_PER_BAND + (fnv1a32(event) % SLOTS_PER_BAND);
    for (let probe = 0; probe < NS_SLOTS_PER_MS; probe += 1) {
      const key = `${series} ${action.at} ${slot}`;
      const holder = taken.get(key);
      if (holder === event) return slot;
      if (holder === undefined) {
        taken.set(key, event);
        if (taken.size > remember) {
          const oldest = taken.keys().next();
          if (!oldest.done) taken.delete(oldest.value);
        }
        return slot;
      }
      slot = (slot + 1) % NS_SLOTS_PER_MS;
    }
    throw new RangeError(`no free slot for ${alarm.id} in ${action.at} ms`);
  };
  return (alarm, action) => {
    const series =
      MEASUREMENTS.alarmEvent +
      tag('category', alarm.category) +
      tag('device', alarm.deviceId) +
      tag('level', alarm.level) +
      tag('priority', String(alarm.priority)) +
      tag('rule', alarm.ruleId) +
      tag('site', alarm.siteId);
    const offset = slotFor(series, alarm, action);
    let line =
      series +
      ` alarm_id=${formatString(alarm.id)}` +
      `,state=${formatString(alarm.state)}` +
      `,action=${formatString(action.action)}` +
      `,active=${ACTIVE_STATES.has(alarm.state) ? 'true' : 'false'}`;
    // A boolean value gets its own field: one field cannot hold floats and booleans (type conflict).
    if (typeof alarm.value === 'number') line += `,value=${formatFloat(alarm.value)}`;
    else if (typeof alarm.value === 'boolean') {
      line += `,value_bool=${alarm.value ? 'true' : 'false'}`;
    }
    if (alarm.threshold !== undefined) line += `,threshold=${formatFloat(alarm.threshold)}`;
    if (alarm.metric !== undefined) line += `,metric=${formatString(alarm.metric)}`;
    line += `,message=${formatString(alarm.message)}`;
    // Where inside the device (fire-panel point, channel) and that point's area: fields, not tags.
    if (alarm.location !== undefined) {
      line += `,location=${formatString(JSON.stringify(alarm.location))}`;
      if (alarm.areaId !== undefined) line += `,area=${formatString(alarm.areaId)}`;
    }
    if (action.by !== undefined) line += `,by=${formatString(action.by)}`;
    if (action.note !== undefined) line += `,note=${formatString(action.note)}`;
    line += `,detected_at=${integerMs(alarm.detectedAt, 'detectedAt')}`;
    return { rp: 'events', line: `${line} ${msToNs(action.at, offset)}` };
  };
}

/** FNV-1a, 32 bits: a stable, fast spread of an event's identity over the slots of a millisecond. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The process-wide encoder (see createAlarmEventEncoder for why it remembers its slots). */
export const alarmEventLine: AlarmEventEncoder = createAlarmEventEncoder();

/**
 * `canary`: tags origin, site; field seq (integer); time = when the canary was sent. The pipeline
 * canary's proof that InfluxDB takes writes (the persister counts its hop only once the batch
 * holding this line is acknowledged). Never in `telemetry`: the canary is not a device.
 */
export function canaryLine(canary: CanaryStamp): WriteLine {
  const line =
    MEASUREMENTS.canary +
    tag('origin', canary.origin) +
    tag('site', canary.siteId) +
    ` seq=${integerMs(canary.seq, 'canary seq')}`;
  return { rp: 'raw', line: `${line} ${msToNs(canary.sentAt)}` };
}

/** Tag keys the history reads filter on (history-queries.ts); MEASUREMENT_COLUMNS lists them. */
export const TAG = {
  site: 'site',
  device: 'device',
  rule: 'rule',
  category: 'category',
  priority: 'priority',
} as const;

/** `alarm_event` fields the history reads select or filter on (history-queries.ts). */
export const ALARM_EVENT_FIELD = {
  alarmId: 'alarm_id',
  action: 'action',
  note: 'note',
} as const;

/**
 * The tags and fields of each measurement, as the line builders above write them, for queries
 * written elsewhere (the Grafana dashboards in deploy/grafana) to be checked against. `telemetry`
 * has one field per metric besides `seq`: the metrics of its device class (DEVICE_CLASS_DEFINITIONS
 * in @vigil/contracts) and a device's `extraMetrics`. schema.spec.ts holds the builders to it.
 */
export const MEASUREMENT_COLUMNS: Readonly<
  Record<
    (typeof MEASUREMENTS)[keyof typeof MEASUREMENTS],
    { readonly tags: readonly string[]; readonly fields: readonly string[] }
  >
> = {
  telemetry: { tags: ['area', 'class', TAG.device, TAG.site], fields: [SEQ_FIELD] },
  device_event: { tags: ['class', 'code', 'device', 'site'], fields: ['detail', 'received_at'] },
  device_status: { tags: ['class', 'device', 'site'], fields: ['online'] },
  canary: { tags: ['origin', 'site'], fields: ['seq'] },
  alarm_event: {
    tags: [TAG.category, TAG.device, 'level', TAG.priority, TAG.rule, TAG.site],
    fields: [
      ALARM_EVENT_FIELD.alarmId,
      'state',
      ALARM_EVENT_FIELD.action,
      'active',
      'value',
      'value_bool',
      'threshold',
      'metric',
      'message',
      'by',
      ALARM_EVENT_FIELD.note,
      'detected_at',
      // Alarms located inside a device (fire-panel point, channel): the point and its area.
      'location',
      'area',
    ],
  },
};
