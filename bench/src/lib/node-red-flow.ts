/**
 * The peer pipeline for the side-by-side benchmark: a Node-RED 4 flow that does what Vigil's
 * core does for the benchmark's load, the way a competent Node-RED user would build it:
 *
 *   mqtt in (vigil/v1/+/+/telemetry, JSON) ─► function "rules" ─┬─► websocket out (/ws): alarms
 *   inject (every 1 s) ──────────────────────────────────────────┤
 *                                                                └─► influxdb batch: readings
 *
 * The function keeps per-device state in a Map: two-level threshold alarms with hysteresis and
 * off-delay (the same set-points, deadbands and delays as Vigil's defaults for the benchmark's
 * gas classes; the latched level 2 never clears by itself), an
 * offline watchdog (max(3 × interval, 30 s)), and a write buffer flushed every 200 ms or at 5,000
 * points, like Vigil's persister (VIGIL_WRITE_FLUSH_MS / VIGIL_WRITE_BATCH_LINES). Alarms go out
 * in Vigil's WebSocket shape, so one watcher measures both.
 */

export interface NodeRedFlowOptions {
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly qos: 0 | 1;
  readonly influxHost: string;
  readonly influxPort: number;
  readonly database: string;
  /** Points per write and the flush period, as Vigil's persister. */
  readonly batchSize?: number;
  readonly flushMs?: number;
  readonly offlineTimeoutMs?: number;
}

/** The rules: what a Node-RED user writes in a function node. Runs inside Node-RED's sandbox. */
export const RULES_FUNCTION = String.raw`
const now = Date.now();
const state = context.get('devices');
if (msg.topic === 'tick') {
  const out = [];
  const timeout = context.get('offlineTimeoutMs');
  for (const [key, d] of state) {
    if (!d.offline && now - d.lastSeen > timeout) {
      d.offline = true;
      out.push(alarm(key, d, 'offline', 'offline', now, now));
    }
  }
  return [out.length ? out : null, null];
}
const parts = msg.topic.split('/');
const site = parts[2], device = parts[3], key = site + '/' + device;
const p = msg.payload;
if (!p || typeof p !== 'object' || !p.values) return [null, null];
let d = state.get(key);
if (!d) { d = { lastSeen: now, offline: false, active: {} }; state.set(key, d); }
d.lastSeen = now;
const out = [];
if (d.offline) { d.offline = false; }
const samples = Array.isArray(p.batch) ? p.batch : [p];
const buffer = context.get('buffer');
for (const s of samples) {
  const values = s.values || {};
  const ts = typeof s.ts === 'number' ? s.ts : now;
  for (const metric in values) {
    const rules = RULES[metric];
    if (!rules || typeof values[metric] !== 'number') continue;
    for (const r of rules) {
      const v = values[metric];
      const on = r.high ? v >= r.setpoint : v <= r.setpoint;
      const off = r.high ? v < r.setpoint - r.deadband : v > r.setpoint + r.deadband;
      if (!d.active[r.id]) {
        if (on) { d.active[r.id] = true; d.offSince = d.offSince || {}; d.offSince[r.id] = undefined; out.push(alarm(key, d, r.id, r.level, ts, now)); }
      } else if (!r.latched) {
        // Clear only after the value has stayed past the deadband for the off-delay (event time).
        d.offSince = d.offSince || {};
        if (!off) d.offSince[r.id] = undefined;
        else if (d.offSince[r.id] === undefined) d.offSince[r.id] = ts;
        if (off && ts - d.offSince[r.id] >= r.offDelayMs) { d.active[r.id] = false; d.offSince[r.id] = undefined; }
      }
    }
  }
  const fields = Object.assign({}, values);
  if (typeof s.seq === 'number') fields.seq = s.seq;
  buffer.push({ measurement: 'telemetry', tags: { site: site, device: device }, fields: fields, timestamp: ts });
}
if (buffer.length >= context.get('batchSize')) {
  context.set('buffer', []);
  node.send([null, { payload: buffer }]);
}
return [out.length ? out : null, null];

function alarm(key, d, ruleId, level, at, detectedAt) {
  const parts = key.split('/');
  const seq = context.get('seq') + 1;
  context.set('seq', seq);
  return { payload: JSON.stringify({ type: 'alarm', seq: seq, alarm: {
    id: key + '/' + ruleId + '/' + seq, siteId: parts[0], deviceId: parts[1], ruleId: ruleId, level: level,
    state: 'active-unacknowledged', raisedAt: at, detectedAt: detectedAt,
    history: [{ action: 'raise', at: detectedAt }] } }) };
}
`;

