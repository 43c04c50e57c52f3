export const ROLES = ['operator', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who acts: a logged-in user, or Vigil itself (timers, rules). */
export interface Actor {
  readonly id: string;
  readonly role: Role | 'system';
}

export const SYSTEM: Actor = { id: 'vigil', role: 'system' };
