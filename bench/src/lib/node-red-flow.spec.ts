import {
  RULES_FUNCTION,
  RULES_TABLE,
  nodeRedFlow,
  nodeRedSettings,
  rulesInitialise,
} from './node-red-flow';

type Message = { topic?: string; payload?: unknown };

/** Runs the rules function the way Node-RED's function node does, with a plain context. */
function harness() {
  const store = new Map<string, unknown>();
  const sent: unknown[] = [];
  const context = {
    get: (key: string) => store.get(key),
    set: (key: string, value: unknown) => store.set(key, value),
  };
  const node = { send: (message: unknown) => sent.push(message) };
  const timers: (() => void)[] = [];
  const setIntervalStub = (callback: () => void) => {
    timers.push(callback);
    return timers.length;
  };
  new Function(
    'context',
    'node',
    'setInterval',
    rulesInitialise({ batchSize: 3, flushMs: 200, offlineTimeoutMs: 30_000 }),
  )(context, node, setIntervalStub);
  const rules = new Function('msg', 'context', 'node', `${RULES_TABLE}\n${RULES_FUNCTION}`) as (
    msg: Message,
    context: unknown,
    node: unknown,
  ) => [Message[] | null, Message | null];
  return {
    run: (msg: Message) => rules(msg, context, node),
    sent,
    flush: () => timers.forEach(timer => timer()),
    store,
  };
}

const reading = (device: string, lel: number, ts: number, seq = 0): Message => ({
  topic: `vigil/v1/plant/${device}/telemetry`,
  payload: { ts, seq, values: { lel } },
});

describe('the Node-RED peer flow', () => {
  it('raises each gas level once, with hysteresis and the L1 off-delay, and L2 latched', () => {
    const { run } = harness();
    const alarms = (msg: Message) =>
      (run(msg)[0] ?? []).map(m => {
        const alarm = (
          JSON.parse(m.payload as string) as { alarm: { ruleId: string; raisedAt: number } }
        ).alarm;
        return `${alarm.ruleId}@${alarm.raisedAt}`;
      });
    expect(alarms(reading('gc-1', 60, 1000))).toEqual(['gas-l1@1000', 'gas-l2@1000']);
    expect(alarms(reading('gc-1', 61, 2000))).toEqual([]);
    expect(alarms(reading('gc-1', 22, 3000))).toEqual([]); // inside the deadband
    expect(alarms(reading('gc-1', 10, 4000))).toEqual([]); // below: the off-delay starts
    expect(alarms(reading('gc-1', 30, 20_000))).toEqual([]); // L1 still active
    expect(alarms(reading('gc-1', 10, 21_000))).toEqual([]);
    expect(alarms(reading('gc-1', 10, 52_000))).toEqual([]); // held 31 s: L1 clears
    expect(alarms(reading('gc-1', 30, 53_000))).toEqual(['gas-l1@53000']); // L2 stays latched
  });

  it('batches readings for InfluxDB by size and on the timer', () => {
    const { run, sent, flush } = harness();
    run(reading('gc-1', 1, 1000, 1));
    run(reading('gc-2', 1, 1000, 1));
    expect(sent).toEqual([]);
    run(reading('gc-3', 1, 1000, 1));
    expect(sent).toHaveLength(1);
    expect((sent[0] as [null, { payload: unknown[] }])[1].payload).toEqual([
      {
        measurement: 'telemetry',
        tags: { site: 'plant', device: 'gc-1' },
        fields: { lel: 1, seq: 1 },
        timestamp: 1000,
      },
      expect.anything(),
      expect.anything(),
    ]);
    run(reading('gc-4', 1, 1000, 1));
    flush();
    expect(sent).toHaveLength(2);
  });

  it('watches for silent devices on its tick', () => {
    const { run } = harness();
    run(reading('gc-1', 1, Date.now()));
    expect(run({ topic: 'tick' })[0]).toBeNull();
    jest.useFakeTimers({ now: Date.now() + 31_000 });
    try {
      const [out] = run({ topic: 'tick' });
      expect(
        out?.map(
          m => (JSON.parse(m.payload as string) as { alarm: { ruleId: string } }).alarm.ruleId,
        ),
      ).toEqual(['offline']);
      expect(run({ topic: 'tick' })[0]).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  it('wires mqtt in → function → websocket out and influxdb batch', () => {
    const flow = nodeRedFlow({
      mqttHost: '127.0.0.1',
      mqttPort: 1883,
      qos: 1,
      influxHost: '127.0.0.1',
      influxPort: 8086,
      database: 'peer',
    }) as Array<Record<string, unknown>>;
    const byId = new Map(flow.map(node => [node['id'], node]));
    expect(byId.get('in')).toMatchObject({
      type: 'mqtt in',
      topic: 'vigil/v1/+/+/telemetry',
      qos: '1',
      datatype: 'json',
      wires: [['rules']],
    });
    expect(byId.get('rules')).toMatchObject({
      type: 'function',
      outputs: 2,
      wires: [['ws'], ['batch']],
    });
    expect(byId.get('batch')).toMatchObject({
      type: 'influxdb batch',
      influxdb: 'influx',
      precision: 'ms',
    });
    expect(byId.get('ws-listener')).toMatchObject({ type: 'websocket-listener', path: '/ws' });
    expect(nodeRedSettings({ port: 1880, userDir: '/tmp/x' })).toContain('"uiHost": "127.0.0.1"');
  });
});
