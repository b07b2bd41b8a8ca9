// The compare page's statistics in Chromium, against a hand-made compare response (the hub's
// own maths is tested elsewhere): a real in-process hub serves the built UI and the rest of
// the API, and playwright answers GET /api/v1/experiments/compare with a response that uses
// every field: five trials of an original and of a compressed model (faster, δ with its
// interval and p), two trials of a third with warnings, run conditions that differ, notes,
// scores and a device without a power sensor. The third's name is hostile markup.
// Screenshots land in test-artifacts/ (git-ignored): compare-extras-*.png.
import { join } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { comparisonNotes } from '../../dashboard/server/compare.js';
import type { ComparisonResponse, ExperimentStats, ExperimentTimeline, TrialSummary } from '../../shared/live.js';
import { comparison, estimate, experimentStats, repeatGroup, trialSummary } from '../helpers/comparison-fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow, startUiHub } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const HOSTILE = '<img src=x onerror=window.__xss=1>';
const T0 = Date.UTC(2025, 4, 12, 9, 0, 0);

/** What the Orin's GPU and board power sensor add; the Pi has neither. */
const ORIN_SENSORS: Partial<ExperimentStats> = {
  gpuUtilMean: 88,
  gpuUtilPeak: 99,
  powerSource: 'board',
  powerMetrics: ['power.board'],
  powerMeanW: 14.2,
  powerPeakW: 18.9,
  powerSampleIntervalS: 1,
  energyJ: 852,
  energyPerInferenceJ: 0.284,
  idlePowerW: 6.1,
  netEnergyJ: 486,
  netEnergyPerInferenceJ: 0.162,
};

/** A 60 s run, the k-th in a row 2 min apart, with the CPU, memory and temperature figures (GPU and power come in `over`). */
function exp(id: string, name: string, k: number, over: Partial<ExperimentStats>): ExperimentStats {
  const start = T0 + k * 120_000;
  return experimentStats(id, {
    deviceId: 'orin-1',
    deviceName: 'orin-lab',
    name,
    start,
    end: start + 60_000,
    models: [name],
    inferences: 3000,
    items: 3000,
    durationS: 60,
    inferencesPerS: 50,
    itemsPerS: 50,
    timingsDropped: 0,
    cpuUtilMean: 41,
    cpuUtilPeak: 77,
    memUsedPeakBytes: 5.2 * 2 ** 30,
    tempPeakC: 61.5,
    throttled: false,
    throttledS: 0,
    ...over,
  });
}

const FP32_P50 = [16.2, 16.4, 16.3, 16.1, 16.6];
const INT8_P50 = [8.1, 8.0, 8.3, 8.1, 7.9];
const EVIL_P50 = [14.1, 16.9];
const FP32_IDS = FP32_P50.map((_, i) => `f${i + 1}`);
const INT8_IDS = INT8_P50.map((_, i) => `i${i + 1}`);
const EVIL_IDS = ['e1', 'e2'];
const ALL_IDS = [...FP32_IDS, ...INT8_IDS, ...EVIL_IDS];

const MAXN = { powerMode: 'MAXN', jetsonClocks: true, cpuGovernor: 'schedutil', cpuMinMHz: 729, cpuMaxMHz: 2201, gpuDriver: '540.4.0', cudaVersion: '12.6', kernel: '5.15.148-tegra', agentVersion: '0.9.0', startTempC: 41.2 };
const W15 = { ...MAXN, powerMode: '15W', jetsonClocks: false, cpuMaxMHz: 1420 };

