import { z } from 'zod';

import {
  DUTY_ITEM_KINDS,
  SHIFT_ACTIONS,
  SHIFT_STATES,
  type DutyRoom,
  type ShiftView,
} from '@vigil/contracts';

import { API_SCHEMAS } from '../gateway/api-responses';

/**
 * What the duty operations answer, as zod schemas named in the OpenAPI document (`openapi.ts`
 * RESPONSES), with the same compile-time agreement check as `permit-responses.ts`.
 */

const ms = z.number().describe('epoch milliseconds');

const item = z.object({
  kind: z.enum(DUTY_ITEM_KINDS),
  id: z.string(),
  siteId: z.string(),
  state: z.string(),
  priority: z.number().int().optional(),
  summary: z.string(),
});

const changes = z
  .object({
    at: ms,
    added: z.array(item).describe('opened since the snapshot: new alarms raised meanwhile …'),
    changed: z.array(item.extend({ was: z.string() })),
    removed: z.array(item).describe('closed since the snapshot'),
  })
  .describe('what changed between the hand-over’s snapshot and now (or its acceptance)');

const crew = {
  lead: z.string().describe('值班长: user id'),
  operators: z.array(z.string()).describe('值班员: user ids'),
};

export const shift = z.object({
  id: z.string(),
  no: z.number().int(),
  siteId: z.string(),
  roomId: z.string().describe('an area of kind control-room of the site'),
  sites: z.array(z.string()),
  ...crew,
  state: z.enum(SHIFT_STATES),
  startedAt: ms,
  plannedEnd: ms,
  endedAt: ms.optional(),
  previousId: z.string().optional(),
  handOver: z
    .object({
      openedAt: ms,
      openedBy: z.string(),
      notes: z.string(),
      snapshot: z.object({
        at: ms,
        items: z.array(item),
        omitted: z
          .object({
            alarm: z.number().int().optional(),
            hazard: z.number().int().optional(),
            permit: z.number().int().optional(),
          })
          .optional()
          .describe('items left out beyond the snapshot’s bound, per kind'),
      }),
      incoming: z.object({ ...crew, plannedEnd: ms }),
      signedOutBy: z.string().optional().describe('交班签字'),
      signedOutAt: ms.optional(),
      acceptedBy: z.string().optional().describe('接班签字'),
      acceptedAt: ms.optional(),
      changesAtAcceptance: changes.optional(),
    })
    .optional(),
  updatedAt: ms,
  history: z.array(
    z.object({
      action: z.enum(SHIFT_ACTIONS),
      at: ms,
      by: z.string(),
      role: z.string(),
      state: z.enum(SHIFT_STATES),
      note: z.string().optional(),
    }),
  ),
  unmanned: z
    .object({ since: ms, plannedEnd: ms, reason: z.string() })
    .optional()
    .describe('on duty past its planned end + grace, no hand-over accepted (a P2 alarm too)'),
  changes: changes.optional(),
});
API_SCHEMAS.add(shift, {
  id: 'Shift',
  description: 'One shift of a control room with its hand-over and signed history',
});

export const shiftList = z.array(shift);
API_SCHEMAS.add(shiftList, { id: 'ShiftList' });

export const dutyRooms = z.array(
  z.object({
    siteId: z.string(),
    roomId: z.string(),
    name: z.string(),
    onDuty: shift.optional(),
  }),
);
API_SCHEMAS.add(dutyRooms, { id: 'DutyRooms' });

type Json<T> = T extends readonly (infer E)[]
  ? Json<E>[]
  : T extends object
    ? { -readonly [K in keyof T]-?: Json<Exclude<T[K], undefined>> }
    : T;
type Agrees<Schema extends z.ZodType, Type> = [Json<z.output<Schema>>] extends [Json<Type>]
  ? [Json<Type>] extends [Json<z.output<Schema>>]
    ? true
    : false
  : false;

/** Fails to compile when the schemas above and the types disagree. */
export const DUTY_SCHEMAS_AGREE_WITH_TYPES: readonly true[] = [
  true satisfies Agrees<typeof shift, ShiftView>,
  true satisfies Agrees<typeof dutyRooms, DutyRoom[]>,
];
