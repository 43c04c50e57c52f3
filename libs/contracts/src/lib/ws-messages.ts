import type { Alarm } from './alarms';
import type { PipelineStatus } from './canary';
import type { ServiceNotReady } from './service-health';
import type { MetricValue } from './readings';
import type { UplinkStatus } from './uplink';

/**
 * Why a console that asked to resume (`lastSeq`) got a `snapshot` instead of what it missed:
 * `epoch` its epoch is not the gateway's (another log, or a gateway without a durable one that
 * restarted); `retention` what it missed is no longer kept (older than the replay buffer and the
 * log's retention, or too far back); `ahead` its lastSeq is beyond what this gateway numbered
 * (seqs lost with a process); `unreadable` the log could not be read.
 */
export type ResyncReason = 'epoch' | 'retention' | 'ahead' | 'unreadable';

/** Messages the gateway pushes on `/ws`. Every message carries the connection-independent `seq`. */
export type ServerMessage =
  | {
      readonly type: 'hello';
      readonly seq: number;
      /** The gateway's sequence space; resume only within the same epoch. */
      readonly epoch: string;
      readonly serverTime: number;
      readonly historyKept: boolean;
      /** Why history is not kept (e.g. `HTTP 401: authorization failed`), or a schema notice. */
      readonly historyReason?: string;
      /**
       * This gateway process. The alarms it owns itself (the canary's `pipeline-stalled`) are not
       * in any stream: a console that says hello to another gateway drops the previous one's.
       */
      readonly gateway?: string;
    }
  | { readonly type: 'alarm'; readonly seq: number; readonly alarm: Alarm }
  | {
      readonly type: 'telemetry';
      readonly seq: number;
      readonly siteId: string;
      readonly deviceId: string;
      readonly ts: number;
      readonly values: Readonly<Record<string, MetricValue>>;
    }
  | {
      readonly type: 'snapshot';
      readonly seq: number;
      readonly alarms: readonly Alarm[];
      /** Present when the client asked to resume and gets this snapshot instead: why. */
      readonly resync?: ResyncReason;
    }
  | {
      readonly type: 'system';
      readonly seq: number;
      readonly level: 'info' | 'warn' | 'error';
      readonly code: string;
      readonly message: string;
    }
  | { readonly type: 'error'; readonly seq: number; readonly message: string }
  /**
   * Every second, unsequenced (not replayed): the gateway is alive and this is the pipeline as
   * the canary sees it. A console that hears none for `pipeline.timeoutMs` shows its stale banner.
   */
  | {
      readonly type: 'heartbeat';
      readonly seq: number;
      readonly serverTime: number;
      readonly pipeline: PipelineStatus;
      /**
       * Split deployment: the processes whose readiness fails (gateway `/readyz`
       * `checks.services`), with their failing checks; absent while every process is ready (and
       * from gateways older than this field). The console shows an error banner while any is listed.
       */
      readonly services?: readonly ServiceNotReady[];
      /**
       * A lower Vigil (VIGIL_UPLINK_URL): the link to the upper while it is not ok (posts failing,
       * outbox nearly full, items refused); absent while it is. The console shows a banner.
       */
      readonly uplink?: UplinkStatus;
    }
  | {
      readonly type: 'action-result';
      readonly seq: number;
      readonly requestId: string;
      readonly ok: boolean;
      readonly status: number;
      readonly message?: string;
      readonly alarm?: Alarm;
    };

/** Messages a console sends on `/ws`. */
export type ClientMessage =
  | { readonly type: 'resume'; readonly lastSeq: number }
  | { readonly type: 'subscribe'; readonly devices: readonly string[] }
  | { readonly type: 'unsubscribe'; readonly devices: readonly string[] }
  | {
      readonly type: 'action';
      readonly requestId: string;
      readonly alarmId: string;
      /** acknowledge | shelve | unshelve | comment | assign | dispose | reset, with its body fields. */
      readonly action: string;
      readonly [field: string]: unknown;
    };
