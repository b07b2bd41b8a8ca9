// The compare page's latency distribution and run timelines in Chromium, end to end: a real
// hub (in this process, serving a private copy of the built dist/web), two devices fed through
// raw agent sockets with per-second inference aggregates, experiment events and (on the Orin) a
// board power sensor. An fp32 run with a warm-up and a latency step half-way, two trials of an
// int8 version, and on a Pi without a power sensor a run with a hostile name. Checked: a CDF per
// run (or per name, merged) coloured as the table colours its experiment, a timeline card per
// run with its points and power, the charts beside the table at 1280 px where it leaves room and
// fitting a 390 px phone, the names as text. Screenshots: test-artifacts/compare-distribution-*.png.
//
// Needs Chromium: see harness.ts.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ExperimentTimeline } from '../../shared/live.js';
import { PROTOCOL_VERSION, type ExperimentEvent, type InferenceAggregate, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow, startUiHub } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const HOSTILE = '<img src=x onerror=window.__xss=1>';

interface Run {
  id: string;
  name: string;
  device: 'orin' | 'pi';
  /** Seconds after T of the start and the end. */
  from: number;
  to: number;
  /** Seconds of warm-up at the start (timings sent as warm-up). */
  warmS: number;
  /** The calls of second s of the run. */
  latencies: (s: number) => number[];
  powerW: number;
}

const RUNS: Run[] = [
  // 20 calls a second near 16 ms, every tenth at 30; 3 ms slower from 30 s on.
  { id: 'x-fp32', name: 'resnet50-fp32', device: 'orin', from: 10, to: 70, warmS: 5, latencies: (s) => Array.from({ length: 20 }, (_, j) => (j % 10 === 9 ? 30 : 15 + j * 0.1) + (s >= 30 ? 3 : 0)), powerW: 12 },
  { id: 'x-int8-a', name: 'resnet50-int8', device: 'orin', from: 80, to: 140, warmS: 0, latencies: () => Array.from({ length: 40 }, (_, j) => (j % 20 === 19 ? 14 : 7.6 + j * 0.02)), powerW: 9 },
  { id: 'x-int8-b', name: 'resnet50-int8', device: 'orin', from: 150, to: 210, warmS: 0, latencies: (s) => Array.from({ length: 38 + (s % 3) }, (_, j) => (j % 20 === 19 ? 15 : 8.1 + j * 0.02)), powerW: 9.4 },
  { id: 'x-pi', name: HOSTILE, device: 'pi', from: 10, to: 40, warmS: 0, latencies: () => [38, 40, 41, 44, 61], powerW: 0 },
];
const ALL = RUNS.map((r) => r.id);
const measuredSeconds = (r: Run) => r.to - r.from - r.warmS;

function agg(run: Run, t: number, values: number[], warmup: boolean): InferenceAggregate {
  const h = new LogHistogram();
  for (const v of values) h.add(v);
  const s = h.summary();
  return { model: run.name.startsWith('<') ? 'pi-model' : run.name, experiment: run.id, t, count: s.count, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max, items: s.count, buckets: s.buckets, ...(warmup ? { warmup: true as const } : {}) };
}

/** Pixels of the canvas within a small distance of `rgb` (a #rrggbb): a curve of that colour was drawn. */
async function pixelsOf(page: Page, selector: string, rgb: string): Promise<number> {
  return (await page.evaluate(`(() => {
    const c = document.querySelector(${JSON.stringify(selector)});
    if (!c) return -1;
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    const n = parseInt(${JSON.stringify(rgb.slice(1))}, 16);
    const r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    let hits = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) hits++;
    return hits;
  })()`)) as number;
}

