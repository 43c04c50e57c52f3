import { z } from 'zod';

import {
  ALARM_ACTIONS,
  ALARM_CATEGORIES,
  ALARM_STATES,
  DISPOSITIONS,
  SUPPRESSION_KINDS,
} from './alarms';
import { DEVICE_CLASSES } from './device-classes';

/**
 * The one zod shape of `Alarm` (alarms.ts): the gateway's REST answers and OpenAPI document
 * (`Alarm`, libs/server api-responses.ts) and the alarm updates Vigil's processes send each other
 * (`alarmUpdateSchema`, internal-messages.ts) are checked against it. Bounded, because the internal
 * messages arrive from a broker; a `T | undefined` field is optional (JSON leaves it out).
 */
const id = z.string().min(1).max(256);
const text = z.string().max(64 * 1024);
const ms = z.number().describe('epoch milliseconds');

export const alarmActionSchema = z.object({
  action: z.enum(ALARM_ACTIONS),
  at: ms,
  by: text.optional(),
  note: text.optional(),
});

export const alarmLocationSchema = z.object({
  loop: text.optional(),
  point: text.optional(),
  zone: text.optional(),
  channel: text.optional(),
  name: text.optional(),
  position: z.tuple([z.number(), z.number()]).optional(),
});

export const alarmSchema = z.object({
  id,
  key: text,
  ruleId: id,
  siteId: id,
  deviceId: id,
  deviceClass: z.enum(DEVICE_CLASSES).optional(),
  areaId: id.optional(),
  category: z.enum(ALARM_CATEGORIES),
  priority: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  level: text,
  state: z.enum(ALARM_STATES),
  conditionActive: z.boolean(),
  latched: z.boolean(),
  metric: text.optional(),
  value: z.union([z.number(), z.boolean()]).optional(),
  threshold: z.number().optional(),
  message: text,
  raisedAt: ms,
  clearedAt: ms.optional(),
  acknowledgedAt: ms.optional(),
  acknowledgedBy: text.optional(),
  updatedAt: ms,
  detectedAt: ms,
  history: z.array(alarmActionSchema),
  openedAt: ms.optional(),
  owner: text.optional(),
  assignee: text.optional(),
  shelved: z.object({ by: text, reason: text, until: ms }).optional(),
  suppressed: z.enum(SUPPRESSION_KINDS).optional(),
  suppressedBy: z
    .array(
      z.object({
        kind: z.enum(SUPPRESSION_KINDS),
        since: ms,
        by: text.optional(),
        reason: text.optional(),
        gatewayId: id.optional(),
      }),
    )
    .optional(),
  shownAt: ms.optional(),
  disposition: z.object({ kind: z.enum(DISPOSITIONS), note: text, by: text, at: ms }).optional(),
  escalation: z.object({ level: z.number(), nodeId: text, at: ms }).optional(),
  overdue: z.boolean().optional(),
  groupId: text.optional(),
  chattering: z.boolean().optional(),
  members: z.array(text).optional(),
  location: alarmLocationSchema.optional(),
});
