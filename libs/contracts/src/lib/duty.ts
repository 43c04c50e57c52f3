/**
 * Duty and shift hand-over (值班记录, 交接班): the control room's shift log. Who is on duty (the
 * shift lead 值班长 and the operators 值班员), what the outgoing shift handed over (the open
 * alarms, hazards and permits of the control room's sites at that moment, and its notes), signed
 * by both leads (谁检查、谁签字、谁负责), kept in an append-only history. Policy: RSP-06 (fire
 * control room duty operators 消防控制室值班员) and PER-08 (pre-shift commitment 班前安全承诺) in the
 * shared reference; the figures below are proposals (P), not from a standard.
 */

/**
 * A shift is on duty from its start (the first shift of a control room) or from the acceptance
 * of the hand-over that named it, and `ended` once it has handed over. The incoming shift exists
 * only in the open hand-over (`handOver.incoming`) until it accepts.
 */
export const SHIFT_STATES = ['on-duty', 'ended'] as const;
export type ShiftState = (typeof SHIFT_STATES)[number];

export const SHIFT_ACTIONS = [
  /** The first shift of a control room comes on duty (no one to take over from). */
  'start',
  /** The outgoing lead opens a hand-over: the server captures what is handed over. */
  'open-hand-over',
  /** The outgoing lead signs the hand-over (交班签字). */
  'sign',
  /** The incoming lead signs to accept (接班签字): the incoming shift is on duty. */
  'accept',
  /** The outgoing shift's record of the acceptance: it is off duty. */
  'handed-over',
] as const;
export type ShiftActionName = (typeof SHIFT_ACTIONS)[number];

/** What a hand-over lists: open alarms, open hazards, permits not closed. */
export const DUTY_ITEM_KINDS = ['alarm', 'hazard', 'permit'] as const;
export type DutyItemKind = (typeof DUTY_ITEM_KINDS)[number];

/** One item handed over: its id and a one-line summary at the moment of capture. */
export interface DutyItem {
  readonly kind: DutyItemKind;
  readonly id: string;
  readonly siteId: string;
  /** The item's state (alarm: its ISA-18.2 state, `+shelved` when shelved; hazard/permit state). */
  readonly state: string;
  /** Alarms: 1 (most urgent) … 4. */
  readonly priority?: number | undefined;
  readonly summary: string;
}

/** `alarm:<id>`: how an item is named when its changes are acknowledged. */
export function dutyItemRef(item: Pick<DutyItem, 'kind' | 'id'>): string {
  return `${item.kind}:${item.id}`;
}

/**
 * Items listed in one snapshot at most, the most urgent first (alarms by priority, then hazards,
 * then permits). Beyond it the snapshot says how many were left out (`omitted`): never silently.
 */
export const DUTY_SNAPSHOT_MAX_ITEMS = 1000;

/** What was open in the control room's sites at one moment. */
export interface DutySnapshot {
  readonly at: number;
  readonly items: readonly DutyItem[];
  /** Items left out beyond DUTY_SNAPSHOT_MAX_ITEMS, per kind (absent when none). */
  readonly omitted?: Readonly<Partial<Record<DutyItemKind, number>>> | undefined;
}

/** What changed between a hand-over's snapshot and a later moment (its acceptance). */
export interface DutyChanges {
  readonly at: number;
  /** Opened since: new alarms raised meanwhile, new hazards, new permits. */
  readonly added: readonly DutyItem[];
  /** Still open, in another state (the item as it is now; `was` = the state handed over). */
  readonly changed: readonly (DutyItem & { readonly was: string })[];
  /** Handed over open, closed since. */
  readonly removed: readonly DutyItem[];
}

/** The people of one shift: the lead signs, the operators are listed (user ids). */
export interface ShiftCrew {
  readonly lead: string;
  readonly operators: readonly string[];
}

