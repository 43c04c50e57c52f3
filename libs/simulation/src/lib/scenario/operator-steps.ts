import { z } from 'zod';

import {
  DISPOSITIONS,
  ENTERPRISE_CODE_PATTERN,
  HAZARD_COMMANDS,
  IDENTIFIER_PATTERN,
} from '@vigil/contracts';

import { durationSchema } from '../util/duration';

/**
 * Operator steps: what people do through Vigil's HTTP API during a scenario (docs/interfaces.md
 * §Authentication and alarm actions, §Hazards, §Permits, §Duty), each as a named user (`as:`),
 * against a Vigil instance (`target:`, default `main`: the gateway the runner was given), with an
 * expectation on the answer (`expect:`). A step without `do` reads the resource and waits until it
 * matches. Names saved with `save:` are referred to by later steps (`id: leakHazard`) and inside
 * strings (`${stopWork.key}`, `${hotWork.no}`).
 */

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
/** A name given by `save:` earlier in the scenario. */
const savedName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a saved name');
const userId = z.string().min(1).max(64);
const text = z.string().min(1).max(4000);
/** A time relative to when the step runs (`8h`, `2s`, `-1s`): sent as epoch ms. */
const fromNow = durationSchema({ allowNegative: true });
/** The default target: the Vigil the runner was pointed at (`--gateway`). */
export const MAIN_TARGET = 'main';

export const ALARM_ACTIONS = [
  'acknowledge',
  'comment',
  'assign',
  'dispose',
  'reset',
  'shelve',
  'unshelve',
] as const;

/**
 * An alarm found by what raised it (the newest in the scenario's site raised during this run), by
 * its key, or by a saved name; then acted on (`do`), or only read (no `do`).
 */
