/**
 * Texts of the monthly report (月度报告, issue 15) on the alarm-KPI page, Chinese first; merged
 * into `i18n.ts` like the hazard ledger's and the duty page's.
 */
export const REPORT_TEXT_ZH = {
  monthlyTitle: '月度报告',
  monthlyHint:
    '按企业和区域统计当月报警、报警性能指标、隐患新增/销号/逾期、漏检和企业排名（评分方法为建议，见报告末尾）。',
  monthlyMonth: '月份',
  monthlyOpen: '打开报告（HTML）',
  monthlyPdf: '下载 PDF',
  monthlyWorking: '正在生成报告…',
  monthlyFailed: '报告生成失败：{message}',
} as const;

export const REPORT_TEXT_EN: Record<keyof typeof REPORT_TEXT_ZH, string> = {
  monthlyTitle: 'Monthly report',
  monthlyHint:
    'Per enterprise and region: the month’s alarms and alarm KPIs, hazards opened, closed and overdue, missed inspections and the ranking of the enterprises (the scoring is a proposal, explained at the end of the report).',
  monthlyMonth: 'Month',
  monthlyOpen: 'Open report (HTML)',
  monthlyPdf: 'Download PDF',
  monthlyWorking: 'Making the report…',
  monthlyFailed: 'The report failed: {message}',
};
