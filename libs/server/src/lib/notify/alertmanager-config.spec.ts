import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse } from 'yaml';

import { loadRegistry } from '@vigil/registry-node';
import { requireBinary } from '@vigil/testing';

import { alertmanagerConfig, onCallNode } from './alertmanager-config';
import { NotifyConfigError, parseNotifyConfig } from './notify-config';

const registry = loadRegistry(join(__dirname, '../../../../../registry/sample'));

const notify = parseNotifyConfig({
  alertmanager: { groupWait: '1s', groupInterval: '1s' },
  smtp: { smarthost: '127.0.0.1:2525', from: 'vigil@plant.example', requireTls: false },
  relay: { url: 'http://127.0.0.1:8080', secretFile: '/etc/vigil/relay-secret' },
  receivers: {
    'ent-huaxin': {
      email: ['safety@huaxin.example', 'shift@huaxin.example'],
      dingtalk: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=t', secret: 'SECx' },
      sms: { webhook: 'https://sms.example/send', to: ['+8613800000000'] },
    },
    'park-chem': { wecom: { webhook: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' } },
    'city-demo': { email: ['duty@city.example'] },
  },
});

describe('alertmanagerConfig', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'vigil-amconfig-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const amtool = (...args: string[]) =>
    execFileSync(requireBinary('amtool', 'prometheus-alertmanager'), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('writes a configuration amtool accepts, one route per organisation node', () => {
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, alertmanagerConfig(registry.organisation, notify));
    expect(amtool('check-config', file)).toContain('SUCCESS');
    const routeOf = (node: string) =>
      amtool(
        'config',
        'routes',
        'test',
        `--config.file=${file}`,
        'alertname=VigilAlarm',
        `notify_node=${node}`,
      ).trim();
    expect(routeOf('ent-huaxin')).toBe('vigil-ent-huaxin');
    expect(routeOf('park-chem')).toBe('vigil-park-chem');
    // county-east has no on-call of its own: the escalation reaches the city's.
    expect(routeOf('county-east')).toBe('vigil-city-demo');
    expect(routeOf('city-demo')).toBe('vigil-city-demo');
    // A site the registry no longer knows still reaches someone: the default (root) receiver.
    expect(routeOf('_unregistered')).toBe('vigil-city-demo');
  });

  it('routes hazard notices by node like alarms, and mails the people named when asked', () => {
    const file = join(dir, 'alertmanager-people.yml');
    writeFileSync(
      file,
      alertmanagerConfig(registry.organisation, { ...notify, people: { email: true } }),
    );
    expect(amtool('check-config', file)).toContain('SUCCESS');
    const routes = (...labels: string[]) =>
      amtool('config', 'routes', 'test', `--config.file=${file}`, ...labels)
        .trim()
        .split(',')
        .sort();
    expect(routes('alertname=VigilHazard', 'notify_node=park-chem')).toEqual(['vigil-park-chem']);
    expect(routes('alertname=VigilHazard', 'notify_node=county-east')).toEqual(['vigil-city-demo']);
    // With contacts, the people as well as (never instead of) the node's on-call.
    expect(
      routes('alertname=VigilHazard', 'notify_node=ent-huaxin', 'people_email=a@x.test'),
    ).toEqual(['vigil-ent-huaxin', 'vigil-people']);
    expect(
      routes('alertname=VigilAlarm', 'notify_node=park-chem', 'people_email=a@x.test'),
    ).toEqual(['vigil-park-chem', 'vigil-people']);
    const document = parse(readFileSync(file, 'utf8')) as {
      route: { group_by: string[] };
      receivers: { name: string; email_configs?: { to: string; headers: object }[] }[];
    };
    // One message per hazard step (hazard_id is empty on alarms: their grouping is unchanged).
    expect(document.route.group_by).toEqual(['alarm_id', 'hazard_id', 'notify_node']);
    expect(document.receivers.find(r => r.name === 'vigil-people')?.email_configs?.[0]?.to).toBe(
      '{{ .CommonLabels.people_email }}',
    );
    // Without the option there is no people receiver; without smtp the option is refused.
    expect(alertmanagerConfig(registry.organisation, notify)).not.toContain('vigil-people');
    expect(() =>
      alertmanagerConfig(registry.organisation, {
        ...notify,
        smtp: undefined,
        people: { email: true },
      }),
    ).toThrow(/people.email: mailing people needs smtp/);
  });

  it('sends resolved notifications, and the robots through the relay with its secret', () => {
    const document = parse(alertmanagerConfig(registry.organisation, notify)) as {
      receivers: { name: string; email_configs?: object[]; webhook_configs?: object[] }[];
      global: Record<string, unknown>;
    };
    const enterprise = document.receivers.find(r => r.name === 'vigil-ent-huaxin');
    expect(enterprise?.email_configs).toEqual([
      expect.objectContaining({
        to: 'safety@huaxin.example, shift@huaxin.example',
        send_resolved: true,
      }),
    ]);
    expect(enterprise?.webhook_configs).toEqual([
      {
        url: 'http://127.0.0.1:8080/api/v1/notify/relay/ent-huaxin/dingtalk',
        send_resolved: true,
        http_config: {
          authorization: { type: 'Bearer', credentials_file: '/etc/vigil/relay-secret' },
        },
      },
      expect.objectContaining({ url: 'http://127.0.0.1:8080/api/v1/notify/relay/ent-huaxin/sms' }),
    ]);
    expect(document.global).toMatchObject({
      smtp_smarthost: '127.0.0.1:2525',
      smtp_require_tls: false,
    });
  });

  it('is deterministic', () => {
    expect(alertmanagerConfig(registry.organisation, notify)).toBe(
      alertmanagerConfig(registry.organisation, notify),
    );
  });

  it('refuses a tree where some node would reach nobody, and receivers for unknown nodes', () => {
    const partial = parseNotifyConfig({
      smtp: { smarthost: 'mail:25', from: 'v@x.example' },
      receivers: {
        'ent-huaxin': { email: ['a@x.example'] },
        'no-such-node': { email: ['b@x.example'] },
      },
    });
    expect(() => alertmanagerConfig(registry.organisation, partial)).toThrow(NotifyConfigError);
    try {
      alertmanagerConfig(registry.organisation, partial);
    } catch (error) {
      expect((error as NotifyConfigError).problems).toEqual(
        expect.arrayContaining([
          'receivers.no-such-node: not a node of the organisation tree',
          expect.stringContaining('organisation node city-demo: no receivers'),
          expect.stringContaining('organisation node park-chem: no receivers'),
        ]),
      );
    }
  });

  it('finds the nearest node with on-call going up the tree', () => {
    const byId = new Map(registry.organisation.map(node => [node.id, node]));
    expect(onCallNode('county-east', byId, notify)).toBe('city-demo');
    expect(onCallNode('ent-huaxin', byId, notify)).toBe('ent-huaxin');
  });
});

describe('parseNotifyConfig', () => {
  it('lists every problem', () => {
    expect(() =>
      parseNotifyConfig({
        receivers: {
          a: { email: ['not-an-address'] },
          b: { wecom: { webhook: 'ftp://x' } },
          c: {},
        },
      }),
    ).toThrow(/receivers\.a\.email\.0[\s\S]*receivers\.b\.wecom\.webhook/);
    expect(() =>
      parseNotifyConfig({ receivers: { c: {}, d: { email: ['d@x.example'] } } }),
    ).toThrow(/names no email[\s\S]*needs the smtp section/);
  });
});
