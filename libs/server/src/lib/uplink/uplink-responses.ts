import { z } from 'zod';

import {
  supervisionOrderSchema,
  uplinkAlarmSchema,
  uplinkHazardSchema,
  uplinkRealtimeSchema,
  type SupervisionOrder,
  type UplinkAck,
  type UplinkEnterprise,
} from '@vigil/contracts';

import { API_SCHEMAS, type Agrees } from '../gateway/api-responses';

/**
 * What the uplink's operations answer, as zod schemas named in the OpenAPI document
 * (`openapi.ts` RESPONSES), with the same compile-time agreement check as `api-responses.ts`.
 */

const ms = z.number().describe('epoch milliseconds');
const range = z.object({ from: z.number().int(), to: z.number().int() });
const step = z.object({
  seq: z.number().int(),
  transition: z.string(),
  state: z.string(),
  at: ms,
  by: z.string().optional(),
});

export const uplinkAck = z.object({
  acked: z
    .number()
    .int()
    .describe('the highest seq this Vigil holds durably, with every seq below it'),
  accepted: z.number().int().describe('items of this batch stored now'),
  duplicates: z.number().int().describe('items of this batch already held (a retry)'),
  gap: range
    .optional()
    .describe('seqs this Vigil will never receive: it had lost what it acknowledged'),
});
API_SCHEMAS.add(uplinkAck, { id: 'UplinkAck' });

export const uplinkEnterprise = z.object({
  enterpriseCode: z.string().describe('统一社会信用代码'),
  name: z.string(),
  node: z.string().describe("the organisation node of this Vigil under which it sits (its link's)"),
  acked: z.number().int(),
  lastReceivedAt: ms.optional(),
  gaps: z.array(range.extend({ at: ms })),
  received: z.object({
    realtime: z.number().int(),
    alarm: z.number().int(),
    hazard: z.number().int(),
    outcome: z.number().int().optional().describe("the lower's answers to approvals"),
  }),
  alarms: z.array(uplinkAlarmSchema.extend({ steps: z.array(step) })),
  hazards: z.array(uplinkHazardSchema.extend({ steps: z.array(step) })),
  realtime: z.array(uplinkRealtimeSchema),
  orders: z.array(supervisionOrderSchema),
});
export const uplinkEnterpriseList = z.array(uplinkEnterprise);
API_SCHEMAS.add(uplinkEnterprise, { id: 'UplinkEnterprise' });
API_SCHEMAS.add(uplinkEnterpriseList, { id: 'UplinkEnterpriseList' });

export const supervisionOrder = supervisionOrderSchema;
API_SCHEMAS.add(supervisionOrder, { id: 'SupervisionOrder' });
export const supervisionOrderList = z.array(supervisionOrderSchema);
API_SCHEMAS.add(supervisionOrderList, { id: 'SupervisionOrderList' });
export const linkOrders = z.object({ orders: z.array(supervisionOrderSchema) });
API_SCHEMAS.add(linkOrders, { id: 'UplinkLinkOrders' });

/** Each line fails to compile when a schema above and its type disagree. */
export const UPLINK_SCHEMAS_AGREE: readonly true[] = [
  true satisfies Agrees<typeof uplinkAck, UplinkAck>,
  true satisfies Agrees<typeof uplinkEnterprise, UplinkEnterprise>,
  true satisfies Agrees<typeof supervisionOrder, SupervisionOrder>,
];
