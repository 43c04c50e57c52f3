import { join } from 'node:path';

import { DEFAULT_HAZARD_POLICY, dueHazardTransition, reportHazard } from '@vigil/alarms';
import type { Alarm, Hazard } from '@vigil/contracts';
import { buildRegistry } from '@vigil/registry';
import { readRegistrySources } from '@vigil/registry-node';

import { HAZARD_ALERT_NAME, hazardAlertsFor, hazardNotices } from './hazard-alerts';
import { alertsFor, type PersonContact } from './alerts';

const SAMPLE = join(__dirname, '../../../../../registry/sample');
const DEADLINE = Date.UTC(2026, 11, 7, 2, 0, 0);
const HOUR = 3_600_000;
const PATH = ['ent-huaxin', 'park-chem', 'county-east', 'city-demo'];
const policy = { ...DEFAULT_HAZARD_POLICY, escalateEveryMs: HOUR };

/** The sample with guarantors for the reactor unit (area reactor-unit). */
const registry = buildRegistry(
  readRegistrySources(SAMPLE).map(source => {
    const content = structuredClone(source.content) as {
      sites?: Array<{ hazardUnits?: Array<{ id: string; guarantors?: unknown }> }>;
    };
    for (const unit of content.sites?.[0]?.hazardUnits ?? [])
      if (unit.id === 'reactor-unit-1')
        unit.guarantors = { principal: 'wang', technical: 'li', operational: 'zhang' };
    return { ...source, content };
  }),
);
const CONTACTS: Record<string, PersonContact> = {
  zhang: { name: '张伟 Zhang Wei', email: 'zhang@huaxin.test', phone: '+8613800000001' },
  wang: { name: '王强 Wang Qiang', email: 'wang@park.test' },
  li: { name: '李娜 Li Na' },
};
const context = {
  registry,
  consoleUrl: 'https://vigil.example/',
  contactOf: (id: string) => CONTACTS[id],
};

function assigned(level: 'general' | 'major' = 'general'): Hazard {
  const reported = reportHazard(
    {
      title: 'Flange leak at R-201',
      description: 'weeping flange',
      level,
      source: 'manual',
      siteId: 'plant-1',
      enterprise: 'ent-huaxin',
      areaId: 'reactor-unit',
      deviceIds: [],
      photos: [],
      plan: {
        responsible: 'zhang',
        measures: 'replace gasket',
        funds: 500,
        deadline: DEADLINE,
        contingencyPlan: 'isolate',
      },
    },
    { id: 'wang', role: 'supervisor' },
    { now: DEADLINE - 10 * HOUR, id: 'hz-1', no: 7 },
  );
  if (!reported.ok) throw new Error(reported.message);
  return { ...reported.hazard, state: 'rectifying', assignee: 'li' };
}

/** Vigil's steps due by `now` (as HazardService.tick applies them). */
function advance(hazard: Hazard, now: number): Hazard {
  let current = hazard;
  for (;;) {
    const due = dueHazardTransition(current, now, PATH, policy);
    if (!due?.ok) return current;
    current = due.hazard;
  }
}

