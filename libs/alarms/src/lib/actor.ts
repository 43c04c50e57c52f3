import type { Role } from '@vigil/contracts';

export { ROLES, type Role } from '@vigil/contracts';

/** Who acts: a logged-in user, or Vigil itself (timers, rules). */
export interface Actor {
  readonly id: string;
  readonly role: Role | 'system';
}

export const SYSTEM: Actor = { id: 'vigil', role: 'system' };