export const alarmActionSchema = z
  .object({
    ref: savedName.optional(),
    device: identifier.optional(),
    rule: z.string().min(1).max(64).optional(),
    level: z.string().min(1).max(32).optional(),
    /** The alarm's key; `${…}` substitutions allowed (`plant-1/permit-${hotWork.id}/stop-work`). */
    key: z.string().min(1).max(300).optional(),
    do: z.enum(ALARM_ACTIONS).optional(),
    note: text.optional(),
    disposition: z.enum(DISPOSITIONS).optional(),
    to: userId.optional(),
    reason: text.optional(),
    minutes: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((step, context) => {
    if (
      step.ref === undefined &&
      step.device === undefined &&
      step.key === undefined &&
      step.rule === undefined
    )
      context.addIssue({ code: 'custom', message: 'an alarm step names ref, key, device or rule' });
    const needs: Partial<Record<(typeof ALARM_ACTIONS)[number], readonly (keyof typeof step)[]>> = {
      dispose: ['disposition', 'note'],
      comment: ['note'],
      assign: ['to'],
      shelve: ['reason', 'minutes'],
    };
    for (const field of (step.do && needs[step.do]) ?? []) {
      if (step[field] === undefined)
        context.addIssue({ code: 'custom', message: `alarm ${step.do} needs ${field}` });
    }
  });
export type AlarmAction = z.infer<typeof alarmActionSchema>;

/** What a scenario's hazard step may `do`: report a hazard, or any command a user gives. */
export const HAZARD_STEPS = ['report', ...HAZARD_COMMANDS] as const;

/** The five fields (五落实); `deadline` relative to when the step runs (`7d`, `2s`). */
const hazardPlan = z
  .object({
    responsible: text,
    measures: text,
    funds: z.number().min(0),
    deadline: fromNow,
    contingencyPlan: text,
  })
  .strict();

export const hazardActionSchema = z
  .object({
    do: z.enum(HAZARD_STEPS).optional(),
    /** The hazard (a saved name); every step but `report`. */
    id: savedName.optional(),
    /** report: from this alarm (a saved name), disposed as a real event or device fault. */
    alarm: savedName.optional(),
    title: text.optional(),
    level: z.enum(['general', 'major']).optional(),
    description: text.optional(),
    source: z.enum(['manual', 'inspection']).optional(),
    /** report without an alarm: the area of the scenario's site. */
    area: identifier.optional(),
    devices: z.array(identifier).max(100).optional(),
    photos: z.array(z.string().min(1).max(500)).max(20).optional(),
    interimMeasures: text.optional(),
    assignee: userId.optional(),
    plan: hazardPlan.optional(),
    /** interim: the protective measures. */
    measures: text.optional(),
    note: text.optional(),
  })
  .strict()
  .superRefine((step, context) => {
    const issue = (message: string) => context.addIssue({ code: 'custom', message });
    if (step.do === 'report') {
      if (step.id !== undefined) issue('hazard report creates a hazard: no id');
      if (step.title === undefined || step.level === undefined)
        issue('hazard report needs title and level');
    } else if (step.id === undefined) {
      issue(`hazard ${step.do ?? 'read'} needs id (a saved hazard)`);
    }
    if (step.do === 'assign' && step.assignee === undefined) issue('hazard assign needs assignee');
    if (step.do === 'interim' && step.measures === undefined)
      issue('hazard interim needs measures');
    if ((step.do === 'rectify' || step.do === 'reject') && step.note === undefined)
      issue(`hazard ${step.do} needs a note`);
  });
export type HazardAction = z.infer<typeof hazardActionSchema>;

export const PERMIT_STEPS = ['request', 'approve', 'start', 'suspend', 'resume', 'close'] as const;

export const permitActionSchema = z
  .object({
    do: z.enum(PERMIT_STEPS).optional(),
    id: savedName.optional(),
    kind: z.enum(['hot-work', 'confined-space']).optional(),
    title: text.optional(),
    area: identifier.optional(),
    /** The window: from `from` (relative to the step, default now) for `for`. */
    from: fromNow.default(0),
    for: durationSchema({ min: 1000 }).optional(),
    /** Personnel tags of the site. */
    workers: z.array(identifier).min(1).max(50).optional(),
    guardian: text.optional(),
    limits: z
      .object({
        maxLel: z.number().positive().optional(),
        maxToxicPpm: z.number().positive().optional(),
        oxygenMin: z.number().positive().optional(),
        oxygenMax: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    note: text.optional(),
  })
  .strict()
  .superRefine((step, context) => {
    const issue = (message: string) => context.addIssue({ code: 'custom', message });
    if (step.do === 'request') {
      for (const field of ['kind', 'title', 'area', 'for', 'workers', 'guardian'] as const) {
        if (step[field] === undefined) issue(`permit request needs ${field}`);
      }
    } else if (step.id === undefined) {
      issue(`permit ${step.do ?? 'read'} needs id (a saved permit)`);
    }
    if (step.do === 'suspend' && step.note === undefined) issue('permit suspend needs a note');
  });
export type PermitAction = z.infer<typeof permitActionSchema>;

export const SHIFT_STEPS = ['start', 'hand-over', 'sign', 'accept'] as const;

export const shiftActionSchema = z
  .object({
    do: z.enum(SHIFT_STEPS).optional(),
    id: savedName.optional(),
    /** start: the control room (an area of kind control-room of the scenario's site). */
    room: identifier.optional(),
    lead: userId.optional(),
    operators: z.array(userId).max(50).optional(),
    plannedEnd: fromNow.optional(),
    /** hand-over: the outgoing shift's notes and who comes on. */
    notes: text.optional(),
    incoming: z
      .object({ lead: userId, operators: z.array(userId).max(50).optional(), plannedEnd: fromNow })
      .strict()
      .optional(),
    /**
     * accept: the refs (`alarm:<id>`) the incoming lead has seen, or `changes`: every item the
     * shift lists as added or changed since the snapshot at the moment of accepting.
     */
    seen: z.union([z.literal('changes'), z.array(z.string().min(1).max(200))]).optional(),
    note: text.optional(),
  })
  .strict()
  .superRefine((step, context) => {
    const issue = (message: string) => context.addIssue({ code: 'custom', message });
    if (step.do === 'start') {
      for (const field of ['room', 'lead', 'plannedEnd'] as const) {
        if (step[field] === undefined) issue(`shift start needs ${field}`);
      }
    } else if (step.id === undefined) {
      issue(`shift ${step.do ?? 'read'} needs id (a saved shift)`);
    }
    if (step.do === 'hand-over' && (step.notes === undefined || step.incoming === undefined))
      issue('shift hand-over needs notes and incoming');
  });
export type ShiftAction = z.infer<typeof shiftActionSchema>;

/**
 * What an upper Vigil (park, county, city) holds of an enterprise below it (docs/interfaces.md
 * §Uplink): `GET /api/v1/uplink/enterprises` as the step's user there, narrowed to the entry of
 * `enterprise` (its 统一社会信用代码), or within it to one alarm or hazard (a name saved from the
 * enterprise's own answer, matched by its id) or the latest sample of one major hazard source
 * (`plant-1.tank-farm-1`). A read only: it waits until the entry is there and matches.
 */
export const uplinkReadSchema = z
  .object({
    enterprise: z.string().regex(ENTERPRISE_CODE_PATTERN, 'not a 统一社会信用代码 (18 characters)'),
    alarm: savedName.optional(),
    hazard: savedName.optional(),
    realtime: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine(
    read => [read.alarm, read.hazard, read.realtime].filter(v => v !== undefined).length <= 1,
    { message: 'an uplink read names at most one of alarm, hazard, realtime' },
  );
export type UplinkRead = z.infer<typeof uplinkReadSchema>;

/**
 * What the answer must be: the HTTP status (default any 2xx) and a pattern the body must match:
 * an object matches when each of its keys matches (other keys are ignored), an array when its
 * items match items of the answer in the same order (others between are ignored), a scalar when
 * equal; `{contains: "…"}` matches a string holding it (`{contains: [a, b]}`: each) or an array with a
 * matching item,
 * `{atLeast: n}` a number ≥ n. Strings may hold `${saved.path}`.
 */
export const actionExpectSchema = z
  .object({
    status: z.number().int().min(100).max(599).optional(),
    match: z.unknown().optional(),
  })
  .strict();
export type ActionExpect = z.infer<typeof actionExpectSchema>;

export const OPERATOR_ACTIONS = ['alarm', 'hazard', 'permit', 'shift', 'uplink'] as const;
export type OperatorActionKind = (typeof OPERATOR_ACTIONS)[number];

/** The fields an operator step adds to a scenario step. */
export const operatorStepFields = {
  /** The user acting (a key of the scenario's `users`). */
  as: userId.optional(),
  /** The Vigil acted on: `main` (default) or a name of the scenario's `targets`. */
  target: identifier.optional(),
  /** How long the step may keep trying until its expectation holds (default 10 s). */
  within: durationSchema({ min: 1 }).optional(),
  expect: actionExpectSchema.optional(),
  /** Keep the answer under this name for later steps. */
  save: savedName.optional(),
  alarm: alarmActionSchema.optional(),
  hazard: hazardActionSchema.optional(),
  permit: permitActionSchema.optional(),
  shift: shiftActionSchema.optional(),
  uplink: uplinkReadSchema.optional(),
};

export const userSchema = z
  .object({
    /** A password written in the scenario: only for demo users (`vigil-demo`). */
    password: z.string().min(1).optional(),
    /** The environment variable holding the password (a real site's acceptance run). */
    passwordEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
  })
  .strict()
  .refine(user => (user.password === undefined) !== (user.passwordEnv === undefined), {
    message: 'a user has a password or a passwordEnv (one of them)',
  });
export type ScenarioUser = z.infer<typeof userSchema>;
