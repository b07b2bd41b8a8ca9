// The storage page in Chromium, against a real hub (in this process, serving a private copy
// of the built dist/web) whose own maintenance loop is held off after its first pass, so the
// test decides when windows are sealed: first a new device's eleven minutes, all unsealed (the
// high bytes-per-value a new user sees, and the page saying why), then an older hour of a
// second device sealed beside it. At 390 px the device tables scroll sideways with a cue, and
// the Newest column can be scrolled to. Screenshots: test-artifacts/storage-page-*.png.
//
// Needs Chromium: see harness.ts.
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { StorageResponse } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import type { Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow, privateWebRoot } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const NEW_ID = 'new-orin';
const OLD_ID = 'old-pi';
const METRICS = 19;
const COUNT = new Intl.NumberFormat('en-US');

function metrics(i: number): Record<string, number> {
  const m: Record<string, number> = {};
  for (let c = 0; c < 16; c++) m[`cpu.core.${c}.util`] = Math.round((30 + 25 * Math.sin((i + c * 50) / 40) + ((i * (c + 3)) % 17)) * 100) / 100;
  m['mem.total'] = 8e9;
  m['mem.used'] = 2e9 + Math.floor(i / 10) * 4096;
  m['temp.cpu'] = Math.round((45 + Math.sin(i / 300) * 5) * 1000) / 1000;
  return m;
}

