// Logging in to a hub started by `edgewatch start` (auth on by default): the password it
// printed, a session cookie for Node-side API calls, and the real login form in Chromium.
import type { Page } from 'playwright-core';
import { eventually, type CliProcess } from '../helpers/processes.js';

export const SESSION_COOKIE = 'ew_session';

/** `login: user admin, password <pw>`, printed on stdout at the first start. */
export async function printedLogin(proc: CliProcess, timeoutMs = 15_000): Promise<{ user: string; password: string }> {
  const m = await eventually(
    'the CLI printing `login: user …, password …`',
    () => /login: user (\S+), password (\S+)/.exec(proc.output()),
    timeoutMs,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output().slice(-3000)}`);
  });
  return { user: m[1]!, password: m[2]! };
}

/** POST /api/v1/login from Node; returns the `Cookie` header value to send afterwards. */
export async function apiLogin(base: string, user: string, password: string): Promise<string> {
  const res = await fetch(new URL('api/v1/login', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  if (res.status !== 204) throw new Error(`POST /api/v1/login: ${res.status} ${await res.text()}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';', 1)[0]!)
    .find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!cookie) throw new Error(`POST /api/v1/login set no ${SESSION_COOKIE} cookie: ${res.headers.getSetCookie().join(' | ')}`);
  return cookie;
}

/** GET with the session cookie. */
export async function getJsonAs<T>(cookie: string, url: string): Promise<T> {
  const res = await fetch(url, { headers: { cookie } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
}

/** Fills and submits the dashboard's login form (already shown on `page`); waits until it is gone. */
export async function logInThroughForm(page: Page, password: string, user = 'admin'): Promise<void> {
  const form = page.locator('[data-page="login"] form');
  await form.waitFor({ state: 'visible' });
  await page.locator('#login-user').fill(user);
  await page.locator('#login-password').fill(password);
  await page.locator('[data-page="login"] button[type="submit"]').click();
  await page.locator('[data-page="login"]').waitFor({ state: 'detached' });
}

/** Chrome's console line for a response with this status (expected before a login). */
export function isStatusConsoleError(text: string, status: number): boolean {
  return new RegExp(`status of ${status}\\b`).test(text);
}
