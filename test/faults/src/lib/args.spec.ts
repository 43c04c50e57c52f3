import { join } from 'node:path';

import { parseFaultArgs, selected } from './args';
import { EXPECTATIONS, catalogue, expectationOf } from './scenarios';
import { deployQueueBounds } from './stack';

describe('parseFaultArgs', () => {
  it('has small defaults and both modes', () => {
    expect(parseFaultArgs([])).toMatchObject({
      modes: ['split', 'allinone'],
      bus: 'jetstream',
      rate: 1000,
      durationMs: 40_000,
      influxDownMs: 20_000,
      docs: false,
    });
  });

  it('takes the issue figures, and the long InfluxDB outage only on request', () => {
    expect(parseFaultArgs(['--issue'])).toMatchObject({
      rate: 2000,
      durationMs: 60_000,
      connections: 4,
    });
    expect(parseFaultArgs(['--connections', '100'])).toMatchObject({ connections: 100 });
    expect(parseFaultArgs([])).toMatchObject({ natsNodes: 3 });
    expect(parseFaultArgs(['--nats-nodes', '1'])).toMatchObject({ natsNodes: 1 });
    expect(() => parseFaultArgs(['--nats-nodes', '2'])).toThrow(/--nats-nodes/);
    expect(parseFaultArgs(['--long'])).toMatchObject({
      rate: 5000,
      influxDownMs: 600_000,
      scenarios: ['*/influx-down'],
    });
  });

  it('refuses unknown options and bad values', () => {
    expect(() => parseFaultArgs(['--rat', '5'])).toThrow(/unknown option --rat/);
    expect(() => parseFaultArgs(['--rate', '-1'])).toThrow(/positive/);
    expect(() => parseFaultArgs(['--bus', 'kafka'])).toThrow(/--bus/);
  });
});

describe('scenario selection and expectations', () => {
  it('selects by id, by mode wildcard and by prefix', () => {
    expect(selected('split/kill-rules-1', ['split/kill-rules*'])).toBe(true);
    expect(selected('allinone/influx-down', ['*/influx-down'])).toBe(true);
    expect(selected('split/influx-down', ['allinone/*'])).toBe(false);
    expect(selected('split/baseline', [])).toBe(true);
  });

  it('lists a kill per process and the NATS node only for split mode', () => {
    expect(catalogue('split', 2).map(s => s.id)).toEqual([
      'split/baseline',
      'split/kill-ingest',
      'split/kill-rules-1',
      'split/kill-rules-2',
      'split/kill-persister',
      'split/kill-gateway',
      'split/kill-nats-node',
      'split/kill-nats-mqtt-node',
      'split/kill-mosquitto',
      'split/kill-mosquitto-persistent',
      'split/influx-down',
    ]);
    expect(catalogue('allinone', 1).map(s => s.id)).not.toContain('allinone/kill-nats-node');
  });

  it('switches expectations per run, later overrides winning', () => {
    // Issue 12 done: every scenario is guaranteed, except split on the legacy MQTT bridge.
    expect(expectationOf('split/kill-ingest', [])).toBe('guaranteed');
    expect(expectationOf('allinone/kill-vigil', [])).toBe('guaranteed');
    expect(expectationOf('split/kill-ingest', [], 'mqtt')).toBe('measured');
    expect(expectationOf('split/baseline', [], 'mqtt')).toBe('guaranteed');
    expect(EXPECTATIONS['split/*']).toBe('guaranteed');
    expect(expectationOf('split/kill-mosquitto', [])).toBe('measured');
    expect(expectationOf('split/kill-mosquitto-persistent', [])).toBe('guaranteed');
    expect(expectationOf('split/kill-ingest', ['guaranteed'])).toBe('guaranteed');
    expect(expectationOf('split/kill-rules-2', ['split/kill-rules*=guaranteed'])).toBe(
      'guaranteed',
    );
    expect(expectationOf('split/baseline', ['guaranteed', 'split/baseline=measured'])).toBe(
      'measured',
    );
    expect(() => expectationOf('x', ['x=maybe'])).toThrow(/--expect/);
  });
});

describe('the harness broker', () => {
  it("has deploy/'s queue bounds, not the test harness's 100,000 messages", () => {
    const bounds = deployQueueBounds(join(__dirname, '../../../..'));
    expect(bounds).toContain('max_queued_messages 6000000');
    expect(bounds.some(line => line.startsWith('max_queued_bytes '))).toBe(true);
  });
});
