import { JSONCodec, type NatsConnection } from 'nats';

import type { Alarm } from '@vigil/contracts';

import {
  commandReplySchema,
  type AlarmCommand,
  type CommandReply,
} from '../../alarms/alarm-commands';
import { commandSubject, partitionOf } from './subjects';

/** How long a command waits for the owner of its partition (a failover takes under 10 s). */
export const JETSTREAM_COMMAND_TIMEOUT_MS = 5000;

const codec = JSONCodec<unknown>();
const replyBody = commandReplySchema.shape.reply;

/**
 * Where an operator command goes on the JetStream backbone (docs/interfaces.md §Backbone):
 * `vigil.cmd.<p>`, served by the rules instance that holds partition p's lease. `siteId` is the
 * site of the alarm (operate) or of the device (device-mode; taken from the command if absent).
 * `list-open` has no site: it goes to every partition and the answers are merged.
 */
export function commandPartitions(
  command: AlarmCommand,
  partitions: number,
  siteId?: string,
): number[] {
  if (command.action === 'list-open') return Array.from({ length: partitions }, (_, p) => p);
  const site = siteId ?? (command.action === 'device-mode' ? command.siteId : undefined);
  if (site === undefined) throw new Error(`${command.action} needs the alarm's site to be routed`);
  return [partitionOf(site, partitions)];
}

/**
 * Sends one AlarmCommand to the owner(s) of its partition(s) and returns the CommandReply.
 * Never rejects: no owner (no responders), a timeout or a malformed reply is a 503/504 reply.
 * A `list-open` answer lists the open alarms of every partition, or is a 503 naming the
 * partitions that did not answer (a partial list would look like cleared alarms).
 */
export async function requestAlarmCommand(
  nc: NatsConnection,
  partitions: number,
  command: AlarmCommand,
  options: { siteId?: string; timeoutMs?: number } = {},
): Promise<CommandReply> {
  const timeout = options.timeoutMs ?? JETSTREAM_COMMAND_TIMEOUT_MS;
  let targets: number[];
  try {
    targets = commandPartitions(command, partitions, options.siteId);
  } catch (error) {
    return { ok: false, status: 400, message: (error as Error).message };
  }
  const replies = await Promise.all(
    targets.map(partition => requestOne(nc, partition, command, timeout)),
  );
  const first = replies[0];
  if (command.action !== 'list-open' || !first) return first ?? unanswered(targets);
  const missing = targets.filter((_, i) => replies[i]?.ok !== true);
  if (missing.length > 0)
    return {
      ok: false,
      status: 503,
      message: `no rules instance answered for partition(s) ${missing.join(', ')}`,
    };
  const alarms: Alarm[] = [];
  for (const reply of replies) if (reply.ok && 'alarms' in reply) alarms.push(...reply.alarms);
  return { ok: true, alarms };
}

async function requestOne(
  nc: NatsConnection,
  partition: number,
  command: AlarmCommand,
  timeout: number,
): Promise<CommandReply> {
  try {
    const message = await nc.request(commandSubject(partition), codec.encode(command), {
      timeout,
    });
    const parsed = replyBody.safeParse(codec.decode(message.data));
    if (!parsed.success)
      return { ok: false, status: 503, message: 'malformed reply from the rules service' };
    return parsed.data as CommandReply;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '503')
      return { ok: false, status: 503, message: `partition ${partition} has no rules owner now` };
    return { ok: false, status: 504, message: 'the rules service did not answer in time' };
  }
}

function unanswered(targets: readonly number[]): CommandReply {
  return { ok: false, status: 503, message: `no partition to send to (${targets.length})` };
}
