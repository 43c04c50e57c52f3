import { z } from 'zod';

import {
  PERMIT_ACTIONS,
  PERMIT_KINDS,
  PERMIT_METRICS,
  PERMIT_STATES,
  type PermitView,
} from '@vigil/contracts';

import { API_SCHEMAS, type Agrees } from '../gateway/api-responses';

/**
 * What the permit operations answer, as zod schemas named in the OpenAPI document (`openapi.ts`
 * RESPONSES), with the same compile-time agreement check as `hazard-responses.ts`.
 */

const ms = z.number().describe('epoch milliseconds');

const gasCheck = z
  .object({
    at: ms,
    passed: z.boolean(),
    readings: z.array(
      z.object({
        deviceId: z.string(),
        metric: z.enum(PERMIT_METRICS),
        value: z.number(),
        at: ms,
        within: z.boolean().optional(),
        stale: z.boolean().optional(),
      }),
    ),
    problems: z.array(z.string()),
  })
  .describe('the gas analysis (动火分析 / 受限空间气体检测) a start or resume was given');

export const permit = z.object({
  id: z.string(),
  no: z.number().int(),
  kind: z.enum(PERMIT_KINDS),
  title: z.string(),
  siteId: z.string(),
  enterprise: z.string(),
  areaId: z.string(),
  from: ms,
  to: ms,
  workers: z.array(z.string()).describe('personnel tag ids of the named workers'),
  guardian: z.string().describe('监护人'),
  limits: z.object({
    maxLel: z.number().optional().describe('%LEL'),
    maxToxicPpm: z.number().optional().describe('ppm'),
    oxygenMin: z.number().optional().describe('%VOL'),
    oxygenMax: z.number().optional().describe('%VOL'),
  }),
  state: z.enum(PERMIT_STATES),
  requestedBy: z.string(),
  requestedAt: ms,
  updatedAt: ms,
  approvedBy: z.string().optional(),
  startedAt: ms.optional(),
  closedAt: ms.optional(),
  lastGasCheck: gasCheck.optional(),
  history: z.array(
    z.object({
      action: z.enum(PERMIT_ACTIONS),
      at: ms,
      by: z.string(),
      role: z.string(),
      state: z.enum(PERMIT_STATES),
      note: z.string().optional(),
      gasCheck: gasCheck.optional(),
      alarmKey: z.string().optional(),
    }),
  ),
  overdue: z
    .boolean()
    .optional()
    .describe('active or suspended after its window: overdue until closed (超时未关闭)'),
  unevaluated: z
    .object({
      since: ms,
      lastEvaluatedAt: ms.optional(),
      reason: z.string(),
    })
    .optional()
    .describe(
      'active, and no rule engine evaluates its stop-work rule now: nobody would stop the work (also on /readyz)',
    ),
});
API_SCHEMAS.add(permit, {
  id: 'Permit',
  description: 'One special-operation permit with its signed history',
});

export const permitList = z.array(permit);
API_SCHEMAS.add(permitList, { id: 'PermitList' });

/** Fails to compile when the schema above and the type disagree. */
export const PERMIT_SCHEMAS_AGREE_WITH_TYPES: readonly true[] = [
  true satisfies Agrees<typeof permit, PermitView>,
];
