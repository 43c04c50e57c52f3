import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';

import { screenshot as shot, startConsoleStack, type ConsoleStack } from './console-browser';
import { mqttClient, telemetry } from './support';

/**
 * Special-operation permits in Chromium (issue 15), every part real: influxd, the built Vigil
 * process, MQTT oxygen readings. zhang (operator, Chinese console) requests a confined-space
 * permit and starts it after the gas analysis; wang (supervisor, English console) approves it;
 * an oxygen drop suspends it (stop work) and both see it.
 */
describe('console: a confined-space permit from request to stop work, in Chinese and English', () => {
  let stack: ConsoleStack;
  let mqtt: MqttClient;
  let zhang: Page;
  let wang: Page;
  let permitUrl: string;

  const step = (page: Page, name: string) => page.locator(`form.step-form[data-step="${name}"]`);
  const oxygen = (o2: number) =>
    mqtt.publishAsync('vigil/v1/plant-1/go-cs-01/telemetry', telemetry({ o2 }), { qos: 1 });

  beforeAll(async () => {
    stack = await startConsoleStack({ VIGIL_RULE_TICK_MS: '200', VIGIL_WRITE_FLUSH_MS: '50' });
    mqtt = await mqttClient(stack.vigil.mqttUrl, 'permit-scenario-devices');
    zhang = await stack.logInPage('zhang');
    wang = await stack.logInPage('wang', 'en'); // wang works in English
  });

  afterAll(async () => {
    await mqtt?.endAsync().catch(() => undefined);
    await stack?.close();
  });

  it('zhang requests a confined-space permit in Chinese', async () => {
    await zhang.click('nav a[data-page="permits"]');
    expect(await zhang.textContent('nav a[data-page="permits"]')).toBe('特殊作业');
    await zhang.click('#permit-request-open');
    await zhang.selectOption('#permit-request select[name="kind"]', 'confined-space');
    await zhang.fill('#permit-request input[name="title"]', '污水池清淤');
    await zhang.selectOption('#permit-request select[name="areaId"]', 'confined-space');
    await zhang.fill('#permit-request input[name="workers"]', 'tag-001, tag-002');
    await zhang.fill('#permit-request input[name="guardian"]', '李娜');
    await shot(zhang, 'permit-request-zh');
    await zhang.click('#permit-request button[type="submit"]');
    await zhang.waitForSelector('#permit-detail[data-state="requested"]');
    permitUrl = zhang.url();
    expect(await zhang.textContent('#permit-state')).toBe('已申请');
    expect(await zhang.textContent('#permit-limits')).toContain('O₂ 19.5–21 %VOL');
    // The requester does not approve: only close is offered to him.
    expect(await step(zhang, 'approve').count()).toBe(0);
  });

  it('wang approves it in English', async () => {
    await wang.goto(permitUrl);
    await wang.waitForSelector('#permit-detail[data-state="requested"]');
    await step(wang, 'approve').locator('button').click();
    await wang.waitForSelector('#permit-detail[data-state="approved"]');
    expect(await wang.textContent('#permit-state')).toBe('approved');
  });

  it('zhang starts it once the oxygen is within the band; the gas analysis is shown', async () => {
    await oxygen(22.4);
    await zhang.goto(permitUrl);
    await zhang.waitForSelector('#permit-detail[data-state="approved"]');
    // Above 21 %VOL: refused, said so.
    await step(zhang, 'start').locator('button').click();
    await zhang.waitForSelector('text=/o2 22.4 outside/', { timeout: 20_000 });
    await oxygen(20.8);
    await zhang.waitForTimeout(500);
    await step(zhang, 'start').locator('button').click();
    await zhang.waitForSelector('#permit-detail[data-state="active"]', { timeout: 20_000 });
    expect(await zhang.textContent('#permit-state')).toBe('作业中');
    expect(await zhang.textContent('#permit-gas-check')).toContain('go-cs-01 o2 20.8');
    await shot(zhang, 'permit-active-zh');
  });

  it('an oxygen drop stops the work: suspended by vigil, seen in both languages', async () => {
    await oxygen(18.1);
    await zhang.waitForSelector('#permit-detail[data-state="suspended"]', { timeout: 20_000 });
    expect(await zhang.textContent('#permit-history li[data-action="suspend"]')).toContain(
      '停止作业 STOP WORK',
    );
    await wang.goto(permitUrl);
    await wang.waitForSelector('#permit-detail[data-state="suspended"]');
    expect(await wang.textContent('#permit-state')).toBe('suspended');
    expect(await step(wang, 'resume').count()).toBe(1);
    await shot(wang, 'permit-suspended-en');
    await shot(zhang, 'permit-suspended-zh');
  });
});