describe.skipIf(!HAVE_BROWSER)('storage page in Chromium: sealed and unsealed values', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let base = '';
  let seq = 0;
  const pageErrors: string[] = [];

  const newPage = (viewport: { width: number; height: number }) => newWatchedPage(browser!, viewport, { errors: pageErrors }, { httpErrors: true });
  const storage = async () => (await (await fetch(`${base}api/v1/storage`)).json()) as StorageResponse;

  /** Commits `seconds` samples at 1 Hz from `from` for a device, as batches of a minute. */
  function ingest(deviceId: string, from: number, seconds: number): void {
    const store = hub!.store;
    const dev = store.getDevice(deviceId) ?? store.upsertDevice(helloFrame(deviceId, { device: { id: deviceId, name: deviceId, hostname: `${deviceId}.local` }, intervalMs: 1000 }), Date.now());
    for (let i = 0; i < seconds; i += 60) {
      const samples: Sample[] = [];
      for (let j = i; j < Math.min(seconds, i + 60); j++) samples.push({ t: from + j * 1000, m: metrics(j) });
      store.commitBatches([{ deviceNum: dev.num, seq: ++seq, receivedAt: Date.now(), samples }]);
    }
  }

  async function openStorage(viewport: { width: number; height: number }): Promise<{ page: Page; close: () => Promise<void> }> {
    const { context, page } = await newPage(viewport);
    await page.goto(`${base}#/storage`);
    await page.locator('[data-page="storage"][data-state="ok"]').waitFor();
    return { page, close: () => context.close() };
  }

  /** The Newest header: scrolled into its box if the table is wider, then inside the viewport. */
  async function newestReachable(page: Page, deviceId: string, viewport: { width: number }, shot: string): Promise<void> {
    const section = page.locator(`.storage-device[data-device-id="${deviceId}"]`);
    const box = section.locator('.scroll-box');
    const th = section.locator('th[data-col="newest"]');
    expect(await th.isVisible(), 'the Newest column is shown').toBe(true);
    if ((await box.getAttribute('data-overflow')) === 'true') {
      // Wider than the phone: the cue says so, and scrolling brings the column in.
      expect(await box.locator('.scroll-hint').isVisible()).toBe(true);
      expect(await box.getAttribute('data-at')).toBe('start');
      await section.screenshot({ path: join(ARTIFACTS, shot) });
      await box.locator('.table-wrap').evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
      await expect.poll(() => box.getAttribute('data-at')).toBe('end');
    }
    const r = (await th.boundingBox())!;
    expect(r.x).toBeGreaterThanOrEqual(0);
    expect(r.x + r.width, 'the Newest header is not cut off').toBeLessThanOrEqual(viewport.width);
    const cell = section.locator('tr[data-tier="raw"] td[data-col="newest"]');
    const c = (await cell.boundingBox())!;
    expect(c.x + c.width).toBeLessThanOrEqual(viewport.width);
    expect(await cell.textContent()).toMatch(/\d\d:\d\d/);
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-storage-page-');
    // Maintenance every hour: after its first pass (a second after the start) nothing seals on its own.
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), webRoot: await privateWebRoot(tmp.dir), log: silentLogger(), maintenanceMs: 3_600_000 });
    base = `http://127.0.0.1:${hub.port}/`;
    // storage(0): asked as of the epoch, so the table sizes it caches (for 10 s) are not reused by the next real request.
    await eventually('the first maintenance pass', () => hub!.store.storage(0).lastRetentionAt !== null, 10_000, 100);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('a new device’s first eleven minutes: all unsealed, and the page says values shrink once a window is sealed', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    ingest(NEW_ID, now - 11 * 60_000, 11 * 60);
    const api = await storage();
    expect(api.rawSealed).toMatchObject({ values: 0, bytesPerValue: null });
    expect(api.rawUnsealed!.values).toBe(11 * 60 * METRICS);
    expect(api.rawBytesPerValue!).toBeGreaterThan(4);
    for (const viewport of [DESKTOP, PHONE]) {
      const { page, close } = await openStorage(viewport);
      try {
        const note = page.locator('[data-note="sealing"]');
        expect(await note.getAttribute('data-state')).toBe('unsealed-only');
        const text = (await note.textContent()) ?? '';
        expect(text).toContain('Raw values shrink once their 15-minute window is sealed');
        expect(text).toContain('No window has been sealed yet');
        expect(await page.locator('[data-fact="sealed"] dd').textContent()).toBe('— (none yet: no 15-minute window has been sealed)');
        expect(await page.locator('[data-fact="unsealed"] dd').textContent()).toMatch(new RegExp(`^\\d+\\.\\d bytes a value · ${COUNT.format(11 * 60 * METRICS)} values · `));
        const section = page.locator(`.storage-device[data-device-id="${NEW_ID}"]`);
        expect(await section.locator('tr[data-tier="raw-unsealed"] [data-col="values"]').textContent()).toBe(COUNT.format(11 * 60 * METRICS));
        expect(await section.locator('tr[data-tier="raw-sealed"] [data-col="values"]').textContent()).toBe('0');
        expect(await section.locator('tr[data-tier="raw-unsealed"] [data-col="note"]').textContent()).toMatch(/B a value · window ends /);
        await newestReachable(page, NEW_ID, viewport, 'storage-page-unsealed-cue.png');
        await noHorizontalOverflow(page);
        await page.screenshot({ path: join(ARTIFACTS, `storage-page-unsealed-${viewport === PHONE ? 'phone' : 'desktop'}.png`), fullPage: true });
      } finally {
        await close();
      }
    }
  }, 60_000);

  it('an older hour sealed beside it: sealed and unsealed apart, the sealed cost a fraction', async () => {
    const hourAgo = Math.floor((Date.now() - 3 * 3_600_000) / 900_000) * 900_000;
    ingest(OLD_ID, hourAgo, 3600);
    // The hub's clock is long past the old windows' ends: maintenance seals them (and nothing of the new device's last window).
    const before = await storage();
    for (let i = 0; i < 50 && hub!.store.maintain(Date.now(), 1000).more; i++);
    // The hub caches table sizes for 10 s: wait until they include the sealed hour.
    const api = await eventually('table sizes with the sealed hour', async () => {
      const s = await storage();
      return s.rawSealed!.bytes > before.rawSealed!.bytes && s;
    }, 20_000, 500);
    expect(api.rawSealed!.values).toBeGreaterThanOrEqual(3600 * METRICS);
    expect(api.rawUnsealed!.values).toBeGreaterThan(0);
    expect(api.rawSealed!.bytesPerValue!).toBeLessThan(api.rawUnsealed!.bytesPerValue! / 3);
    const old = api.devices.find((d) => d.deviceId === OLD_ID)!.tiers.find((t) => t.tier === 'raw')!;
    expect(old.sealed!.values).toBe(3600 * METRICS);
    expect(old.unsealed!.values).toBe(0);
    for (const viewport of [DESKTOP, PHONE]) {
      const { page, close } = await openStorage(viewport);
      try {
        expect(await page.locator('[data-note="sealing"]').getAttribute('data-state')).toBe('sealed');
        const sealed = (await page.locator('[data-fact="sealed"] dd').textContent()) ?? '';
        expect(sealed).toBe(`${api.rawSealed!.bytesPerValue!.toFixed(1)} bytes a value · ${COUNT.format(api.rawSealed!.values)} values · ${sealed.split(' · ')[2]}`);
        const section = page.locator(`.storage-device[data-device-id="${OLD_ID}"]`);
        expect(await section.locator('tr[data-tier="raw-sealed"] [data-col="values"]').textContent()).toBe(COUNT.format(3600 * METRICS));
        expect(await section.locator('tr[data-tier="raw-unsealed"] [data-col="values"]').textContent()).toBe('0');
        expect(await section.locator('tr[data-tier="raw"] [data-col="values"]').textContent()).toBe(COUNT.format(old.values));
        await newestReachable(page, OLD_ID, viewport, 'storage-page-sealed-cue.png');
        await noHorizontalOverflow(page);
        await page.screenshot({ path: join(ARTIFACTS, `storage-page-sealed-${viewport === PHONE ? 'phone' : 'desktop'}.png`), fullPage: true });
      } finally {
        await close();
      }
    }
  }, 60_000);

  it('ran without page errors, failed requests or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe.skipIf(!HAVE_BROWSER)('storage page in Chromium: remote-write destinations', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    tmp = tempDir('edgewatch-storage-rw-');
    // A receiver that is not there: the queue grows and the last error says why.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    hub = await startHub({
      port: 0,
      host: '127.0.0.1',
      dataDir: join(tmp.dir, 'data'),
      webRoot: await privateWebRoot(tmp.dir),
      log: silentLogger(),
      remoteWrite: [{ url: `http://127.0.0.1:${closed}/api/v1/write`, name: 'vm-site-a', minBackoffMs: 50, maxBackoffMs: 200, batchWaitMs: 20 }],
    });
    const dev = hub.store.upsertDevice(helloFrame('rw-box'), Date.now());
    const t0 = Date.now() - 60_000;
    hub.store.commitBatches([{ deviceNum: dev.num, seq: 1, receivedAt: Date.now(), samples: Array.from({ length: 30 }, (_, j) => ({ t: t0 + j * 1000, m: metrics(j) })) }]);
    await eventually('a failed send', () => (hub!.remoteWrite.status()[0]?.retries ?? 0) > 0, 10_000, 50);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    it(`shows each destination's sent, pending, failed, lag and last error (${label})`, async () => {
      const { context, page } = await newWatchedPage(browser!, viewport, { errors: pageErrors }, { httpErrors: true });
      try {
        await page.goto(`http://127.0.0.1:${hub!.port}/#/storage`);
        const row = page.locator('[data-panel="remote-write"] tr[data-destination="vm-site-a"]');
        await row.waitFor();
        const pending = hub!.remoteWrite.status()[0]!.pending;
        expect(pending).toBe(30 * METRICS);
        expect(await row.locator('[data-col="sent"]').textContent()).toBe('0');
        expect(await row.locator('[data-col="pending"]').textContent()).toBe(COUNT.format(pending));
        expect(await row.locator('[data-col="lag"]').textContent()).toMatch(/^\d+ (s|min) behind$/);
        expect(await row.locator('[data-col="error"]').textContent()).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write/);
        await noHorizontalOverflow(page);
        await page.locator('[data-panel="remote-write"]').screenshot({ path: join(ARTIFACTS, `storage-page-remote-write-${label}.png`) });
      } finally {
        await context.close();
      }
    }, 60_000);
  }

  it('ran without page errors or failed requests', () => {
    expect(pageErrors).toEqual([]);
  });
});