/** Runs once when the flow starts: state, the write buffer and its flush timer, the rule table. */
export function rulesInitialise(options: {
  batchSize: number;
  flushMs: number;
  offlineTimeoutMs: number;
}): string {
  return String.raw`
context.set('devices', new Map());
context.set('buffer', []);
context.set('seq', 0);
context.set('batchSize', ${options.batchSize});
context.set('offlineTimeoutMs', ${options.offlineTimeoutMs});
const timer = setInterval(() => {
  const buffer = context.get('buffer');
  if (buffer.length === 0) return;
  context.set('buffer', []);
  node.send([null, { payload: buffer }]);
}, ${options.flushMs});
context.set('timer', timer);
`;
}

/**
 * Vigil's default set-points for the classes the benchmark fleet has (libs/rules README):
 * GB/T 50493-2019 §5.5.2 gas levels with the same deadbands, oxygen low/high.
 */
export const RULES_TABLE = String.raw`
const RULES = {
  lel: [
    { id: 'gas-l1', level: 'L1', high: true, setpoint: 25, deadband: 5, latched: false, offDelayMs: 30000 },
    { id: 'gas-l2', level: 'L2', high: true, setpoint: 50, deadband: 5, latched: true, offDelayMs: 0 },
  ],
  ppm: [
    { id: 'gas-l1', level: 'L1', high: true, setpoint: 7.054, deadband: 0.7054, latched: false, offDelayMs: 30000 },
    { id: 'gas-l2', level: 'L2', high: true, setpoint: 14.11, deadband: 0.7054, latched: true, offDelayMs: 0 },
  ],
  o2: [
    { id: 'o2-low', level: 'low', high: false, setpoint: 19.5, deadband: 0.5, latched: false, offDelayMs: 30000 },
    { id: 'o2-high', level: 'high', high: true, setpoint: 23.5, deadband: 0.5, latched: false, offDelayMs: 30000 },
  ],
};
`;

export function nodeRedFlow(options: NodeRedFlowOptions): unknown[] {
  const batchSize = options.batchSize ?? 5000;
  const flushMs = options.flushMs ?? 200;
  const offlineTimeoutMs = options.offlineTimeoutMs ?? 30_000;
  return [
    { id: 'tab', type: 'tab', label: 'vigil-peer', disabled: false },
    {
      id: 'broker',
      type: 'mqtt-broker',
      name: 'mosquitto',
      broker: options.mqttHost,
      port: String(options.mqttPort),
      clientid: 'nodered-peer',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '30',
      cleansession: true,
    },
    {
      id: 'influx',
      type: 'influxdb',
      hostname: options.influxHost,
      port: String(options.influxPort),
      protocol: 'http',
      database: options.database,
      name: 'influxd',
      usetls: false,
      influxdbVersion: '1.x',
    },
    {
      id: 'ws-listener',
      type: 'websocket-listener',
      path: '/ws',
      wholemsg: 'false',
    },
    {
      id: 'in',
      type: 'mqtt in',
      z: 'tab',
      name: 'telemetry',
      topic: 'vigil/v1/+/+/telemetry',
      qos: String(options.qos),
      datatype: 'json',
      broker: 'broker',
      nl: false,
      rap: false,
      inputs: 0,
      wires: [['rules']],
    },
    {
      id: 'tick',
      type: 'inject',
      z: 'tab',
      name: 'offline watchdog tick',
      props: [{ p: 'topic', vt: 'str' }],
      repeat: '1',
      once: true,
      onceDelay: '1',
      topic: 'tick',
      wires: [['rules']],
    },
    {
      id: 'rules',
      type: 'function',
      z: 'tab',
      name: 'rules: threshold + hysteresis, offline, write buffer',
      func: `${RULES_TABLE}\n${RULES_FUNCTION}`,
      outputs: 2,
      timeout: 0,
      noerr: 0,
      initialize: rulesInitialise({ batchSize, flushMs, offlineTimeoutMs }),
      finalize: "clearInterval(context.get('timer'));",
      libs: [],
      wires: [['ws'], ['batch']],
    },
    {
      id: 'ws',
      type: 'websocket out',
      z: 'tab',
      name: 'alarms',
      server: 'ws-listener',
      client: '',
      wires: [],
    },
    {
      id: 'batch',
      type: 'influxdb batch',
      z: 'tab',
      influxdb: 'influx',
      precision: 'ms',
      retentionPolicy: '',
      name: 'readings',
      wires: [],
    },
  ];
}

/** Headless settings: loopback only, no editor palette installs, no telemetry, quiet logs. */
export function nodeRedSettings(options: { port: number; userDir: string }): string {
  return `module.exports = ${JSON.stringify(
    {
      uiHost: '127.0.0.1',
      uiPort: options.port,
      userDir: options.userDir,
      flowFile: 'flows.json',
      credentialSecret: false,
      flowFilePretty: false,
      logging: { console: { level: 'warn', metrics: false, audit: false } },
      editorTheme: { projects: { enabled: false }, palette: { editable: false } },
      diagnostics: { enabled: false },
      runtimeState: { enabled: false },
      telemetry: { enabled: false },
      functionExternalModules: false,
      externalModules: { autoInstall: false, palette: { allowInstall: false } },
    },
    null,
    2,
  )};\n`;
}
