import { join } from 'node:path';

import type { Page } from 'playwright-core';

import { windowAt } from '@vigil/alarms';
import type { Alarm } from '@vigil/contracts';
import { waitFor } from '@vigil/testing';

import { screenshot as shot, startConsoleStack, type ConsoleStack } from './console-browser';
import { journalWatching, loginAs, registryWithGuarantors } from './support';

const DAY = 24 * 3_600_000;
const DUTY = 'mhs-reactor-unit-1-operational';

/**
 * Major-hazard-source guarantors (包保责任人, issue 15) in Chromium, every part real: influxd, the
 * built Vigil process. The reactor unit names wang, li and zhang; zhang's weekly duty has gone two
 * Shanghai weeks without a record (a journal of an earlier run). zhang (Chinese console) sees the
 * sources with their guarantors and the duty overdue on the inspections page, the tank farm
 * flagged as naming none, and 包保责任人 on the missed-duty alarm's detail; wang reads it in English.
 */
describe('console: each major hazard source with its guarantors and their duty, in Chinese and English', () => {
  let stack: ConsoleStack;
  let zhang: Page;
  let wang: Page;
  const source = (page: Page, unit: string) =>
    page.locator(`#mhs-guarantors tr.mhs-source[data-unit-id="${unit}"]`);

  beforeAll(async () => {
    stack = await startConsoleStack(influx => {
      const registry = join(influx.dataDir, 'registry');
      registryWithGuarantors(registry);
      const thisWeek = windowAt('weekly', Date.now(), 'Asia/Shanghai');
      journalWatching(
        join(influx.dataDir, 'vigil'),
        DUTY,
        windowAt('weekly', thisWeek.start - 14 * DAY + 3_600_000, 'Asia/Shanghai').start,
      );
      return { VIGIL_REGISTRY: registry, VIGIL_WRITE_FLUSH_MS: '50' };
    });
    zhang = await stack.logInPage('zhang');
    wang = await stack.logInPage('wang', 'en'); // wang works in English
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('zhang sees the sources, their guarantors and the overdue duty; the alarm names them', async () => {
    await zhang.click('nav a[data-page="inspections"]');
    await zhang.waitForSelector(
      '#mhs-guarantors tr.mhs-source[data-unit-id="reactor-unit-1"] li.guarantor[data-tier="operational"] .guarantor-duty[data-status="overdue"]',
    );
    const reactor = source(zhang, 'reactor-unit-1');
    expect(await reactor.locator('li.guarantor').allTextContents()).toEqual([
      expect.stringContaining('主要负责人 王强 Wang Qiang (wang)'),
      expect.stringContaining('技术负责人 李娜 Li Na (li)'),
      expect.stringContaining('操作负责人 张伟 Zhang Wei (zhang)'),
    ]);
    expect(
      await reactor.locator('li.guarantor[data-tier="operational"] .tag-error').textContent(),
    ).toBe('漏检 2 期');
    expect(await source(zhang, 'tank-farm-1').locator('.guarantors-none').textContent()).toBe(
      '未指定包保责任人',
    );
    await shot(zhang, 'guarantors-zh');

    const api = await loginAs(stack.vigil.httpUrl, 'zhang');
    const missed = await waitFor(
      async () =>
        ((await (await api.call('/api/v1/alarms?site=plant-1')).json()) as Alarm[]).find(
          alarm => alarm.deviceId === `inspection-${DUTY}`,
        ),
      { what: 'a missed-duty alarm' },
    );
    await zhang.evaluate(id => {
      location.hash = `#/alarms?alarm=${encodeURIComponent(id)}`;
    }, missed.id);
    const detail = zhang.locator(`.alarm-detail[data-alarm-id="${missed.id}"] .guarantors-of`);
    await detail.waitFor();
    expect(await detail.textContent()).toContain('操作负责人 张伟 Zhang Wei (zhang)');
    await shot(zhang, 'guarantors-alarm-zh');
  });

  it('wang reads the same in English', async () => {
    await wang.click('nav a[data-page="inspections"]');
    await wang.waitForSelector('#mhs-guarantors tr.mhs-source[data-unit-id="reactor-unit-1"]');
    expect(
      await wang.locator('#mhs-guarantors').locator('xpath=preceding-sibling::h3[1]').textContent(),
    ).toBe('Major-hazard-source guarantors');
    expect(
      await source(wang, 'reactor-unit-1').locator('li.guarantor').first().textContent(),
    ).toContain('Principal 王强 Wang Qiang (wang)');
    await shot(wang, 'guarantors-en');
  });
});
