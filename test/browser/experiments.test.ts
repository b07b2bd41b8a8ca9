// Inference timings and experiments in the browser, end to end: a real hub (in this process,
// serving a private copy of the built dist/web), a device fed through a raw agent socket with
// per-second inference aggregates (`i`), experiment events (`e`) and CPU/power metrics, and
// Debian's Chromium through playwright-core. Two runs of ResNet-18, the original (fp32) and a
// compressed one (int8, a quarter of the parameters and bytes), plus a hostile name.
// Screenshots land in test-artifacts/ (git-ignored).
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { formatEnergy, formatTimes } from '../../dashboard/web/src/experiments-model.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ComparisonResponse } from '../../shared/live.js';
import { PROTOCOL_VERSION, type ExperimentEvent, type InferenceAggregate, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, noHorizontalOverflow, newWatchedPage, startUiHub } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const MiB = 1024 * 1024;
const HOSTILE = '<img src=x onerror=alert(1)>';
const DEVICE_ID = 'nano-infer';

interface Run {
  id: string;
  name: string;
  model: string;
  /** Metric segment of the model. */
  seg: string;
  params: number;
  modelBytes: number;
  tags: Record<string, string>;
  /** Seconds before `now`. */
  from: number;
  to: number;
  callsPerS: number;
  batch: number;
  /** Latencies cycle through these, ms. */
  latencies: number[];
  powerW: number;
}

const FP32: Run = {
  id: 'x-fp32',
  name: 'resnet18-fp32',
  model: 'resnet18-fp32',
  seg: 'resnet18_fp32',
  params: 11_689_512,
  modelBytes: 46_830_571,
  tags: { precision: 'fp32', runtime: 'onnxruntime' },
  from: 120,
  to: 80,
  callsPerS: 25,
  batch: 1,
  latencies: [18, 19, 20, 21, 22, 20, 20, 19, 21, 38],
  powerW: 6.5,
};
const INT8: Run = {
  id: 'x-int8',
  name: 'resnet18-int8',
  model: 'resnet18-int8',
  seg: 'resnet18_int8',
  params: 2_922_378,
  modelBytes: 11_707_643,
  tags: { precision: 'int8', quant: 'ptq' },
  from: 70,
  to: 30,
  callsPerS: 60,
  batch: 2,
  latencies: [7, 8, 8, 8, 9, 8, 7, 8, 9, 15],
  powerW: 5.2,
};
const EVIL: Run = {
  id: 'x-evil',
  name: HOSTILE,
  model: 'evil',
  seg: 'evil',
  params: 1000,
  modelBytes: 4096,
  tags: { note: '<b>bold</b>' },
  from: 25,
  to: 20,
  callsPerS: 5,
  batch: 1,
  latencies: [3, 4],
  powerW: 4,
};
const RUNS = [FP32, INT8, EVIL];

function aggregate(run: Run, t: number, latencyShift = 0): InferenceAggregate {
  const h = new LogHistogram();
  for (let j = 0; j < run.callsPerS; j++) h.add(run.latencies[j % run.latencies.length]! + latencyShift);
  return { model: run.model, experiment: run.id, t, count: h.count, sum: h.sum, sumSq: h.sumSq, min: h.min, max: h.max, items: h.count * run.batch, buckets: h.buckets };
}

function inferMetrics(run: Run, agg: InferenceAggregate): Record<string, number> {
  const h = LogHistogram.from(agg);
  return {
    [`infer.${run.seg}.rate`]: agg.count,
    [`infer.${run.seg}.items_rate`]: agg.items,
    [`infer.${run.seg}.latency.mean`]: h.mean,
    [`infer.${run.seg}.latency.p50`]: h.quantile(0.5),
    [`infer.${run.seg}.latency.p99`]: h.quantile(0.99),
    [`infer.${run.seg}.latency.max`]: h.max,
  };
}