/** The computed background of the first element matching `selector`, as #rrggbb. */
async function colourOf(page: Page, selector: string): Promise<string> {
  return hexOf((await page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).backgroundColor`)) as string);
}

/** "rgb(78, 121, 167)" → "#4e79a7". */
function hexOf(css: string): string {
  const m = /rgba?\((\d+), (\d+), (\d+)/.exec(css);
  if (!m) return css;
  return `#${[m[1], m[2], m[3]].map((v) => Number(v).toString(16).padStart(2, '0')).join('')}`;
}

describe.skipIf(!HAVE_BROWSER)('compare page: latency distribution and timelines in Chromium', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let baseUrl = '';
  const peers: TestPeer[] = [];
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  async function open(viewport: { width: number; height: number }, ids: string[], baseline = ids[0]!) {
    const opened = await newWatchedPage(browser!, viewport, { errors: pageErrors, dialogs }, { httpErrors: true });
    const timelineRequests: string[] = [];
    opened.page.on('request', (r) => {
      if (/\/api\/v1\/experiments\/[^/]+\/timeline/.test(r.url())) timelineRequests.push(r.url());
    });
    await opened.page.goto(`${baseUrl}#/compare?ids=${ids.join(',')}&baseline=${baseline}`);
    await opened.page.locator('[data-page="compare"][data-loading="false"]').waitFor();
    await opened.page.locator('[data-panel="distribution"]:not([data-state="loading"])').waitFor();
    await opened.page.locator('[data-panel="timelines"]:not([data-state="loading"])').waitFor();
    return { ...opened, timelineRequests };
  }

  async function send(peer: TestPeer, samples: Sample[]): Promise<void> {
    for (let seq = 1; samples.length > 0; seq++) {
      peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: samples.splice(0, 200) });
      await peer.waitFor((f) => f.type === 'ack' && f.seq === seq);
    }
    expect(peer.received.filter((f) => f.type === 'error')).toEqual([]);
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-compare-distribution-');
    hub = await startUiHub(tmp.dir);
    baseUrl = `http://127.0.0.1:${hub.port}/`;
    const T = Math.floor(Date.now() / 1000) * 1000 - 300_000;
    for (const device of ['orin', 'pi'] as const) {
      const peer = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
      peers.push(peer);
      const id = device === 'orin' ? 'orin-cdf' : 'pi-cdf';
      peer.send(helloFrame(id, { device: { id, name: id, hostname: `${id}.local` }, capabilities: device === 'orin' ? ['cpu', 'power', 'inference'] : ['cpu', 'inference'] }));
      await peer.waitFor((f) => f.type === 'welcome');
      const samples: Sample[] = [];
      for (let k = 0; k <= 220; k++) {
        const t = T + k * 1000;
        const run = RUNS.find((r) => r.device === device && k >= r.from && k <= r.to);
        const s: Sample = { t, m: { 'cpu.util': run ? 70 : 5, ...(device === 'orin' ? { 'power.board': run ? run.powerW + (k % 4) * 0.2 : 5 } : {}) } };
        const events: ExperimentEvent[] = [];
        for (const r of RUNS.filter((x) => x.device === device)) {
          const start = T + r.from * 1000;
          const warm = r.warmS > 0 ? { warmup: { ms: r.warmS * 1000 } } : {};
          if (k === r.from) events.push({ id: r.id, name: r.name, start, ...warm });
          if (k === r.to) events.push({ id: r.id, name: r.name, start, end: t, ...warm, ...(r.warmS > 0 ? { measuredFrom: start + r.warmS * 1000 } : {}) });
          // The second that just ended belongs to the run.
          const sec = k - 1 - r.from;
          if (sec >= 0 && k <= r.to) (s.i ??= []).push(agg(r, t - 1000, sec < r.warmS ? [90, 95, 99] : r.latencies(sec), sec < r.warmS));
        }
        if (events.length) s.e = events;
        samples.push(s);
      }
      await send(peer, samples);
    }
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    for (const p of peers) p.close();
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('two runs at 1280×800: the distribution and the timelines fill the room beside the table', async () => {
    const { context, page } = await open(DESKTOP, ['x-fp32', 'x-int8-a']);
    try {
      const table = (await page.locator('[data-panel="table"]').boundingBox())!;
      const dist = (await page.locator('[data-panel="distribution"]').boundingBox())!;
      const tl = (await page.locator('[data-panel="timelines"]').boundingBox())!;
      // Beside the table, top-aligned, out to the page's right edge.
      expect(dist.x).toBeGreaterThan(table.x + table.width);
      expect(Math.abs(dist.y - table.y)).toBeLessThan(2);
      expect(tl.y).toBeGreaterThan(dist.y + dist.height);
      expect(dist.width).toBeGreaterThanOrEqual(380);
      expect(dist.x + dist.width).toBeGreaterThan(DESKTOP.width - 40);
      // The table did not have to scroll for it.
      expect(await page.locator('[data-panel="table"] .scroll-box').getAttribute('data-overflow')).toBe('false');

      const cdf = page.locator('canvas[data-chart="cdf"]');
      expect(await cdf.getAttribute('data-lines')).toBe('2');
      expect(await cdf.getAttribute('data-ids')).toBe('x-fp32 x-int8-a');
      // No repeats here: nothing to merge, no control.
      expect(await page.locator('select[data-control="cdf-mode"]').count()).toBe(0);
      const cards = page.locator('.tl-card');
      expect(await cards.count()).toBe(2);
      expect(await page.locator('.tl-card[data-experiment-id="x-fp32"] canvas[data-chart="timeline"]').getAttribute('data-points')).toBe(String(measuredSeconds(RUNS[0]!)));
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(ARTIFACTS, 'compare-distribution-desktop.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'compare-distribution-desktop-full.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('four runs: a CDF each, coloured as the table colours them, trials mergeable, a timeline card each with its power', async () => {
    const { context, page, timelineRequests } = await open(DESKTOP, ALL);
    try {
      const timelines = await Promise.all(ALL.map(async (id) => (await (await fetch(`${baseUrl}api/v1/experiments/${id}/timeline`)).json()) as ExperimentTimeline));
      const cdf = page.locator('canvas[data-chart="cdf"]');
      expect(await cdf.getAttribute('data-lines')).toBe('4');
      expect(await cdf.getAttribute('data-mode')).toBe('runs');
      expect((await cdf.getAttribute('data-ids'))!.split(' ').sort()).toEqual([...ALL].sort());
      expect(await page.locator('[data-panel="distribution"]').getAttribute('data-state')).toBe('ok');

      // Each name's colour: the table header's dot, the key's dot and the card's dot agree, and the curve is drawn in it.
      for (const r of RUNS) {
        const tableDot = await colourOf(page, `th[data-experiment-id="${r.id}"] .exp-dot`);
        expect(await colourOf(page, `.tl-card[data-experiment-id="${r.id}"] .exp-dot`), r.id).toBe(tableDot);
        const keys = (await page.evaluate(`[...document.querySelectorAll('.cdf-keys li')].map((li) => [li.dataset.name, getComputedStyle(li.querySelector('.exp-dot')).backgroundColor])`)) as [string, string][];
        expect(hexOf(keys.find(([name]) => name === r.name)![1]), `${r.id}'s key`).toBe(tableDot);
        expect(await pixelsOf(page, 'canvas[data-chart="cdf"]', tableDot), `${r.id}'s curve in ${tableDot}`).toBeGreaterThan(40);
      }
      // The keys: one per name, the int8 trials together with the range of their p50s.
      const keys = page.locator('.cdf-keys li');
      expect(await keys.count()).toBe(3);
      const int8Key = (await keys.filter({ hasText: 'resnet50-int8' }).locator('.cdf-key-figures').textContent()) ?? '';
      const p50 = (id: string) => timelines[ALL.indexOf(id)]!.distribution.cdf;
      expect(int8Key).toMatch(/^2 runs · p50 \d+\.\d ms–\d+\.\d ms · p99 /);
      expect(p50('x-int8-a').length).toBeGreaterThan(2);

      // Merged per name: one curve per name.
      await page.locator('select[data-control="cdf-mode"]').selectOption('names');
      await expect.poll(() => cdf.getAttribute('data-mode')).toBe('names');
      expect(await cdf.getAttribute('data-lines')).toBe('3');
      expect(await keys.filter({ hasText: 'resnet50-int8' }).locator('.cdf-key-figures').textContent()).toMatch(/^2 runs merged · p50 \d+\.\d ms · p99 /);
      await page.locator('[data-panel="distribution"]').screenshot({ path: join(ARTIFACTS, 'compare-distribution-cdf-merged.png') });
      await page.locator('select[data-control="cdf-mode"]').selectOption('runs');
      await expect.poll(() => cdf.getAttribute('data-lines')).toBe('4');
      await page.locator('[data-panel="distribution"]').screenshot({ path: join(ARTIFACTS, 'compare-distribution-cdf.png') });

      // A card per run: its measured seconds, power from the Orin's board sensor, none on the Pi.
      for (const r of RUNS) {
        const card = page.locator(`.tl-card[data-experiment-id="${r.id}"]`);
        expect(await card.locator('canvas[data-chart="timeline"]').getAttribute('data-points'), r.id).toBe(String(measuredSeconds(r)));
        expect(await card.locator('canvas[data-chart="timeline-rate"]').getAttribute('data-points'), r.id).toBe(String(measuredSeconds(r)));
        if (r.device === 'orin') {
          expect(await card.getAttribute('data-power')).toBe('board');
          expect(Number(await card.locator('canvas[data-chart="timeline-power"]').getAttribute('data-points'))).toBe(r.to - r.from + 1);
          expect(await pixelsOf(page, `.tl-card[data-experiment-id="${r.id}"] canvas[data-chart="timeline-power"]`, await colourOf(page, `.tl-card[data-experiment-id="${r.id}"] .exp-dot`))).toBeGreaterThan(40);
        } else {
          expect(await card.getAttribute('data-power')).toBe('none');
          expect(await card.locator('canvas[data-chart="timeline-power"]').count()).toBe(0);
          expect(await card.locator('.tl-nopower').textContent()).toBe('No power sensor on pi-cdf.');
        }
        const colour = await colourOf(page, `.tl-card[data-experiment-id="${r.id}"] .exp-dot`);
        expect(await pixelsOf(page, `.tl-card[data-experiment-id="${r.id}"] canvas[data-chart="timeline"]`, colour), `${r.id}'s p50 line`).toBeGreaterThan(40);
      }
      // The hostile name stayed text.
      expect(await page.locator('.tl-card[data-experiment-id="x-pi"] .cmp-name').textContent()).toBe(HOSTILE);
      expect(await page.locator('.cdf-keys .cmp-name', { hasText: 'onerror' }).textContent()).toBe(HOSTILE);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
      expect(timelineRequests).toHaveLength(4);

      await page.waitForTimeout(200);
      await page.locator('[data-panel="timelines"]').screenshot({ path: join(ARTIFACTS, 'compare-distribution-timelines.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'compare-distribution-desktop-4-full.png'), fullPage: true });

      // Another baseline renders the page again: the finished runs' timelines are not fetched again.
      await page.locator('input[data-baseline="x-int8-a"]').check();
      await expect.poll(() => page.locator('[data-page="compare"]').getAttribute('data-baseline')).toBe('x-int8-a');
      await page.locator('[data-panel="distribution"][data-state="ok"]').waitFor();
      await expect.poll(() => cdf.getAttribute('data-lines')).toBe('4');
      expect(timelineRequests).toHaveLength(4);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('fits a 390 px phone: the charts below the table, full width, nothing sticking out', async () => {
    const { context, page } = await open(PHONE, ALL);
    try {
      await page.waitForTimeout(300);
      await noHorizontalOverflow(page);
      const table = (await page.locator('[data-panel="table"]').boundingBox())!;
      const dist = (await page.locator('[data-panel="distribution"]').boundingBox())!;
      expect(dist.y).toBeGreaterThan(table.y + table.height);
      for (const sel of ['[data-panel="distribution"]', '[data-panel="timelines"]', '.tl-card[data-experiment-id="x-pi"]', 'canvas[data-chart="cdf"]']) {
        const b = (await page.locator(sel).first().boundingBox())!;
        expect(b.x, sel).toBeGreaterThanOrEqual(0);
        expect(b.x + b.width, sel).toBeLessThanOrEqual(PHONE.width);
      }
      expect((await page.locator('canvas[data-chart="cdf"]').boundingBox())!.height).toBeGreaterThan(200);
      await page.locator('[data-panel="distribution"]').screenshot({ path: join(ARTIFACTS, 'compare-distribution-phone-cdf.png') });
      await page.locator('.tl-card[data-experiment-id="x-fp32"]').screenshot({ path: join(ARTIFACTS, 'compare-distribution-phone-card.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'compare-distribution-phone-full.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ran without page errors, failed requests, CSP violations or dialogs', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
