import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { freePort, influxQuery, startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { REPO_ROOT, SAMPLE_REGISTRY } from './support';

const CHROMIUM = process.env['VIGIL_CHROMIUM'] ?? '/usr/bin/chromium';
const SCREENSHOTS = join(REPO_ROOT, 'test-output/screenshots');

function node(script: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stdout?.on('data', chunk => log.push(String(chunk)));
  child.stderr?.on('data', chunk => log.push(String(chunk)));
  Object.assign(child, { log });
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * End to end, every part real: the built Vigil process (embedded broker), a real influxd, the
 * simulator process injecting a leak, and the console in headless Debian Chromium.
 */
describe('console end to end: simulator leak → alarm on the console → stored in InfluxDB', () => {
  let influx: InfluxHandle;
  let vigil: ChildProcess;
  let simulator: ChildProcess | undefined;
  let browser: Browser;
  let page: Page;
  let httpUrl: string;
  let mqttUrl: string;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/apps/vigil/src/main.js'))) {
      throw new Error(
        'dist/ is missing: the system tests depend on the build (node scripts/build.mjs)',
      );
    }
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found: install Debian's chromium package`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    influx = await startInfluxd();
    const httpPort = await freePort();
    const mqttPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    vigil = node('dist/apps/vigil/src/main.js', [], {
      VIGIL_HTTP_PORT: String(httpPort),
      VIGIL_MQTT_PORT: String(mqttPort),
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
      VIGIL_LOG_LEVEL: 'warn',
    });
    await waitFor(
      async () => (await fetch(`${httpUrl}/readyz`).catch(() => undefined))?.status === 200,
      {
        what: `Vigil ready (log: ${(vigil as unknown as { log: string[] }).log.join('').slice(-2000)})`,
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  });

  afterAll(async () => {
    await browser?.close();
    await stop(simulator);
    await stop(vigil);
    await influx?.stop();
  });

  it('shows the leak alarm in Chinese, acknowledges it, and stores the reading and the alarm event', async () => {
    await page.goto(httpUrl);
    await page.waitForSelector('#connection.pill-on');
    expect(await page.textContent('h1')).toBe('Vigil 预警控制台');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-empty.png') });

    const leakStartedAt = Date.now();
    simulator = node(
      'dist/simulators/fleet/src/main.js',
      ['--url', mqttUrl, '--registry', SAMPLE_REGISTRY, '--leak-after', '1:gc-tf-01'],
      {},
    );

    const row = page.locator('tr[data-device="plant-1/gc-tf-01"][data-level="L2"]');
    await row.waitFor({ timeout: 60_000 });
    expect(await row.getAttribute('data-state')).toBe('active-unacknowledged');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-leak-alarm.png') });

    await row.getByRole('button', { name: '确认' }).click();
    await page.waitForSelector(
      'tr[data-device="plant-1/gc-tf-01"][data-level="L2"][data-state="active-acknowledged"]',
      {
        timeout: 5000,
      },
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'console-acknowledged.png') });

    const stored = await waitFor(
      async () => {
        const rows = await influxQuery(
          influx.url,
          'vigil',
          `SELECT max(lel) FROM "vigil"."raw"."telemetry" WHERE device = 'gc-tf-01' AND time >= ${leakStartedAt - 60_000}ms`,
        );
        return Number(rows[0]?.['max']) > 50 ? rows : undefined;
      },
      { what: 'the leak readings in InfluxDB', timeoutMs: 15_000 },
    );
    expect(Number(stored[0]?.['max'])).toBeGreaterThan(50);
    const events = await waitFor(
      async () => {
        const rows = await influxQuery(
          influx.url,
          'vigil',
          `SELECT action, level FROM "vigil"."events"."alarm_event" WHERE device = 'gc-tf-01' AND time >= ${leakStartedAt - 60_000}ms`,
        );
        return rows.some(r => r['action'] === 'acknowledge') ? rows : undefined;
      },
      { what: 'the alarm events in InfluxDB', timeoutMs: 15_000 },
    );
    expect(events).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'raise', level: 'L2' })]),
    );

    await page.click('#lang');
    expect(await page.textContent('h1')).toBe('Vigil warning console');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-english.png') });
  });
});
