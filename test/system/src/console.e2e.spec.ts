import { join } from 'node:path';

import type { Page } from 'playwright-core';

import { influxQuery, waitFor, type InfluxHandle } from '@vigil/testing';

import {
  SCREENSHOTS,
  logIn,
  node,
  startConsoleStack,
  stop,
  type ConsoleStack,
  type LoggedChild,
} from './console-browser';
import { SAMPLE_REGISTRY } from './support';

/**
 * End to end, every part real: the built Vigil process (embedded broker), a real influxd, the
 * simulator process injecting a leak, and the console in headless Debian Chromium.
 */
describe('console end to end: simulator leak → alarm on the console → stored in InfluxDB', () => {
  let stack: ConsoleStack;
  let influx: InfluxHandle;
  let simulator: LoggedChild | undefined;
  let page: Page;
  let httpUrl: string;
  let mqttUrl: string;

  beforeAll(async () => {
    stack = await startConsoleStack();
    ({ influx } = stack);
    ({ httpUrl, mqttUrl } = stack.vigil);
    page = await stack.browser.newPage({ viewport: { width: 1400, height: 800 } });
  });

  afterAll(async () => {
    await stop(simulator);
    await stack?.close();
  });

  it('shows the leak alarm in Chinese, acknowledges it, and stores the reading and the alarm event', async () => {
    await logIn(page, httpUrl, 'zhang');
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
