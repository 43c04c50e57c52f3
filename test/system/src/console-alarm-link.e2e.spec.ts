import { join } from 'node:path';

import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';

import { waitFor } from '@vigil/testing';

import { SCREENSHOTS, startConsoleStack, type ConsoleStack } from './console-browser';
import { loginAs, mqttClient, telemetry } from './support';

/**
 * The link a notification carries (`<VIGIL_PUBLIC_URL>/#/alarms?alarm=<id>`, docs/notifications.md)
 * opens that alarm in the console: through the login page when nobody is logged in, on the tab
 * the alarm is on, its row opened; an alarm no longer open is said so.
 */
describe('console: the alarm link of a notification', () => {
  let stack: ConsoleStack;
  let httpUrl: string;
  let device: MqttClient;
  let page: Page;

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

  /** The open alarm of `deviceId` with `ruleId`, as the REST API lists it. */
  async function alarmId(token: string, deviceId: string, ruleId: string): Promise<string> {
    return waitFor(
      async () => {
        const response = await fetch(`${httpUrl}/api/v1/alarms?state=open`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        const alarms = (await response.json()) as Array<{
          id: string;
          deviceId: string;
          ruleId: string;
        }>;
        return alarms.find(alarm => alarm.deviceId === deviceId && alarm.ruleId === ruleId)?.id;
      },
      { what: `the ${ruleId} alarm of ${deviceId}` },
    );
  }

  async function expectOpened(id: string, tab: string): Promise<void> {
    await page.waitForSelector(`tr.alarm-row.open[data-alarm-id="${id}"]`, { timeout: 15_000 });
    await page.waitForSelector(`.alarm-detail[data-alarm-id="${id}"]`, { state: 'visible' });
    expect(await page.getAttribute('a.tab.active', 'data-tab')).toBe(tab);
    // Only the linked alarm is opened.
    expect(await page.locator('.alarm-detail').count()).toBe(1);
  }

  it('opens the linked alarm after the login page, on its own tab', async () => {
    // A process alarm (gas L2, tab "process") and a device fault (fire panel, tab "quality").
    await device.publishAsync('vigil/v1/plant-1/gc-lb-01/telemetry', telemetry({ lel: 70 }), {
      qos: 1,
    });
    await device.publishAsync(
      'vigil/v1/plant-1/fp-main/event',
      JSON.stringify({ ts: Date.now(), code: 'fault', detail: { loop: 1, point: 23 } }),
      { qos: 1 },
    );
    const { token } = await loginAs(httpUrl, 'zhang');
    const gas = await alarmId(token, 'gc-lb-01', 'gas-l2');
    const fault = await alarmId(token, 'fp-main', 'fault');

    // Nobody is logged in in this browser: the link leads through the login page.
    await page.goto(`${httpUrl}/#/alarms?alarm=${encodeURIComponent(fault)}`);
    await page.click('#demo-users [data-user="zhang"]');
    await page.waitForSelector('#user[data-user="zhang"]');
    await expectOpened(fault, 'quality');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-alarm-link.png') });

    // Logged in already: following another link opens that one.
    await page.evaluate(id => {
      location.hash = `#/alarms?alarm=${encodeURIComponent(id)}`;
    }, gas);
    await expectOpened(gas, 'process');
  });

  it('says so when the linked alarm is not open any more', async () => {
    await page.evaluate(() => {
      location.hash = '#/alarms?alarm=no-such-alarm';
    });
    const notice = await page.waitForSelector('[data-testid="linked-alarm-gone"]', {
      timeout: 10_000,
    });
    expect(await notice.textContent()).toContain('no-such-alarm');
  });
});
