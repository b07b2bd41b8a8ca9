// The dashboard end to end: the real hub and a local agent (`edgewatch start`, login on by
// default), driven by Debian's Chromium through playwright-core. Each page first shows the
// login view; the test logs in through the real form with the password the CLI printed.
// Screenshots land in test-artifacts/ (git-ignored).
//
// Needs Chromium: see harness.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, spawnCli, type CliProcess } from '../helpers/processes.js';
import { isStatusConsoleError, logInThroughForm, printedLogin } from './auth-helpers.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, noHorizontalOverflow, watchPage } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SERIES_URL = /\/api\/v1\/devices\/[^/?]+\/series\?/;

describe.skipIf(!HAVE_BROWSER)('dashboard in Chromium against a real hub and agent', () => {
  let hub: CliProcess | undefined;
  let dataDir: string | undefined;
  let browser: Browser | undefined;
  let base = '';
  let deviceId = '';
  let password = '';
  const pageErrors: string[] = [];
  /** Pages logged in: from then on a 401 is an error too. */
  const loggedIn = new WeakSet<Page>();

  async function newPage(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Before the login the hub's 401s are expected (Chrome logs each as a failed resource load).
    watchPage(page, { errors: pageErrors }, { ignore: (text) => !loggedIn.has(page) && isStatusConsoleError(text, 401) });
    return { context, page };
  }

  /** Opens the dashboard, which shows the login view, and logs in through the form. */
  async function openLoggedIn(page: Page, url = base): Promise<void> {
    await page.goto(url);
    await logInThroughForm(page, password);
    loggedIn.add(page);
  }

  /** Current data-points of a chart canvas (0 when absent). */
  async function chartPoints(page: Page, chart: string): Promise<number> {
    const v = await page.locator(`canvas[data-chart="${chart}"]`).getAttribute('data-points', { timeout: 5000 });
    return Number(v ?? 0);
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'edgewatch-browser-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    hub = spawnCli(['start', '--port', String(port), '--data', dataDir, '--interval', '500']);
    const proc = hub;
    const exitedEarly = proc.exited.then((code) => {
      throw new Error(`edgewatch start exited early (code ${code}):\n${proc.output().slice(-4000)}`);
    });
    await Promise.race([
      eventually(
        'GET /healthz',
        async () => (await fetch(`${base}healthz`, { signal: AbortSignal.timeout(2000) })).ok,
        30_000,
        250,
      ),
      exitedEarly,
    ]);
    exitedEarly.catch(() => {}); // exiting later (in afterAll) is expected
    ({ password } = await printedLogin(proc));
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('fleet page shows this machine online with a CPU reading and a live sparkline', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(base);
      // Logged out: the login view, no fleet, and the API refuses the page's own fetch.
      await page.locator('[data-page="login"] form').waitFor({ state: 'visible' });
      expect(await page.locator('#login-user').inputValue()).toBe('admin');
      expect(await page.locator('.device-card').count()).toBe(0);
      expect(await page.locator('[data-action="logout"]').isVisible()).toBe(false);
      const anonymous = (await page.evaluate(
        "fetch('/api/v1/devices').then(async (r) => ({ status: r.status, body: await r.json() }))",
      )) as { status: number; body: { error?: string; login?: string } };
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ error: 'login required', login: '/api/v1/login' });
      expect(await page.locator('#conn').getAttribute('data-state')).toBe('logged-out');

      await logInThroughForm(page, password);
      loggedIn.add(page);
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
      expect(await page.locator('[data-action="logout"]').isVisible()).toBe(true);
      const card = page.locator('a.device-card[data-online="true"]', { hasText: hostname() });
      await card.waitFor({ state: 'visible', timeout: 20_000 });
      deviceId = (await card.getAttribute('data-device-id')) ?? '';
      expect(deviceId).not.toBe('');
      await expect
        .poll(() => card.locator('[data-field="cpu"]').textContent(), { timeout: 15_000, interval: 250 })
        .toMatch(/^\d+(\.\d+)? %$/);
      await expect.poll(() => card.locator('[data-field="status"]').textContent()).toBe('online');
      await expect.poll(() => card.locator('[data-field="mem"]').textContent()).toMatch(/iB \/ .*iB$/);
      // The sparkline fills from live samples.
      await expect
        .poll(async () => Number(await card.locator('svg.sparkline').getAttribute('data-points')), { timeout: 15_000, interval: 250 })
        .toBeGreaterThanOrEqual(3);
      await page.screenshot({ path: join(ARTIFACTS, 'fleet-desktop.png') });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('device page draws a CPU chart that grows live, and 15 min loads history from the API', async () => {
    expect(deviceId, 'the fleet test found the device').not.toBe('');
    const { context, page } = await newPage(DESKTOP);
    try {
      await openLoggedIn(page);
      await page.locator(`a.device-card[data-device-id="${deviceId}"]`).click();
      await expect.poll(() => page.evaluate('location.hash')).toBe(`#/device/${encodeURIComponent(deviceId)}`);
      await expect.poll(() => page.locator('h1.device-title').textContent()).toMatch(/\S/);

      const cpu = page.locator('canvas[data-chart="cpu"][data-source="live"]');
      await cpu.waitFor({ state: 'attached', timeout: 15_000 });
      await expect.poll(() => chartPoints(page, 'cpu'), { timeout: 15_000, interval: 250 }).toBeGreaterThan(0);
      const before = await chartPoints(page, 'cpu');
      // Samples arrive every 500 ms: the ring must grow in place.
      await expect.poll(() => chartPoints(page, 'cpu'), { timeout: 10_000, interval: 250 }).toBeGreaterThan(before + 2);
      for (const chart of ['memory', 'load']) {
        await expect.poll(() => chartPoints(page, chart), { timeout: 10_000 }).toBeGreaterThan(0);
      }
      await page.waitForTimeout(2000);
      await page.screenshot({ path: join(ARTIFACTS, 'device-desktop.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'device-desktop-full.png'), fullPage: true });

      // Range picker: 15 min reads history from the series API.
      const request = page.waitForRequest((r) => SERIES_URL.test(r.url()) && isSpan(r.url(), 15 * 60_000), { timeout: 10_000 });
      const response = page.waitForResponse((r) => SERIES_URL.test(r.url()) && isSpan(r.url(), 15 * 60_000), { timeout: 10_000 });
      await page.locator('[data-range-key="15m"]').click();
      const url = new URL((await request).url());
      expect((await response).status()).toBe(200);
      expect(url.searchParams.get('metrics')?.split(',')).toContain('cpu.util');
      const points = Number(url.searchParams.get('points'));
      expect(points).toBeGreaterThanOrEqual(60);
      expect(points).toBeLessThanOrEqual(2000);
      expect(await page.evaluate('location.hash')).toContain('range=15m');
      const history = page.locator('canvas[data-chart="cpu"][data-range="15m"][data-source="history"]:not([data-loading])');
      await history.waitFor({ state: 'attached', timeout: 10_000 });
      expect(await chartPoints(page, 'cpu')).toBeGreaterThan(0);
      await expect.poll(() => page.locator('[data-range-key="15m"]').getAttribute('aria-current')).toBe('true');
      await page.screenshot({ path: join(ARTIFACTS, 'device-desktop-15m.png') });
    } finally {
      await context.close();
    }
  }, 90_000);

  it('fits a 390 px phone screen without horizontal overflow', async () => {
    expect(deviceId, 'the fleet test found the device').not.toBe('');
    const { context, page } = await newPage(PHONE);
    try {
      await openLoggedIn(page);
      const card = page.locator(`a.device-card[data-device-id="${deviceId}"]`);
      await card.waitFor({ state: 'visible', timeout: 15_000 });
      await expect
        .poll(async () => Number(await card.locator('svg.sparkline').getAttribute('data-points')), { timeout: 15_000, interval: 250 })
        .toBeGreaterThanOrEqual(6);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'fleet-phone.png') });

      await page.goto(`${base}#/device/${encodeURIComponent(deviceId)}`);
      await expect.poll(() => chartPoints(page, 'cpu'), { timeout: 15_000, interval: 250 }).toBeGreaterThan(0);
      await page.waitForTimeout(1000);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'device-phone.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'device-phone-full.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ran without page errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});

/** Whether a series request URL asks for `ms` of history (to − from, give or take rounding). */
function isSpan(url: string, ms: number): boolean {
  const p = new URL(url).searchParams;
  return Math.abs(Number(p.get('to')) - Number(p.get('from')) - ms) < 2000;
}
