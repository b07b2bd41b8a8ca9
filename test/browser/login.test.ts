// The dashboard's login, in Chromium, against `edgewatch start` (login on by default): a wrong
// password shows the error and no data; the right one shows the fleet and connects the live
// socket; the session survives a reload (cookie HttpOnly, SameSite=Strict); "Log out" returns
// to the login view and the API answers 401 again; a session that ends mid-use brings the
// login back and, once logged in, the route that was wanted. And a hub without logins (in
// process, startHub's default) never shows the login view.
//
// Needs Chromium: see harness.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { eventually, freePort, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { logInThroughForm, printedLogin, SESSION_COOKIE } from './auth-helpers.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, noHorizontalOverflow, startUiHub, watchPage } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Console errors that a login flow causes by design: Chrome logs every 401 (and the 429 mocked here). */
const EXPECTED_CONSOLE = /status of (?:401|429)\b|\/ws\/live' failed/;

const LOGIN_VIEW = '[data-page="login"]';

async function apiStatus(page: Page, path = '/api/v1/devices'): Promise<number> {
  return (await page.evaluate(`fetch(${JSON.stringify(path)}, { cache: 'no-store' }).then((r) => r.status)`)) as number;
}

describe.skipIf(!HAVE_BROWSER)('login to a hub started with `edgewatch start`', () => {
  let hub: CliProcess | undefined;
  let dataDir: string | undefined;
  let browser: Browser | undefined;
  let base = '';
  let password = '';
  const pageErrors: string[] = [];

  async function newPage(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watchPage(page, { errors: pageErrors }, { ignore: EXPECTED_CONSOLE });
    // A blocked inline handler or style reports here.
    await page.addInitScript("window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));");
    return { context, page };
  }

  async function expectLoginView(page: Page): Promise<void> {
    await page.locator(`${LOGIN_VIEW} form`).waitFor({ state: 'visible' });
    expect(await page.locator('.device-card').count()).toBe(0);
    expect(await page.locator('[data-action="logout"]').isVisible()).toBe(false);
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('logged-out');
  }

  async function expectFleet(page: Page): Promise<void> {
    await page.locator('a.device-card', { hasText: hostname() }).waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator(LOGIN_VIEW).count()).toBe(0);
    expect(await page.locator('[data-action="logout"]').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'edgewatch-login-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    hub = spawnCli(['start', '--port', String(port), '--data', dataDir, '--interval', '500']);
    const proc = hub;
    const exitedEarly = proc.exited.then((code) => {
      throw new Error(`edgewatch start exited early (code ${code}):\n${proc.output().slice(-4000)}`);
    });
    await Promise.race([
      eventually('GET /healthz', async () => (await fetch(`${base}healthz`, { signal: AbortSignal.timeout(2000) })).ok, 30_000, 250),
      exitedEarly,
    ]);
    exitedEarly.catch(() => {});
    ({ password } = await printedLogin(proc));
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('shows the login view, and on a wrong password the error and no data', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(base);
      await expectLoginView(page);
      expect(await page.locator('#login-user').inputValue()).toBe('admin');
      expect(await page.title()).toBe('Log in · edgewatch');
      // The password field has focus, ready to type into.
      expect(await page.evaluate('document.activeElement?.id')).toBe('login-password');
      expect(await page.locator('[data-login="error"]').isVisible()).toBe(false);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'login-desktop.png') });

      await page.locator('#login-password').fill(`${password}-wrong`);
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
      await page.locator(`${LOGIN_VIEW} button[type="submit"]`).click();
      expect((await answer).status()).toBe(401);
      const error = page.locator('[data-login="error"]');
      await error.waitFor({ state: 'visible' });
      expect(await error.textContent()).toBe('wrong user or password');
      expect(await error.getAttribute('role')).toBe('alert');
      // Still the form, still no data, still no session.
      await expectLoginView(page);
      expect(await apiStatus(page)).toBe(401);
      expect((await context.cookies()).some((c) => c.name === SESSION_COOKIE)).toBe(false);
      await page.screenshot({ path: join(ARTIFACTS, 'login-error-desktop.png') });
      expect(await page.evaluate('window.__csp')).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('says "too many attempts" when the hub answers 429', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      // The hub's own limit is its business (and its tests'); here only the UI's answer to it.
      await page.route('**/api/v1/login', (route) =>
        route.fulfill({ status: 429, contentType: 'application/json', body: JSON.stringify({ error: 'too many login attempts' }) }),
      );
      await page.goto(base);
      await expectLoginView(page);
      await page.locator('#login-password').fill('whatever');
      await page.locator('#login-password').press('Enter');
      const error = page.locator('[data-login="error"]');
      await error.waitFor({ state: 'visible' });
      expect(await error.textContent()).toBe('too many attempts, wait a moment');
      await expectLoginView(page);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('logs in, keeps the session over a reload in an HttpOnly SameSite=Strict cookie, and logs out', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(base);
      await expectLoginView(page);
      await logInThroughForm(page, password);
      await expectFleet(page);
      expect(await apiStatus(page)).toBe(200);
      expect(await apiStatus(page, '/api/v1/session')).toBe(200);
      expect(await page.evaluate("fetch('/api/v1/session').then((r) => r.json())")).toMatchObject({ user: 'admin' });
      await page.screenshot({ path: join(ARTIFACTS, 'login-after-desktop.png') });

      // The cookie: HttpOnly (the page's scripts never see it), SameSite=Strict.
      const cookie = (await context.cookies(base)).find((c) => c.name === SESSION_COOKIE);
      expect(cookie, `cookies: ${JSON.stringify(await context.cookies())}`).toBeDefined();
      expect(cookie!.httpOnly).toBe(true);
      expect(cookie!.sameSite).toBe('Strict');
      expect(cookie!.path).toBe('/');
      expect(await page.evaluate('document.cookie')).not.toContain(SESSION_COOKIE);

      // A reload keeps the session: straight to the fleet, no login view.
      await page.reload();
      await expectFleet(page);

      // Log out: the login view again, the socket closed, and the API refuses.
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/logout'));
      await page.locator('[data-action="logout"]').click();
      expect((await answer).status()).toBe(204);
      await expectLoginView(page);
      expect(await page.locator('[data-login="notice"]').textContent()).toBe('You are logged out.');
      expect(await apiStatus(page)).toBe(401);
      expect(await apiStatus(page, '/api/v1/session')).toBe(401);
      // The old cookie is dead on the hub too, not just dropped by the browser.
      const replay = await fetch(`${base}api/v1/devices`, { headers: { cookie: `${SESSION_COOKIE}=${cookie!.value}` } });
      expect(replay.status).toBe(401);
      // And a reload stays logged out.
      await page.reload();
      await expectLoginView(page);
      expect(await page.evaluate('window.__csp')).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('goes back to the route that was wanted, also when the session ends mid-use', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      // A deep link while logged out: the login view first, then that page.
      await page.goto(`${base}#/experiments`);
      await expectLoginView(page);
      expect(await page.evaluate('location.hash')).toBe('#/experiments');
      await logInThroughForm(page, password);
      expect(await page.evaluate('location.hash')).toBe('#/experiments');
      await expect.poll(() => page.locator('.topnav [data-nav="experiments"]').getAttribute('aria-current')).toBe('page');
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');

      // The session ends elsewhere (logged out from another tab, here from Node with the same cookie).
      const cookie = (await context.cookies(base)).find((c) => c.name === SESSION_COOKIE)!;
      const out = await fetch(`${base}api/v1/logout`, { method: 'POST', headers: { cookie: `${SESSION_COOKIE}=${cookie.value}` } });
      expect(out.status).toBe(204);
      // The next API call gets 401: the login view, and the hash the user went to stays.
      await page.evaluate("location.hash = '#/'");
      await expectLoginView(page);
      expect(await page.evaluate('location.hash')).toBe('#/');
      await logInThroughForm(page, password);
      await expectFleet(page);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('fits a 390 px phone, logged out and logged in', async () => {
    const { context, page } = await newPage(PHONE);
    try {
      await page.goto(base);
      await expectLoginView(page);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'login-phone.png') });
      await page.locator('#login-password').fill('nope');
      await page.locator(`${LOGIN_VIEW} button[type="submit"]`).click();
      await page.locator('[data-login="error"]').waitFor({ state: 'visible' });
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'login-error-phone.png') });
      await logInThroughForm(page, password);
      await expectFleet(page);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'login-after-phone.png') });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ran without page errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe.skipIf(!HAVE_BROWSER)('a hub without logins (startHub in process, auth off by default)', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let base = '';

  beforeAll(async () => {
    tmp = tempDir('edgewatch-noauth-');
    hub = await startUiHub(tmp.dir);
    base = `http://127.0.0.1:${hub.port}/`;
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('never shows the login view nor "Log out", and the API answers without a cookie', async () => {
    const context = await browser!.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    watchPage(page, { errors: problems });
    try {
      await page.goto(base);
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
      await page.locator('.empty-state').waitFor({ state: 'visible' });
      expect(await page.locator(LOGIN_VIEW).count()).toBe(0);
      expect(await page.locator('[data-action="logout"]').isVisible()).toBe(false);
      expect(await page.evaluate('document.body.dataset.auth')).toBe('off');
      expect(await apiStatus(page)).toBe(200);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
