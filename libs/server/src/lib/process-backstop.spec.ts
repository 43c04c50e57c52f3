import { FATAL_EXIT_CODE, installProcessBackstop } from './process-backstop';

function harness(cleanupTimeoutMs = 1000) {
  const listeners = new Map<string, (error: unknown) => void>();
  const exits: number[] = [];
  const logged: string[] = [];
  let exited: () => void = () => undefined;
  const exitedOnce = new Promise<void>(resolve => (exited = resolve));
  const backstop = installProcessBackstop({
    on: (event, listener) => void listeners.set(event, listener),
    exit: code => {
      exits.push(code);
      exited();
    },
    logger: { fatal: (message: unknown) => void logged.push(String(message)) },
    cleanupTimeoutMs,
  });
  return { listeners, exits, logged, backstop, exitedOnce };
}

describe(installProcessBackstop.name, () => {
  it('logs an uncaught exception as fatal with its stack, cleans up newest first, exits non-zero', async () => {
    const { listeners, exits, logged, backstop, exitedOnce } = harness();
    const order: string[] = [];
    backstop.onFatal(() => void order.push('influxd'));
    backstop.onFatal(async () => void order.push('app'));
    listeners.get('uncaughtException')?.(new RangeError('Maximum call stack size exceeded'));
    await exitedOnce;
    expect(exits).toEqual([FATAL_EXIT_CODE]);
    expect(order).toEqual(['app', 'influxd']);
    expect(logged[0]).toMatch(
      /uncaught exception: RangeError: Maximum call stack size exceeded\n\s+at /,
    );
  });

  it('exits non-zero on an unhandled rejection even when cleanup fails', async () => {
    const { listeners, exits, logged, backstop, exitedOnce } = harness();
    backstop.onFatal(() => {
      throw new Error('stop failed');
    });
    listeners.get('unhandledRejection')?.('a reason that is not an Error');
    await exitedOnce;
    expect(exits).toEqual([FATAL_EXIT_CODE]);
    expect(logged.join('\n')).toMatch(/unhandled promise rejection: a reason that is not an Error/);
    expect(logged.join('\n')).toMatch(/cleanup failed: Error: stop failed/);
  });

  it('exits after the timeout when cleanup hangs', async () => {
    const { listeners, exits, backstop, exitedOnce } = harness(20);
    backstop.onFatal(() => new Promise(() => undefined));
    listeners.get('uncaughtException')?.(new Error('x'));
    await exitedOnce;
    expect(exits).toEqual([FATAL_EXIT_CODE]);
  });
});