function base(t: number, powerW: number, busy: boolean): Record<string, number> {
  return {
    'cpu.util': busy ? 62 + (t / 1000) % 7 : 4,
    'mem.used': (busy ? 1900 : 1200) * MiB,
    'mem.total': 3964 * MiB,
    'power.board': powerW,
    'temp.cpu': busy ? 58.5 : 44,
  };
}

describe.skipIf(!HAVE_BROWSER)('inference timings and experiments in Chromium', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let baseUrl = '';
  let agent: TestPeer | undefined;
  let seq = 0;
  let now = 0;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  const newPage = (viewport: { width: number; height: number }) => newWatchedPage(browser!, viewport, { errors: pageErrors, dialogs }, { httpErrors: true });

  async function send(samples: Sample[]): Promise<void> {
    const s = ++seq;
    agent!.send({ type: 'batch', v: PROTOCOL_VERSION, seq: s, samples });
    await agent!.waitFor((f) => f.type === 'ack' && f.seq === s);
  }

  async function compareJson(ids: string[], baseline: string): Promise<ComparisonResponse> {
    const res = await fetch(`${baseUrl}api/v1/experiments/compare?ids=${ids.join(',')}&baseline=${baseline}`);
    expect(res.status).toBe(200);
    return (await res.json()) as ComparisonResponse;
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-experiments-');
    hub = await startUiHub(tmp.dir);
    baseUrl = `http://127.0.0.1:${hub.port}/`;
    agent = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    agent.send(
      helloFrame(DEVICE_ID, {
        device: { id: DEVICE_ID, name: 'jetson-nano <i>lab</i>', hostname: 'nano.local' },
        capabilities: ['cpu', 'memory', 'hwmon', 'inference'],
      }),
    );
    await agent.waitFor((f) => f.type === 'welcome');

    // Two minutes at 1 s, on whole seconds: fp32, a pause, int8, a pause, the hostile one.
    now = Math.floor(Date.now() / 1000) * 1000;
    const samples: Sample[] = [];
    for (let k = 130; k >= 1; k--) {
      const t = now - k * 1000;
      const run = RUNS.find((r) => k <= r.from && k > r.to);
      const s: Sample = { t, m: base(t, run?.powerW ?? 3, run !== undefined) };
      if (run) {
        // The second that just ended.
        const agg = aggregate(run, t - 1000);
        s.i = [agg];
        Object.assign(s.m, inferMetrics(run, agg));
      }
      const events: ExperimentEvent[] = [];
      for (const r of RUNS) {
        const start = now - r.from * 1000;
        if (k === r.from) events.push({ id: r.id, name: r.name, tags: r.tags, params: r.params, modelBytes: r.modelBytes, start });
        if (k === r.to) events.push({ id: r.id, name: r.name, start, end: now - r.to * 1000 });
      }
      if (events.length) s.e = events;
      samples.push(s);
    }
    await send(samples);

    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    agent?.close();
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('charts inference throughput and latency, shades experiments on every chart, and updates live', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(`${baseUrl}#/device/${DEVICE_ID}`);
      const points = (chart: string) => page.locator(`canvas[data-chart="${chart}"]`).getAttribute('data-points').then(Number);
      for (const chart of ['infer-rate', 'infer-latency', 'cpu', 'power']) {
        await expect.poll(() => points(chart), { timeout: 10_000 }).toBeGreaterThan(0);
      }
      // Legends name the models by their own names (from the aggregates), p99 dashed beside p50.
      expect(await page.locator('figure[data-chart="infer-latency"] .chart-note').textContent()).toBe('solid: p50, dashed: p99');

      // Every chart on the page draws the three experiments as bands.
      const canvases = page.locator('canvas[data-chart]');
      const n = await canvases.count();
      expect(n).toBeGreaterThanOrEqual(5);
      for (let i = 0; i < n; i++) {
        await expect
          .poll(async () => ((await canvases.nth(i).getAttribute('data-experiments')) ?? '').split(' ').sort(), { timeout: 10_000 })
          .toEqual(['x-evil', 'x-fp32', 'x-int8']);
      }

      // The panel: no timings in the newest sample yet (the runs ended).
      const panel = page.locator('[data-panel="inference"]');
      await panel.waitFor({ state: 'visible' });

      // A new experiment starts live with int8 timings: the summary and the bands follow.
      const LIVE: Run = { ...INT8, id: 'x-live', name: 'resnet18-int8-live', latencies: [9.9], callsPerS: 40, batch: 4 };
      const t1 = Date.now();
      const agg = aggregate(LIVE, Math.floor(t1 / 1000) * 1000 - 1000);
      await send([
        {
          t: t1,
          m: { ...base(t1, 5.1, true), ...inferMetrics(LIVE, agg) },
          i: [agg],
          e: [{ id: LIVE.id, name: LIVE.name, params: LIVE.params, modelBytes: LIVE.modelBytes, start: t1 - 500 }],
        },
      ]);
      const card = panel.locator(`[data-model="${INT8.seg}"]`);
      await expect.poll(() => card.locator('[data-field="p50"]').textContent()).toBe('9.9 ms');
      expect(await card.locator('.infer-name').textContent()).toBe('resnet18-int8');
      expect(await card.locator('[data-field="rate"]').textContent()).toBe('40.0/s');
      expect(await card.locator('[data-field="items"]').textContent()).toBe('160/s');
      expect(await panel.getAttribute('data-t')).toBe(String(t1));
      await expect.poll(async () => (await page.locator('canvas[data-chart="cpu"]').getAttribute('data-experiments'))?.split(' ')).toContain('x-live');
      await expect.poll(() => panel.locator('[data-experiment="x-live"] .exp-chip-name').textContent()).toBe('resnet18-int8-live');

      // The next second: the p50 moves and the points grow.
      const before = await points('infer-latency');
      const t2 = t1 + 1000;
      const agg2 = aggregate({ ...LIVE, latencies: [12.4] }, Math.floor(t2 / 1000) * 1000 - 1000);
      await send([{ t: t2, m: { ...base(t2, 5.1, true), ...inferMetrics(LIVE, agg2) }, i: [agg2] }]);
      await expect.poll(() => card.locator('[data-field="p50"]').textContent()).toBe('12.4 ms');
      await expect.poll(() => points('infer-latency')).toBeGreaterThan(before);

      await page.waitForTimeout(400);
      await page.screenshot({ path: join(ARTIFACTS, 'inference-desktop.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'inference-desktop-full.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('lists the experiments, filters them, and opens the comparison of the two picked', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(`${baseUrl}#/`);
      await page.locator('.topnav a[data-nav="experiments"]').click();
      const pageEl = page.locator('[data-page="experiments"]');
      await expect.poll(() => pageEl.getAttribute('data-rows')).toBe('4');
      const row = (id: string) => page.locator(`tr[data-experiment-id="${id}"]`);
      expect(await row('x-fp32').locator('[data-col="name"]').textContent()).toBe('resnet18-fp32');
      expect(await row('x-fp32').locator('[data-col="device"]').textContent()).toBe('jetson-nano <i>lab</i>');
      expect(await row('x-fp32').locator('[data-col="params"]').textContent()).toBe('11.7 M');
      expect(await row('x-fp32').locator('[data-col="modelBytes"]').textContent()).toBe('44.7 MiB');
      expect(await row('x-fp32').locator('[data-col="models"]').textContent()).toBe('resnet18-fp32');
      expect(await row('x-fp32').locator('[data-col="duration"]').textContent()).toBe('40 s');
      expect(await row('x-int8').locator('[data-col="tags"] .tag').allTextContents()).toEqual(['precision=int8', 'quant=ptq']);
      expect(await row('x-int8').locator('[data-col="inferences"]').textContent()).toBe('2\u202f400');
      expect(await row('x-live').getAttribute('data-running')).toBe('true');
      // Hostile text is text.
      expect(await row('x-evil').locator('[data-col="name"]').textContent()).toBe(HOSTILE);
      expect(await row('x-evil').locator('[data-col="tags"]').textContent()).toBe('note=<b>bold</b>');
      expect(await page.locator('img[src="x"], b, i').count()).toBe(0);

      // Filter by name, then clear it.
      await page.locator('input.exp-name').fill('int8');
      await expect.poll(() => pageEl.getAttribute('data-rows')).toBe('2');
      expect(page.url()).toContain('name=int8');
      await page.locator('input.exp-name').fill('');
      await expect.poll(() => pageEl.getAttribute('data-rows')).toBe('4');
      // Filter by device (the select lists it by name).
      await page.locator('select.exp-device').selectOption(DEVICE_ID);
      await expect.poll(() => page.url()).toContain(`device=${DEVICE_ID}`);
      await expect.poll(() => pageEl.getAttribute('data-rows')).toBe('4');

      // Pick fp32 first (the baseline), then int8.
      const compare = page.locator('[data-action="compare"]');
      expect(await compare.isDisabled()).toBe(true);
      await row('x-fp32').locator('input[type="checkbox"]').check();
      await row('x-int8').locator('input[type="checkbox"]').check();
      expect(await row('x-fp32').getAttribute('class')).toContain('is-baseline');
      await page.screenshot({ path: join(ARTIFACTS, 'experiments-desktop.png') });
      await compare.click();
      await expect.poll(() => new URL(page.url()).hash).toBe('#/compare?ids=x-fp32,x-int8&baseline=x-fp32');
      await page.locator('[data-page="compare"][data-loading="false"]').waitFor();
    } finally {
      await context.close();
    }
  }, 60_000);

  it('compares the two runs: speedup, compression and energy as the API computes them, baseline switchable, exports', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(`${baseUrl}#/compare?ids=x-fp32,x-int8&baseline=x-fp32`);
      await page.locator('[data-page="compare"][data-loading="false"]').waitFor();
      const api = await compareJson(['x-fp32', 'x-int8'], 'x-fp32');
      const int8 = api.experiments.find((e) => e.id === 'x-int8')!;
      const cell = (row: string, id: string) => page.locator(`tr[data-row="${row}"] td[data-experiment-id="${id}"] .cmp-value`).textContent();

      // The API's figures, rendered.
      for (const key of ['speedupP50', 'speedupMean', 'compressionParams', 'compressionBytes'] as const) {
        expect(int8[key], key).not.toBeNull();
        expect(await cell(key, 'x-int8'), key).toBe(formatTimes(int8[key]));
        expect(await cell(key, 'x-fp32'), key).toBe('baseline');
      }
      // β as the API gives it, a ratio, in the same unit as α and δ.
      for (const key of ['spaceSavingParams', 'spaceSavingBytes'] as const) {
        expect(await cell(key, 'x-int8'), key).toBe(formatTimes(int8[key]));
      }
      // … and what they must be from what was sent: α = 11 689 512 ÷ 2 922 378 = 4, β = (M − M*) ÷ M* = 3.
      expect(int8.compressionParams).toBeCloseTo(FP32.params / INT8.params, 6);
      expect(await cell('compressionParams', 'x-int8')).toBe('4.00×');
      expect(await cell('spaceSavingParams', 'x-int8')).toBe('3.00×');
      expect(await cell('compressionBytes', 'x-int8')).toBe(formatTimes(FP32.modelBytes / INT8.modelBytes));
      // int8 p50 is 8 ms against 20 ms: about 2.5× (quantiles within 1 %).
      expect(int8.speedupP50!).toBeGreaterThan(2.3);
      expect(int8.speedupP50!).toBeLessThan(2.7);
      expect(await page.locator('tr[data-row="speedupP50"]').getAttribute('class')).toContain('emph-speedup');
      expect(await page.locator('tr[data-row="speedupP50"] td[data-experiment-id="x-int8"]').getAttribute('class')).toContain('tone-good');
      // Energy per inference: power × time ÷ calls, rendered in mJ.
      expect(int8.energyPerInferenceJ).not.toBeNull();
      expect(await cell('energyPerInferenceJ', 'x-int8')).toBe(formatEnergy(int8.energyPerInferenceJ));
      expect(await cell('energyPerInferenceJ', 'x-int8')).toMatch(/ mJ$/);
      expect(await page.locator('tr[data-row="energyPerInferenceJ"]').getAttribute('class')).toContain('emph-energy');
      expect(await cell('params', 'x-int8')).toBe('2.92 M');
      expect(await cell('inferences', 'x-fp32')).toBe('1\u202f000');
      expect(await page.locator('th.cmp-exp.is-baseline .cmp-name').textContent()).toBe('resnet18-fp32');
      await page.screenshot({ path: join(ARTIFACTS, 'compare-desktop.png'), fullPage: true });

      // Exports: plain links to the API with a download name.
      for (const [format, type, needle] of [
        ['csv', 'text/csv', 'resnet18-int8'],
        ['md', 'text/markdown', '| resnet18-int8'],
        ['json', 'application/json', '"baseline":"x-fp32"'],
      ] as const) {
        const link = page.locator(`a[data-export="${format}"]`);
        expect(await link.getAttribute('download')).toMatch(new RegExp(`\\.${format}$`));
        const href = await link.getAttribute('href');
        expect(href).toBe(`api/v1/experiments/compare?ids=x-fp32,x-int8&baseline=x-fp32&format=${format}`);
        const res = await fetch(new URL(href!, baseUrl));
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain(type);
        expect(await res.text()).toContain(needle);
      }

      // int8 as the baseline: fp32 is now the slower one.
      await page.locator('input[data-baseline="x-int8"]').check();
      await expect.poll(() => new URL(page.url()).hash).toBe('#/compare?ids=x-fp32,x-int8&baseline=x-int8');
      await expect.poll(() => page.locator('[data-page="compare"]').getAttribute('data-baseline')).toBe('x-int8');
      const flipped = (await compareJson(['x-fp32', 'x-int8'], 'x-int8')).experiments.find((e) => e.id === 'x-fp32')!;
      expect(flipped.speedupP50!).toBeLessThan(1);
      expect(await cell('speedupP50', 'x-fp32')).toBe(formatTimes(flipped.speedupP50));
      expect(await page.locator('tr[data-row="speedupP50"] td[data-experiment-id="x-fp32"]').getAttribute('class')).toContain('tone-bad');
      expect(await page.locator('a[data-export="csv"]').getAttribute('href')).toContain('baseline=x-int8');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows a hostile experiment name as text on the compare page', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(`${baseUrl}#/compare?ids=x-fp32,x-evil`);
      await page.locator('[data-page="compare"][data-loading="false"]').waitFor();
      expect(await page.locator('th[data-experiment-id="x-evil"] .cmp-name').textContent()).toBe(HOSTILE);
      expect(await page.locator('.compare-page .fleet-summary').textContent()).toContain('resnet18-fp32');
      expect(await page.locator('img[src="x"], b, i').count()).toBe(0);
      expect(dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('fits a 390 px phone screen', async () => {
    const { context, page } = await newPage(PHONE);
    try {
      await page.goto(`${baseUrl}#/device/${DEVICE_ID}`);
      await expect.poll(async () => Number(await page.locator('canvas[data-chart="infer-latency"]').getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(0);
      await page.waitForTimeout(400);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'inference-phone.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'inference-phone-full.png'), fullPage: true });

      await page.goto(`${baseUrl}#/experiments`);
      await expect.poll(() => page.locator('[data-page="experiments"]').getAttribute('data-rows')).toBe('4');
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'experiments-phone.png'), fullPage: true });

      await page.goto(`${baseUrl}#/compare?ids=x-fp32,x-int8,x-evil&baseline=x-fp32`);
      await page.locator('[data-page="compare"][data-loading="false"]').waitFor();
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, 'compare-phone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ran without page errors, CSP violations or dialogs', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
