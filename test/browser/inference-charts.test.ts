// The inference charts with awkward data, in Chromium against a real hub (in this process,
// serving a private copy of the built dist/web) fed through a raw agent socket: one burst of
// 17,000 calls/s among 36–240/s, a lone sample half an hour before the rest, and a model whose
// name (`py-sdk-demo`) is not its metric segment (`py_sdk_demo`). Plus the pure maths behind the
// axis cut and the lone-point dots, and the hub's segment → model-name mapping.
// Screenshots land in test-artifacts/ (git-ignored).
//
// Needs Chromium for the browser part: see harness.ts.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelSegments } from '../../dashboard/server/api.js';
import type { Hub } from '../../dashboard/server/hub.js';
import { Store } from '../../dashboard/store/store.js';
import { isolatedIndexes, markerClusters, robustAxisMax } from '../../dashboard/web/src/chart-plan.js';
import { LogHistogram } from '../../shared/histogram.js';
import { PROTOCOL_VERSION, type InferenceAggregate, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, startUiHub } from './harness.js';

const DESKTOP = { width: 1280, height: 900 };
const DEVICE_ID = 'burst-pi';
const MODEL = 'py-sdk-demo';
const SEG = 'py_sdk_demo';
const BURST = 17_000;
const MINUTE = 60_000;
/** A device with two CPU samples five minutes apart: two lone points on its fleet sparkline. */
const LONE_ID = 'lone-pi';

describe('robustAxisMax: where to cut a y axis so a few outliers do not flatten the rest', () => {
  const normal = Array.from({ length: 300 }, (_, k) => 36 + ((k * 53) % 205));

  it('cuts one burst among ordinary values at a round number above them', () => {
    const cut = robustAxisMax([...normal.slice(0, 150), BURST, ...normal.slice(150)]);
    expect(cut).not.toBeNull();
    expect(cut!).toBeGreaterThanOrEqual(240);
    expect(cut!).toBeLessThan(1000);
    // A round number: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power of ten.
    expect(cut! / 10 ** Math.floor(Math.log10(cut!))).toBeOneOf([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8]);
  });

  it('leaves the axis alone when nothing stands out, when there are too few points, or when the base is zero', () => {
    expect(robustAxisMax(normal)).toBeNull();
    expect(robustAxisMax([100, 120, BURST])).toBeNull();
    expect(robustAxisMax([...Array(100).fill(0), 5])).toBeNull();
    expect(robustAxisMax([])).toBeNull();
    // Not outliers but a level: the top 10 % of a window at ten times the rest.
    expect(robustAxisMax([...Array(90).fill(100), ...Array(10).fill(1000)])).toBeNull();
  });

  it('ignores what is not a finite number and cuts a few spikes as well as one', () => {
    const spikes = [...normal, 9000, 12_000, NaN, Infinity, 15_000];
    const cut = robustAxisMax(spikes);
    expect(cut).not.toBeNull();
    expect(cut!).toBeLessThan(1000);
  });
});

describe('isolatedIndexes: points no line reaches (both neighbours missing or further than the gap)', () => {
  it('finds a lone point, a single-point series, and nothing in a continuous one', () => {
    expect(isolatedIndexes([1000], 5000)).toEqual([0]);
    expect(isolatedIndexes([0, 1000, 2000, 3000], 5000)).toEqual([]);
    // 0 … 2000 a line, 60 000 alone, 120 000 … 121 000 a line.
    expect(isolatedIndexes([0, 1000, 2000, 60_000, 120_000, 121_000], 5000)).toEqual([3]);
    // The first and the last point count as isolated when their one neighbour is too far.
    expect(isolatedIndexes([0, 60_000, 61_000, 200_000], 5000)).toEqual([0, 3]);
    expect(isolatedIndexes([], 5000)).toEqual([]);
  });

  it('a gap of exactly the limit still joins (as chart.js spanGaps does)', () => {
    expect(isolatedIndexes([0, 5000], 5000)).toEqual([]);
    expect(isolatedIndexes([0, 5001], 5000)).toEqual([0, 1]);
  });
});

describe('markerClusters: one label per group of nearby cut points, the highest', () => {
  it('merges points closer than the label width and keeps apart ones far enough', () => {
    const pts = [
      { px: 100, value: 17_000 },
      { px: 104, value: 16_000 },
      { px: 300, value: 900 },
    ];
    expect(markerClusters(pts, 40)).toEqual([
      { px: 100, value: 17_000, count: 2 },
      { px: 300, value: 900, count: 1 },
    ]);
    expect(markerClusters([], 40)).toEqual([]);
  });
});

