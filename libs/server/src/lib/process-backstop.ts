import { Logger } from '@nestjs/common';

/** How long best-effort cleanup may take before the process exits anyway. */
const CLEANUP_TIMEOUT_MS = 5000;
/** Exit code of a process that died of an error in its own code (a supervisor restarts it). */
export const FATAL_EXIT_CODE = 70; // EX_SOFTWARE (sysexits.h): an internal software error

export interface ProcessBackstop {
  /** Run, newest first, after a fatal error and before the exit (stop the app, the managed influxd). */
  onFatal(cleanup: () => Promise<unknown> | unknown): void;
}

interface BackstopHooks {
  readonly on: (
    event: 'uncaughtException' | 'unhandledRejection',
    listener: (error: unknown) => void,
  ) => void;
  readonly exit: (code: number) => void;
  readonly logger: Pick<Logger, 'fatal'>;
  readonly cleanupTimeoutMs: number;
}

/**
 * The last line of defence of a Vigil process: an `uncaughtException` or `unhandledRejection`
 * (an error in our own code that nothing handled) is logged as fatal with its stack, cleanup runs
 * for at most CLEANUP_TIMEOUT_MS, and the process exits non-zero so that its supervisor
 * (systemd, Kubernetes) restarts it. Never a half-alive process: Node's default for a rejection
 * is to crash without cleanup, and a listener that only logs would leave streams dead while
 * /healthz still answers (issue 10, "fail-loud by construction").
 */
export function installProcessBackstop(hooks: Partial<BackstopHooks> = {}): ProcessBackstop {
  const on = hooks.on ?? ((event, listener) => process.on(event, listener));
  const exit = hooks.exit ?? (code => process.exit(code));
  const logger = hooks.logger ?? new Logger('Vigil');
  const timeoutMs = hooks.cleanupTimeoutMs ?? CLEANUP_TIMEOUT_MS;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let dying = false;

  const fatal = (kind: string) => (error: unknown) => {
    const stack = error instanceof Error ? (error.stack ?? error.message) : safeString(error);
    if (dying) {
      logger.fatal(`${kind} during fatal cleanup (exiting now): ${stack}`);
      exit(FATAL_EXIT_CODE);
      return;
    }
    dying = true;
    logger.fatal(`${kind}: ${stack}; cleaning up and exiting with code ${FATAL_EXIT_CODE}`);
    const timer = setTimeout(() => {
      logger.fatal(`cleanup took longer than ${timeoutMs} ms: exiting without it`);
      exit(FATAL_EXIT_CODE);
    }, timeoutMs);
    timer.unref?.();
    void (async () => {
      for (const cleanup of [...cleanups].reverse()) {
        try {
          await cleanup();
        } catch (cleanupError) {
          logger.fatal(`cleanup failed: ${safeString(cleanupError)}`);
        }
      }
      clearTimeout(timer);
      exit(FATAL_EXIT_CODE);
    })();
  };
  on('uncaughtException', fatal('uncaught exception'));
  on('unhandledRejection', fatal('unhandled promise rejection'));
  return { onFatal: cleanup => void cleanups.push(cleanup) };
}

function safeString(value: unknown): string {
  try {
    return value instanceof Error ? (value.stack ?? value.message) : String(value);
  } catch {
    return 'unprintable value';
  }
}
