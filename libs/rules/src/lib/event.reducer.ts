import type { AlarmLocation, AlarmPriority, DeviceEvent, RuleSignal } from '@vigil/contracts';

import {
  type FirePanelMap,
  MAX_EVENT_ADDRESSES,
  describeLocation,
  eventAddress,
} from './event-address';
import type { EventRuleConfig } from './rule-config';
import {
  NO_SIGNALS,
  type RuleContext,
  type RuleStep,
  type SignalSource,
  ruleSignal,
  signalKey,
} from './rule-signal';

/** One active address of an event rule: what its alarm says now. */
export interface EventEntry {
  readonly level: string;
  readonly priority: AlarmPriority;
  readonly areaId: string | undefined;
  readonly location: AlarmLocation | undefined;
  /** Instead of the rule's label (the confirmed fire of a zone). */
  readonly label?: string;
}

/** Fires of one zone, for two-detector confirmation: point key → event time. */
interface ZoneFires {
  readonly points: ReadonlyMap<string, number>;
  readonly confirmed: boolean;
}

/**
 * One (device, event rule) pair. `active`: any address (or the device itself) is active. Devices
 * that never sent the rule's event share two constants; `entries` exists once one has.
 */
export interface EventState {
  readonly kind: 'event';
  readonly active: boolean;
  /** Address key ('' = the device itself) → its entry, in raise order. */
  readonly entries?: ReadonlyMap<string, EventEntry>;
  /** Zone → its recent fires (rules with `confirmZones` only). */
  readonly zones?: ReadonlyMap<string, ZoneFires>;
}

export const EVENT_INACTIVE: EventState = Object.freeze({ kind: 'event', active: false });

/** A step of an event rule; `problems`: events raised despite a problem (engine counter). */
export interface EventStep extends RuleStep<EventState> {
  readonly problems?: number;
}

/** Where the device's registry entry is, for the event reducer: a fire panel's address book. */
export interface EventDevice {
  readonly firePanel?: FirePanelMap | undefined;
}

/** Suffix of the confirmed-fire key of a zone: `…/fire/confirmed.Z3`. */
const CONFIRMED_PREFIX = 'confirmed.Z';
const CONFIRMED_LABEL = 'Confirmed fire (two detectors in one zone, GB 50116 AND logic)';

/** An open alarm as the lifecycle restored it after a restart (an `Alarm` has these fields). */
export interface RestorableEventAlarm {
  readonly key: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly level: string;
  readonly priority: AlarmPriority;
  readonly areaId: string | undefined;
  readonly location?: AlarmLocation | undefined;
  readonly conditionActive: boolean;
}

/**
 * Event-rule states from the alarms still open with their condition active after a restart,
 * keyed `${siteId}/${deviceId}/${ruleId}`: each address's alarm becomes an active entry again, so
 * that a panel `reset` or a `cleared` event still clears it (without this, the restarted engine
 * would know of no active address and ignore them, leaving the alarm open for good).
 */
export function restoredEventStates(
  alarms: Iterable<RestorableEventAlarm>,
): Map<string, EventState> {
  const byRule = new Map<string, Map<string, EventEntry>>();
  for (const alarm of alarms) {
    if (!alarm.conditionActive) continue;
    const base = signalKey(alarm.siteId, alarm.deviceId, alarm.ruleId);
    let suffix: string;
    if (alarm.key === base) suffix = '';
    else if (alarm.key.startsWith(`${base}/`)) suffix = alarm.key.slice(base.length + 1);
    else continue;
    let entries = byRule.get(base);
    if (!entries) byRule.set(base, (entries = new Map()));
    entries.set(suffix, {
      level: alarm.level,
      priority: alarm.priority,
      areaId: alarm.areaId,
      location: alarm.location,
      ...(suffix.startsWith(CONFIRMED_PREFIX) ? { label: CONFIRMED_LABEL } : {}),
    });
  }
  const states = new Map<string, EventState>();
  for (const [base, entries] of byRule) {
    states.set(base, { kind: 'event', active: true, entries });
  }
  return states;
}