describe('modelSegments: the metric segment of each model, as the agent assigns them', () => {
  it('maps segments back to model names, numbering collisions in the order the models were first seen', () => {
    expect(modelSegments(['py-sdk-demo', 'resnet18-int8'])).toEqual({ py_sdk_demo: 'py-sdk-demo', resnet18_int8: 'resnet18-int8' });
    expect(modelSegments(['a.b', 'a-b', 'A_B'])).toEqual({ a_b: 'a.b', a_b_1: 'a-b', a_b_2: 'A_B' });
    expect(modelSegments([])).toEqual({});
  });
});

function aggregate(t: number, calls: number, model = MODEL, extra: Partial<InferenceAggregate> = {}): InferenceAggregate {
  const h = new LogHistogram();
  for (let j = 0; j < calls; j++) h.add(3 + (j % 5));
  return { model, t, count: h.count, sum: h.sum, sumSq: h.sumSq, min: h.min, max: h.max, items: h.count, buckets: h.buckets, ...extra };
}

describe('Store.inferenceModelsOf: a device’s models in the order they were first seen', () => {
  it('reads untagged, experiment and warm-up-only timings, oldest first, and no other device’s', () => {
    const tmp = tempDir('edgewatch-models-of-');
    const store = Store.open(tmp.dir);
    try {
      const a = store.upsertDevice(helloFrame('dev-a'), 0).num;
      const b = store.upsertDevice(helloFrame('dev-b'), 0).num;
      const T = 1_790_000_000_000;
      const samples: Sample[] = [];
      // a-b first, an hour of it (many seconds to skip over); then a.b in an experiment; A_B warm-up only.
      for (let k = 0; k < 3600; k++) samples.push({ t: T + k * 1000, m: { 'cpu.util': 1 }, i: [aggregate(T + k * 1000, 2, 'a-b')] });
      samples.push({ t: T + 4_000_000, m: {}, i: [aggregate(T + 3_999_000, 2, 'a.b', { experiment: 'x-1' })] });
      samples.push({ t: T + 4_001_000, m: {}, i: [aggregate(T + 4_000_000, 2, 'A_B', { experiment: 'x-2', warmup: true })] });
      store.commitBatches([{ deviceNum: a, seq: 1, receivedAt: T, samples }]);
      store.commitBatches([{ deviceNum: b, seq: 1, receivedAt: T, samples: [{ t: T - 5000, m: {}, i: [aggregate(T - 6000, 1, 'other')] }] }]);
      expect(store.inferenceModelsOf(a)).toEqual(['a-b', 'a.b', 'A_B']);
      expect(modelSegments(store.inferenceModelsOf(a))).toEqual({ a_b: 'a-b', a_b_1: 'a.b', a_b_2: 'A_B' });
      expect(store.inferenceModelsOf(b)).toEqual(['other']);
      expect(store.inferenceModelsOf(999)).toEqual([]);
    } finally {
      store.close();
      tmp.remove();
    }
  });
});

/** One second of the demo loop: metrics under the segment, the aggregate under the model's name. */
function demoSample(t: number, calls: number, model = MODEL, seg = SEG): Sample {
  const agg = aggregate(t - 1000, calls, model);
  const h = LogHistogram.from(agg);
  return {
    t,
    m: {
      'cpu.util': 20 + (calls % 30),
      [`infer.${seg}.rate`]: calls,
      [`infer.${seg}.items_rate`]: calls,
      [`infer.${seg}.latency.mean`]: h.mean,
      [`infer.${seg}.latency.p50`]: h.quantile(0.5),
      [`infer.${seg}.latency.p99`]: h.quantile(0.99),
      [`infer.${seg}.latency.max`]: h.max,
    },
    i: [agg],
  };
}

