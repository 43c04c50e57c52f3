import { createHash, timingSafeEqual } from 'node:crypto';

import {
  Body,
  Controller,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  Param,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { Public } from '../auth/auth.guard';
import { VIGIL_CONFIG, type VigilConfig } from '../config/vigil-config';
import { parseOr400 } from '../common/parse';
import { RateLimitedLogger } from '../common/rate-limited-logger';
import { VigilMetrics } from '../metrics/metrics';
import {
  RELAY_CHANNELS,
  loadNotifyConfig,
  readRelaySecret,
  type NotifyConfig,
  type RelayChannel,
} from './notify-config';
import {
  alertmanagerWebhookSchema,
  dingtalkMessage,
  signedDingtalkUrl,
  smsMessage,
  wecomMessage,
  type AlertmanagerWebhook,
} from './relay-messages';

const TARGET_TIMEOUT_MS = 10_000;

/** The last delivery to each robot or SMS target (bounded by the receivers in notify.yaml). */
interface TargetStatus {
  ok: boolean;
  at: number;
  error: string | undefined;
}

export interface RelayHealth {
  readonly status: 'ok' | 'degraded';
  /** `node/channel` of targets whose last delivery failed, with the reason. */
  readonly failing: Readonly<Record<string, { readonly at: number; readonly error: string }>>;
  readonly lastSuccessAt: number | undefined;
}

/** notify.yaml and the relay secret, read and checked once at boot (a bad file stops the gateway). */
@Injectable()
export class NotifyRelay {
  private readonly logger = new Logger(NotifyRelay.name);
  private readonly warnings = new RateLimitedLogger(this.logger, 3, 60_000);
  readonly config: NotifyConfig;
  private readonly secretDigest: Buffer;
  private readonly targets = new Map<string, TargetStatus>();
  private lastSuccessAt: number | undefined;

  constructor(
    @Inject(VIGIL_CONFIG) config: VigilConfig,
    @Inject(VigilMetrics) private readonly metrics: VigilMetrics,
  ) {
    this.config = loadNotifyConfig(config.notify.configFile as string);
    if (!this.config.relay) {
      this.secretDigest = Buffer.alloc(0);
      return;
    }
    this.secretDigest = digest(readRelaySecret(this.config.relay.secretFile));
  }

  /** Constant-time comparison of `Authorization: Bearer <secret>`. */
  authorised(header: string | undefined): boolean {
    const ok =
      this.secretDigest.length > 0 &&
      header?.startsWith('Bearer ') === true &&
      timingSafeEqual(digest(header.slice('Bearer '.length)), this.secretDigest);
    if (!ok) {
      this.metrics.notifyRelay.inc({ channel: 'any', outcome: 'unauthorised' });
      this.warnings.warn(
        'relay-unauthorised',
        'notify relay: a request without the relay secret was refused',
      );
    }
    return ok;
  }

  /** Degraded while the last delivery to some target failed (Alertmanager is retrying it). */
  health(): RelayHealth {
    const failing: Record<string, { at: number; error: string }> = {};
    for (const [target, status] of this.targets)
      if (!status.ok) failing[target] = { at: status.at, error: status.error ?? '' };
    return {
      status: Object.keys(failing).length > 0 ? 'degraded' : 'ok',
      failing,
      lastSuccessAt: this.lastSuccessAt,
    };
  }

  /** Sends one Alertmanager notification to the node's robot or SMS gateway. */
  async relay(node: string, channel: RelayChannel, webhook: AlertmanagerWebhook): Promise<void> {
    const receivers = this.config.receivers[node];
    let request: { url: string; body: object; headers?: Record<string, string> };
    if (channel === 'wecom' && receivers?.wecom) {
      request = { url: receivers.wecom.webhook, body: wecomMessage(webhook) };
    } else if (channel === 'dingtalk' && receivers?.dingtalk) {
      const { webhook: url, secret, atMobiles } = receivers.dingtalk;
      request = {
        url: signedDingtalkUrl(url, secret, Date.now()),
        body: dingtalkMessage(webhook, atMobiles),
      };
    } else if (channel === 'sms' && receivers?.sms) {
      const { webhook: url, to, token } = receivers.sms;
      request = {
        url,
        body: smsMessage(webhook, to),
        ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
      };
    } else {
      this.metrics.notifyRelay.inc({ channel, outcome: 'unknown-receiver' });
      throw new NotFoundException(`no ${channel} receiver for ${node} in notify.yaml`);
    }
    const problem = await send(request).catch((error: unknown) =>
      error instanceof Error ? error.message : String(error),
    );
    const at = Date.now();
    this.targets.set(`${node}/${channel}`, { ok: problem === undefined, at, error: problem });
    if (problem === undefined) {
      this.lastSuccessAt = at;
      this.metrics.notifyRelay.inc({ channel, outcome: 'sent' });
      return;
    }
    this.metrics.notifyRelay.inc({ channel, outcome: 'failed' });
    this.warnings.warn(
      `relay-${node}-${channel}`,
      `notify relay: ${channel} for ${node} failed: ${problem}`,
    );
    // 502 makes Alertmanager retry the notification (it retries 5xx, not 4xx).
    throw new HttpException(
      { statusCode: 502, message: `${channel} target failed`, detail: problem },
      502,
    );
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Posts JSON; resolves undefined on success, else the reason (robots answer 200 with an errcode). */
async function send(request: {
  url: string;
  body: object;
  headers?: Record<string, string>;
}): Promise<string | undefined> {
  const response = await fetch(request.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...request.headers },
    body: JSON.stringify(request.body),
    signal: AbortSignal.timeout(TARGET_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok) return `HTTP ${response.status} ${text.slice(0, 200)}`;
  try {
    const reply = JSON.parse(text) as { errcode?: unknown; errmsg?: unknown };
    if (typeof reply.errcode === 'number' && reply.errcode !== 0)
      return `errcode ${reply.errcode} ${String(reply.errmsg ?? '')}`;
  } catch {
    // A gateway answering 2xx without JSON accepted the message.
  }
  return undefined;
}

/**
 * Where Alertmanager's `webhook_configs` post: turns its JSON into a WeCom robot message, a signed
 * DingTalk robot message or the SMS gateway body. Protected by the relay's shared secret (not a
 * user token: Alertmanager is a service), so it is public to the user guard.
 */
@ApiTags('notify')
@Public()
@Controller('api/v1/notify/relay')
export class NotifyRelayController {
  constructor(@Inject(NotifyRelay) private readonly relay: NotifyRelay) {}

  @Post(':node/:channel')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Alertmanager webhook: relay its alerts to the WeCom, DingTalk or SMS target of an organisation node (relay secret, not a user token)',
  })
  async post(
    @Param('node') node: string,
    @Param('channel') channel: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ) {
    if (!this.relay.authorised(authorization)) throw new UnauthorizedException();
    if (!(RELAY_CHANNELS as readonly string[]).includes(channel))
      throw new NotFoundException(`unknown channel ${channel}`);
    const webhook = parseOr400(alertmanagerWebhookSchema, body);
    await this.relay.relay(node, channel as RelayChannel, webhook);
    return { ok: true };
  }
}