/**
 * Device events as signals (domain-standards §9.1 fault flag, §9.3 device alarms, §9.6 fire
 * panels, §9.7 SOS). Device-side alarms are first-class: the device's own decision is the alarm.
 *
 * - Keyed per address: an event naming a loop/point, zone or channel (`eventAddress`) raises its
 *   own alarm, key `…/{ruleId}/L1.P23`, in the point's area from the registry; one without an
 *   address raises the device-level alarm (`…/{ruleId}`), as before.
 * - Levels: with `levels`, the device's `detail.level` (L1/L2, pre-alarm/alarm) sets the alarm's
 *   level and priority; a changed level on an active address re-signals (the lifecycle updates
 *   the alarm). A missing or unknown level uses the rule's own level and priority (the most
 *   severe, fail-safe) and says so in the message.
 * - `hold`: the code raises (once per address); the same code with `detail.cleared: true` clears
 *   that address; any code in `clearCodes` (a panel `reset`) clears every address of the rule.
 *   Nothing else clears it.
 * - `pulse`: a momentary event (a call point pressed, an SOS) raises and clears in the same step.
 * - `confirmZones` (the fire rule): when a second point of a zone whose registry entry asks for
 *   two-detector confirmation reports fire within its window, a P1 `confirmed` signal for the
 *   zone (key `…/fire/confirmed.Z3`, `members` = the points); cleared by the clear codes.
 *
 * Events are taken in arrival order; `at` is the event's `ts`.
 */
export function reduceEvent(
  state: EventState,
  event: DeviceEvent,
  rule: EventRuleConfig,
  context: RuleContext,
  device?: EventDevice,
): EventStep {
  if (event.code === rule.code) {
    const address = eventAddress(event.detail, device?.firePanel);
    const { level, priority, problem: levelProblem } = levelOf(event, rule);
    const entries = state.entries ?? new Map<string, EventEntry>();
    let key = address.key;
    let problem = joinProblems(address.problem, levelProblem);
    if (key !== '' && !entries.has(key) && entries.size >= MAX_EVENT_ADDRESSES) {
      problem = joinProblems(
        problem,
        `more than ${MAX_EVENT_ADDRESSES} addresses active: folded into the device alarm`,
      );
      key = '';
    }
    const entry: EventEntry = {
      level,
      priority,
      areaId: key === '' && address.key !== '' ? undefined : address.areaId,
      location: key === '' ? undefined : address.location,
    };
    const extra = problem === undefined ? undefined : problem;
    const problems = problem === undefined ? 0 : 1;
    if (rule.mode === 'pulse') {
      return {
        state,
        signals: [
          eventSignal(event, rule, key, entry, true, context, extra),
          eventSignal(event, rule, key, entry, false, context, undefined, 'momentary event'),
        ],
        problems,
      };
    }
    const current = entries.get(key);
    if (event.detail?.['cleared'] === true) {
      if (!current) return { state, signals: NO_SIGNALS };
      const next = new Map(entries);
      next.delete(key);
      return {
        state: withEntries(state, next),
        signals: [eventSignal(event, rule, key, current, false, context)],
      };
    }
    if (current && current.level === entry.level && current.priority === entry.priority) {
      return { state, signals: NO_SIGNALS };
    }
    const next = new Map(entries);
    next.set(key, entry);
    const signals = [eventSignal(event, rule, key, entry, true, context, extra)];
    let zones = state.zones;
    if (!current && rule.confirmZones === true && key !== '' && address.zone !== undefined) {
      const confirmation = confirmZone(
        state.zones,
        address.zone,
        key,
        event,
        rule,
        device,
        context,
      );
      zones = confirmation.zones;
      if (confirmation.confirmed) {
        next.set(confirmation.confirmed.key, confirmation.confirmed.entry);
        signals.push(confirmation.confirmed.signal);
      }
    }
    return {
      state: { ...withEntries(state, next), ...(zones ? { zones } : {}) },
      signals,
      problems,
    };
  }
  if (state.active && rule.clearCodes.includes(event.code)) {
    const signals: RuleSignal[] = [];
    for (const [key, entry] of state.entries ?? []) {
      signals.push(eventSignal(event, rule, key, entry, false, context));
    }
    return { state: EVENT_INACTIVE, signals };
  }
  return { state, signals: NO_SIGNALS };
}

/** The cleared signals of every active address of a rule that a reload removed or disabled. */
export function removedEventSignals(
  state: EventState,
  source: SignalSource,
  rule: EventRuleConfig,
  at: number,
  context: RuleContext,
): RuleSignal[] {
  const signals: RuleSignal[] = [];
  for (const [key, entry] of state.entries ?? []) {
    const signal = ruleSignal(
      { ...source, areaId: entry.areaId ?? source.areaId },
      { ...rule, level: entry.level, priority: entry.priority },
      false,
      at,
      context,
      {
        value: undefined,
        threshold: undefined,
        message: `Rule ${rule.ruleId} removed or disabled by a configuration reload; no longer evaluated`,
      },
    );
    signals.push(withKey(signal, key, entry));
  }
  return signals;
}

function withEntries(state: EventState, entries: ReadonlyMap<string, EventEntry>): EventState {
  if (entries.size === 0) return EVENT_INACTIVE;
  return { kind: 'event', active: true, entries, ...(state.zones ? { zones: state.zones } : {}) };
}

