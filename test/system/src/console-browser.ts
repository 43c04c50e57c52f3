import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { freePort, startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { REPO_ROOT, SAMPLE_REGISTRY } from './support';

/** Helpers of the console's browser tests: the built Vigil process and Debian's Chromium. */

export const CHROMIUM = process.env['VIGIL_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-output/screenshots');

export type LoggedChild = ChildProcess & { readonly log: string[] };

export function requireBuildAndBrowser(): void {
  if (
    !existsSync(join(REPO_ROOT, 'dist/apps/vigil/src/main.js')) ||
    !existsSync(join(REPO_ROOT, 'dist/apps/console/main.js'))
  ) {
    throw new Error(
      'dist/ is missing: the system tests depend on the build (node scripts/build.mjs)',
    );
  }
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install Debian's chromium package`);
  mkdirSync(SCREENSHOTS, { recursive: true });
}

export function node(script: string, args: string[], env: Record<string, string>): LoggedChild {
  const child = spawn(process.execPath, [join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stdout?.on('data', chunk => log.push(String(chunk)));
  child.stderr?.on('data', chunk => log.push(String(chunk)));
  return Object.assign(child, { log });
}

export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface BuiltVigil {
  readonly process: LoggedChild;
  readonly httpUrl: string;
  readonly mqttUrl: string;
}

/** The built Vigil process (embedded broker) on free ports, ready when /readyz answers 200. */
export async function startBuiltVigil(env: Record<string, string>): Promise<BuiltVigil> {
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const child = node('dist/apps/vigil/src/main.js', [], {
    VIGIL_HTTP_PORT: String(httpPort),
    VIGIL_MQTT_PORT: String(mqttPort),
    VIGIL_CONSOLE_DIR: join(REPO_ROOT, 'dist/apps/console'),
    VIGIL_LOG_LEVEL: 'warn',
    ...env,
  });
  await waitFor(
    async () => (await fetch(`${httpUrl}/readyz`).catch(() => undefined))?.status === 200,
    {
      what: `Vigil ready (log: ${child.log.join('').slice(-2000)})`,
      timeoutMs: 30_000,
      intervalMs: 100,
    },
  );
  return { process: child, httpUrl, mqttUrl: `mqtt://127.0.0.1:${mqttPort}` };
}

/** A page in a context of its own (its own session; zh-CN, 1440×900), kept in `contexts` to close. */
export async function openPage(browser: Browser, contexts: BrowserContext[]): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
  });
  contexts.push(context);
  return context.newPage();
}

/** A full-page screenshot, `test-output/screenshots/<name>.png`. */
export function screenshot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** What a console browser test runs against: a real influxd, the built Vigil on it, Chromium. */
export interface ConsoleStack {
  readonly influx: InfluxHandle;
  readonly vigil: BuiltVigil;
  readonly browser: Browser;
  /** Closed by `close`: the contexts of `openPage` and `logInPage`, and any a test adds. */
  readonly contexts: BrowserContext[];
  /** A page in a context of its own (`openPage`). */
  openPage(): Promise<Page>;
  /** A page of its own with `user` logged in (demo button), the console in English if asked. */
  logInPage(user: string, lang?: 'zh' | 'en'): Promise<Page>;
  /** Closes the pages, Chromium, Vigil and influxd. */
  close(): Promise<void>;
}

/**
 * The start-up every console browser test on one Vigil shares: the build and Chromium required,
 * a real influxd (/readyz needs storage), the built Vigil on it with the sample registry and its
 * data in influxd's data dir (`<dataDir>/vigil`), then Chromium. `env` adds to or overrides
 * Vigil's environment; as a function it may first prepare files in the data dir. What was
 * started is stopped again if a later part fails, so a failed start leaks no process.
 */
export async function startConsoleStack(
  env: Record<string, string> | ((influx: InfluxHandle) => Record<string, string>) = {},
): Promise<ConsoleStack> {
  requireBuildAndBrowser();
  const influx = await startInfluxd();
  let vigil: BuiltVigil | undefined;
  try {
    vigil = await startBuiltVigil({
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: SAMPLE_REGISTRY,
      VIGIL_DATA_DIR: join(influx.dataDir, 'vigil'),
      ...(typeof env === 'function' ? env(influx) : env),
    });
    const browser = await launchChromium();
    const started = vigil;
    const contexts: BrowserContext[] = [];
    return {
      influx,
      vigil,
      browser,
      contexts,
      openPage: () => openPage(browser, contexts),
      logInPage: async (user, lang = 'zh') => {
        const page = await openPage(browser, contexts);
        await logIn(page, started.httpUrl, user);
        if (lang === 'en') await page.click('#lang');
        return page;
      },
      close: async () => {
        for (const context of contexts) await context.close().catch(() => undefined);
        await browser.close();
        await stop(started.process);
        await influx.stop();
      },
    };
  } catch (error) {
    await stop(vigil?.process);
    await influx.stop();
    throw error;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Logs in through the login page: a demo user's one-click button, or the form. */
export async function logIn(
  page: Page,
  httpUrl: string,
  user: string,
  via: 'demo' | 'form' = 'demo',
): Promise<void> {
  await page.goto(httpUrl);
  if (via === 'demo') {
    await page.click(`#demo-users [data-user="${user}"]`);
  } else {
    await page.fill('input[name="username"]', user);
    await page.fill('input[name="password"]', 'vigil-demo');
    await page.click('#login-form button[type="submit"]');
  }
  await page.waitForSelector(`#user[data-user="${user}"]`);
  await page.waitForSelector('#connection.pill-on');
}
