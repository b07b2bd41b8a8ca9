// The history view and the storage page in Chromium, against a real hub (in this process,
// serving a private copy of the built dist/web) whose store holds ten days of one device's
// samples, sealed into tiers. Raw samples are kept two days here, so older windows can only be
// answered by the 1-minute rollups and a zoom into the last day reads raw samples again.
// Screenshots land in test-artifacts/ (git-ignored).
//
// Needs Chromium: see harness.ts.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { BatchToCommit } from '../../dashboard/store/store.js';
import { DAY_MS, experimentWindow, fromLocalInput, HOUR_MS, MINUTE_MS, toLocalInput, type TimeWindow } from '../../dashboard/web/src/history-range.js';
import { silentLogger } from '../../shared/log.js';
import type { StorageResponse } from '../../shared/live.js';
import type { Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow, privateWebRoot } from './harness.js';

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const DEVICE_ID = 'hist-pi';
const HOSTILE_NAME = 'lab <b>pi</b>';
const SERIES_URL = /\/api\/v1\/devices\/hist-pi\/series\?/;
const INTERVAL_MS = 60_000;
const DAYS = 10;
const RAW_KEPT_MS = 2 * DAY_MS;
const GiB = 1024 ** 3;
/** The experiment: an hour, a day ago. */
const EXP = { id: 'x-warm', name: 'warm-up run' };

