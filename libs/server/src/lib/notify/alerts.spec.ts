import { join } from 'node:path';

import type { Alarm } from '@vigil/contracts';
import { buildRegistry } from '@vigil/registry';
import { loadRegistry, readRegistrySources } from '@vigil/registry-node';

import {
  alertKey,
  alertsFor,
  escalationPathOf,
  nodesToNotify,
  resolved,
  type PostableAlert,
} from './alerts';

const SAMPLE = join(__dirname, '../../../../../registry/sample');
const registry = loadRegistry(SAMPLE);
const NOW = Date.UTC(2026, 11, 7, 2, 0, 0);
const PATH = ['ent-huaxin', 'park-chem', 'county-east', 'city-demo'];

function alarm(overrides: Partial<Alarm> = {}): Alarm {
  return {
    id: 'alarm-1',
    key: 'plant-1/gc-ru-01/gas-combustible',
    ruleId: 'gas-combustible',
    siteId: 'plant-1',
    deviceId: 'gc-ru-01',
    deviceClass: 'gas-combustible',
    areaId: 'reactor-unit',
    category: 'process',
    priority: 1,
    level: 'L2',
    state: 'active-unacknowledged',
    conditionActive: true,
    latched: false,
    metric: 'lel',
    value: 60,
    threshold: 50,
    message: 'Combustible gas 60 %LEL ≥ L2 set-point 50 %LEL',
    raisedAt: NOW - 1000,
    clearedAt: undefined,
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    updatedAt: NOW - 1000,
    detectedAt: NOW - 1000,
    history: [],
    ...overrides,
  };
}

describe('nodesToNotify', () => {
  it('tells the enterprise about an unacknowledged P1 and P2, nobody about P3 and P4', () => {
    expect(nodesToNotify(alarm({ priority: 1 }), PATH)).toEqual(['ent-huaxin']);
    expect(nodesToNotify(alarm({ priority: 2 }), PATH)).toEqual(['ent-huaxin']);
    expect(nodesToNotify(alarm({ priority: 3 }), PATH)).toEqual([]);
    expect(nodesToNotify(alarm({ priority: 4 }), PATH)).toEqual([]);
  });

  it('adds every node the alarm escalated to, keeping the ones below', () => {
    const escalated = alarm({ escalation: { level: 2, nodeId: 'county-east', at: NOW } });
    expect(nodesToNotify(escalated, PATH)).toEqual(['ent-huaxin', 'park-chem', 'county-east']);
  });

  it('stops on acknowledge, clear and reset', () => {
    expect(nodesToNotify(alarm({ state: 'active-acknowledged' }), PATH)).toEqual([]);
    expect(nodesToNotify(alarm({ state: 'returned-unacknowledged' }), PATH)).toEqual([]);
    expect(nodesToNotify(alarm({ state: 'normal' }), PATH)).toEqual([]);
  });

  it('tells the nodes an overdue escalation reached, after the enterprise acknowledged', () => {
    const overdue = alarm({
      state: 'active-acknowledged',
      overdue: true,
      escalation: { level: 1, nodeId: 'park-chem', at: NOW },
    });
    expect(nodesToNotify(overdue, PATH)).toEqual(['park-chem']);
    expect(nodesToNotify({ ...overdue, state: 'normal' }, PATH)).toEqual([]);
  });

  it('pages nobody for a hidden alarm (shelved, suppressed by design)', () => {
    expect(
      nodesToNotify(alarm({ shelved: { by: 'op', reason: 'r', until: NOW + 1 } }), PATH),
    ).toEqual([]);
    expect(nodesToNotify(alarm({ suppressed: 'maintenance' }), PATH)).toEqual([]);
    expect(
      nodesToNotify(alarm({ suppressedBy: [{ kind: 'parent-offline', since: NOW }] }), PATH),
    ).toEqual([]);
  });

  it('pages nobody for a site the registry does not know (no path)', () => {
    expect(nodesToNotify(alarm(), [])).toEqual([]);
  });
});

