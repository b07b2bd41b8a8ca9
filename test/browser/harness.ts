// What every Chromium suite needs before its first page: the browser (or a clear reason to
// skip), where screenshots go, a private copy of the built UI, and listeners that turn a page's
// errors into data a test can assert on. The suites differ only in what they send the hub and
// what they check; this is the part they share.
//
// Needs /usr/bin/chromium (or CHROMIUM_PATH). Without one the browser suites are skipped, unless
// EDGEWATCH_REQUIRE_BROWSER=1 says a missing browser is a failure.
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startHub, type Hub, type HubOptions } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { eventually, REPO_ROOT } from '../helpers/processes.js';

/** Debian's Chromium by default; CHROMIUM_PATH for any other build. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Suites `describe.skipIf(!HAVE_BROWSER)`, so a machine without a browser still runs the rest. */
export const HAVE_BROWSER = existsSync(CHROMIUM);
// Where a browser is expected (CI), skipping would pass silently: fail the import instead.
if (!HAVE_BROWSER && process.env.EDGEWATCH_REQUIRE_BROWSER === '1') {
  throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
}

/** Screenshots and timings for a human to look at (git-ignored); made here so any write can assume it. */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/**
 * Headless, and nothing that reaches out on its own (updates, sync, first-run pages): the only
 * traffic and console output a test sees is the dashboard's. --no-sandbox because test
 * containers often run as root, where Chromium's sandbox refuses to start.
 */
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, timeout: 30_000, args: LAUNCH_ARGS });
}

/**
 * Copies the built UI (dist/web) to `<dir>/web` and returns that path, for a hub to serve. A
 * private copy because another suite's build may replace dist/web meanwhile (suites run in
 * parallel workers): retried until a complete build is there to copy.
 */
export async function privateWebRoot(dir: string): Promise<string> {
  const webRoot = join(dir, 'web');
  await eventually('a built dist/web', () => {
    cpSync(join(REPO_ROOT, 'dist/web'), webRoot, { recursive: true });
    return existsSync(join(webRoot, 'index.html')) && existsSync(join(webRoot, 'app.js'));
  }, 30_000, 500);
  return webRoot;
}

/** A layout that only fits wider screens shows up as a page wider than a phone's viewport. */
export async function noHorizontalOverflow(page: Page): Promise<void> {
  const [scrollWidth, clientWidth] = (await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')) as [number, number];
  expect(scrollWidth, 'page is wider than the viewport').toBeLessThanOrEqual(clientWidth);
}

export interface PageSink {
  /** Uncaught exceptions, console errors (a CSP violation is one) and, if asked, failed responses. */
  errors: string[];
  /** alert/confirm/prompt messages; when given, each dialog is also dismissed so the page goes on. */
  dialogs?: string[];
}

export interface WatchOptions {
  /** Also count every response with status >= 400 as an error (for hubs that need no login). */
  httpErrors?: boolean;
  /**
   * Console errors a suite causes on purpose (a login flow's 401s, say). A predicate where the
   * answer depends on the page's state, e.g. 401s only until the page has logged in.
   */
  ignore?: RegExp | ((text: string) => boolean);
}

/**
 * Collects what went wrong on `page` into `sink`, for a test to assert is empty: these failures
 * happen inside the page, where no awaited call would throw. Chrome's missing-favicon error is
 * never counted: the dashboard has no favicon and does not need one.
 */
export function watchPage(page: Page, sink: PageSink, opts: WatchOptions = {}): void {
  const { ignore, httpErrors = false } = opts;
  const ignored = ignore === undefined ? () => false : typeof ignore === 'function' ? ignore : (text: string) => ignore.test(text);
  page.on('pageerror', (err) => sink.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || /favicon/.test(msg.text())) return;
    if (ignored(msg.text())) return;
    sink.errors.push(msg.text());
  });
  const dialogs = sink.dialogs;
  if (dialogs) {
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }
  if (httpErrors) {
    page.on('response', (r) => {
      if (r.status() >= 400) sink.errors.push(`${r.status()} ${r.url()}`);
    });
  }
}

/** An in-process hub on a free loopback port (auth off, as in-process hubs are) serving a private web root. */
export async function startUiHub(dir: string, extra: Partial<HubOptions> = {}): Promise<Hub> {
  const webRoot = await privateWebRoot(dir);
  return startHub({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'data'), webRoot, log: silentLogger(), ...extra });
}

/** A page in a fresh light-mode context, watched into `sink`, with a 15 s default timeout. */
export async function newWatchedPage(
  browser: Browser,
  viewport: { width: number; height: number },
  sink: PageSink,
  opts: WatchOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  watchPage(page, sink, opts);
  return { context, page };
}
