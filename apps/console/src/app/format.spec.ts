import { testAlarm } from './alarm.fixture';
import {
  formatLocation,
  describeAlarm,
  formatAgo,
  formatNumber,
  localName,
  metricLabel,
  type AlarmContext,
} from './format';

const context: AlarmContext = {
  deviceName: (_site, id) => ({ 'tag-001': '张伟', 'tag-002': '李娜' })[id],
  gasOf: (_site, id) => (id === 'gt-ru-h2s' ? 'H2S' : undefined),
};

describe('alarm texts from structured fields', () => {
  it('renders a gas alarm in Chinese and English from rule, metric, value and set-point', () => {
    const alarm = testAlarm({ ruleId: 'gas-l2', level: 'L2', value: 53.84, threshold: 50 });
    expect(describeAlarm('zh-CN', alarm, context)).toBe(
      '可燃气体二级报警：可燃气体 53.84 %LEL（设定值 50 %LEL）',
    );
    expect(describeAlarm('en', alarm, context)).toBe(
      'Combustible gas level 2 alarm: Combustible gas 53.84 %LEL (set-point 50 %LEL)',
    );
  });

  it('names the stalled hop of a pipeline canary alarm', () => {
    const alarm = testAlarm({
      ruleId: 'pipeline-stalled',
      level: 'rules',
      deviceId: '_canary',
      deviceClass: undefined,
      metric: 'canary_age_s',
      value: 7.1,
      threshold: 6,
    });
    expect(describeAlarm('zh-CN', alarm, context)).toBe(
      '报警链路中断于规则引擎：7.1 秒未收到探针（限值 6 秒）',
    );
    expect(describeAlarm('en', alarm, context)).toBe(
      'Alarm path stalled at rule engine: no canary for 7.1 s (limit 6 s)',
    );
  });

  it('names the control room nobody took over', () => {
    const alarm = testAlarm({
      ruleId: 'duty-unmanned',
      level: 'control-room',
      deviceId: '_duty',
      deviceClass: undefined,
      metric: 'duty_overdue_min',
      value: 17,
      threshold: 15,
    });
    expect(describeAlarm('zh-CN', alarm, context)).toBe(
      '值班室无人接班：control-room 已超过计划交班时间 17 分钟，无人签字接班',
    );
    expect(describeAlarm('en', alarm, context)).toBe(
      'Control room unmanned: control-room is 17 min past its planned hand-over and nobody has signed on',
    );
  });

  it('names the gas of a toxic detector and the people of a site rule', () => {
    const toxic = testAlarm({
      deviceId: 'gt-ru-h2s',
      deviceClass: 'gas-toxic',
      metric: 'ppm',
      value: 8,
      threshold: 7.054,
    });
    expect(describeAlarm('zh-CN', toxic, context)).toBe(
      'H2S一级报警：H2S 8 ppm（设定值 7.054 ppm）',
    );
    const crowd = testAlarm({
      ruleId: 'crowding',
      metric: undefined,
      members: ['tag-001', 'tag-002', 'tag-009'],
    });
    expect(describeAlarm('zh-CN', crowd, context)).toBe('人员聚集：3 人：张伟、李娜、tag-009');
    expect(describeAlarm('en', crowd, context)).toBe('Crowding: people (3): 张伟, 李娜, tag-009');
  });

  it('falls back to the server message for rules it does not know', () => {
    expect(
      describeAlarm('zh-CN', testAlarm({ ruleId: 'vendor-x', message: 'Vendor says X' }), context),
    ).toBe('Vendor says X');
  });

  it('shows the part of a bilingual registry name in the language', () => {
    expect(localName('zh-CN', '罐区 Tank farm')).toBe('罐区');
    expect(localName('en', '受限空间 Confined space (sump)')).toBe('Confined space (sump)');
    expect(localName('en', '甲醇储罐 T-101')).toBe('甲醇储罐 T-101');
    expect(localName('zh-CN', 'Administrator')).toBe('Administrator');
  });

  it('names per-metric rule families', () => {
    expect(
      describeAlarm(
        'zh-CN',
        testAlarm({ ruleId: 'stuck-level', metric: 'level_pct', value: undefined }),
        context,
      ),
    ).toBe('数值冻结 · 液位');
  });

  it('formats numbers, channels and ages', () => {
    expect(formatNumber(7.05412)).toBe('7.054');
    expect(formatNumber(4896.4)).toBe('4896');
    expect(metricLabel('zh-CN', 'temp_c_2')).toBe('温度 2');
    expect(formatAgo('zh-CN', 5_000)).toBe('5 秒前');
    expect(formatAgo('en', 600_000)).toBe('10 min ago');
    expect(formatAgo('zh-CN', undefined)).toBe('从未');
  });

  it('shows a fire-panel point’s address and a confirmed fire in both languages', () => {
    const location = { loop: '1', point: '23', zone: '1', name: '罐区感烟 1-23' };
    expect(formatLocation('zh-CN', location)).toBe('回路 1 点 23 · 防区 1 · 罐区感烟 1-23');
    expect(formatLocation('en', { point: '7', channel: '2' })).toBe('Point 7 · channel 2');
    expect(formatLocation('en', undefined)).toBe('');
    const fire = testAlarm({ ruleId: 'fire', metric: undefined, value: undefined, level: 'fire' });
    expect(describeAlarm('zh-CN', fire, context)).toBe('火警');
    expect(describeAlarm('en', { ...fire, level: 'confirmed' }, context)).toBe(
      'Confirmed fire (two detectors in one zone)',
    );
    expect(
      describeAlarm(
        'zh-CN',
        testAlarm({ ruleId: 'isolation', metric: undefined, value: undefined }),
        context,
      ),
    ).toBe('屏蔽');
  });
});