describe.skipIf(!HAVE_BROWSER)('history view and storage page in Chromium', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let base = '';
  /** A whole minute, the newest sample's time. */
  let now = 0;
  let expStart = 0;
  let expEnd = 0;
  const pageErrors: string[] = [];

  const newPage = (viewport: { width: number; height: number }) => newWatchedPage(browser!, viewport, { errors: pageErrors }, { httpErrors: true });
  const deviceUrl = (query = '') => `${base}#/device/${DEVICE_ID}${query ? `?${query}` : ''}`;
  const windowQuery = (w: TimeWindow) => `from=${w.from}&to=${w.to}`;

  /** The next series request whose query passes `pred`; set up before the action that sends it. */
  function nextSeries(page: Page, pred: (q: URLSearchParams) => boolean): Promise<URLSearchParams> {
    return page
      .waitForRequest((r) => SERIES_URL.test(r.url()) && pred(new URL(r.url()).searchParams), { timeout: 10_000 })
      .then((r) => new URL(r.url()).searchParams);
  }

  const num = (q: URLSearchParams, k: string) => Number(q.get(k));

  /** from/to/vs of the page's hash (NaN where absent). */
  async function hashView(page: Page): Promise<{ from: number; to: number; vs: number; range: string | null }> {
    const hash = (await page.evaluate('location.hash')) as string;
    const q = new URLSearchParams(hash.split('?')[1] ?? '');
    return { from: Number(q.get('from') ?? NaN), to: Number(q.get('to') ?? NaN), vs: Number(q.get('vs') ?? NaN), range: q.get('range') };
  }

  /** Waits until the CPU chart shows a history load for `range` with points, and returns its canvas. */
  async function cpuLoaded(page: Page, range: string) {
    const canvas = page.locator(`canvas[data-chart="cpu"][data-source="history"][data-range="${range}"]:not([data-loading])`);
    await canvas.waitFor({ state: 'attached' });
    await expect.poll(async () => Number(await canvas.getAttribute('data-points'))).toBeGreaterThan(0);
    return canvas;
  }

  /** A press-drag-release across the CPU chart between two fractions of its width. */
  async function dragAcross(page: Page, f0: number, f1: number, screenshot?: string): Promise<void> {
    const box = (await page.locator('canvas[data-chart="cpu"]').boundingBox())!;
    const y = box.y + box.height * 0.4;
    await page.mouse.move(box.x + box.width * f0, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * f1, y, { steps: 8 });
    await expect.poll(() => page.locator('figure[data-chart="cpu"] .zoom-selection').isVisible()).toBe(true);
    if (screenshot) await page.screenshot({ path: join(ARTIFACTS, screenshot) });
    await page.mouse.up();
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-history-');
    hub = await startHub({
      port: 0,
      host: '127.0.0.1',
      dataDir: join(tmp.dir, 'data'),
      webRoot: await privateWebRoot(tmp.dir),
      log: silentLogger(),
      store: { retention: { rawMs: RAW_KEPT_MS } },
    });
    base = `http://127.0.0.1:${hub.port}/`;
    now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    expStart = now - 26 * HOUR_MS;
    expEnd = now - 25 * HOUR_MS;
    const store = hub.store;
    const dev = store.upsertDevice(
      helloFrame(DEVICE_ID, { device: { id: DEVICE_ID, name: HOSTILE_NAME, hostname: 'pi.local' }, intervalMs: INTERVAL_MS, capabilities: ['cpu', 'memory'] }),
      Date.now(),
    );
    // One sample a minute for ten days: a daily CPU wave at a level that changes from day to
    // day (so yesterday differs from today), with noise, so every bucket has a spread (min < max).
    const samples: Sample[] = [];
    for (let t = now - DAYS * DAY_MS; t <= now; t += INTERVAL_MS) {
      const phase = (2 * Math.PI * (t % DAY_MS)) / DAY_MS;
      const noise = Math.abs(Math.sin(t / INTERVAL_MS) * 43758.5453) % 1;
      const wobble = 10 * (Math.floor(t / DAY_MS) % 3) + 8 * noise;
      const s: Sample = {
        t,
        m: {
          'cpu.util': 30 + 25 * Math.sin(phase) + wobble,
          'load.1': 1 + Math.sin(phase) + wobble / 10,
          'mem.used': (1.2 + 0.4 * Math.sin(phase)) * GiB,
          'mem.total': 4 * GiB,
        },
      };
      if (t === expStart) s.e = [{ id: EXP.id, name: EXP.name, start: expStart }];
      if (t === expEnd) s.e = [{ id: EXP.id, name: EXP.name, start: expStart, end: expEnd }];
      samples.push(s);
    }
    const batches: BatchToCommit[] = [];
    for (let i = 0; i < samples.length; i += 500) batches.push({ deviceNum: dev.num, seq: batches.length + 1, receivedAt: Date.now(), samples: samples.slice(i, i + 500) });
    store.commitBatches(batches);
    store.sealAll();
    // Retention drops raw samples older than two days; bounded passes, as the hub runs them.
    for (let i = 0; i < 200 && store.maintain(Date.now()).more; i++);
    const raw = store.storage().devices.find((d) => d.deviceId === DEVICE_ID)?.tiers.find((t) => t.tier === 'raw');
    expect(raw?.oldest, 'raw samples older than the retention are gone').toBeGreaterThanOrEqual(now - RAW_KEPT_MS - DAY_MS / 2);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('a custom range typed into the inputs goes into the hash and the series requests; a wrong one says why', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(deviceUrl('range=24h'));
      await cpuLoaded(page, '24h');
      const from = toLocalInput(now - 30 * HOUR_MS);
      const to = toLocalInput(now - 27 * HOUR_MS);
      const form = page.locator('form[data-form="custom-range"]');
      await expect.poll(() => form.locator('input[name="from"]').inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
      await form.locator('input[name="from"]').fill(from);
      await form.locator('input[name="to"]').fill(to);
      const want = { from: fromLocalInput(from)!, to: fromLocalInput(to)! };
      const request = nextSeries(page, (q) => num(q, 'from') === want.from && num(q, 'to') === want.to);
      await form.locator('[data-action="apply-range"]').click();
      await request;
      expect(await hashView(page)).toMatchObject({ ...want, range: null });
      await cpuLoaded(page, 'custom');
      expect(await page.locator('[data-range-key][aria-current="true"]').count()).toBe(0);
      expect(await form.locator('input[name="from"]').inputValue()).toBe(from);

      // The end before the start: an inline message, the field marked, the hash unchanged.
      await form.locator('input[name="to"]').fill(toLocalInput(now - 31 * HOUR_MS));
      await form.locator('[data-action="apply-range"]').click();
      const error = page.locator('[data-error="range"]');
      await expect.poll(() => error.isVisible()).toBe(true);
      expect(await error.textContent()).toMatch(/^The end \(.+\) must be after the start \(.+\)\.$/);
      expect(await form.locator('input[name="to"]').getAttribute('aria-invalid')).toBe('true');
      expect(await hashView(page)).toMatchObject(want);
      await page.screenshot({ path: join(ARTIFACTS, 'history-range-error.png') });

      // The presets still work, and the message goes with the view it was about.
      const preset = nextSeries(page, (q) => Math.abs(num(q, 'to') - num(q, 'from') - 6 * HOUR_MS) < 5000);
      await page.locator('[data-range-key="6h"]').click();
      await preset;
      expect((await hashView(page)).range).toBe('6h');
      await cpuLoaded(page, '6h');
      await expect.poll(() => error.isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('a drag on a chart zooms in and refetches (a finer tier), ◀ ▶ pan by half a window, zoom out doubles it', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(deviceUrl('range=24h'));
      const day = await cpuLoaded(page, '24h');
      // A day of one-a-minute samples is more than the points asked for: minute rollups answer.
      expect(await day.getAttribute('data-tier')).toBe('1m');
      expect(await page.locator('.range-status').textContent()).toMatch(/^1-minute rollups \(min–max band\) · \d+ min per point$/);
      const dayFrom = Date.now() - DAY_MS;

      // Drag across a fifth of the plot: a few hours, whose raw samples fit the points asked.
      const zoom = nextSeries(page, (q) => num(q, 'from') > dayFrom + HOUR_MS);
      await dragAcross(page, 0.6, 0.8, 'history-drag.png');
      const q = await zoom;
      const zoomed = { from: num(q, 'from'), to: num(q, 'to') };
      expect(zoomed.to).toBeLessThan(Date.now());
      expect(zoomed.to - zoomed.from).toBeGreaterThan(2 * HOUR_MS);
      expect(zoomed.to - zoomed.from).toBeLessThan(8 * HOUR_MS);
      expect(await hashView(page)).toMatchObject(zoomed);
      const canvas = await cpuLoaded(page, 'custom');
      expect(await canvas.getAttribute('data-tier')).toBe('raw');
      expect(await page.locator('.range-status').textContent()).toBe('Raw samples');
      await page.screenshot({ path: join(ARTIFACTS, 'history-zoomed.png') });

      // ◀ from the keyboard: half a window earlier.
      const half = Math.round((zoomed.to - zoomed.from) / 2);
      const earlier = { from: zoomed.from - half, to: zoomed.to - half };
      const back = nextSeries(page, (p) => num(p, 'from') === earlier.from && num(p, 'to') === earlier.to);
      await page.locator('[data-action="pan-earlier"]').focus();
      await page.keyboard.press('Enter');
      await back;
      expect(await hashView(page)).toMatchObject(earlier);
      await cpuLoaded(page, 'custom');

      // ▶ comes back to where the drag put it.
      const forward = nextSeries(page, (p) => num(p, 'from') === zoomed.from && num(p, 'to') === zoomed.to);
      await page.locator('[data-action="pan-later"]').click();
      await forward;
      expect(await hashView(page)).toMatchObject(zoomed);

      // Zoom out: twice as long, never past now.
      const out = nextSeries(page, (p) => num(p, 'to') - num(p, 'from') === 2 * (zoomed.to - zoomed.from));
      await page.locator('[data-action="zoom-out"]').click();
      const wide = await out;
      expect(num(wide, 'to')).toBeLessThanOrEqual(Date.now() + 1000);
      expect((await hashView(page)).to - (await hashView(page)).from).toBe(2 * (zoomed.to - zoomed.from));
    } finally {
      await context.close();
    }
  }, 60_000);

  it('compares with the same time yesterday and with a chosen start: a second, dashed dataset and a legend', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      const a = { from: now - 3 * HOUR_MS, to: now - HOUR_MS };
      await page.goto(deviceUrl(windowQuery(a)));
      const canvas = await cpuLoaded(page, 'custom');
      expect(await canvas.getAttribute('data-compare')).toBe('0');
      const legend = page.locator('[data-field="compare-legend"]');
      expect(await legend.isVisible()).toBe(false);

      const vs = a.from - DAY_MS;
      const b = nextSeries(page, (q) => num(q, 'from') === vs && num(q, 'to') === vs + (a.to - a.from));
      await page.locator('select[data-field="compare"]').selectOption('day');
      await b;
      expect(await hashView(page)).toMatchObject({ ...a, vs });
      await expect.poll(async () => Number(await canvas.getAttribute('data-compare'))).toBeGreaterThan(0);
      await expect.poll(() => legend.isVisible()).toBe(true);
      expect(await legend.textContent()).toMatch(/A: .+B: .+Stop comparing/);
      await page.screenshot({ path: join(ARTIFACTS, 'history-compare-desktop.png') });

      // A start of one's own.
      const chosen = toLocalInput(now - 50 * HOUR_MS);
      await page.locator('select[data-field="compare"]').selectOption('date');
      const dateForm = page.locator('form[data-form="compare-date"]');
      await expect.poll(() => dateForm.isVisible()).toBe(true);
      await dateForm.locator('input').fill(chosen);
      const c = nextSeries(page, (q) => num(q, 'from') === fromLocalInput(chosen));
      await dateForm.locator('[data-action="apply-compare"]').click();
      await c;
      expect(await hashView(page)).toMatchObject({ ...a, vs: fromLocalInput(chosen) });
      await expect.poll(async () => Number(await canvas.getAttribute('data-compare'))).toBeGreaterThan(0);

      // Stop: the hash loses vs, the chart its second range.
      await page.locator('[data-action="stop-compare"]').click();
      await expect.poll(async () => Number.isNaN((await hashView(page)).vs)).toBe(true);
      await expect.poll(() => canvas.getAttribute('data-compare')).toBe('0');
      expect(await legend.isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shades the experiment in a custom range; its button and a click on its band zoom to it', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      const target = experimentWindow(expStart, expEnd, Date.now());
      await page.goto(deviceUrl(windowQuery({ from: now - 30 * HOUR_MS, to: now - 20 * HOUR_MS })));
      const canvas = await cpuLoaded(page, 'custom');
      await expect.poll(() => canvas.getAttribute('data-experiments')).toBe(EXP.id);
      const chip = page.locator(`[data-field="experiment-list"] [data-experiment-id="${EXP.id}"]`);
      expect(await chip.textContent()).toBe(EXP.name);
      await chip.click();
      await expect.poll(() => hashView(page)).toMatchObject(target);

      // Around the experiment with ten minutes either side: the band fills the middle of the plot.
      await page.goto(deviceUrl(windowQuery({ from: expStart - 10 * MINUTE_MS, to: expEnd + 10 * MINUTE_MS })));
      await expect.poll(() => page.locator('canvas[data-chart="cpu"]').getAttribute('data-experiments')).toBe(EXP.id);
      await cpuLoaded(page, 'custom');
      await page.locator('canvas[data-chart="cpu"]').click({ position: { x: (await page.locator('canvas[data-chart="cpu"]').boundingBox())!.width / 2, y: 80 } });
      await expect.poll(() => hashView(page)).toMatchObject(target);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('offers CSV, JSON and NDJSON downloads of the range and metrics shown', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      const w = { from: now - 2 * HOUR_MS, to: now - HOUR_MS };
      await page.goto(deviceUrl(windowQuery(w)));
      const canvas = await cpuLoaded(page, 'custom');
      await page.locator('[data-menu="export"] summary').click();
      for (const format of ['csv', 'json', 'ndjson']) {
        const link = page.locator(`[data-menu="export"] a[data-export="${format}"]`);
        await expect.poll(() => link.isVisible()).toBe(true);
        const url = new URL((await link.getAttribute('href'))!, base);
        expect(url.pathname).toBe(`/api/v1/devices/${DEVICE_ID}/export`);
        expect(url.searchParams.get('format')).toBe(format);
        expect([num(url.searchParams, 'from'), num(url.searchParams, 'to')]).toEqual([w.from, w.to]);
        expect(url.searchParams.get('metrics')?.split(',')).toEqual(expect.arrayContaining(['cpu.util', 'mem.used', 'load.1']));
        expect(url.searchParams.get('tier')).toBe(await canvas.getAttribute('data-tier'));
        expect(await link.getAttribute('download')).toMatch(new RegExp(`^edgewatch-${DEVICE_ID}-\\d{8}-\\d{4}-\\d{8}-\\d{4}\\.${format}$`));
      }
      await page.screenshot({ path: join(ARTIFACTS, 'history-export-menu.png') });
      // The link answers a download (the export API is another part's: a 200 is all asked here).
      const href = await page.locator('[data-menu="export"] a[data-export="csv"]').getAttribute('href');
      const status = await page.evaluate(`fetch(${JSON.stringify(href)}).then((r) => r.status)`);
      expect(status).toBe(200);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('[data-menu="export"] a[data-export="csv"]').isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('fits a 390 px phone: history controls and a comparison without horizontal overflow', async () => {
    const { context, page } = await newPage(PHONE);
    try {
      const a = { from: now - 3 * HOUR_MS, to: now - HOUR_MS };
      await page.goto(deviceUrl(`${windowQuery(a)}&vs=${a.from - DAY_MS}`));
      const canvas = await cpuLoaded(page, 'custom');
      await expect.poll(async () => Number(await canvas.getAttribute('data-compare'))).toBeGreaterThan(0);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'history-compare-phone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('storage page: database facts and the device’s bytes per tier, its name as text', async () => {
    const api = (await (await fetch(`${base}api/v1/storage`)).json()) as StorageResponse;
    const dev = api.devices.find((d) => d.deviceId === DEVICE_ID)!;
    for (const viewport of [DESKTOP, PHONE]) {
      const { context, page } = await newPage(viewport);
      try {
        await page.goto(base);
        await page.locator('.topnav a[data-nav="storage"]').click();
        await page.locator('[data-page="storage"][data-state="ok"]').waitFor();
        expect(await page.locator('.topnav a[data-nav="storage"]').getAttribute('aria-current')).toBe('page');
        const section = page.locator(`.storage-device[data-device-id="${DEVICE_ID}"]`);
        await section.waitFor();
        // The name is text: no <b> element was made from it.
        expect(await section.locator('h2').textContent()).toBe(HOSTILE_NAME);
        expect(await section.locator('h2 b').count()).toBe(0);
        for (const tier of ['raw', '1m', '1h'] as const) {
          const row = section.locator(`tr[data-tier="${tier}"]`);
          const usage = dev.tiers.find((t) => t.tier === tier)!;
          expect(usage.values, `${tier} holds values`).toBeGreaterThan(0);
          expect(await row.locator('[data-col="values"]').textContent()).toBe(new Intl.NumberFormat('en-US').format(usage.values));
          expect(await row.locator('[data-col="bytes"]').textContent()).toMatch(/^\d+(\.\d+)? (B|KiB|MiB)$/);
          // A local date and time, e.g. "Nov 18, 06:00 AM": the day of the month and hh:mm.
          const oldest = (await row.locator('[data-col="oldest"]').textContent()) ?? '';
          expect(oldest).toMatch(new RegExp(`\\b${new Date(usage.oldest!).getDate()}\\b.*\\d\\d:\\d\\d`));
        }
        expect(await page.locator('[data-fact="retention-raw"] dd').textContent()).toBe('2 days');
        expect(await page.locator('[data-fact="retention-1m"] dd').textContent()).toBe('90 days');
        await noHorizontalOverflow(page);
        await page.screenshot({ path: join(ARTIFACTS, `storage-${viewport === PHONE ? 'phone' : 'desktop'}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
  }, 60_000);

  it('ran without page errors, failed requests or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});
