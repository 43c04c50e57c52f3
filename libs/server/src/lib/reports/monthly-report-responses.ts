import { z } from 'zod';

import { ORG_KINDS, type MonthlyReport } from '@vigil/contracts';

import { API_SCHEMAS, type Agrees } from '../gateway/api-responses';

/**
 * What `GET /api/v1/reports/monthly?format=json` answers, as a zod schema named in the OpenAPI
 * document (`openapi.ts` RESPONSES), with the same compile-time agreement check as
 * `api-responses.ts`. `format=html` answers `text/html`, `format=pdf` `application/pdf`.
 */

const ms = z.number().describe('epoch milliseconds');
const count = z.number().int();
const hazardCounts = z.object({ general: count, major: count, total: count });

const row = z.object({
  nodeId: z.string(),
  name: z.string(),
  kind: z.enum(ORG_KINDS),
  parent: z.string().optional(),
  members: z.array(z.string()).describe('enterprises: their sites; regions: their enterprises'),
  alarms: z.object({
    alarms: count,
    byPriority: z.object({ 1: count, 2: count, 3: count, 4: count }),
    byCategory: z.record(z.string(), count),
    per10MinAverage: z.number(),
    per10MinPeak: count,
    perHourAverage: z.number(),
    floods: count,
    timeInFloodPercent: z.number(),
    chattering: count,
    standing: count.nullable().describe('the running month only'),
    meanAckMs: z.number().nullable(),
    meanDisposeMs: z.number().nullable(),
    unacknowledged: count,
  }),
  hazards: z.object({
    opened: hazardCounts,
    closed: hazardCounts,
    openAtEnd: hazardCounts,
    overdueAtEnd: hazardCounts,
  }),
  inspections: z.object({ missed: count, madeUp: count }),
  score: z.number().describe('0–100 (a proposal after HAZ-04; docs/interfaces.md §Reports)'),
  deductions: z.array(
    z.object({
      reason: z.enum([
        'major-overdue',
        'general-overdue',
        'missed-inspection',
        'alarm-load',
        'floods',
        'standing',
      ]),
      count: z.number(),
      points: z.number(),
    }),
  ),
  rank: count.optional(),
});

export const monthlyReport = z.object({
  month: z.string().describe('YYYY-MM'),
  timeZone: z.string(),
  from: ms,
  to: ms,
  generatedAt: ms,
  complete: z.boolean(),
  node: z.object({ id: z.string(), name: z.string(), kind: z.enum(ORG_KINDS) }),
  scope: z.string(),
  source: z.enum(['influxdb', 'memory']),
  notices: z.array(z.string()),
  total: row,
  regions: z.array(row),
  enterprises: z.array(row).describe('best score first'),
  daily: z.array(z.object({ date: z.string(), alarms: count })),
});
API_SCHEMAS.add(monthlyReport, {
  id: 'MonthlyReport',
  description:
    'The month per enterprise (ranked) and per region: alarms and KPIs, hazards, missed inspections, score',
});

/** Fails to compile when the schema and the type disagree. */
export const MONTHLY_REPORT_SCHEMAS_AGREE_WITH_TYPES: readonly true[] = [
  true satisfies Agrees<typeof monthlyReport, MonthlyReport>,
];
