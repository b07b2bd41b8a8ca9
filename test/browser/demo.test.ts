// `edgewatch demo` in Chromium: the built CLI started as a new user would (--no-auth here; the
// login path is test/integration/demo.test.ts's), and within 10 s of it saying it runs every
// panel has data: the fleet with demo badges, the Jetson panel with its rails, the Pi's
// under-voltage and throttling badges, GPU charts of two H200s, the storage page. Once the
// background history is in, the compare page shows δ, α and energy per inference over 5 + 5
// trials. Screenshots go to test-artifacts/ and, README-ready, to docs/demo-*.png.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow } from './harness.js';

// README screenshots are refreshed only when asked (EDGEWATCH_UPDATE_DOCS=1): a test run leaves tracked files alone.
const DOCS = process.env.EDGEWATCH_UPDATE_DOCS === '1' ? join(REPO_ROOT, 'docs') : ARTIFACTS;
/** The shared test machine is loaded; start-up sends 10 minutes of every device first. */
const START_TIMEOUT_MS = 90_000;
/** What the issue asks: every panel filled within 10 s of the demo running. */
const PANELS_WITHIN_MS = 10_000;

describe.skipIf(!HAVE_BROWSER)('edgewatch demo in the browser', () => {
  const scratch = tempDir('edgewatch-demo-ui-');
  let demo: CliProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let base = '';
  let compareHash = '';
  let runningAt = 0;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    demo = spawnCli(['demo', '--port', String(port), '--no-auth'], { TMPDIR: scratch.dir, EDGEWATCH_LOG_LEVEL: 'info' });
    const [launched, running] = await Promise.all([
      launchChromium(),
      eventually('the demo saying it runs', () => /edgewatch demo is running: open (\S+)/.exec(demo!.output()), START_TIMEOUT_MS, 100).catch((err: Error) => {
        throw new Error(`${err.message}\n${demo!.output().slice(-4000)}`);
      }),
    ]);
    runningAt = Date.now();
    browser = launched;
    base = running[1]!.endsWith('/') ? running[1]! : `${running[1]!}/`;
    compareHash = /compare fp32 and int8 \(5 trials each\): \S+(#\/compare\?\S+)/.exec(demo.output())![1]!;
    ({ page } = await newWatchedPage(browser, { width: 1280, height: 900 }, { errors }));
  }, START_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.kill();
    scratch.remove();
  });

  const left = (): number => Math.max(1000, PANELS_WITHIN_MS - (Date.now() - runningAt));

  it('fills every panel within 10 s: fleet with demo badges, Jetson rails, Pi throttling, 2 GPUs, storage', async () => {
    const p = page!;
    await p.goto(base);
    const cards = p.locator('a.device-card');
    await expect.poll(() => cards.count(), { timeout: left() }).toBe(5);
    await expect.poll(() => p.locator('a.device-card [data-field="demo"]:visible').count(), { timeout: left() }).toBe(4);
    // This machine's card is the real agent's: no demo badge.
    const real = p.locator('a.device-card:not([data-device-id^="demo-"])');
    expect(await real.locator('[data-field="demo"]').isHidden()).toBe(true);
    await expect.poll(() => p.locator('a.device-card[data-online="false"]').count(), { timeout: left() }).toBe(0);
    await p.screenshot({ path: join(ARTIFACTS, 'demo-fleet.png') });
    await p.screenshot({ path: join(DOCS, `demo-fleet${DOCS === ARTIFACTS ? '-viewport' : ''}.png`) });
    await noHorizontalOverflow(p);

    await p.goto(`${base}#/device/demo-agx-orin`);
    const jetson = p.locator('[data-panel="jetson"]');
    await jetson.waitFor({ state: 'visible', timeout: left() });
    expect(await p.locator('.device-title-row [data-field="demo"]').isVisible()).toBe(true);
    await expect.poll(() => jetson.locator('tr[data-rail]').count(), { timeout: left() }).toBeGreaterThan(2);
    await expect.poll(() => jetson.locator('tr[data-rail="board"]').textContent(), { timeout: left() }).toMatch(/\d W/);
    await expect.poll(() => jetson.locator('[data-field="power-mode"]').textContent(), { timeout: left() }).toContain('MAXN');
    await expect.poll(() => p.locator('canvas[data-chart="cpu"]').getAttribute('data-points').then(Number), { timeout: left() }).toBeGreaterThan(60);
    await p.screenshot({ path: join(ARTIFACTS, 'demo-jetson.png') });
    await p.screenshot({ path: join(DOCS, `demo-jetson${DOCS === ARTIFACTS ? '-viewport' : ''}.png`) });

    await p.goto(`${base}#/device/demo-pi4`);
    const pi = p.locator('[data-panel="pi"]');
    await pi.waitFor({ state: 'visible', timeout: left() });
    // The demo opens on an under-voltage episode (45 s): red now; amber (since boot) after.
    for (const flag of ['under_voltage', 'throttled']) {
      await expect.poll(() => pi.locator(`[data-flag="${flag}"]`).getAttribute('data-state'), { timeout: left() }).toMatch(/^(now|since-boot)$/);
    }
    await p.screenshot({ path: join(ARTIFACTS, 'demo-pi.png') });
    if (DOCS !== ARTIFACTS) await p.screenshot({ path: join(DOCS, 'demo-pi.png') });

    await p.goto(`${base}#/device/demo-h200`);
    const gpuUtil = p.locator('canvas[data-chart="gpu-util"]');
    await expect.poll(() => gpuUtil.getAttribute('data-points').then(Number), { timeout: left() }).toBeGreaterThan(60);
    // Two GPUs: a utilisation series for each (the legend is drawn on the canvas, so read the API).
    const device = (await (await fetch(`${base}api/v1/devices/demo-h200`)).json()) as { metrics: string[] };
    expect(device.metrics).toEqual(expect.arrayContaining(['gpu.0.util', 'gpu.1.util']));
    await p.screenshot({ path: join(ARTIFACTS, 'demo-h200.png'), fullPage: true });

    await p.goto(`${base}#/storage`);
    await p.locator('[data-page="storage"][data-state="ok"]').waitFor({ timeout: left() });
    await expect.poll(() => p.locator('.storage-device').count(), { timeout: left() }).toBe(5);
    await p.screenshot({ path: join(ARTIFACTS, 'demo-storage.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it('opens the printed compare link on δ, α and energy per inference over 5 + 5 trials', async () => {
    await eventually('the demo saying its history is stored', () => demo!.output().includes('demo: 24 h of history stored'), START_TIMEOUT_MS, 250);
    const p = page!;
    await p.goto(`${base}${compareHash}`);
    await p.locator('[data-page="compare"][data-loading="false"]').waitFor({ timeout: 20_000 });
    const ids = /ids=([^&]+)/.exec(compareHash)![1]!.split(',');
    const int8 = ids[1]!;
    const cell = (row: string, id: string) => p.locator(`tr[data-row="${row}"] td[data-experiment-id="${id}"] .cmp-value`).first().textContent();
    expect(await cell('speedupP50', int8)).toMatch(/^2\.\d\d×$/);
    expect(await cell('compressionBytes', int8)).toMatch(/^3\.\d\d×$/);
    expect(await cell('energyPerInferenceJ', int8)).toMatch(/ mJ$/);
    expect(await cell('speedupP50', ids[0]!)).toBe('baseline');
    expect(await p.textContent('[data-page="compare"]')).toMatch(/5 trials|5 runs|× 5/);
    await p.screenshot({ path: join(ARTIFACTS, 'demo-compare.png'), fullPage: true });
    await p.screenshot({ path: join(DOCS, `demo-compare${DOCS === ARTIFACTS ? '-viewport' : ''}.png`) });
    expect(errors).toEqual([]);
  }, START_TIMEOUT_MS + 30_000);
});