function fixture(): ComparisonResponse {
  const top1 = (v: number) => ({ name: 'top-1', value: v, better: 'higher' as const });
  const top5 = (v: number) => ({ name: 'top-5', value: v, better: 'higher' as const });
  const experiments = [
    ...FP32_P50.map((p50, i) =>
      exp(FP32_IDS[i]!, 'resnet50-fp32', i, {
        ...ORIN_SENSORS,
        latencyP50Ms: p50,
        latencyMeanMs: p50 * 1.04,
        latencyP90Ms: p50 * 1.12,
        latencyP95Ms: p50 * 1.18,
        latencyP99Ms: p50 * 1.4,
        latencyMaxMs: 61,
        latencyStdevMs: 1.1,
        latencyCov: 0.065,
        firstCallMs: 812,
        params: 25_557_032,
        modelBytes: 102_400_000,
        tags: { precision: 'fp32', runtime: 'tensorrt' },
        conditions: MAXN,
        scores: [top1(0.761), top5(0.929)],
        speedupP50: 16.2 / p50,
        speedupMean: 16.2 / p50,
        compressionParams: 1,
        spaceSavingParams: 0,
        compressionBytes: 1,
        spaceSavingBytes: 0,
      }),
    ),
    ...INT8_P50.map((p50, i) =>
      exp(INT8_IDS[i]!, 'resnet50-int8', 5 + i, {
        ...ORIN_SENSORS,
        latencyP50Ms: p50,
        latencyMeanMs: p50 * 1.05,
        latencyP90Ms: p50 * 1.1,
        latencyP95Ms: p50 * 1.16,
        latencyP99Ms: p50 * 1.5,
        latencyMaxMs: 33,
        latencyStdevMs: 0.6,
        latencyCov: 0.071,
        firstCallMs: 1904,
        inferencesPerS: 118,
        energyPerInferenceJ: 0.121,
        netEnergyPerInferenceJ: 0.07,
        params: 25_557_032,
        modelBytes: 25_600_000,
        tags: { precision: 'int8', quant: 'ptq' },
        conditions: W15,
        timingsDropped: i === 2 ? 12 : 0,
        scores: [top1(0.752), top5(0.925)],
        scoreDeltas: [
          { name: 'top-1', better: 'higher', value: 0.752, baseline: 0.761, delta: -0.009, worse: true },
          { name: 'top-5', better: 'higher', value: 0.925, baseline: 0.929, delta: -0.004, worse: true },
        ],
        speedupP50: 16.2 / p50,
        speedupMean: 16.2 / p50,
        compressionParams: 1,
        spaceSavingParams: 0,
        compressionBytes: 4,
        spaceSavingBytes: 3,
      }),
    ),
    ...EVIL_P50.map((p50, i) =>
      exp(EVIL_IDS[i]!, HOSTILE, 10 + i, {
        deviceId: 'pi-5',
        deviceName: 'pi-5 <b>bench</b>',
        latencyP50Ms: p50,
        latencyP95Ms: p50 * 1.3,
        latencyCov: 0.19,
        firstCallMs: 95,
        params: 6_400_000,
        modelBytes: 12_900_000,
        tags: { note: '<b>bold</b>' },
        conditions: { cpuGovernor: 'ondemand', kernel: '6.6.31+rpt-rpi-2712', throttleAtStart: ['soft_temp_limit'] },
        throttled: true,
        throttledS: 14,
        scores: [top1(0.702), { name: `${HOSTILE} mAP`, value: 0.41, better: 'higher' }],
        speedupP50: 16.2 / p50,
        compressionParams: 25_557_032 / 6_400_000,
        spaceSavingParams: (25_557_032 - 6_400_000) / 6_400_000,
        compressionBytes: 102_400_000 / 12_900_000,
        spaceSavingBytes: (102_400_000 - 12_900_000) / 12_900_000,
      }),
    ),
  ];
  const est = (value: number, spread: number) => estimate(value, value - spread, value + spread);
  const group = (name: string, ids: string[], t: TrialSummary) => repeatGroup(name, ids, t, { latencyP50Ms: { n: ids.length, mean: 12, stdev: 0.2 } });
  const c = comparison({
    baseline: 'f1',
    experiments,
    groups: [
      group('resnet50-fp32', FP32_IDS, trialSummary({ latencyP50Ms: est(16.3, 0.2), latencyP95Ms: est(19.2, 0.4), energyPerInferenceJ: est(0.284, 0.006), cov: 0.0107 })),
      group(
        'resnet50-int8',
        INT8_IDS,
        trialSummary({
          latencyP50Ms: est(8.1, 0.15),
          latencyP95Ms: est(9.4, 0.3),
          energyPerInferenceJ: est(0.121, 0.004),
          cov: 0.0174,
          versusBaseline: { speedup: { value: 2.0124, lo: 1.9577, hi: 2.0493 }, pValue: 0.0079, verdict: 'faster' },
          verdict: 'faster',
        }),
      ),
      group(
        HOSTILE,
        EVIL_IDS,
        trialSummary({
          n: 2,
          latencyP50Ms: est(15.5, 1.4),
          cov: 0.128,
          versusBaseline: { speedup: { value: 1.05, lo: 0.96, hi: 1.16 }, pValue: 0.19, verdict: 'no measurable difference' },
          verdict: 'no measurable difference',
          warnings: [
            'High spread between trials (CoV 12.8 %): pin the clocks (jetson_clocks, a fixed governor) and let the board cool between trials.',
            'Only 2 trials: the test needs at least 5 per variant to find a difference; run more with --trials 5.',
          ],
        }),
      ),
    ],
    conditionWarnings: ['resnet50-int8 was in 15W mode, resnet50-fp32 in MAXN.', 'resnet50-int8 ran without jetson_clocks, resnet50-fp32 with them.'],
  });
  // What the hub says about these figures, as it says it.
  return { ...c, notes: comparisonNotes(c.experiments, c.idleWindowS) };
}

