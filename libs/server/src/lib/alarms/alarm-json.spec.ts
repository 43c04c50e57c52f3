import { applyCommand, applySignal, DEFAULT_ALARM_POLICY, type Transition } from '@vigil/alarms';
import type { RuleSignal } from '@vigil/contracts';

import { alarmJson, alarmUpdateJson } from './alarm-json';
import { journalLine, type JournalEntry } from './alarm-journal';

function signal(active: boolean, detectedAt: number): RuleSignal {
  return {
    key: 'plant-1/gc-1/gas-l1',
    ruleId: 'gas-l1',
    siteId: 'plant-1',
    deviceId: 'gc-1',
    deviceClass: 'gas-combustible',
    areaId: 'tank-farm',
    category: 'process',
    priority: 2,
    level: 'L1',
    active,
    latched: false,
    metric: 'lel',
    value: active ? 30 : 10,
    threshold: 25,
    message: active ? '可燃气体 L1 "raised" \u2028' : 'cleared',
    at: detectedAt - 5,
    detectedAt,
  };
}

/** Raise, acknowledge with a note, clear: alarms with history, undefined fields and odd text. */
function transitions(): Transition[] {
  const out: Transition[] = [];
  const raise = applySignal(undefined, signal(true, 1000), { newId: () => 'a1' });
  if (!raise) throw new Error('expected a raise');
  out.push(raise);
  const ack = applyCommand(
    raise.alarm,
    { action: 'acknowledge', note: 'on it \\ "now"' },
    { id: 'zhang', role: 'operator' },
    2000,
    DEFAULT_ALARM_POLICY,
  );
  if (!ack.ok) throw new Error('expected an acknowledgement');
  out.push(ack.transition);
  const clear = applySignal(ack.transition.alarm, signal(false, 3000), { newId: () => 'a2' });
  if (!clear) throw new Error('expected a clear');
  out.push(clear);
  return out;
}

describe('alarm JSON made once', () => {
  it('gives the bytes JSON.stringify gives, for the journal, the spool lane and the WebSocket', () => {
    for (const { alarm, action } of transitions()) {
      expect(alarmJson(alarm)).toBe(JSON.stringify(alarm));
      const entry: JournalEntry = { t: 'alarm', alarm, action };
      expect(journalLine(entry)).toBe(JSON.stringify(entry));
      expect(`[${alarmUpdateJson(alarm, action)}]`).toBe(JSON.stringify([{ alarm, action }]));
      expect(JSON.parse(journalLine(entry))).toEqual(JSON.parse(JSON.stringify(entry)));
    }
  });

  it('writes device-mode entries as JSON.stringify does', () => {
    const entry: JournalEntry = {
      t: 'device',
      device: { siteId: 's', deviceId: 'd', mode: null, by: 'x', reason: 'r', at: 1 },
    };
    expect(journalLine(entry)).toBe(JSON.stringify(entry));
  });

  it('serialises an alarm object once, whoever asks', () => {
    const [{ alarm }] = transitions() as [Transition];
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      alarmJson(alarm);
      alarmJson(alarm);
      alarmUpdateJson(alarm, { action: 'raise', at: 1, by: undefined, note: undefined });
      expect(stringify.mock.calls.filter(([value]) => value === alarm)).toHaveLength(1);
    } finally {
      stringify.mockRestore();
    }
  });
});
