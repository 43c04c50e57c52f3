export type Lang = 'zh-CN' | 'en';

const TEXT = {
  'zh-CN': {
    title: 'Vigil 预警控制台',
    connecting: '连接中…',
    online: '已连接',
    offline: '已断开，正在重连…',
    historyNotKept: '历史数据未保存：InfluxDB 不可达。报警仍然有效，但读数和报警事件没有存储。',
    liveAlarms: '实时报警',
    priority: '优先级',
    state: '状态',
    device: '设备',
    rule: '规则',
    value: '数值',
    message: '描述',
    raisedAt: '报警时间',
    noAlarms: '当前无报警',
    acknowledge: '确认',
    reset: '复位',
    'active-unacknowledged': '报警未确认',
    'active-acknowledged': '报警已确认',
    'returned-unacknowledged': '已恢复未确认',
    normal: '正常',
    switchLang: 'English',
  },
  en: {
    title: 'Vigil warning console',
    connecting: 'Connecting…',
    online: 'Connected',
    offline: 'Disconnected, reconnecting…',
    historyNotKept:
      'History is NOT being kept: InfluxDB is unreachable. Alarms still work; readings and alarm events are not stored.',
    liveAlarms: 'Live alarms',
    priority: 'Priority',
    state: 'State',
    device: 'Device',
    rule: 'Rule',
    value: 'Value',
    message: 'Message',
    raisedAt: 'Raised at',
    noAlarms: 'No alarms',
    acknowledge: 'Acknowledge',
    reset: 'Reset',
    'active-unacknowledged': 'Active, unacknowledged',
    'active-acknowledged': 'Active, acknowledged',
    'returned-unacknowledged': 'Returned, unacknowledged',
    normal: 'Normal',
    switchLang: '中文',
  },
} as const;

export type TextKey = keyof (typeof TEXT)['en'];

export function translate(lang: Lang, key: string): string {
  return (TEXT[lang] as Record<string, string>)[key] ?? key;
}
