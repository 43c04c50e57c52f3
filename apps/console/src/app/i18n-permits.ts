/**
 * Texts of the special-operation permit page (特殊作业票), Chinese first; merged into `i18n.ts`
 * like the hazard ledger's.
 */
export const PERMIT_TEXT_ZH = {
  'nav.permits': '特殊作业',
  permitTitle: '特殊作业票',
  permitNo: '编号',
  permitName: '作业内容',
  permitKind: '作业类型',
  permitState: '状态',
  permitArea: '作业区域',
  permitWindow: '作业时间',
  permitFrom: '开始',
  permitTo: '结束',
  permitWorkers: '作业人员（定位标签，逗号分隔）',
  permitGuardian: '监护人',
  permitLimits: '气体限值',
  permitMaxLel: '可燃气 ≤ %LEL',
  permitMaxToxic: '有毒气体 ≤ ppm',
  permitOxygen: '氧含量 %VOL',
  permitRequest: '申请作业票',
  permitRequested: '已申请作业票 No.{no}',
  permitHistory: '审批与作业记录（签字留痕）',
  permitGasCheck: '气体分析',
  permitGasPassed: '合格',
  permitGasFailed: '不合格',
  permitGasStale: '超过 30 分钟',
  permitNote: '说明',
  permitEmpty: '没有作业票。',
  permitOpenOnly: '未关闭',
  permitStepDone: '已{step}',
  permitStepFailed: '操作失败（{status}）：{message}',
  permitNoneAllowed: '当前状态下您没有可执行的操作。',
  permitStopWorkHint:
    '作业期间区域内气体超出限值，或可燃/有毒/氧含量监测中断超过规定时间，将触发一级"停止作业"报警并自动暂停作业票。',
  permitBack: '返回列表',
  permitOverdue: '超时未关闭',
  permitUnevaluated:
    '未受监控：没有规则引擎在评估本作业票的停止作业规则，无人会叫停作业（{reason}）',
  permitUnevaluatedShort: '未受监控',
} as const;

export const PERMIT_TEXT_EN: Record<keyof typeof PERMIT_TEXT_ZH, string> = {
  'nav.permits': 'Permits',
  permitTitle: 'Special-operation permits',
  permitNo: 'No.',
  permitName: 'Work',
  permitKind: 'Kind',
  permitState: 'State',
  permitArea: 'Area',
  permitWindow: 'Window',
  permitFrom: 'From',
  permitTo: 'To',
  permitWorkers: 'Workers (personnel tags, comma-separated)',
  permitGuardian: 'Guardian',
  permitLimits: 'Gas limits',
  permitMaxLel: 'Combustible ≤ %LEL',
  permitMaxToxic: 'Toxic ≤ ppm',
  permitOxygen: 'Oxygen %VOL',
  permitRequest: 'Request a permit',
  permitRequested: 'Permit No.{no} requested',
  permitHistory: 'Approvals and work, signed',
  permitGasCheck: 'Gas analysis',
  permitGasPassed: 'passed',
  permitGasFailed: 'failed',
  permitGasStale: 'older than 30 min',
  permitNote: 'Note',
  permitEmpty: 'No permits.',
  permitOpenOnly: 'Not closed',
  permitStepDone: '{step}: done',
  permitStepFailed: 'Refused ({status}): {message}',
  permitNoneAllowed: 'Nothing you can do in this state.',
  permitStopWorkHint:
    'While the work is on, gas outside the limits in the area, or gas monitoring silent beyond its bound, raises a P1 "stop work" alarm and suspends the permit.',
  permitBack: 'Back to the list',
  permitOverdue: 'Overdue',
  permitUnevaluated:
    "Not monitored: no rule engine evaluates this permit's stop-work rule, nobody would stop the work ({reason})",
  permitUnevaluatedShort: 'Not monitored',
};

export const PERMIT_LABELS_ZH = {
  permitKind: { 'hot-work': '动火作业', 'confined-space': '受限空间作业' },
  permitState: {
    requested: '已申请',
    approved: '已审批',
    active: '作业中',
    suspended: '已暂停',
    closed: '已关闭',
  },
  permitAction: {
    request: '申请',
    approve: '审批',
    start: '开始作业',
    suspend: '暂停作业',
    resume: '恢复作业',
    close: '关闭',
  },
};

export const PERMIT_LABELS_EN: typeof PERMIT_LABELS_ZH = {
  permitKind: { 'hot-work': 'Hot work', 'confined-space': 'Confined space' },
  permitState: {
    requested: 'requested',
    approved: 'approved',
    active: 'active',
    suspended: 'suspended',
    closed: 'closed',
  },
  permitAction: {
    request: 'request',
    approve: 'approve',
    start: 'start work',
    suspend: 'suspend',
    resume: 'resume',
    close: 'close',
  },
};