describe('alertsFor', () => {
  const context = { registry, consoleUrl: 'https://vigil.example/' };

  it('labels the alert with site, organisation path, priority, rule, device, area and alarm id', () => {
    expect(escalationPathOf(registry, 'plant-1')).toEqual(PATH);
    const alerts = alertsFor(alarm(), context, NOW + 240_000);
    expect([...alerts.keys()]).toEqual([alertKey('alarm-1', 'ent-huaxin')]);
    const alert = alerts.get('alarm-1/ent-huaxin');
    expect(alert?.labels).toEqual({
      alertname: 'VigilAlarm',
      alarm_id: 'alarm-1',
      notify_node: 'ent-huaxin',
      org_path: 'city-demo/county-east/park-chem/ent-huaxin',
      enterprise: 'ent-huaxin',
      site: 'plant-1',
      priority: 'P1',
      severity: 'critical',
      rule: 'gas-combustible',
      category: 'process',
      device: 'gc-ru-01',
      area: 'reactor-unit',
      device_class: 'gas-combustible',
    });
    expect(alert?.annotations['summary_zh']).toContain('紧急报警 P1');
    expect(alert?.annotations['summary_zh']).toContain('装置区可燃气 1');
    expect(alert?.annotations['summary_en']).toContain('Combustible gas 60 %LEL');
    expect(alert?.annotations['value']).toBe('60 %LEL');
    expect(alert?.annotations['console_url']).toBe('https://vigil.example/#/alarms?alarm=alarm-1');
    expect(alert?.endsAt).toBe(new Date(NOW + 240_000).toISOString());
    expect(resolved(alert as PostableAlert, NOW).endsAt).toBe(new Date(NOW).toISOString());
  });

  it('sends an alarm of a site the registry no longer knows to the default route', () => {
    const alerts = alertsFor(alarm({ siteId: 'gone' }), context, NOW);
    expect(alerts.get('alarm-1/_unregistered')?.labels['notify_node']).toBe('_unregistered');
  });

  it('posts one more alert per node an escalation reaches, marked as an escalation', () => {
    const alerts = alertsFor(
      alarm({ escalation: { level: 1, nodeId: 'park-chem', at: NOW } }),
      context,
      NOW,
    );
    expect([...alerts.keys()]).toEqual(['alarm-1/ent-huaxin', 'alarm-1/park-chem']);
    expect(alerts.get('alarm-1/park-chem')?.annotations['summary_zh']).toContain('【升级】');
    expect(alerts.get('alarm-1/ent-huaxin')?.annotations['summary_zh']).not.toContain('【升级】');
  });
});

describe('alerts name the guarantors (包保责任人) of the major hazard source', () => {
  // The sample with guarantors for the reactor unit (area reactor-unit, tank r-201).
  const sources = readRegistrySources(SAMPLE).map(source => {
    const content = structuredClone(source.content) as {
      sites?: Array<{ hazardUnits?: Array<{ id: string; guarantors?: unknown }> }>;
    };
    for (const unit of content.sites?.[0]?.hazardUnits ?? [])
      if (unit.id === 'reactor-unit-1')
        unit.guarantors = { principal: 'wang', technical: 'li', operational: 'zhang' };
    return { ...source, content };
  });
  const context = { registry: buildRegistry(sources), consoleUrl: 'https://vigil.example/' };
  const line =
    '反应装置生产单元 Reactor production unit (reactor-unit-1): 主要负责人 wang, 技术负责人 li, 操作负责人 zhang';

  it('an alarm in the source’s area names its guarantors, labels unchanged', () => {
    const alert = alertsFor(alarm(), context, NOW).get('alarm-1/ent-huaxin');
    expect(alert?.annotations['guarantors']).toBe(line);
    expect(alert?.annotations['summary_zh']).toContain(`包保责任人：${line}`);
    expect(alert?.annotations['summary_en']).toContain(`guarantors: ${line}`);
    expect(alert?.labels).toEqual(
      alertsFor(alarm(), { ...context, registry }, NOW).get('alarm-1/ent-huaxin')?.labels,
    );
  });

  it('an alarm of a source without guarantors, or of no source, names none', () => {
    const tankFarm = alarm({ deviceId: 'gc-tf-01', areaId: 'tank-farm' });
    const loading = alarm({ deviceId: 'gc-lb-01', areaId: 'loading-bay' });
    for (const each of [tankFarm, loading]) {
      const alert = alertsFor(each, context, NOW).get('alarm-1/ent-huaxin');
      expect(alert?.annotations['guarantors']).toBeUndefined();
      expect(alert?.annotations['summary_zh']).not.toContain('包保责任人');
    }
  });
});
