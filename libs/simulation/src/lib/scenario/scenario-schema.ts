import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

import { parse } from 'yaml';
import { z } from 'zod';

import { EVENT_CODE_PATTERN, IDENTIFIER_PATTERN, METRIC_NAME_PATTERN } from '@vigil/contracts';

import { durationSchema } from '../util/duration';
import { MAIN_TARGET, OPERATOR_ACTIONS, operatorStepFields, userSchema } from './operator-steps';

/**
 * A scenario is data: what happens on a site (a leak, a fire, a fault) as timed steps, and the
 * alarms it must raise. The runner plays it against a live Vigil and judges expected vs raised.
 * Times are offsets from the scenario's start (`at: 5s`), durations like `30s`, `2m`.
 */

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
/** `deviceId`, or `siteId/deviceId` on a fleet with several sites. */
const deviceRef = z
  .string()
  .regex(/^(?:[A-Za-z0-9_-]{1,64}\/)?[A-Za-z0-9_-]{1,64}$/, 'must be deviceId or siteId/deviceId');
const ruleId = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a rule id such as gas-l2');
const point = z.tuple([z.number().finite(), z.number().finite()]);
const offset = durationSchema();
const positive = durationSchema({ min: 1 });

/** Step kinds that drive devices over MQTT. */
export const DEVICE_ACTIONS = [
  'telemetry',
  'leak',
  'move',
  'event',
  'panel',
  'status',
  'silence',
  'raw',
] as const;

/** How a metric moves during a step. */
export const signalSchema = z.union([
  z.number().finite(),
  z.boolean(),
  z.object({ ramp: z.tuple([z.number().finite(), z.number().finite()]) }).strict(),
  z
    .object({
      /** A square wave: `around + amplitude`, then `around − amplitude`, each for half a period. */
      wave: z
        .object({ around: z.number().finite(), amplitude: z.number().finite(), period: positive })
        .strict(),
    })
    .strict(),
  z.object({ sequence: z.array(z.union([z.number().finite(), z.boolean()])).min(1) }).strict(),
]);
export type Signal = z.infer<typeof signalSchema>;

const telemetryStep = z
  .object({
    device: deviceRef,
    /** Metrics and how they move; the device's other metrics keep their healthy values. */
    values: z.record(z.string().regex(METRIC_NAME_PATTERN), signalSchema),
    every: positive.default(1000),
    for: positive.default(1000),
    /** Device clock error added to `ts` (e.g. `-27h`, `+10m`). */
    skew: durationSchema({ allowNegative: true }).optional(),
    /** Each message sent this many times (the same `seq`): duplicates, as a flaky gateway sends. */
    copies: z.number().int().min(1).max(10).default(1),
    /** Send each pair of samples newest first (out of order). */
    outOfOrder: z.boolean().default(false),
    /** Leave `seq` out, as many devices do. */
    noSeq: z.boolean().default(false),
  })
  .strict();

const leakStep = z
  .object({
    /** Source position in the site frame; or a detector's position via `device`. */
    source: point.optional(),
    device: deviceRef.optional(),
    /** Wind blowing towards `towards` degrees (0 = north, +y; 90 = east, +x) at `speed` m/s. */
    wind: z
      .object({ towards: z.number().min(0).max(360), speed: z.number().positive().max(30) })
      .strict()
      .optional(),
    peakLel: z.number().positive().max(100).default(80),
    ramp: positive.default(10_000),
    hold: offset.default(60_000),
    decay: positive.default(30_000),
    /** Metres downwind over which the plume's peak falls to 1/e (default 60). */
    reach: z.number().positive().default(60),
    /** Plume half-width growth: crosswind spread in m per m downwind (default 0.25, plus 5 m). */
    spread: z.number().positive().default(0.25),
    every: positive.default(1000),
  })
  .strict()
  .refine(step => step.source !== undefined || step.device !== undefined, {
    message: 'a leak needs a source position or a device at the source',
  });

const moveStep = z
  .object({
    /** Personnel tags to move (several move as a group, spread around the point). */
    devices: z.array(deviceRef).min(1),
    to: point,
    /** Walking speed, m/s (default 1.2); they start from where the tag was. */
    speed: z.number().positive().default(1.2),
    /** Metres between people of a group at the destination (default 2). */
    spacing: z.number().min(0).default(2),
    /** Report `still: true` once there (no motion: man-down). */
    still: z.boolean().default(false),
    every: positive.default(5000),
    for: positive,
  })
  .strict();

