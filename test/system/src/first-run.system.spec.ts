import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, waitFor } from '@vigil/testing';

import { REPO_ROOT, SAMPLE_REGISTRY, mqttClient, startSystem } from './support';

/**
 * A newcomer's first run (issue 13), on the built Vigil process (`npm run build` first): a busy
 * port is one line naming the variable, exit 2, nothing left running; start-up is quiet; Ctrl+C
 * stops cleanly; JSON logs from the first line.
 */
describe('first run', () => {
  let work: string;
  const children: ChildProcess[] = [];
  const squatters: Server[] = [];

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'vigil-first-run-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const server of squatters.splice(0)) await new Promise(done => server.close(done));
    rmSync(work, { recursive: true, force: true });
  });

  async function squat(): Promise<number> {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>(done => server.listen(port, '127.0.0.1', done));
    squatters.push(server);
    return port;
  }

  async function baseEnv(): Promise<Record<string, string>> {
    return {
      VIGIL_HTTP_PORT: String(await freePort()),
      VIGIL_MQTT_PORT: String(await freePort()),
      // managed: a busy port must be refused before influxd is started, not after.
      VIGIL_INFLUX_MODE: 'managed',
      VIGIL_INFLUX_URL: `http://127.0.0.1:${await freePort()}`,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
    };
  }

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/vigil/src/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', chunk => (output += String(chunk)));
    child.stderr?.on('data', chunk => (output += String(chunk)));
    const exited = new Promise<number | null>(done => child.once('exit', code => done(code)));
    return { child, exited, output: () => output };
  }

  const lines = (text: string) => text.split('\n').filter(line => line.trim() !== '');

  /** Processes whose command line names the data dir (influxd, its watchdog): none may remain. */
  function processesUsing(dir: string): string[] {
    const found = [];
    for (const pid of readdirSync('/proc').filter(name => /^\d+$/.test(name))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
      } catch {
        // gone meanwhile
      }
    }
    return found;
  }

  it.each(['VIGIL_MQTT_PORT', 'VIGIL_HTTP_PORT'])(
    'refuses a busy %s in one line naming the variable, exit 2, nothing left running',
    async variable => {
      const env = { ...(await baseEnv()), [variable]: String(await squat()) };
      const vigil = run(env);
      expect(await vigil.exited).toBe(2);
      const output = lines(vigil.output());
      expect(output).toHaveLength(1);
      expect(output[0]).toContain(`port ${env[variable]} on 127.0.0.1 is already in use`);
      expect(output[0]).toContain(`set ${variable} to a free port`);
      expect(vigil.output()).not.toContain('EADDRINUSE');
      expect(processesUsing(work)).toEqual([]);
      expect(existsSync(join(work, 'data/influxdb/influxd.pid'))).toBe(false);
    },
  );

  it('writes JSON from the very first line when VIGIL_LOG_JSON=true', async () => {
    const env = {
      ...(await baseEnv()),
      VIGIL_LOG_JSON: 'true',
      VIGIL_MQTT_PORT: String(await squat()),
    };
    const vigil = run(env);
    expect(await vigil.exited).toBe(2);
    const output = lines(vigil.output());
    expect(output.length).toBeGreaterThan(0);
    for (const line of output) expect(() => JSON.parse(line)).not.toThrow();
    expect(JSON.parse(output[0] ?? '{}')).toMatchObject({ level: 'error' });

    const invalid = run({ ...env, VIGIL_HTTP_PORT: 'eighty' });
    expect(await invalid.exited).toBe(2);
    for (const line of lines(invalid.output())) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('starts quietly (no route or module chatter) and stops on SIGINT without errors', async () => {
    const env: Record<string, string> = { ...(await baseEnv()), VIGIL_INFLUX_MODE: 'off' };
    const vigil = run(env);
    await waitFor(() => vigil.output().includes('running; HTTP') || undefined, {
      what: 'Vigil started',
      timeoutMs: 60_000,
    });
    const started = vigil.output();
    for (const chatty of ['RoutesResolver', 'RouterExplorer', 'InstanceLoader', 'Mapped {']) {
      expect(started).not.toContain(chatty);
    }
    // Something connected, as the simulator is when Ctrl+C comes.
    const device = await mqttClient(`mqtt://127.0.0.1:${env['VIGIL_MQTT_PORT']}`, 'sim-first-run');
    device.on('error', () => undefined);
    vigil.child.kill('SIGINT');
    expect(await vigil.exited).toBe(0);
    device.end(true);
    const stopped = vigil.output().slice(started.length);
    expect(stopped).not.toContain('ECONNRESET');
    expect(stopped).not.toMatch(/\n\s+at /);
    expect(lines(stopped).filter(line => /ERROR|WARN/.test(line))).toEqual([]);
  });

  it('startSystem removes its temporary data folder at stop', async () => {
    const vigil = await startSystem();
    expect(existsSync(vigil.dataDir)).toBe(true);
    expect(vigil.dataDir).toContain('vigil-system-');
    await vigil.stop();
    expect(existsSync(vigil.dataDir)).toBe(false);
  });
});
