import { join } from 'node:path';

import type { Page } from 'playwright-core';

import {
  SCREENSHOTS,
  logIn,
  startConsoleStack,
  type ConsoleStack,
  type LoggedChild,
} from './console-browser';

/**
 * The operator must know when the screen is frozen (issue 10): a gateway that stops answering
 * but keeps its socket open (SIGSTOP) sends nothing at all, so the console judges the heartbeat's
 * age on its own clock and shows a red banner; it goes away when heartbeats return.
 */
describe('console stale-data banner in headless Chromium', () => {
  let stack: ConsoleStack;
  let vigil: LoggedChild;
  let page: Page;
  let httpUrl: string;

  beforeAll(async () => {
    stack = await startConsoleStack();
    vigil = stack.vigil.process;
    httpUrl = stack.vigil.httpUrl;
    page = await stack.browser.newPage({ viewport: { width: 1400, height: 800 } });
  });

  afterAll(async () => {
    vigil?.kill('SIGCONT'); // stopped by the test: it must run to stop
    await stack?.close();
  });

  it('shows the banner when the socket goes silent and clears it when heartbeats return', async () => {
    await logIn(page, httpUrl, 'zhang');
    // Heartbeats arrive every second: no banner (give it longer than the stale limit).
    await page.waitForTimeout(7000);
    expect(await page.locator('#stale-banner').count()).toBe(0);

    vigil.kill('SIGSTOP');
    const banner = page.locator('#stale-banner[data-reason="no-heartbeat"]');
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.textContent()).toMatch(/画面可能已冻结/);
    // Still "connected": the socket is open, just silent. The banner does not depend on it.
    expect(await page.locator('#connection.pill-on').count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-stale-banner.png') });

    vigil.kill('SIGCONT');
    await page.locator('#stale-banner').waitFor({ state: 'detached', timeout: 20_000 });
  });
});