describe('hazard notices (reminders and escalations become alerts)', () => {
  it('owes nothing before the deadline', () => {
    const hazard = advance(assigned(), DEADLINE - 1);
    expect(hazardNotices(hazard, registry)).toEqual([]);
    expect(hazardAlertsFor(hazard, context, DEADLINE)).toEqual([]);
  });

  it('one alert per step, each for the node it reached, keeping the ones below', () => {
    const reminded = advance(assigned(), DEADLINE + 1);
    expect(hazardNotices(reminded, registry).map(n => [n.step, n.nodeId, n.active])).toEqual([
      ['remind', 'ent-huaxin', true],
    ]);
    const escalated = advance(advance(reminded, DEADLINE + HOUR + 1), DEADLINE + 2 * HOUR + 1);
    const alerts = hazardAlertsFor(escalated, context, DEADLINE + 3 * HOUR);
    expect(alerts.map(a => [a.alert.labels['hazard_step'], a.alert.labels['notify_node']])).toEqual(
      [
        ['remind', 'ent-huaxin'],
        ['escalate-1', 'park-chem'],
        ['escalate-2', 'county-east'],
      ],
    );
    expect(alerts.every(a => a.active)).toBe(true);
    // The same step keeps its identity (labels, key) from one reconcile to the next.
    expect(hazardAlertsFor(escalated, context, DEADLINE + 9 * HOUR)[0]?.key).toBe(alerts[0]?.key);
  });

  it('labels route by node and address the people; summaries name hazard, deadline, people', () => {
    const [remind, escalate] = hazardAlertsFor(
      advance(advance(assigned(), DEADLINE + 1), DEADLINE + HOUR + 2),
      context,
      DEADLINE + 2 * HOUR,
    );
    expect(remind?.alert.labels).toEqual({
      alertname: HAZARD_ALERT_NAME,
      hazard_id: 'hz-1',
      hazard_step: 'remind',
      notify_node: 'ent-huaxin',
      org_path: 'city-demo/county-east/park-chem/ent-huaxin',
      enterprise: 'ent-huaxin',
      site: 'plant-1',
      hazard_level: 'general',
      severity: 'warning',
      area: 'reactor-unit',
      people_email: 'wang@park.test,zhang@huaxin.test',
      people_phone: '+8613800000001',
    });
    const zh = remind?.alert.annotations['summary_zh'] ?? '';
    expect(zh).toContain('【隐患超期】');
    expect(zh).toContain('No. 7 "Flange leak at R-201"');
    expect(zh).toContain(new Date(DEADLINE).toISOString());
    expect(zh).toContain('整改责任人：张伟 Zhang Wei (zhang, zhang@huaxin.test, +8613800000001)');
    expect(zh).toContain('整改人：李娜 Li Na (li)');
    expect(zh).toContain(
      '包保责任人：反应装置生产单元 Reactor production unit (reactor-unit-1): 主要负责人 王强 Wang Qiang (wang, wang@park.test)',
    );
    const en = escalate?.alert.annotations['summary_en'] ?? '';
    expect(en).toContain('[Escalated] hazard No. 7');
    expect(en).toContain('escalated to park-chem');
    expect(en).toContain('responsible: 张伟 Zhang Wei');
    expect(escalate?.alert.startsAt).toBe(new Date(DEADLINE + HOUR + 2).toISOString());
    expect(escalate?.alert.generatorURL).toBe('https://vigil.example/#/hazards?id=hz-1');
  });

  it('no longer active once rectified, or given a new deadline', () => {
    const escalated = advance(advance(assigned(), DEADLINE + 1), DEADLINE + HOUR + 2);
    const rectified: Hazard = { ...escalated, state: 'rectified' };
    expect(hazardAlertsFor(rectified, context, 0).map(a => a.active)).toEqual([false, false]);
    const extended: Hazard = { ...escalated, remindedAt: undefined, escalation: undefined };
    expect(hazardAlertsFor(extended, context, 0).every(a => !a.active)).toBe(true);
    // The new deadline passes: the reminder of the new episode only, same identity as before.
    const again = advance(
      { ...extended, plan: { ...extended.plan, deadline: DEADLINE + 5 * HOUR } },
      DEADLINE + 5 * HOUR + 1,
    );
    const alerts = hazardAlertsFor(again, context, 0);
    expect(alerts.map(a => [a.alert.labels['hazard_step'], a.active])).toEqual([['remind', true]]);
  });

  it('a major hazard accepted and not approved waits on the node above its enterprise', () => {
    const accepted: Hazard = {
      ...assigned('major'),
      state: 'accepted',
      history: [
        ...assigned('major').history,
        { action: 'accept', at: DEADLINE, by: 'wang', role: 'supervisor', state: 'accepted' },
      ],
    };
    const [approve] = hazardAlertsFor(accepted, context, DEADLINE + HOUR);
    expect(approve?.active).toBe(true);
    expect(approve?.alert.labels['hazard_step']).toBe('approve');
    expect(approve?.alert.labels['notify_node']).toBe('park-chem');
    expect(approve?.alert.labels['severity']).toBe('major');
    expect(approve?.alert.annotations['summary_zh']).toContain('【待审批】重大事故隐患');
    expect(hazardAlertsFor({ ...accepted, approvedBy: 'chen' }, context, 0)[0]?.active).toBe(false);
    // A general hazard needs no approval.
    expect(hazardAlertsFor({ ...accepted, level: 'general' }, context, 0)).toEqual([]);
  });

  it('names people without contacts by their text, and sets no contact labels then', () => {
    const hazard = advance(assigned(), DEADLINE + 1);
    const [alert] = hazardAlertsFor(
      {
        ...hazard,
        plan: { ...hazard.plan, responsible: '车间主任 Workshop head' },
        areaId: 'tank-farm',
      },
      { ...context, contactOf: () => undefined },
      0,
    );
    expect(alert?.alert.annotations['responsible']).toBe('车间主任 Workshop head');
    expect(alert?.alert.labels['people_email']).toBeUndefined();
    expect(alert?.alert.annotations['guarantors']).toBeUndefined();
  });
});

describe('alarm alerts carry the guarantors’ contacts', () => {
  it('adds people_email / people_phone only when a contact lookup is given', () => {
    const alarm: Alarm = {
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
      message: 'gas',
      raisedAt: DEADLINE,
      clearedAt: undefined,
      acknowledgedAt: undefined,
      acknowledgedBy: undefined,
      updatedAt: DEADLINE,
      detectedAt: DEADLINE,
      history: [],
    };
    const withPeople = alertsFor(alarm, context, DEADLINE).get('alarm-1/ent-huaxin');
    expect(withPeople?.labels['people_email']).toBe('wang@park.test,zhang@huaxin.test');
    expect(withPeople?.labels['people_phone']).toBe('+8613800000001');
    const without = alertsFor(alarm, { registry, consoleUrl: 'x' }, DEADLINE).get(
      'alarm-1/ent-huaxin',
    );
    expect(without?.labels['people_email']).toBeUndefined();
  });
});
