import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { freePort, waitFor } from '@vigil/testing';

import { REPO_ROOT } from './support';

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
