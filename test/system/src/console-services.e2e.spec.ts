import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';

import {
  startInfluxd,
  startMosquitto,
  startNats,
  type InfluxHandle,
  type MosquittoHandle,
  type NatsHandle,
} from '@vigil/testing';

import {
  SCREENSHOTS,
  launchChromium,
  logIn,
  requireBuildAndBrowser,
  startBuiltVigil,
  stop,
  type BuiltVigil,
} from './console-browser';
import { SAMPLE_REGISTRY } from './support';

/**
 * The operator sees a split process that is not ready (fault suite, 2026-12-07): the built
 * processes on JetStream, Mosquitto restarted without persistence loses ingest's session, and
 * the console served by the gateway shows a red banner naming ingest and its failing check.
 */
describe('console services banner in headless Chromium (split on JetStream)', () => {
  let influx: InfluxHandle;
  let mosquitto: MosquittoHandle;
  let nats: NatsHandle;
  let work: string;
  const processes: BuiltVigil[] = [];
  let gateway: BuiltVigil;
  let browser: Browser;
  let page: Page;

  const start = async (services: string) => {
    const built = await startBuiltVigil({
      VIGIL_SERVICES: services,
      VIGIL_BUS: 'jetstream',
      VIGIL_NATS_URL: nats.url,
      VIGIL_INSTANCE: `${services}-1`,
      VIGIL_MQTT_URL: mosquitto.url,
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(work, services),
    });
    processes.push(built);
    return built;
  };

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-services-banner-'));
    [influx, mosquitto, nats] = await Promise.all([startInfluxd(), startMosquitto(), startNats()]);
    await start('persister');
    await start('rules');
    await start('ingest');
    gateway = await start('gateway');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const built of processes.reverse()) await stop(built.process);
    await nats?.stop();
    await mosquitto?.stop();
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows a banner naming ingest and its check while ingest is not ready (the broker lost its session)', async () => {
    await logIn(page, gateway.httpUrl, 'zhang');
    await page.waitForTimeout(3000);
    expect(await page.locator('#services-banner').count()).toBe(0);

    const port = mosquitto.port;
    await mosquitto.stop();
    mosquitto = await startMosquitto({ port });

    const banner = page.locator('#services-banner[data-instances="ingest-1"]');
    await banner.waitFor({ timeout: 30_000 });
    const text = (await banner.textContent()) ?? '';
    expect(text).toMatch(/服务未就绪/);
    // Its failing checks, `ingest` among them (`broker` too while ingest is still reconnecting).
    expect(text).toMatch(/ingest-1 \((?:[a-z]+, )*ingest(?:, [a-z]+)*\)/);
    expect(text).toContain("lost ingest's persistent session");
    await page.screenshot({ path: join(SCREENSHOTS, 'console-services-banner.png') });
  });
});