/** The fixture without any score: the Pareto chart has nothing to plot. */
function withoutScores(res: ComparisonResponse): ComparisonResponse {
  return { ...res, experiments: res.experiments.map((e) => ({ ...e, scores: [], scoreDeltas: [] })) };
}

/** Elements sticking out past the viewport's right edge that no scroll container holds. */
async function overflowOutsideScrollers(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const out = [];
    const w = document.documentElement.clientWidth;
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= w + 1) continue;
      let p = el.parentElement, held = false;
      while (p && p !== document.body) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') { held = true; break; }
        p = p.parentElement;
      }
      if (!held) out.push(el.tagName.toLowerCase() + '.' + el.className + ' right=' + Math.round(r.right));
    }
    return out;
  })()`)) as string[];
}

describe.skipIf(!HAVE_BROWSER)('compare page statistics in Chromium (stubbed compare API)', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let baseUrl = '';
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  const href = `#/compare?ids=${ALL_IDS.join(',')}&baseline=f1`;

  async function open(viewport: { width: number; height: number }, body: ComparisonResponse) {
    const opened = await newWatchedPage(browser!, viewport, { errors: pageErrors, dialogs }, { httpErrors: true });
    await opened.page.route(
      (url) => url.pathname === '/api/v1/experiments/compare',
      (route: Route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) }),
    );
    // The stubbed experiments exist nowhere else: their timelines are stubbed too, empty.
    await opened.page.route(
      (url) => /^\/api\/v1\/experiments\/[^/]+\/timeline$/.test(url.pathname),
      (route: Route) => {
        const id = decodeURIComponent(new URL(route.request().url()).pathname.split('/')[4]!);
        const e = body.experiments.find((x) => x.id === id)!;
        const timeline: ExperimentTimeline = {
          experimentId: id,
          deviceId: e.deviceId,
          name: e.name,
          start: e.start,
          end: e.end,
          rangeEnd: e.end ?? e.start,
          measuredFrom: null,
          latencySource: null,
          stepMs: 1000,
          latency: [],
          power: null,
          distribution: { count: 0, minMs: null, maxMs: null, p50Ms: null, p90Ms: null, p99Ms: null, cdf: [] },
        };
        return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(timeline) });
      },
    );
    await opened.page.goto(`${baseUrl}${href}`);
    await opened.page.locator('[data-page="compare"][data-loading="false"]').waitFor();
    return opened;
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-compare-extras-');
    hub = await startUiHub(tmp.dir);
    baseUrl = `http://127.0.0.1:${hub.port}/`;
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('shows the headline, the condition warnings, notes, new rows, scores and the Pareto chart at 1280×800', async () => {
    const { context, page } = await open(DESKTOP, fixture());
    try {
      const headline = page.locator('[data-panel="headline"]');
      await headline.waitFor({ state: 'visible' });
      const line = (group: string) => headline.locator(`.headline[data-group="${group.replace(/"/g, '\\"')}"]`);
      expect(await line('resnet50-int8').locator('.headline-text').textContent()).toBe('δ = 2.01× [1.96–2.05] faster (p = 0.008, 5 vs 5 trials)');
      expect(await line('resnet50-int8').getAttribute('data-verdict')).toBe('faster');
      expect(await line('resnet50-fp32').locator('.headline-text').textContent()).toBe('baseline (5 trials)');
      const evil = line(HOSTILE);
      expect(await evil.locator('.headline-text').textContent()).toBe('no measurable difference (δ 1.05× [0.96–1.16])');
      expect(await evil.locator('.cmp-name').textContent()).toBe(HOSTILE);
      const warnings = evil.locator('.warn-list li');
      expect(await warnings.count()).toBe(2);
      expect(await warnings.first().isVisible()).toBe(true);
      expect(await warnings.first().textContent()).toContain('High spread between trials');

      // The run conditions differ: a box above everything else.
      const alert = page.locator('[data-panel="condition-warnings"]');
      expect(await alert.isVisible()).toBe(true);
      expect(await alert.locator('li').allTextContents()).toEqual(fixture().conditionWarnings);
      const alertBox = (await alert.boundingBox())!;
      expect(alertBox.y).toBeLessThan((await headline.boundingBox())!.y);

      // Notes: the hub's, as they come: drops, warm-up (nothing excluded by default) and the Pi's missing power sensor.
      const notes = await page.locator('[data-panel="notes"] li').allTextContents();
      expect(notes).toEqual(fixture().notes);
      expect(notes.some((n) => /^resnet50-int8 \(.+\): the agent received 12 timings it could not count/.test(n))).toBe(true);
      expect(notes.some((n) => n.startsWith('Nothing is excluded as warm-up'))).toBe(true);
      expect(notes.some((n) => n.startsWith('No power sensor on pi-5 <b>bench</b>'))).toBe(true);

      // Rows: the new figures, a score with its change in points, β as a ratio.
      const cell = (row: string, id: string) => page.locator(`tr[data-row="${row}"] td[data-experiment-id="${id}"]`);
      for (const row of ['latencyP95Ms', 'latencyCov', 'firstCallMs', 'timingsDropped', 'netEnergyPerInferenceJ', 'idlePowerW', 'powerSource', 'throttledS', 'score:top-1', 'score:top-5', 'cond.powerMode']) {
        expect(await page.locator(`tr[data-row="${row}"]`).count(), row).toBe(1);
      }
      expect(await cell('score:top-1', 'i1').locator('.cmp-value').textContent()).toBe('75.2 %');
      expect(await cell('score:top-1', 'i1').locator('.cmp-sub').textContent()).toBe('−0.9 pp');
      expect(await cell('score:top-1', 'i1').getAttribute('class')).toContain('tone-bad');
      expect(await cell('score:top-1', 'f1').locator('.cmp-value').textContent()).toBe('76.1 %');
      expect(await cell('spaceSavingBytes', 'i1').locator('.cmp-value').textContent()).toBe('3.00×');
      expect(await cell('powerSource', 'f1').textContent()).toBe('board inputsampled every 1.0 s');
      expect(await cell('powerSource', 'e1').textContent()).toBe('no sensor');
      expect(await cell('timingsDropped', 'i3').getAttribute('class')).toContain('tone-bad');
      expect(await page.locator('tr[data-row="memUsedPeakBytes"] .cmp-label').textContent()).toBe('Peak memory (whole device)');
      expect(await page.locator('tr[data-row="cond.powerMode"]').getAttribute('data-differs')).toBe('true');
      // The hostile score name is a row label, as text.
      expect(await page.locator('tr[data-row^="score:<img"] .cmp-label').textContent()).toBe(`${HOSTILE} mAP`);

      // Trials: each p50 as a dot, the medians with intervals.
      const repeats = page.locator('[data-panel="repeats"]');
      expect(await repeats.locator('[data-group="resnet50-int8"] .trial-dot').count()).toBe(5);
      expect(await repeats.locator('[data-group="resnet50-int8"] .trial-list').textContent()).toBe('Trial p50s: 8.1 ms, 8.0 ms, 8.3 ms, 8.1 ms, 7.9 ms');
      expect(await repeats.locator('[data-group="resnet50-int8"] tr[data-estimate="latencyP50Ms"] td').textContent()).toBe('8.1 [7.9–8.3] ms');

      // Pareto: every experiment with a latency and top-1, the front through the best trade-offs.
      const canvas = page.locator('canvas[data-chart="pareto"]');
      await canvas.waitFor({ state: 'visible' });
      expect(await canvas.getAttribute('data-points')).toBe(String(ALL_IDS.length));
      expect(await canvas.getAttribute('data-score')).toBe('top-1');
      // The fastest int8 trial, and the fastest fp32 one (the best top-1); the rest are beaten by one of them.
      expect(await canvas.getAttribute('data-front')).toBe('i5 f4');
      const box = (await canvas.boundingBox())!;
      expect(box.width).toBeGreaterThan(600);
      expect(box.height).toBeGreaterThan(300);
      // The score and the cost are selectable; the hostile score is an <option> as text.
      const ySelect = page.locator('select[data-control="pareto-score"]');
      expect(await ySelect.locator('option').allTextContents()).toEqual(['top-1', 'top-5', `${HOSTILE} mAP`]);
      await ySelect.selectOption('top-5');
      await expect.poll(() => canvas.getAttribute('data-score')).toBe('top-5');
      expect(await canvas.getAttribute('data-points')).toBe('10');
      await page.locator('select[data-control="pareto-x"]').selectOption('energy');
      await expect.poll(() => canvas.getAttribute('data-x')).toBe('energy');
      await ySelect.selectOption('top-1');
      await page.locator('select[data-control="pareto-x"]').selectOption('latency');

      // Exports: the HTML report beside the others.
      expect(await page.locator('.exp-exports a').allTextContents()).toEqual(['CSV', 'Markdown', 'JSON', 'HTML report']);
      expect(await page.locator('a[data-export="html"]').getAttribute('href')).toBe(`api/v1/experiments/compare?ids=${ALL_IDS.join(',')}&baseline=f1&format=html`);

      // The hostile names stayed text everywhere.
      expect(await page.locator('img[src="x"], b, i').count()).toBe(0);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
      expect(await page.locator(`th[data-experiment-id="e1"] .cmp-name`).textContent()).toBe(HOSTILE);

      await page.screenshot({ path: join(ARTIFACTS, 'compare-extras-desktop.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'compare-extras-desktop-full.png'), fullPage: true });
      // Each part on its own, big enough to read.
      for (const panel of ['headline', 'table', 'pareto', 'repeats']) {
        await page.locator(`[data-panel="${panel}"]`).screenshot({ path: join(ARTIFACTS, `compare-extras-${panel}.png`) });
      }
    } finally {
      await context.close();
    }
  }, 60_000);

  it('fits a 390 px phone: wide tables scroll inside their box, with a cue', async () => {
    const { context, page } = await open(PHONE, fixture());
    try {
      await page.locator('canvas[data-chart="pareto"]').waitFor({ state: 'visible' });
      await page.waitForTimeout(200);
      await noHorizontalOverflow(page);
      expect(await overflowOutsideScrollers(page)).toEqual([]);
      const tableBox = page.locator('[data-panel="table"] .scroll-box');
      await expect.poll(() => tableBox.getAttribute('data-overflow')).toBe('true');
      expect(await tableBox.locator('.scroll-hint').isVisible()).toBe(true);
      expect(await tableBox.getAttribute('data-at')).toBe('start');
      await page.screenshot({ path: join(ARTIFACTS, 'compare-extras-phone.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'compare-extras-phone-full.png'), fullPage: true });
      for (const panel of ['table', 'pareto', 'repeats']) {
        await page.locator(`[data-panel="${panel}"]`).screenshot({ path: join(ARTIFACTS, `compare-extras-phone-${panel}.png`) });
      }
      // Scrolled to the end: the cue's fade goes.
      await tableBox.locator('.table-wrap').evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
      await expect.poll(() => tableBox.getAttribute('data-at')).toBe('end');
      expect(await page.evaluate('window.__xss')).toBeUndefined();
    } finally {
      await context.close();
    }
  }, 60_000);

  it('explains the missing chart when no experiment has a score', async () => {
    const { context, page } = await open(DESKTOP, withoutScores(fixture()));
    try {
      const panel = page.locator('[data-panel="pareto"]');
      await panel.waitFor({ state: 'visible' });
      expect(await panel.getAttribute('data-state')).toBe('empty');
      expect(await panel.locator('canvas').count()).toBe(0);
      expect(await panel.locator('.pareto-empty').textContent()).toContain('none of these experiments reported a quality score');
      expect(await page.locator('tr[data-row^="score:"]').count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ran without page errors, CSP violations or dialogs', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
