import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { REPO_ROOT, SAMPLE_REGISTRY } from './support';

/**
 * VIGIL_INFLUX_MODE=managed on real parts (issue 10 finding 8): the built Vigil process, Debian's
 * `influxd`. Vigil never adopts what already answers on its port, and its influxd never outlives it.
 */
describe('managed InfluxDB', () => {
  let work: string;
  const children: ChildProcess[] = [];
  let squatter: InfluxHandle | undefined;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'vigil-managed-influx-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await squatter?.stop();
    squatter = undefined;
    rmSync(work, { recursive: true, force: true });
  });

  async function envFor(influxPort: number): Promise<Record<string, string>> {
    return {
      VIGIL_HTTP_PORT: String(await freePort()),
      VIGIL_MQTT_PORT: String(await freePort()),
      VIGIL_INFLUX_MODE: 'managed',
      VIGIL_INFLUX_URL: `http://127.0.0.1:${influxPort}`,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_LOG_LEVEL: 'log',
    };
  }

  function startVigil(env: Record<string, string>): { child: ChildProcess; output: () => string } {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/vigil/src/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', chunk => (output += String(chunk)));
    child.stderr?.on('data', chunk => (output += String(chunk)));
    return { child, output: () => output };
  }

  async function answers(url: string): Promise<boolean> {
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return response.status === 204;
    } catch {
      return false;
    }
  }

  async function ready(env: Record<string, string>): Promise<boolean> {
    const response = await fetch(`http://127.0.0.1:${env['VIGIL_HTTP_PORT']}/readyz`).catch(
      () => undefined,
    );
    return response?.status === 200;
  }

  it('refuses to start when something else answers on its port, naming the port and the variable', async () => {
    squatter = await startInfluxd();
    const env = await envFor(squatter.httpPort);
    const vigil = startVigil(env);
    const exit = await Promise.race([
      new Promise<number | null>(resolve => vigil.child.once('exit', code => resolve(code))),
      new Promise<string>(resolve => setTimeout(() => resolve('still running after 60 s'), 60_000)),
    ]);
    expect(exit).toBe(2);
    expect(vigil.output()).toContain(String(squatter.httpPort));
    expect(vigil.output()).toContain('VIGIL_INFLUX_URL');
    // The other instance was left alone and got none of this site's data.
    expect(await answers(squatter.url)).toBe(true);
  });

  it('takes its influxd down with it on SIGKILL, and restarts on the same data dir', async () => {
    const influxPort = await freePort();
    const env = await envFor(influxPort);
    const influxUrl = env['VIGIL_INFLUX_URL'] as string;
    const first = startVigil(env);
    await waitFor(() => ready(env), { what: 'Vigil ready (managed influxd)', timeoutMs: 60_000 });
    expect(await answers(influxUrl)).toBe(true);

    first.child.kill('SIGKILL');
    await new Promise(resolve => first.child.once('exit', resolve));
    // "Within a few seconds": a generous bound, asserting that it happened, not how fast.
    await waitFor(async () => !(await answers(influxUrl)), {
      what: 'managed influxd gone after SIGKILL of Vigil',
      timeoutMs: 15_000,
    });

    // A stale PID file naming a live process that is not our influxd (this test runner): removed,
    // and that process left alone.
    const pidFile = join(work, 'data', 'influxdb', 'influxd.pid');
    writeFileSync(
      pidFile,
      JSON.stringify({ pid: process.pid, config: '/elsewhere/influxdb.conf' }),
    );
    const second = startVigil(env);
    await waitFor(() => ready(env), {
      what: 'Vigil ready again on the same data dir',
      timeoutMs: 60_000,
    });
    expect(await answers(influxUrl)).toBe(true);
    expect(existsSync(join(work, 'data', 'influxdb', 'meta'))).toBe(true);
    expect(second.output()).not.toContain('already answers');
    await waitFor(() => second.output().includes('removed a stale PID file'), {
      what: 'the stale PID file reported',
      timeoutMs: 10_000,
    });
    expect(JSON.parse(readFileSync(pidFile, 'utf8')).pid).not.toBe(process.pid);

    // A clean stop takes it down too.
    second.child.kill('SIGTERM');
    await new Promise(resolve => second.child.once('exit', resolve));
    await waitFor(async () => !(await answers(influxUrl)), {
      what: 'managed influxd gone after SIGTERM of Vigil',
      timeoutMs: 15_000,
    });
  });

  it('replaces an influxd of its own left over from a run whose watchdog died too', async () => {
    const influxPort = await freePort();
    const env = await envFor(influxPort);
    const influxUrl = env['VIGIL_INFLUX_URL'] as string;
    const pidFile = join(work, 'data', 'influxdb', 'influxd.pid');
    const first = startVigil(env);
    await waitFor(() => ready(env), { what: 'Vigil ready (managed influxd)', timeoutMs: 60_000 });
    const leftover = JSON.parse(readFileSync(pidFile, 'utf8')) as {
      pid: number;
      watchdogPid: number;
    };
    // The worst crash: the watchdog goes first, then Vigil. influxd is orphaned.
    process.kill(leftover.watchdogPid, 'SIGKILL');
    first.child.kill('SIGKILL');
    await new Promise(resolve => first.child.once('exit', resolve));
    expect(await answers(influxUrl)).toBe(true);

    const second = startVigil(env);
    await waitFor(() => ready(env), {
      what: 'Vigil ready after replacing the leftover',
      timeoutMs: 60_000,
    });
    expect(second.output()).toContain(`influxd (pid ${leftover.pid})`);
    const alive = (() => {
      try {
        process.kill(leftover.pid, 0);
        return true;
      } catch {
        return false;
      }
    })();
    expect(alive).toBe(false);
    const current = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
    expect(current.pid).not.toBe(leftover.pid);
    expect(await answers(influxUrl)).toBe(true);
    second.child.kill('SIGKILL');
    await new Promise(resolve => second.child.once('exit', resolve));
    await waitFor(async () => !(await answers(influxUrl)), {
      what: 'managed influxd gone after SIGKILL of Vigil',
      timeoutMs: 15_000,
    });
  });
});