/** A hand-over from one shift to the next (交接班记录). */
export interface HandOver {
  readonly openedAt: number;
  /** The outgoing lead. */
  readonly openedBy: string;
  /** The outgoing shift's notes (交班记事): what the incoming must know. */
  readonly notes: string;
  readonly snapshot: DutySnapshot;
  /** The incoming shift, named here until it accepts. */
  readonly incoming: ShiftCrew & { readonly plannedEnd: number };
  /** 交班签字: the outgoing lead signed. */
  readonly signedOutBy?: string | undefined;
  readonly signedOutAt?: number | undefined;
  /** 接班签字: the incoming lead accepted. */
  readonly acceptedBy?: string | undefined;
  readonly acceptedAt?: number | undefined;
  /** What changed between the snapshot and the acceptance, acknowledged by the incoming lead. */
  readonly changesAtAcceptance?: DutyChanges | undefined;
}

/** One signed step of a shift's history; entries are only ever appended. */
export interface ShiftAction {
  readonly action: ShiftActionName;
  readonly at: number;
  /** The authenticated user who did it. */
  readonly by: string;
  readonly role: string;
  /** The state after this step. */
  readonly state: ShiftState;
  readonly note?: string | undefined;
}

export interface Shift {
  readonly id: string;
  /** The shift number (per Vigil instance, from 1). */
  readonly no: number;
  /** The control room: an area of kind `control-room` of site `siteId`. */
  readonly siteId: string;
  readonly roomId: string;
  /** The sites this control room watches (its own first): the hand-over's scope. */
  readonly sites: readonly string[];
  readonly lead: string;
  readonly operators: readonly string[];
  readonly state: ShiftState;
  /** When it came on duty (start or accepted hand-over). */
  readonly startedAt: number;
  /** When its duty is planned to end: a hand-over is due by then. */
  readonly plannedEnd: number;
  readonly endedAt?: number | undefined;
  /** The shift it took over from. */
  readonly previousId?: string | undefined;
  /** The hand-over to the next shift, once opened (re-opening replaces it until accepted). */
  readonly handOver?: HandOver | undefined;
  readonly updatedAt: number;
  readonly history: readonly ShiftAction[];
}

/** The rule id of the unmanned-control-room alarm (P2, owned by the gateway). */
export const DUTY_UNMANNED_RULE_ID = 'duty-unmanned';
/** The alarm's source: the control room (no device). */
export const DUTY_DEVICE_ID = '_duty';

/** `${siteId}/_duty/duty-unmanned-${roomId}`: one alarm per control room. */
export function dutyUnmannedKey(shift: Pick<Shift, 'siteId' | 'roomId'>): string {
  return `${shift.siteId}/${DUTY_DEVICE_ID}/${DUTY_UNMANNED_RULE_ID}-${shift.roomId}`;
}

/**
 * Grace after the on-duty shift's planned end before the control room counts as unmanned (no
 * hand-over accepted). A proposal (P): long enough for a hand-over that runs late, short against
 * an alarm nobody watches. Configurable (VIGIL_DUTY_GRACE_MS).
 */
export const DUTY_GRACE_MS = 15 * 60_000;
/** The longest shift accepted (a proposal, P): a plannedEnd further out is a typo. */
export const SHIFT_MAX_MS = 24 * 3_600_000;

/** A control room without anyone on duty now: the on-duty shift's planned end + grace passed. */
export interface DutyUnmanned {
  /** Since when (plannedEnd + grace). */
  readonly since: number;
  readonly plannedEnd: number;
  readonly reason: string;
}

/** A shift as the API answers it: derived at the time of the answer, never journaled. */
export interface ShiftStatus {
  /** On duty past its planned end + grace without an accepted hand-over (also a P2 alarm). */
  readonly unmanned?: DutyUnmanned | undefined;
  /** An open hand-over's changes since its snapshot (what the incoming lead acknowledges). */
  readonly changes?: DutyChanges | undefined;
}

export type ShiftView = Shift & ShiftStatus;

/** A control room in the user's scope and the shift on duty there (GET /api/v1/duty/rooms). */
export interface DutyRoom {
  readonly siteId: string;
  readonly roomId: string;
  readonly name: string;
  readonly onDuty?: ShiftView | undefined;
}
