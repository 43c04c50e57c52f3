import { join } from 'node:path';

import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';

import { SCREENSHOTS, logIn, startConsoleStack, type ConsoleStack } from './console-browser';
import { mqttClient } from './support';

/**
 * The console's alarm row for fire-panel points, every part real (built Vigil process, embedded
 * broker, Debian Chromium): two concurrent fires on one panel are two rows, each with its point's
 * area and its loop/point/zone address; the area links to the plan with its muster list.
 */
describe('console: fire-panel alarms located per point', () => {
  let stack: ConsoleStack;
  let page: Page;
  let httpUrl: string;
  let device: MqttClient;

  beforeAll(async () => {
    stack = await startConsoleStack();
    httpUrl = stack.vigil.httpUrl;
    device = await mqttClient(stack.vigil.mqttUrl);
    page = await stack.browser.newPage({ viewport: { width: 1400, height: 800 } });
  });

  afterAll(async () => {
    await device?.endAsync();
    await stack?.close();
  });

  it('shows one row per fire with the point’s area and address', async () => {
    await logIn(page, httpUrl, 'zhang');
    for (const detail of [
      { loop: 1, point: 23, zone: 1 },
      { loop: 2, point: 7 },
    ]) {
      await device.publishAsync(
        'vigil/v1/plant-1/fp-main/event',
        JSON.stringify({ ts: Date.now(), code: 'fire', detail }),
        { qos: 1 },
      );
    }
    const rows = page.locator('tr[data-device="plant-1/fp-main"][data-rule="fire"]');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('tr[data-device="plant-1/fp-main"][data-rule="fire"]').length ===
        2,
      undefined,
      { timeout: 15_000 },
    );
    const cells = (await rows.locator('td.area').allTextContents()).sort();
    expect(cells).toEqual([
      expect.stringMatching(/^反应装置区回路 2 点 7 · 防区 2 · 装置区感烟 2-7$/),
      expect.stringMatching(/^罐区回路 1 点 23 · 防区 1 · 罐区感烟 1-23$/),
    ]);
    expect(await rows.first().getAttribute('data-priority')).toBe('1');
    const link = rows.locator('td.area a').first();
    expect(await link.getAttribute('href')).toMatch(/^#\/plan\?site=plant-1&area=/);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-fire-panel-points.png') });

    // The tank-farm fire's area opens the plan: its muster list, and both points marked where they are.
    await rows.locator('td.area a', { hasText: '罐区' }).click();
    await page.waitForSelector('#muster[data-area="tank-farm"]', { timeout: 10_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('circle[data-located-alarm]').length === 2,
      undefined,
      { timeout: 10_000 },
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'console-fire-panel-plan.png') });
  });
});
