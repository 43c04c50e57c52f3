import { isUtf8 } from 'node:buffer';

import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ZodType } from 'zod';

import {
  INTERNAL_JSON_LIMITS,
  checkJsonLimits,
  deadLetterTopic,
  type DeadLetter,
} from '@vigil/contracts';

import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import { MqttPublisher } from '../mqtt/mqtt-publisher';

/** The internal streams, as the `topic` label of `vigil_internal_rejected_total` (bounded). */
export type InternalTopic = 'records' | 'alarms' | 'commands' | 'replies' | 'canary';

/** First bytes of a rejected internal message kept in its dead letter (base64). */
const SNIPPET_BYTES = 1024;

/**
 * The one door through which messages from other Vigil processes (`vigil-internal/v1/…`) enter
 * this one: byte limits before parsing, JSON, then the topic's zod schema. A malformed message is
 * counted, logged at a bounded rate and dead-lettered (`vigil/v1/_deadletter/bad-internal`), and
 * `undefined` is returned: nothing from the broker can throw into the pipeline (issue 11).
 */
@Injectable()
export class InternalInbox {
  private readonly logger = new Logger(InternalInbox.name);
  private readonly rateLimited = new RateLimitedLogger({
    warn: (message: string) => this.logger.error(message),
  });

  constructor(
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
    @Inject(MqttPublisher) private readonly publisher: MqttPublisher,
  ) {}

  read<T>(kind: InternalTopic, topic: string, payload: Buffer, schema: ZodType<T>): T | undefined {
    const problem = this.problem(payload, schema);
    if (problem.ok) return problem.value;
    this.metrics.internalRejected.inc({ topic: kind });
    this.rateLimited.warn(
      `internal:${kind}`,
      `rejected a malformed internal message on ${topic.slice(0, 200)} (${payload.length} bytes): ${problem.detail}`,
    );
    const letter: DeadLetter = {
      reason: 'bad-internal',
      topic,
      detail: problem.detail,
      receivedAt: Date.now(),
      payload: payload.subarray(0, SNIPPET_BYTES).toString('base64'),
      encoding: 'base64',
      bytes: payload.length,
    };
    try {
      this.publisher.publish(deadLetterTopic('bad-internal'), JSON.stringify(letter));
    } catch (error) {
      this.logger.error(`dead letter of an internal message not published: ${String(error)}`);
    }
    return undefined;
  }

  private problem<T>(
    payload: Buffer,
    schema: ZodType<T>,
  ): { ok: true; value: T } | { ok: false; detail: string } {
    const limit = checkJsonLimits(payload, INTERNAL_JSON_LIMITS);
    if (limit !== 'ok') return { ok: false, detail: limit };
    if (!isUtf8(payload)) return { ok: false, detail: 'not UTF-8' };
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      return { ok: false, detail: `not JSON: ${String((error as Error)?.message).slice(0, 200)}` };
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) return { ok: true, value: parsed.data };
    const detail = parsed.error.issues
      .slice(0, 3)
      .map(issue => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, detail };
  }
}
