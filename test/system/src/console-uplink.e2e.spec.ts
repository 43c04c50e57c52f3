import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';

import type { Alarm, Hazard } from '@vigil/contracts';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import {
  screenshot as shot,
  launchChromium,
  openPage,
  logIn,
  requireBuildAndBrowser,
  stop,
} from './console-browser';
import { SAMPLE_REGISTRY, loginAs, mqttClient, telemetry } from './support';
import {
  startUplinkPair,
  UPLINK_ENTERPRISE_CODE as ENTERPRISE_CODE,
  type VigilInstance,
} from './vigil-instances';

const ORDER_TITLE = '罐区泄漏隐患挂牌督办 Supervised rectification of the tank-farm leak';

/**
 * The uplink's console pages (issue 15, 市县企三级联网) in Chromium on two built Vigil processes,
 * every part real: an enterprise Vigil forwards to a city Vigil. An alarm raised and a hazard
 * reported at the enterprise show on the city's 下级企业 page; the city's supervisor issues a
 * 挂牌督办 order there; the enterprise's 督办令 page shows it. In Chinese and English.
 */
describe('console: the enterprises below at the city and the supervision orders at the enterprise', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let city: VigilInstance | undefined;
  let enterprise: VigilInstance | undefined;
  let device: MqttClient | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const open = async (): Promise<Page> => {
    if (!browser) throw new Error('no browser');
    return openPage(browser, contexts);
  };
  const navPages = async (page: Page) =>
    page
      .locator('nav a.nav-link')
      .evaluateAll(links => links.map(link => (link as HTMLElement).dataset['page']));

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-console-uplink-'));
    influx = await startInfluxd();
    ({ city, enterprise } = await startUplinkPair({
      work,
      // Under the enterprise's own node: the city's operator account zhang sees it too.
      node: 'ent-huaxin',
      common: {
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_INFLUX_URL: influx.url,
        VIGIL_WRITE_FLUSH_MS: '50',
        VIGIL_REGISTRY: SAMPLE_REGISTRY,
        VIGIL_RULE_TICK_MS: '200',
        VIGIL_ALARM_TICK_MS: '200',
      },
      enterpriseEnv: { VIGIL_UPLINK_SAMPLE_MS: '1000', VIGIL_UPLINK_ORDERS_POLL_MS: '1000' },
    }));
    device = await mqttClient(enterprise.mqttUrl);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await device?.endAsync().catch(() => undefined);
    await stop(enterprise?.process);
    await stop(city?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows the enterprise at the city, takes an order there and shows it at the enterprise', async () => {
    if (!city || !enterprise || !device) throw new Error('not started');
    const zhangApi = await loginAs(enterprise.httpUrl, 'zhang');
    // At the enterprise: a tank of the major hazard source reports, a gas detector alarms.
    await device.publishAsync(
      'vigil/v1/plant-1/tk-101/telemetry',
      telemetry({ level_pct: 41.5, temp_c: 18.2, pressure_kpa: 102 }, 1),
      { qos: 1 },
    );
    await device.publishAsync('vigil/v1/plant-1/gc-tf-01/telemetry', telemetry({ lel: 30 }, 1), {
      qos: 1,
    });
    const alarm = await waitFor(
      async () =>
        ((await (await zhangApi.call('/api/v1/alarms?site=plant-1')).json()) as Alarm[]).find(
          a => a.deviceId === 'gc-tf-01' && a.category === 'process',
        ),
      { what: 'the leak alarm at the enterprise' },
    );
    const reported = await zhangApi.post('/api/v1/hazards', {
      title: '罐区法兰泄漏 Flange leak in the tank farm',
      level: 'general',
      siteId: 'plant-1',
    });
    expect(reported.status).toBe(201);
    const hazard = (await reported.json()) as Hazard;
    // Assigned with a deadline a few seconds away: it passes, the ledger marks the hazard overdue.
    const wangApi = await loginAs(enterprise.httpUrl, 'wang');
    const assigned = await wangApi.post(`/api/v1/hazards/${hazard.id}/assign`, {
      assignee: 'zhang',
      plan: {
        responsible: '张伟 Zhang Wei',
        measures: '更换垫片 replace the gasket',
        funds: 800,
        deadline: Date.now() + 3000,
        contingencyPlan: 'YA-03',
      },
    });
    expect(assigned.status).toBe(200);

    // At the city, the supervisor chen (Chinese): 下级企业 in the nav, 督办令 not (no upper here).
    const chen = await open();
    await logIn(chen, city.httpUrl, 'chen');
    await chen.waitForSelector('nav a[data-page="enterprises"]');
    expect(await navPages(chen)).not.toContain('orders');
    await chen.click('nav a[data-page="enterprises"]');
    const card = chen.locator(
      `#uplink-enterprises .enterprise-card[data-code="${ENTERPRISE_CODE}"]`,
    );
    await card.locator(`tr.uplink-alarm[data-alarm-id="${alarm.id}"]`).waitFor({ timeout: 20_000 });
    await card
      .locator(`tr.uplink-hazard.overdue[data-hazard-id="${hazard.id}"][data-state="assigned"]`)
      .waitFor({ timeout: 20_000 });
    await card
      .locator('tr.uplink-point[data-point="tk-101.level_pct"]')
      .waitFor({ timeout: 20_000 });
    expect(await card.locator('h3').textContent()).toBe('华新化工有限公司');
    expect(
      await card
        .locator(`.open-alarms .prio-badge[data-priority="${alarm.priority}"]`)
        .getAttribute('data-count'),
    ).toBe('1');
    expect(
      await card.locator(`tr.uplink-alarm[data-alarm-id="${alarm.id}"]`).getAttribute('class'),
    ).toContain(`p${alarm.priority}`);
    expect(await card.locator('.hazard-states .chip[data-state="assigned"]').textContent()).toBe(
      '已下达整改: 1',
    );
    expect(await card.locator('.hazard-states .hazard-overdue').textContent()).toBe('逾期 1');
    expect(await card.locator('.link-freshness').getAttribute('data-stale')).toBe('false');
    expect(await card.locator('.link-freshness .tag').textContent()).toContain('最近接收');
    await shot(chen, 'uplink-enterprises-zh');

    // 挂牌督办: chen issues an order about the hazard.
    await card.locator('.order-form input[name="title"]').fill(ORDER_TITLE);
    await card
      .locator('.order-form textarea[name="text"]')
      .fill('30 日内完成罐区法兰全面排查 inspect every flange in the tank farm within 30 days');
    await card.locator('.order-form select[name="hazardId"]').selectOption(hazard.id);
    await card.locator('.order-form button[type="submit"]').click();
    const issued = card.locator('li.supervision-order[data-seq="1"]');
    await issued.waitFor();
    expect(await issued.textContent()).toContain(ORDER_TITLE);
    expect(await issued.locator('.order-hazard').textContent()).toBe(
      '隐患 #1 罐区法兰泄漏 Flange leak in the tank farm',
    );
    await chen.click('#lang');
    await card.locator('h4', { hasText: 'Supervision orders' }).waitFor();
    expect(await card.locator('h3').textContent()).toBe('Huaxin Chemicals');
    await shot(chen, 'uplink-enterprises-en');

    // The city's operator zhang sees the enterprise read-only: no order form.
    const zhangAtCity = await open();
    await logIn(zhangAtCity, city.httpUrl, 'zhang');
    await zhangAtCity.click('nav a[data-page="enterprises"]');
    const readOnly = zhangAtCity.locator(
      `#uplink-enterprises .enterprise-card[data-code="${ENTERPRISE_CODE}"]`,
    );
    await readOnly.locator('.order-operator-only').waitFor();
    expect(await readOnly.locator('.order-form').count()).toBe(0);
    expect(await readOnly.locator('li.supervision-order[data-seq="1"]').count()).toBe(1);

    // At the enterprise, zhang: 督办令 in the nav, 下级企业 not; the order arrives.
    const zhang = await open();
    await logIn(zhang, enterprise.httpUrl, 'zhang');
    await zhang.waitForSelector('nav a[data-page="orders"]');
    expect(await navPages(zhang)).not.toContain('enterprises');
    await zhang.click('nav a[data-page="orders"]');
    const received = zhang.locator('#uplink-orders li.supervision-order[data-seq="1"]');
    await received.waitFor({ timeout: 20_000 });
    expect(await received.textContent()).toContain(ORDER_TITLE);
    expect(await received.textContent()).toContain('chen');
    expect(await received.locator('a.order-hazard').getAttribute('href')).toBe(
      `#/hazards?id=${hazard.id}`,
    );
    await shot(zhang, 'uplink-orders-zh');
    await zhang.click('#lang');
    await zhang
      .locator('#uplink-orders h2', { hasText: 'Supervision orders from above' })
      .waitFor();
    await shot(zhang, 'uplink-orders-en');
  }, 180_000);

  it('approves a major hazard the enterprise accepted (批准销号) at the city; its outcome comes back', async () => {
    if (!city || !enterprise) throw new Error('not started');
    const zhangApi = await loginAs(enterprise.httpUrl, 'zhang'); // operator, ent-huaxin
    const wangApi = await loginAs(enterprise.httpUrl, 'wang'); // supervisor, park-chem
    // A major hazard reported, assigned, rectified and accepted at the enterprise.
    const reported = await zhangApi.post('/api/v1/hazards', {
      title: '液氯储罐区安全阀失效 Chlorine tank relief valve failed',
      level: 'major',
      siteId: 'plant-1',
      areaId: 'tank-farm',
    });
    expect(reported.status).toBe(201);
    const hazard = (await reported.json()) as Hazard;
    const act = async (who: typeof zhangApi, action: string, body: unknown = {}) =>
      expect((await who.post(`/api/v1/hazards/${hazard.id}/${action}`, body)).status).toBe(200);
    await act(wangApi, 'assign', {
      assignee: 'zhang',
      plan: {
        responsible: '张伟 Zhang Wei',
        measures: '更换安全阀 replace the relief valve',
        funds: 12_000,
        deadline: Date.now() + 7 * 86_400_000,
        contingencyPlan: 'YA-07',
      },
    });
    await act(zhangApi, 'start');
    await act(zhangApi, 'rectify', { note: '安全阀已更换并校验 valve replaced and tested' });
    await act(wangApi, 'accept', { note: '复查合格' });

    // The city's operator zhang sees the accepted major hazard, and no approve button.
    const zhangAtCity = await open();
    await logIn(zhangAtCity, city.httpUrl, 'zhang');
    await zhangAtCity.click('nav a[data-page="enterprises"]');
    const readOnly = zhangAtCity.locator(
      `#uplink-enterprises .enterprise-card[data-code="${ENTERPRISE_CODE}"]`,
    );
    const readOnlyRow = readOnly.locator(
      `tr.uplink-hazard[data-hazard-id="${hazard.id}"][data-state="accepted"]`,
    );
    await readOnlyRow.waitFor({ timeout: 20_000 });
    expect(await readOnly.locator('.hazard-approve-form').count()).toBe(0);

    // The city's supervisor chen (Chinese): the button on that hazard only.
    const chen = await open();
    await logIn(chen, city.httpUrl, 'chen');
    await chen.click('nav a[data-page="enterprises"]');
    const card = chen.locator(
      `#uplink-enterprises .enterprise-card[data-code="${ENTERPRISE_CODE}"]`,
    );
    const row = card.locator(
      `tr.uplink-hazard[data-hazard-id="${hazard.id}"][data-state="accepted"]`,
    );
    await row.locator('.hazard-approve-form').waitFor({ timeout: 20_000 });
    expect(await card.locator('.hazard-approve-form').count()).toBe(1);
    expect(await row.locator('.hazard-approve-form button').textContent()).toBe('批准销号');
    await shot(chen, 'uplink-approve-button-zh');
    await row
      .locator('.hazard-approve-form input[name="note"]')
      .fill('同意销号 approved for close-out');
    await row.locator('.hazard-approve-form button').click();
    // The form gives way to the pending approval (待企业确认), or, if the lower answered already
    // by the next refresh, to 已批准; the order of kind approve is listed.
    await row.locator('.hazard-approve-pending, .hazard-approved').first().waitFor();
    expect(await row.locator('.hazard-approve-form').count()).toBe(0);
    const order = card.locator('li.supervision-order', {
      has: chen.locator('.order-kind-approve'),
    });
    await order.waitFor();
    // The lower applies it and says so: applied ✓ on the order, the step back on the hazard.
    await order.locator('.order-outcome[data-outcome="applied"]').waitFor({ timeout: 20_000 });
    expect(await order.locator('.order-outcome').textContent()).toBe('企业已执行 ✓');
    expect(await order.locator('.order-kind-approve').textContent()).toBe('批准销号');
    await row.locator('.hazard-approved').waitFor({ timeout: 20_000 });
    expect(await row.locator('.hazard-approved').textContent()).toBe('已批准');
    await shot(chen, 'uplink-approve-zh');

    // At the enterprise: the hazard's approve step, signed by the city's supervisor.
    const lower = (await (await wangApi.call(`/api/v1/hazards/${hazard.id}`)).json()) as Hazard;
    expect(lower.approvedBy).toBe('city-demo:chen');
    expect(lower.history.filter(step => step.action === 'approve')).toEqual([
      expect.objectContaining({ by: 'city-demo:chen', note: '同意销号 approved for close-out' }),
    ]);

    await chen.click('#lang');
    await card.locator('h4', { hasText: 'Supervision orders' }).waitFor();
    expect(await order.locator('.order-outcome').textContent()).toBe('Applied at the enterprise ✓');
    expect(await row.locator('.hazard-approved').textContent()).toBe('Approved');
    await shot(chen, 'uplink-approve-en');
  }, 120_000);
});