describe.skipIf(!HAVE_BROWSER)('inference charts in Chromium: a burst, a lone bucket, model names', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let baseUrl = '';
  let agent: TestPeer | undefined;
  let lone: TestPeer | undefined;
  let seq = 0;
  let now = 0;
  const pageErrors: string[] = [];

  const newPage = () => newWatchedPage(browser!, DESKTOP, { errors: pageErrors }, { httpErrors: true });
  const rateCanvas = (page: Page) => page.locator('canvas[data-chart="infer-rate"]');

  async function send(samples: Sample[]): Promise<void> {
    for (let i = 0; i < samples.length; i += 500) {
      const s = ++seq;
      agent!.send({ type: 'batch', v: PROTOCOL_VERSION, seq: s, samples: samples.slice(i, i + 500) });
      await agent!.waitFor((f) => f.type === 'ack' && f.seq === s);
    }
  }

  /** Waits until the throughput chart shows a load of `range` with points. */
  async function rateLoaded(page: Page, range: string) {
    const canvas = page.locator(`canvas[data-chart="infer-rate"][data-range="${range}"]:not([data-loading])`);
    await canvas.waitFor({ state: 'attached' });
    await expect.poll(async () => Number(await canvas.getAttribute('data-points'))).toBeGreaterThan(0);
    return canvas;
  }

  const num = async (page: Page, attr: string) => Number(await rateCanvas(page).getAttribute(attr));

  /** Pixels of the model's colour (#4e79a7) in a vertical strip of the canvas, between fractions of its width. */
  async function colourPixels(page: Page, f0: number, f1: number): Promise<number> {
    // A string, evaluated in the page (this file is type-checked without the DOM library).
    return (await page.evaluate(`(() => {
      const c = document.querySelector('canvas[data-chart="infer-rate"]');
      const ctx = c.getContext('2d');
      const x0 = Math.floor(c.width * ${f0});
      const x1 = Math.ceil(c.width * ${f1});
      // The plot only: the legend sits under it.
      const data = ctx.getImageData(x0, 0, x1 - x0, Math.floor(c.height * 0.7)).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - 0x4e) < 40 && Math.abs(data[i + 1] - 0x79) < 40 && Math.abs(data[i + 2] - 0xa7) < 40 && data[i + 3] > 100) n++;
      }
      return n;
    })()`)) as number;
  }

  /** Pixels of a PNG noticeably darker than white, counted in a blank page (no CSP there). */
  async function inkPixels(png: Buffer): Promise<number> {
    const blank = await browser!.newPage();
    try {
      return (await blank.evaluate(`(async () => {
        const img = new Image();
        img.src = 'data:image/png;base64,${png.toString('base64')}';
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (255 * 3 - data[i] - data[i + 1] - data[i + 2] > 90) n++;
        return n;
      })()`)) as number;
    } finally {
      await blank.close();
    }
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-infer-charts-');
    hub = await startUiHub(tmp.dir);
    baseUrl = `http://127.0.0.1:${hub.port}/`;
    agent = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    agent.send(helloFrame(DEVICE_ID, { device: { id: DEVICE_ID, name: 'demo pi', hostname: 'demo.local' }, capabilities: ['cpu', 'inference'] }));
    await agent.waitFor((f) => f.type === 'welcome');

    now = Math.floor(Date.now() / 1000) * 1000;
    const samples: Sample[] = [demoSample(now - 30 * MINUTE, 150)];
    // Five minutes of the loop at 36–240 calls/s, one second of it a burst.
    for (let k = 300; k >= 1; k--) samples.push(demoSample(now - k * 1000, k === 150 ? BURST : 36 + ((k * 53) % 205)));
    await send(samples);

    lone = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    lone.send(helloFrame(LONE_ID, { capabilities: ['cpu'] }));
    await lone.waitFor((f) => f.type === 'welcome');
    lone.send({ type: 'batch', v: PROTOCOL_VERSION, seq: 1, samples: [{ t: now - 5 * MINUTE, m: { 'cpu.util': 60 } }, { t: now, m: { 'cpu.util': 60 } }] });
    await lone.waitFor((f) => f.type === 'ack' && f.seq === 1);
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    lone?.close();
    agent?.close();
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('the hub names each metric segment’s model on the device API', async () => {
    const res = await fetch(`${baseUrl}api/v1/devices/${DEVICE_ID}`);
    const body = (await res.json()) as { models?: Record<string, string> };
    expect(body.models).toEqual({ [SEG]: MODEL });
  });

  it('live: the burst is cut off and marked, the ordinary rates fill the plot; a toggle shows the full scale', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${baseUrl}#/device/${DEVICE_ID}`);
      await rateLoaded(page, 'live');
      // The loop is still running: one more second, with its timings.
      await send([demoSample(Date.now(), 120)]);
      const canvas = rateCanvas(page);
      await expect.poll(() => canvas.getAttribute('data-legend')).toBe(`${MODEL} calls/s|${MODEL} items/s`);
      await expect.poll(() => page.locator(`[data-panel="inference"] [data-model="${SEG}"] .infer-name`).textContent()).toBe(MODEL);

      // The axis stops well under the burst; the burst is marked with its real value.
      await expect.poll(() => num(page, 'data-y-max')).toBeGreaterThanOrEqual(240);
      expect(await num(page, 'data-y-max')).toBeLessThan(1000);
      expect(await num(page, 'data-marked')).toBeGreaterThanOrEqual(1);
      const figure = page.locator('figure[data-chart="infer-rate"]');
      const note = figure.locator('.chart-cut');
      expect(await note.isVisible()).toBe(true);
      expect(await note.textContent()).toContain(`${BURST}/s`);
      await page.waitForTimeout(200);
      await figure.screenshot({ path: join(ARTIFACTS, 'inference-burst-cut.png') });

      // Full scale on demand, and back.
      const toggle = figure.locator('[data-action="y-scale"]');
      await toggle.click();
      await expect.poll(() => num(page, 'data-y-max')).toBeGreaterThanOrEqual(BURST);
      expect(await toggle.getAttribute('aria-pressed')).toBe('true');
      expect(await num(page, 'data-marked')).toBe(0);
      await figure.screenshot({ path: join(ARTIFACTS, 'inference-burst-full.png') });
      await toggle.click();
      await expect.poll(() => num(page, 'data-y-max')).toBeLessThan(1000);
      expect(await toggle.getAttribute('aria-pressed')).toBe('false');

      // The other charts of this kind get the same treatment: the latency chart is untouched (no outlier).
      expect(await page.locator('canvas[data-chart="infer-latency"]').getAttribute('data-y-cut')).toBe('');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('after the loop stopped: a reload and the 1 h history keep the model’s own name, and a lone bucket is drawn', async () => {
    // The loop has stopped: the agent goes on with CPU samples only.
    const t = Date.now();
    await send([
      { t: t + 1000, m: { 'cpu.util': 12 } },
      { t: t + 2000, m: { 'cpu.util': 11 } },
    ]);
    const { context, page } = await newPage();
    try {
      await page.goto(`${baseUrl}#/device/${DEVICE_ID}`);
      await rateLoaded(page, 'live');
      await expect.poll(() => rateCanvas(page).getAttribute('data-legend')).toBe(`${MODEL} calls/s|${MODEL} items/s`);

      await page.goto(`${baseUrl}#/device/${DEVICE_ID}?range=1h`);
      await page.reload();
      const canvas = await rateLoaded(page, '1h');
      expect(await canvas.getAttribute('data-legend')).toBe(`${MODEL} calls/s|${MODEL} items/s`);
      expect(await page.locator('canvas[data-chart="infer-latency"]').getAttribute('data-legend')).toBe(`${MODEL} p50|${MODEL} p99`);

      // The lone sample half an hour ago: a dot (both lines), in the middle of the plot.
      await expect.poll(() => num(page, 'data-isolated')).toBeGreaterThanOrEqual(2);
      await page.waitForTimeout(200);
      expect(await colourPixels(page, 0.38, 0.66), 'the lone bucket is drawn').toBeGreaterThan(4);
      // The burst, averaged into a bucket, still does not set the axis.
      expect(await num(page, 'data-y-max')).toBeLessThan(BURST);
      expect(await num(page, 'data-marked')).toBeGreaterThanOrEqual(1);
      await page.locator('figure[data-chart="infer-rate"]').screenshot({ path: join(ARTIFACTS, 'inference-history-1h.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'inference-history-1h-page.png') });
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('a fleet sparkline draws lone points as short dashes', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(baseUrl);
      const spark = page.locator(`a.device-card[data-device-id="${LONE_ID}"] svg.sparkline`);
      await expect.poll(async () => Number(await spark.getAttribute('data-points'))).toBe(2);
      await page.waitForTimeout(200);
      const png = await spark.screenshot({ path: join(ARTIFACTS, 'sparkline-lone-points.png') });
      expect(await inkPixels(png), 'the lone points are drawn').toBeGreaterThan(0);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('a second model whose segment collides (py.sdk.demo → py_sdk_demo_1) is named by the hub, live and after a reload', async () => {
    const { context, page } = await newPage();
    const both = `${MODEL} calls/s|${MODEL} items/s|py.sdk.demo calls/s|py.sdk.demo items/s`;
    try {
      await page.goto(`${baseUrl}#/device/${DEVICE_ID}`);
      await rateLoaded(page, 'live');
      const t = Date.now();
      await send([demoSample(t, 90, 'py.sdk.demo', `${SEG}_1`)]);
      await expect.poll(() => rateCanvas(page).getAttribute('data-legend'), { timeout: 10_000 }).toBe(both);
      await page.reload();
      await rateLoaded(page, 'live');
      await expect.poll(() => rateCanvas(page).getAttribute('data-legend')).toBe(both);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