function levelOf(
  event: DeviceEvent,
  rule: EventRuleConfig,
): { level: string; priority: AlarmPriority; problem: string | undefined } {
  const levels = rule.levels;
  if (!levels) return { level: rule.level, priority: rule.priority, problem: undefined };
  const given = event.detail?.['level'];
  if (typeof given === 'string' && Object.hasOwn(levels, given)) {
    return { level: given, priority: levels[given] as AlarmPriority, problem: undefined };
  }
  // Never stringify what a device sent whole: it may be huge or nested (issue 10 finding 1).
  const shown =
    typeof given === 'string' ? JSON.stringify(given.slice(0, 24)) : `(${typeof given})`;
  const said = given === undefined ? 'no level given' : `unknown level ${shown}`;
  return { level: rule.level, priority: rule.priority, problem: `${said}: taken as ${rule.level}` };
}

function joinProblems(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : `${a}; ${b}`;
}

/**
 * Records a new fire of `pointKey` in `zone` and returns the zone's confirmed-fire signal when a
 * second point of the zone fired within its window (GB 50116 AND logic; window per zone, P).
 */
function confirmZone(
  zones: ReadonlyMap<string, ZoneFires> | undefined,
  zone: string,
  pointKey: string,
  event: DeviceEvent,
  rule: EventRuleConfig,
  device: EventDevice | undefined,
  context: RuleContext,
): {
  zones: ReadonlyMap<string, ZoneFires> | undefined;
  confirmed?: { key: string; entry: EventEntry; signal: RuleSignal };
} {
  const config = device?.firePanel?.zones.get(zone);
  const windowMs = config?.confirmWindowMs;
  if (windowMs === undefined) return { zones };
  const previous = zones?.get(zone);
  const points = new Map<string, number>();
  for (const [key, at] of previous?.points ?? []) {
    if (event.ts - at <= windowMs && points.size < MAX_EVENT_ADDRESSES) points.set(key, at);
  }
  points.set(pointKey, event.ts);
  const confirm = !previous?.confirmed && points.size >= 2;
  const next = new Map(zones ?? []);
  next.set(zone, { points, confirmed: previous?.confirmed === true || confirm });
  if (!confirm) return { zones: next };
  const location: AlarmLocation = {
    zone,
    ...(config?.name === undefined ? {} : { name: config.name }),
    ...(config?.position === undefined ? {} : { position: config.position }),
  };
  const entry: EventEntry = {
    level: 'confirmed',
    priority: 1,
    areaId: config?.areaId,
    location,
    label: CONFIRMED_LABEL,
  };
  const members = [...points.keys()];
  const key = `${CONFIRMED_PREFIX}${zone}`;
  const signal = eventSignal(
    event,
    rule,
    key,
    entry,
    true,
    context,
    `points ${members.join(', ')}`,
  );
  return { zones: next, confirmed: { key, entry, signal: { ...signal, members } } };
}

/** `fire: Unconfirmed fire at loop 1 point 23, zone 3 (loop=1 point=23)`. */
function eventSignal(
  event: DeviceEvent,
  rule: EventRuleConfig,
  key: string,
  entry: EventEntry,
  active: boolean,
  context: RuleContext,
  problem?: string,
  why?: string,
): RuleSignal {
  const what = entry.label ?? rule.label ?? `Device event ${rule.code}`;
  const where = describeLocation(entry.location);
  const details = describeDetail(event.detail);
  const message = active
    ? `${what}${where ? ` at ${where}` : ''}${details ? ` (${details})` : ''}${problem ? `; ${problem}` : ''}`
    : `${what}${where ? ` at ${where}` : ''}: cleared by ${
        why ?? (event.code === rule.code ? `${event.code} cleared` : event.code)
      }`;
  const signal = ruleSignal(
    { ...event, areaId: entry.areaId ?? event.areaId },
    { ...rule, level: entry.level, priority: entry.priority },
    active,
    event.ts,
    context,
    { value: undefined, threshold: undefined, message },
  );
  return withKey(signal, key, entry);
}

function withKey(signal: RuleSignal, key: string, entry: EventEntry): RuleSignal {
  if (key === '') return signal;
  return {
    ...signal,
    key: `${signalKey(signal.siteId, signal.deviceId, signal.ruleId)}/${key}`,
    ...(entry.location ? { location: entry.location } : {}),
  };
}

/** Up to four primitive entries as `key=value`, skipping `cleared`; long strings cut at 40. */
function describeDetail(detail: DeviceEvent['detail']): string {
  if (!detail) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'cleared' || parts.length === 4) continue;
    if (typeof value === 'number' || typeof value === 'boolean') parts.push(`${key}=${value}`);
    else if (typeof value === 'string') parts.push(`${key}=${value.slice(0, 40)}`);
  }
  return parts.join(' ');
}
