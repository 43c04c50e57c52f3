import { join } from 'node:path';

import type { Page } from 'playwright-core';

import { windowAt } from '@vigil/alarms';
import { screenshot as shot, startConsoleStack, type ConsoleStack } from './console-browser';
import { journalWatching } from './support';

const DAY = 24 * 3_600_000;

/**
 * Inspection schedules in Chromium (issue 15), every part real: influxd, the built Vigil process.
 * The tank farm's team daily check has been watched for two Shanghai days (a journal of an
 * earlier run) without a record: zhang (operator, Chinese console) sees it overdue with two
 * missed windows and their alarms, records the check late with a failed item, and follows the
 * link to the hazard it opened; wang (supervisor, English console) sees it done.
 */
describe('console: a missed daily inspection made up, its finding a hazard, in Chinese and English', () => {
  let stack: ConsoleStack;
  let zhang: Page;
  let wang: Page;
  const row = (page: Page) =>
    page.locator('tr.inspection-schedule[data-schedule-id="tf-team-daily"]');

  beforeAll(async () => {
    stack = await startConsoleStack(influx => {
      const today = windowAt('daily', Date.now(), 'Asia/Shanghai');
      journalWatching(
        join(influx.dataDir, 'vigil'),
        'tf-team-daily',
        windowAt('daily', today.start - 2 * DAY + 3_600_000, 'Asia/Shanghai').start,
      );
      return { VIGIL_WRITE_FLUSH_MS: '50' };
    });
    zhang = await stack.logInPage('zhang');
    wang = await stack.logInPage('wang', 'en'); // wang works in English
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('zhang sees the daily check overdue, with its missed windows and their alarms', async () => {
    await zhang.click('nav a[data-page="inspections"]');
    expect(await zhang.textContent('nav a[data-page="inspections"]')).toBe('巡检');
    await zhang.waitForSelector(
      'tr.inspection-schedule[data-schedule-id="tf-team-daily"][data-status="overdue"]',
    );
    expect(await row(zhang).locator('.inspection-overdue').textContent()).toBe('漏检 2 期');
    expect(await row(zhang).textContent()).toContain('班组 · 每日');
    // Due at the plant's midnight (Asia/Shanghai), whatever the browser's zone.
    expect(await row(zhang).locator('td[title="Asia/Shanghai"]').textContent()).toMatch(/ 00:00$/);
    expect(await zhang.locator('tr.inspection-miss[data-open="true"]').count()).toBe(2);
    // The other schedules were first seen now: due, not overdue.
    expect(await zhang.locator('tr.inspection-schedule[data-status="pending"]').count()).toBe(3);
    await shot(zhang, 'inspections-overdue-zh');
    // The missed windows are alarms of their own, on the alarm page (early warnings).
    await zhang.click('nav a[data-page="alarms"]');
    await zhang.click('a.tab[data-tab="warning"]');
    await zhang.waitForSelector('text=漏检', { timeout: 20_000 });
    await shot(zhang, 'inspection-missed-alarms-zh');
  });

  it('zhang records the check late, signed, with a failed item that becomes a hazard', async () => {
    await zhang.click('nav a[data-page="inspections"]');
    await row(zhang).locator('button.inspection-record-open').click();
    await zhang.waitForSelector('#inspection-record');
    await zhang.check('#inspection-record tr[data-item-id="flanges"] input[value="fail"]');
    await zhang.fill('#inspection-record input[name="note-flanges"]', 'T-102 出口法兰渗漏');
    await zhang.check('#inspection-record tr[data-item-id="extinguishers"] input[value="na"]');
    await zhang.fill('#inspection-record input[name="note"]', '补检');
    await shot(zhang, 'inspection-record-zh');
    await zhang.click('#inspection-record button[type="submit"]');
    await zhang.waitForSelector(
      'tr.inspection-schedule[data-schedule-id="tf-team-daily"][data-status="done"]',
      { timeout: 20_000 },
    );
    const record = zhang.locator('tr.inspection-record').first();
    expect(await record.textContent()).toContain('不合格 1 项');
    expect(await record.textContent()).toContain('补检');
    expect(await zhang.locator('tr.inspection-miss[data-open="true"]').count()).toBe(0);
    await shot(zhang, 'inspection-recorded-zh');
    await record.locator('a.inspection-hazard').click();
    await zhang.waitForSelector('text=T-102 出口法兰渗漏');
    expect(zhang.url()).toContain('#/hazards?id=');
    await shot(zhang, 'inspection-hazard-zh');
  });

  it('wang sees the check done, in English', async () => {
    await wang.click('nav a[data-page="inspections"]');
    expect(await wang.textContent('nav a[data-page="inspections"]')).toBe('Inspections');
    await wang.waitForSelector(
      'tr.inspection-schedule[data-schedule-id="tf-team-daily"][data-status="done"]',
    );
    expect(await row(wang).textContent()).toContain('Team · daily');
    expect(await wang.locator('tr.inspection-record').first().textContent()).toContain('1 failed');
    await shot(wang, 'inspections-done-en');
  });
});
