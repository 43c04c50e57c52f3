import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';

import type { Alarm } from '@vigil/contracts';
import { waitFor } from '@vigil/testing';

import { screenshot as shot, startConsoleStack, type ConsoleStack } from './console-browser';
import { loginAs, mqttClient, telemetry } from './support';
import { hazardPng } from './test-photos';

/**
 * The hazard ledger in Chromium (issue 15), every part real: influxd, the built Vigil process,
 * an MQTT leak. zhang (operator, Chinese console) creates a hazard from the alarm he disposed as a
 * real event and rectifies it; wang (supervisor at the park, English console) assigns it with the
 * five fields, accepts the work and closes it out. Each sees only the steps their role allows.
 */
describe('console: the hazard ledger, from a disposed alarm to close-out with two users', () => {
  let stack: ConsoleStack;
  let mqtt: MqttClient;
  let zhang: Page;
  let wang: Page;
  let alarm: Alarm;
  let hazardId: string;

  const detail = (page: Page, state: string) =>
    page.waitForSelector(`#hazard-detail[data-hazard-id="${hazardId}"][data-state="${state}"]`, {
      timeout: 20_000,
    });
  const step = (page: Page, name: string) => page.locator(`form.step-form[data-step="${name}"]`);
  /** Waits for the thumbnail of the photo documenting `photoStep`, drawn (decoded) by Chromium. */
  const thumbnail = async (page: Page, photoStep: string) => {
    const img = page.locator(`#hazard-photos li.photo[data-step="${photoStep}"] img`);
    await img.waitFor({ timeout: 20_000 });
    await page.waitForFunction(
      selector =>
        (document.querySelector(selector) as HTMLImageElement | null)?.naturalWidth === 240,
      `#hazard-photos li.photo[data-step="${photoStep}"] img`,
    );
    return img;
  };

  beforeAll(async () => {
    stack = await startConsoleStack({ VIGIL_RULE_TICK_MS: '200', VIGIL_WRITE_FLUSH_MS: '50' });
    mqtt = await mqttClient(stack.vigil.mqttUrl, 'hazard-scenario-devices');
    await mqtt.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 30 }, 1), {
      qos: 1,
    });
    // The disposal itself is the alarm console's (console-operators.e2e); here it is the input.
    const api = await loginAs(stack.vigil.httpUrl, 'zhang');
    alarm = await waitFor(
      async () =>
        ((await (await api.call('/api/v1/alarms?site=plant-1')).json()) as Alarm[]).find(
          candidate => candidate.deviceId === 'gc-tf-01' && candidate.category === 'process',
        ),
      { what: 'the leak alarm' },
    );
    await api.post(`/api/v1/alarms/${alarm.id}/acknowledge`, {});
    const disposed = await api.post(`/api/v1/alarms/${alarm.id}/dispose`, {
      disposition: 'real-event',
      note: '现场确认 V-12 法兰泄漏',
    });
    expect(disposed.status).toBe(200);

    zhang = await stack.logInPage('zhang');
    wang = await stack.logInPage('wang', 'en'); // wang works in English
  });

  afterAll(async () => {
    await mqtt?.endAsync().catch(() => undefined);
    await stack?.close();
  });

  it('zhang creates a hazard from the alarm he disposed as a real event', async () => {
    const row = zhang.locator(`tr.alarm-row[data-alarm-id="${alarm.id}"]`);
    await row.waitFor({ timeout: 20_000 });
    await row.getByRole('button', { name: /详情/ }).click();
    await zhang.click(`.alarm-detail[data-alarm-id="${alarm.id}"] a.create-hazard`);
    await zhang.waitForSelector('#hazard-report');
    expect(await zhang.textContent('#hazard-from-alarm')).toContain(alarm.id);
    expect(await zhang.textContent('nav a[data-page="hazards"]')).toBe('隐患台账');
    await zhang.fill('#hazard-report input[name="title"]', '罐区 V-12 法兰泄漏');
    await zhang.selectOption('#hazard-report select[name="level"]', 'general');
    await zhang.fill('#hazard-report textarea[name="interimMeasures"]', '警戒隔离，每 2 小时巡检');
    // A photo of the leak, taken on site, attached when reporting.
    await zhang.setInputFiles('#hazard-report input[name="photoFiles"]', {
      name: 'v12-flange.png',
      mimeType: 'image/png',
      buffer: hazardPng(0),
    });
    await shot(zhang, 'hazard-report-zh');
    await zhang.click('#hazard-report button[type="submit"]');
    const created = await zhang.waitForSelector('#hazard-detail[data-state="reported"]');
    hazardId = (await created.getAttribute('data-hazard-id')) ?? '';
    expect(await zhang.textContent('#hazard-state')).toBe('已上报');
    expect(await zhang.textContent('#hazard-interim')).toBe('警戒隔离，每 2 小时巡检');
    await thumbnail(zhang, 'report');
    expect(await zhang.textContent('#hazard-photos li.photo[data-step="report"] .caption')).toMatch(
      /^隐患现场 · zhang 上传于/,
    );
    // An operator does not assign: only interim measures are offered.
    expect(
      await zhang
        .locator('form.step-form')
        .evaluateAll(forms => forms.map(f => f.getAttribute('data-step'))),
    ).toEqual(['interim']);
  });

  it('wang assigns it with the five fields; zhang starts and signs the work done', async () => {
    await wang.goto(`${stack.vigil.httpUrl}/#/hazards`);
    await wang.click(`tr.hazard-row[data-hazard-id="${hazardId}"] a`);
    await detail(wang, 'reported');
    const assign = step(wang, 'assign');
    await assign.locator('input[name="assignee"]').fill('zhang');
    await assign.locator('input[name="responsible"]').fill('张伟 Zhang Wei');
    await assign.locator('textarea[name="measures"]').fill('Replace the flange gasket of V-12');
    await assign.locator('input[name="funds"]').fill('5000');
    await assign.locator('input[name="contingencyPlan"]').fill('Tank-farm leak plan YA-03');
    await assign.locator('button[type="submit"]').click();
    await detail(wang, 'assigned');
    expect(await wang.textContent('#hazard-state')).toBe('Assigned');
    await shot(wang, 'hazard-assigned-en');

    await detail(zhang, 'assigned');
    await step(zhang, 'start').locator('button[type="submit"]').click();
    await detail(zhang, 'rectifying');
    await step(zhang, 'rectify').locator('input[name="note"]').fill('垫片已更换，检漏合格');
    // The rectification photo is the evidence, stored before the work is signed done.
    await step(zhang, 'rectify')
      .locator('input[name="photoFiles"]')
      .setInputFiles({ name: 'v12-after.png', mimeType: 'image/png', buffer: hazardPng(1) });
    await step(zhang, 'rectify').locator('button[type="submit"]').click();
    await detail(zhang, 'rectified');
    await thumbnail(zhang, 'rectify');
    await thumbnail(zhang, 'report');
    await shot(zhang, 'hazard-photos-zh');
    // The rectifier does not accept his own work.
    expect(await step(zhang, 'accept').count()).toBe(0);
    await zhang.waitForSelector('#hazard-steps >> text=当前状态下您没有可执行的操作。');
  });

  it('wang accepts the work and closes the hazard out; both see the signed history', async () => {
    await detail(wang, 'rectified');
    // wang re-checks against the photos: the hazard as found and after the work.
    await thumbnail(wang, 'report');
    await thumbnail(wang, 'rectify');
    expect(await wang.textContent('#hazard-photos li.photo[data-step="rectify"] .caption')).toMatch(
      /^After rectification · by zhang,/,
    );
    await shot(wang, 'hazard-photos-en');
    await step(wang, 'accept').locator('input[name="note"]').fill('Re-checked on site');
    await step(wang, 'accept').locator('button[type="submit"]').click();
    await detail(wang, 'accepted');
    await step(wang, 'close').locator('button[type="submit"]').click();
    await detail(wang, 'closed');
    await shot(wang, 'hazard-closed-en');

    await detail(zhang, 'closed');
    const history = await zhang
      .locator('#hazard-history li')
      .evaluateAll(items =>
        items.map(li => `${li.getAttribute('data-action')}:${li.getAttribute('data-by')}`),
      );
    expect(history).toEqual([
      'report:zhang',
      'photo:zhang',
      'assign:wang',
      'start:zhang',
      'photo:zhang',
      'rectify:zhang',
      'accept:wang',
      'close:wang',
    ]);
    expect(await zhang.textContent('#hazard-state')).toBe('已销号');
    await shot(zhang, 'hazard-closed-zh');

    await zhang.goto(`${stack.vigil.httpUrl}/#/hazards`);
    await zhang.selectOption('select[name="state"]', 'closed');
    await zhang.waitForSelector(`tr.hazard-row[data-hazard-id="${hazardId}"][data-state="closed"]`);
    await zhang.waitForSelector('#hazard-stats [data-enterprise="ent-huaxin"]');
    await shot(zhang, 'hazard-ledger-zh');
  });
});
