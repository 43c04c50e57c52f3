import { z } from 'zod';

import type { OperatorCommand } from '@vigil/alarms';
import { DISPOSITIONS, type Alarm } from '@vigil/contracts';

import type { AuthenticatedUser } from '../auth/auth.service';
import type { AuthorizationService } from '../auth/authorization.service';
import { AlarmCommands } from './alarm-commands';
import { AlarmView } from './alarm-view';

const note = z.string().max(2000).optional();
/** Bodies of the alarm actions; the acting user comes from the token, never from the body. */
export const ACTION_BODIES = {
  acknowledge: z.object({ note }),
  shelve: z.object({
    reason: z.string().min(1).max(500),
    minutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
  }),
  unshelve: z.object({ note }),
  comment: z.object({ note: z.string().min(1).max(2000) }),
  assign: z.object({ to: z.string().min(1).max(64), note }),
  dispose: z.object({ disposition: z.enum(DISPOSITIONS), note: z.string().min(1).max(2000) }),
  reset: z.object({ note }),
} as const;
export type ActionName = keyof typeof ACTION_BODIES;

export type AlarmActionOutcome =
  | { readonly ok: true; readonly alarm: Alarm }
  | { readonly ok: false; readonly status: number; readonly message: string };

/**
 * An operator's alarm action, for REST and the WebSocket alike: validate, authorise (scope and
 * role), send to the lifecycle (or the alarm's owner in this process), await durability.
 */
export async function runAlarmAction(
  view: AlarmView,
  commands: AlarmCommands,
  authorization: AuthorizationService,
  user: AuthenticatedUser,
  alarmId: string,
  action: string,
  body: unknown,
): Promise<AlarmActionOutcome> {
  if (!(action in ACTION_BODIES))
    return { ok: false, status: 404, message: `unknown action "${action}"` };
  const name = action as ActionName;
  const parsed = ACTION_BODIES[name].safeParse(body ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      status: 400,
      message: parsed.error.issues
        .map(i => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; '),
    };
  }
  // Role first, and a user refused everything learns nothing about which alarms exist: 403
  // before the look-up; then an alarm out of scope is answered like one that does not exist.
  const allowed = authorization.authorize(user, name);
  if (!allowed.ok) return allowed;
  const alarm = view.get(alarmId);
  if (!alarm || !authorization.canSeeSite(user, alarm.siteId))
    return { ok: false, status: 404, message: 'no open alarm with this id' };
  const command = { action, ...parsed.data } as OperatorCommand;
  const actor = { id: user.id, role: user.role };
  const owner = view.ownerOf(alarmId);
  const reply = owner
    ? owner.execute(alarmId, command, actor)
    : await commands.execute(
        { action: 'operate', alarmId, command, actor },
        { siteId: alarm.siteId },
      );
  if (!reply.ok) return reply;
  if (!('transition' in reply)) return { ok: false, status: 500, message: 'unexpected reply' };
  return { ok: true, alarm: reply.transition.alarm };
}