export const stepSchema = z
  .object({
    at: offset,
    telemetry: telemetryStep.optional(),
    leak: leakStep.optional(),
    move: moveStep.optional(),
    event: z
      .object({
        device: deviceRef,
        code: z.string().regex(EVENT_CODE_PATTERN),
        detail: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional(),
    /**
     * A fire panel's signal (`fire`, `isolation`, `start`, `mains-fault`, `manual`, `reset`, …,
     * FIRE_PANEL_STATES) at a registry address (`1-23` loop-point, `23`, `zone:3`): compiled to
     * the GB 26875 event with `detail.loop` / `point` / `zone`.
     */
    panel: z
      .object({ device: deviceRef, state: z.string().min(1), address: z.string().optional() })
      .strict()
      .optional(),
    status: z.object({ device: deviceRef, online: z.boolean() }).strict().optional(),
    /** The device sends nothing for this long (it went offline without a last will). */
    silence: z.object({ device: deviceRef, for: positive }).strict().optional(),
    /** A payload sent as it is: malformed JSON, wrong shapes, wrong types. */
    raw: z
      .object({
        device: deviceRef,
        kind: z.enum(['telemetry', 'event', 'status']).default('telemetry'),
        payloads: z.array(z.string()).min(1),
        every: positive.default(1000),
      })
      .strict()
      .optional(),
    note: z.string().optional(),
    /** Operator steps (operator-steps.ts): a named user acting through the HTTP API. */
    ...operatorStepFields,
  })
  .strict()
  .superRefine((step, context) => {
    const actions = [...DEVICE_ACTIONS, ...OPERATOR_ACTIONS].filter(
      key => step[key as keyof typeof step] !== undefined,
    );
    if (actions.length !== 1) {
      context.addIssue({
        code: 'custom',
        message: `a step does exactly one thing (${[...DEVICE_ACTIONS, ...OPERATOR_ACTIONS].join(', ')}), this one has ${actions.length ? actions.join(', ') : 'none'}`,
      });
      return;
    }
    const operator = (OPERATOR_ACTIONS as readonly string[]).includes(actions[0] as string);
    if (operator && step.as === undefined)
      context.addIssue({
        code: 'custom',
        message: `a ${actions[0]} step needs as: (the user acting)`,
      });
    if (!operator) {
      for (const field of ['as', 'target', 'within', 'expect', 'save'] as const) {
        if (step[field] !== undefined)
          context.addIssue({
            code: 'custom',
            message: `${field} belongs to operator steps (${OPERATOR_ACTIONS.join(', ')}), not to ${actions[0]}`,
          });
      }
    }
  });
export type ScenarioStep = z.infer<typeof stepSchema>;

export const expectationSchema = z
  .object({
    device: deviceRef,
    rule: ruleId,
    level: z.string().min(1).max(32).optional(),
    /** The alarm's area (a fire-panel point's area, not the panel's), when given. */
    area: identifier.optional(),
    /** Raised within this long after `after` (default: from the start). */
    within: positive,
    after: offset.default(0),
    /** Raised exactly this many times over the whole run (default 1). */
    count: z.number().int().min(1).default(1),
  })
  .strict();
export type Expectation = z.infer<typeof expectationSchema>;

export const forbiddenSchema = z
  .object({ device: deviceRef.optional(), rule: ruleId.optional(), level: z.string().optional() })
  .strict()
  .refine(rule => rule.device !== undefined || rule.rule !== undefined, {
    message: 'expectNone needs a device, a rule, or both',
  });
export type Forbidden = z.infer<typeof forbiddenSchema>;

export const scenarioSchema = z
  .object({
    name: identifier,
    title: z.string().min(1),
    description: z.string().optional(),
    /** The registry (or fleet file) the scenario was written for, relative to the scenario file. */
    registry: z.string().min(1),
    /** The site device references are in, unless they say `site/device`. */
    site: identifier,
    duration: positive,
    /** Every other device of the site reports normally meanwhile (default true). */
    background: z.boolean().default(true),
    /** Rules the scenario needs beyond those named in `expect` (for the pending-rule check). */
    requires: z.array(ruleId).default([]),
    steps: z.array(stepSchema).default([]),
    expect: z.array(expectationSchema).default([]),
    /** Alarms that must not be raised during the run. */
    expectNone: z.array(forbiddenSchema).default([]),
    /** The users operator steps act as (`as:`), with where their password comes from. */
    users: z.record(z.string().min(1).max(64), userSchema).default({}),
    /**
     * Further Vigil instances operator steps may address (`target: city`), besides `main` (the
     * gateway the runner is given); the runner is given each one's URL (`--target city=http://…`).
     */
    targets: z.array(identifier).default([]),
    /**
     * The configuration (environment) the Vigil under test must run with for this scenario, e.g.
     * `VIGIL_HAZARD_ESCALATE_HOURS`; the runner cannot check a remote Vigil's settings, so tests
     * start Vigil with these and a site states them in its acceptance record.
     */
    config: z.record(z.string().regex(/^VIGIL_[A-Z0-9_]+$/), z.string()).default({}),
  })
  .strict()
  .superRefine((scenario, context) => {
    const saved = new Set<string>();
    scenario.steps.forEach((step, index) => {
      const issue = (message: string) =>
        context.addIssue({ code: 'custom', path: ['steps', index], message });
      if (step.as !== undefined && scenario.users[step.as] === undefined)
        issue(`user ${step.as} is not in users`);
      if (
        step.target !== undefined &&
        step.target !== MAIN_TARGET &&
        !scenario.targets.includes(step.target)
      )
        issue(
          `target ${step.target} is not in targets (main or ${scenario.targets.join(', ') || 'none declared'})`,
        );
      const refs = [
        step.alarm?.ref,
        step.hazard?.id,
        step.hazard?.alarm,
        step.permit?.id,
        step.shift?.id,
        step.uplink?.alarm,
        step.uplink?.hazard,
      ].filter((ref): ref is string => ref !== undefined);
      for (const ref of refs) {
        if (!saved.has(ref)) issue(`${ref} is not saved by an earlier step`);
      }
      if (step.save !== undefined) saved.add(step.save);
    });
    if (scenario.targets.includes(MAIN_TARGET))
      context.addIssue({
        code: 'custom',
        path: ['targets'],
        message: `${MAIN_TARGET} is implicit`,
      });
  });
export type Scenario = z.infer<typeof scenarioSchema>;

export class ScenarioError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Scenario is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ScenarioError';
  }
}

export function parseScenario(content: unknown, source = 'scenario'): Scenario {
  const parsed = scenarioSchema.safeParse(content);
  if (!parsed.success) {
    throw new ScenarioError(
      parsed.error.issues.map(
        issue => `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    );
  }
  return parsed.data;
}

export function loadScenarioFile(path: string): Scenario {
  let content: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    content = extname(path) === '.json' ? JSON.parse(text) : parse(text);
  } catch (error) {
    throw new ScenarioError([`${path}: ${(error as Error).message.split('\n')[0]}`]);
  }
  return parseScenario(content, path);
}
