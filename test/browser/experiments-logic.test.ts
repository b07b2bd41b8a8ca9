// The experiments UI's pure logic, without a browser: number formats (×, J/mJ, counts), bands
// on the time charts, the comparison table's rows, repeats, the compare page's headline,
// notes, score rows and Pareto front, the inference charts' plan and the new hash routes.
import { describe, expect, it } from 'vitest';
import type { RepeatGroup, TrialSummary } from '../../shared/live.js';
import { comparison, estimate, experimentStats as stats, repeatGroup as group, trialSummary } from '../helpers/comparison-fixtures.js';
import { planPage } from '../../dashboard/web/src/chart-plan.js';
import { conditionRows, formatScore, formatScoreDelta, isFractionScore, scoreRows } from '../../dashboard/web/src/compare-rows-extra.js';
import { estimateLines, formatEstimate, formatP, formatRatioEstimate, headlines, headlineSentence, trialP50s } from '../../dashboard/web/src/compare-summary.js';
import { markerRadius, paretoChoices, paretoFront, paretoPlot } from '../../dashboard/web/src/pareto.js';
import {
  bandColor,
  compareApiUrl,
  compareHref,
  compareRows,
  fitLabel,
  formatChange,
  formatCount,
  formatDuration,
  formatEnergy,
  formatShare,
  formatTimes,
  laneCount,
  layoutBands,
  matchesName,
  modelReadings,
  rangeFor,
  repeatLines,
} from '../../dashboard/web/src/experiments-model.js';
import { parseRoute } from '../../dashboard/web/src/router.js';

describe('number formats', () => {
  it('writes speedups and compression ratios as ×', () => {
    expect(formatTimes(2.4137)).toBe('2.41×');
    expect(formatTimes(1)).toBe('1.00×');
    expect(formatTimes(0.5)).toBe('0.50×');
    expect(formatTimes(12.55)).toBe('12.6×');
    expect(formatTimes(128.4)).toBe('128×');
    expect(formatTimes(null)).toBe('—');
    expect(formatTimes(Number.NaN)).toBe('—');
  });

  it('writes energy in J, mJ when small, µJ when tiny, kJ when large', () => {
    expect(formatEnergy(1.234)).toBe('1.23 J');
    expect(formatEnergy(0.0123)).toBe('12.3 mJ');
    expect(formatEnergy(0.25)).toBe('250 mJ');
    expect(formatEnergy(0.000456)).toBe('456 µJ');
    expect(formatEnergy(4200)).toBe('4.20 kJ');
    expect(formatEnergy(0)).toBe('0 J');
    expect(formatEnergy(null)).toBe('—');
  });

  it('writes shares, counts, durations and changes', () => {
    expect(formatShare(0.75)).toBe('75.0 %');
    expect(formatShare(3)).toBe('300 %');
    expect(formatShare(-0.125)).toBe('−12.5 %');
    expect(formatShare(0)).toBe('0 %');
    expect(formatCount(11_689_512)).toBe('11.7 M');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(1_500_000_000)).toBe('1.50 G');
    expect(formatCount(null)).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(312)).toBe('5 min 12 s');
    expect(formatDuration(3900)).toBe('1 h 05 min');
    expect(formatDuration(2.5)).toBe('2.5 s');
    expect(formatChange(-0.62)).toBe('−62 %');
    expect(formatChange(0.051)).toBe('+5.1 %');
    expect(formatChange(null)).toBe('');
  });
});

describe('experiment bands', () => {
  const exps = [
    { id: 'b', name: 'int8', start: 5000, end: 9000 },
    { id: 'a', name: 'fp32', start: 1000, end: 4000 },
    { id: 'old', name: 'old', start: 0, end: 500 },
    { id: 'open', name: 'running', start: 8000, end: null },
  ];

  it('keeps what overlaps the range, clipped, in start order; open ones run to now', () => {
    const bands = layoutBands(exps, 2000, 10_000, 9500);
    expect(bands.map((b) => [b.id, b.x0, b.x1, b.open])).toEqual([
      ['a', 2000, 4000, false],
      ['b', 5000, 9000, false],
      ['open', 8000, 9500, true],
    ]);
    // a and b do not overlap: one row; the open one overlaps b: a second row.
    expect(bands.map((b) => b.lane)).toEqual([0, 0, 1]);
    expect(laneCount(bands)).toBe(2);
    expect(layoutBands(exps, 2000, 10_000).find((b) => b.id === 'open')!.x1).toBe(10_000);
    expect(layoutBands(exps, 20_000, 30_000, 30_000).map((b) => b.id)).toEqual(['open']);
    expect(layoutBands(exps, 10, 10)).toEqual([]);
  });

  it('colours repeats of one name alike', () => {
    expect(bandColor('resnet18-int8')).toBe(bandColor('resnet18-int8'));
    expect(bandColor('x')).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('shortens labels to the room there is', () => {
    const measure = (s: string) => s.length * 6;
    expect(fitLabel('resnet18-int8', 200, measure)).toBe('resnet18-int8');
    expect(fitLabel('resnet18-int8', 48, measure)).toBe('resnet1…');
    expect(fitLabel('resnet18-int8', 5, measure)).toBe('');
  });
});

describe('comparison rows', () => {
  const res = comparison({
    baseline: 'fp32',
    experiments: [
      stats('fp32', { latencyP50Ms: 20, energyPerInferenceJ: 0.05, params: 11_689_512, powerSource: 'board', powerMeanW: 5, speedupP50: 1, compressionParams: 1, spaceSavingParams: 0 }),
      stats('int8', {
        latencyP50Ms: 8,
        energyPerInferenceJ: 0.02,
        params: 2_922_378,
        powerSource: 'board',
        powerMeanW: 4,
        speedupP50: 2.5,
        compressionParams: 4,
        spaceSavingParams: 3,
        throttled: true,
      }),
    ],
  });
  const rows = compareRows(res);
  const row = (key: string) => rows.find((r) => r.key === key);

  it('puts the versus-baseline rows first, the baseline marked, ratios and savings as ×', () => {
    expect(rows[0]!.section).toBe('Versus baseline');
    expect(row('speedupP50')!.cells.map((c) => [c.text, c.tone])).toEqual([
      ['baseline', 'baseline'],
      ['2.50×', 'good'],
    ]);
    expect(row('speedupP50')!.emphasis).toBe('speedup');
    expect(row('compressionParams')!.cells[1]!.text).toBe('4.00×');
    // β as the API gives it, a ratio: one unit everywhere, not "300 %".
    expect(row('spaceSavingParams')!.cells[1]!.text).toBe('3.00×');
    expect(row('spaceSavingParams')!.cells[1]!.tone).toBe('good');
    // No experiment has a mean speedup or byte figures: no rows.
    expect(row('speedupMean')).toBeUndefined();
    expect(row('compressionBytes')).toBeUndefined();
    expect(row('gpuUtilMean')).toBeUndefined();
  });

  it('shows the change against the baseline, coloured by which way is better', () => {
    const p50 = row('latencyP50Ms')!;
    expect(p50.cells.map((c) => c.text)).toEqual(['20.0 ms', '8.0 ms']);
    expect(p50.cells[1]).toMatchObject({ sub: '−60 %', tone: 'good' });
    const energy = row('energyPerInferenceJ')!;
    expect(energy.emphasis).toBe('energy');
    expect(energy.cells.map((c) => c.text)).toEqual(['50.0 mJ', '20.0 mJ']);
    expect(energy.cells[1]!.tone).toBe('good');
    expect(row('powerSource')!.cells.map((c) => c.text)).toEqual(['board input', 'board input']);
    expect(row('throttled')!.cells.map((c) => [c.text, c.tone])).toEqual([
      ['—', undefined],
      ['yes', 'bad'],
    ]);
    expect(row('params')!.cells.map((c) => c.text)).toEqual(['11.7 M', '2.92 M']);
  });

  it('turns repeat groups into mean ± stdev lines', () => {
    const group = {
      name: 'int8',
      runs: 3,
      ids: ['a', 'b', 'c'],
      figures: { latencyP50Ms: { n: 3, mean: 8.2, stdev: 0.31 }, energyPerInferenceJ: { n: 3, mean: 0.021, stdev: 0.0012 }, gpuUtilMean: { n: 0, mean: null, stdev: null } },
    } as unknown as RepeatGroup;
    expect(repeatLines(group).map((l) => [l.key, l.text])).toEqual([
      ['latencyP50Ms', '8.2 ms ± 310 µs'],
      ['energyPerInferenceJ', '21.0 mJ ± 1.20 mJ'],
    ]);
  });
});

/** A group's trials as the headline tests read them: a p50 of 8.1 [7.9–8.3] ms, CoV 1.2 %. */
function trials(over: Partial<TrialSummary>): TrialSummary {
  return trialSummary({ latencyP50Ms: estimate(8.1, 7.9, 8.3), cov: 0.012, ...over });
}

describe('compare headline', () => {
  const base = group('fp32', ['f1', 'f2', 'f3', 'f4', 'f5'], trials({ latencyP50Ms: { value: 16.3, lo: 16.1, hi: 16.6 } }));

  it('says faster with δ, its interval, p and the trial counts', () => {
    const t = trials({ versusBaseline: { speedup: { value: 2.0132, lo: 1.9619, hi: 2.0511 }, pValue: 0.0079, verdict: 'faster' }, verdict: 'faster' });
    expect(headlineSentence(t, 5)).toBe('δ = 2.01× [1.96–2.05] faster (p = 0.008, 5 vs 5 trials)');
    const lines = headlines({ baseline: 'f1', groups: [base, group('int8', ['i1', 'i2', 'i3', 'i4', 'i5'], t)] });
    expect(lines.map((l) => [l.group, l.verdict, l.text])).toEqual([
      ['fp32', 'baseline', 'baseline (5 trials)'],
      ['int8', 'faster', 'δ = 2.01× [1.96–2.05] faster (p = 0.008, 5 vs 5 trials)'],
    ]);
    expect(lines[1]!.detail).toBe('median p50 8.1 [7.9–8.3] ms · trial-to-trial CoV 1.2 %');
  });

  it('says slower, and "no measurable difference" with δ when the interval spans 1×', () => {
    const slower = trials({ n: 3, versusBaseline: { speedup: { value: 0.52, lo: 0.5, hi: 0.55 }, pValue: 0.0004, verdict: 'slower' }, verdict: 'slower' });
    expect(headlineSentence(slower, 5)).toBe('δ = 0.52× [0.50–0.55] slower (p < 0.001, 3 vs 5 trials)');
    const same = trials({ versusBaseline: { speedup: { value: 1.0104, lo: 0.97, hi: 1.05 }, pValue: 0.41, verdict: 'no measurable difference' }, verdict: 'no measurable difference' });
    expect(headlineSentence(same, 5)).toBe('no measurable difference (δ 1.01× [0.97–1.05])');
    const [, line] = headlines({ baseline: 'f1', groups: [base, group('prune', ['p1', 'p2', 'p3', 'p4', 'p5'], same)] });
    expect(line!.detail).toContain('p = 0.41, 5 vs 5 trials');
  });

  it('carries the group warnings and skips groups without two trials', () => {
    const warned = trials({
      n: 2,
      cov: 0.21,
      versusBaseline: { speedup: { value: 1.4, lo: 0.9, hi: 2.1 }, pValue: 0.33, verdict: 'no measurable difference' },
      verdict: 'no measurable difference',
      warnings: ['High spread between trials (CoV 21 %): pin the clocks.', 'Only 2 trials: run 5 or more for a test.'],
    });
    const lines = headlines({ baseline: 'f1', groups: [base, group('single', ['s1'], null), group('noisy', ['n1', 'n2'], warned)] });
    expect(lines.map((l) => l.group)).toEqual(['fp32', 'noisy']);
    expect(lines[1]!.warnings).toEqual(warned.warnings);
    expect(headlines({ baseline: 'a', groups: [] })).toEqual([]);
  });

  it('formats ratios, figures with intervals and p-values', () => {
    expect(formatRatioEstimate({ value: 12.34, lo: 11.2, hi: 13.05 })).toBe('12.3× [11.2–13.1]');
    expect(formatEstimate({ value: 8.1, lo: 7.9, hi: 8.3 }, (v) => `${v.toFixed(1)} ms`)).toBe('8.1 [7.9–8.3] ms');
    expect(formatEstimate({ value: 0.98, lo: 0.95, hi: 1.2 }, (v) => (v < 1 ? `${Math.round(v * 1000)} µs` : `${v.toFixed(1)} ms`))).toBe('980 µs [950 µs–1.2 ms]');
    expect(formatP(0.0079)).toBe('0.008');
    expect(formatP(0.41)).toBe('0.41');
    expect(formatP(0.0476)).toBe('0.048');
    expect(formatP(0.00001)).toBe('< 0.001');
    const t = trials({ versusBaseline: { speedup: { value: 2, lo: 1.9, hi: 2.1 }, pValue: 0.008, verdict: 'faster' } });
    expect(estimateLines(t).map((l) => [l.key, l.text])).toEqual([
      ['latencyP50Ms', '8.1 [7.9–8.3] ms'],
      ['cov', '1.2 %'],
      ['versusBaseline', '2.00× [1.90–2.10], p = 0.008'],
    ]);
  });

  it('lists each trial p50 of a group', () => {
    const exps = [stats('a', { latencyP50Ms: 8.1 }), stats('b', { latencyP50Ms: null }), stats('c', { latencyP50Ms: 7.9 })];
    expect(trialP50s(exps, { ids: ['a', 'b', 'c', 'gone'] })).toEqual([
      { id: 'a', p50: 8.1 },
      { id: 'c', p50: 7.9 },
    ]);
  });
});

describe('compare rows: scores, new figures, conditions', () => {
  const fp32 = stats('fp32', {
    latencyP50Ms: 20,
    scores: [
      { name: 'top-1', value: 0.698, better: 'higher' },
      { name: 'WER', value: 12.5, better: 'lower' },
    ],
    conditions: { powerMode: 'MAXN', cpuGovernor: 'performance', gpus: [{ index: 0, name: 'Orin', powerLimitW: 40 }] },
  });
  const int8 = stats('int8', {
    latencyP50Ms: 8,
    scores: [
      { name: 'top-1', value: 0.684, better: 'higher' },
      { name: 'WER', value: 11.25, better: 'lower' },
    ],
    scoreDeltas: [{ name: 'top-1', better: 'higher', value: 0.684, baseline: 0.698, delta: -0.014, worse: true }],
    conditions: { powerMode: '15W', cpuGovernor: 'performance', gpus: [{ index: 0, name: 'Orin', powerLimitW: 15 }] },
  });

  it('formats scores and their change: points for fractions, the own unit otherwise', () => {
    expect(isFractionScore([0.698, 0.684])).toBe(true);
    expect(isFractionScore([0.698, 12])).toBe(false);
    expect(isFractionScore([])).toBe(false);
    expect(formatScore(0.698, true)).toBe('69.8 %');
    expect(formatScore(12.5, false)).toBe('12.5');
    expect(formatScore(null, true)).toBe('—');
    expect(formatScoreDelta(0.0142, true)).toBe('+1.4 pp');
    expect(formatScoreDelta(-0.014, true)).toBe('−1.4 pp');
    expect(formatScoreDelta(0, true)).toBe('±0.0 pp');
    expect(formatScoreDelta(-1.25, false)).toBe('−1.25');
    expect(formatScoreDelta(null, false)).toBe('');
  });

  it('makes one row per score with Δ against the baseline, coloured by which way is better', () => {
    const rows = scoreRows([fp32, int8], 'fp32');
    expect(rows.map((r) => [r.key, r.section, r.label])).toEqual([
      ['score:top-1', 'Quality', 'top-1'],
      ['score:WER', 'Quality', 'WER'],
    ]);
    expect(rows[0]!.cells.map((c) => [c.text, c.sub, c.tone])).toEqual([
      ['69.8 %', undefined, 'baseline'],
      ['68.4 %', '−1.4 pp', 'bad'],
    ]);
    // No delta from the hub: worked out from the baseline's score; lower WER is better.
    expect(rows[1]!.cells[1]).toMatchObject({ text: '11.25', sub: '−1.25', tone: 'good' });
    expect(rows[1]!.hint).toBe('lower is better');
    // Scores sit right after the versus-baseline rows.
    const all = compareRows({ baseline: 'fp32', experiments: [fp32, int8] });
    expect(all.findIndex((r) => r.key === 'score:top-1')).toBeLessThan(all.findIndex((r) => r.key === 'latencyP50Ms'));
  });

  it('has rows for the new figures only where some experiment has them', () => {
    const bare = compareRows({ baseline: 'a', experiments: [stats('a', { latencyP50Ms: 10 }), stats('b', { latencyP50Ms: 5 })] });
    const bareKeys = bare.map((r) => r.key);
    for (const key of ['latencyP95Ms', 'latencyCov', 'firstCallMs', 'warmupInferences', 'warmupMeanMs', 'warmup', 'timingsDropped', 'netEnergyPerInferenceJ', 'idlePowerW', 'powerSource', 'throttledS', 'tags']) {
      expect(bareKeys, key).not.toContain(key);
    }
    expect(bareKeys.some((k) => k.startsWith('score:') || k.startsWith('cond.'))).toBe(false);

    const full = compareRows({
      baseline: 'a',
      idleWindowS: 30,
      experiments: [
        stats('a', { latencyP95Ms: 12, latencyCov: 0.042, firstCallMs: 850, warmup: { calls: 10 }, warmupInferences: 10, warmupMeanMs: 40, timingsDropped: 0, powerSource: 'gpu+rapl', powerSampleIntervalS: 0.5, idlePowerW: 3.2, netEnergyPerInferenceJ: 0.02, throttledS: 0, tags: { q: 'ptq' } }),
        stats('b', { latencyP95Ms: 6, latencyCov: 0.08, firstCallMs: 400, warmupInferences: 0, timingsDropped: 3, powerSource: null, throttledS: 12, netEnergyPerInferenceJ: 0.01 }),
      ],
    });
    const row = (key: string) => full.find((r) => r.key === key)!;
    expect(row('latencyP95Ms').cells.map((c) => [c.text, c.sub])).toEqual([
      ['12.0 ms', undefined],
      ['6.0 ms', '−50 %'],
    ]);
    expect(row('latencyCov').cells.map((c) => c.text)).toEqual(['4.2 %', '8.0 %']);
    expect(row('firstCallMs').section).toBe('Warm-up');
    expect(row('warmup').cells.map((c) => c.text)).toEqual(['first 10 calls', 'none, first calls counted']);
    expect(row('warmupInferences').cells.map((c) => c.text)).toEqual(['10', '0']);
    expect(row('timingsDropped').cells.map((c) => [c.text, c.tone])).toEqual([
      ['0', 'good'],
      ['3', 'bad'],
    ]);
    expect(row('powerSource').cells.map((c) => [c.text, c.sub])).toEqual([
      ['GPU + RAPL', 'sampled every 500 ms'],
      ['no sensor', undefined],
    ]);
    expect(row('idlePowerW').hint).toBe('mean over the 30 s before the start');
    expect(row('netEnergyPerInferenceJ').cells[1]).toMatchObject({ text: '10.0 mJ', sub: '−50 %', tone: 'good' });
    expect(row('throttledS').cells.map((c) => [c.text, c.tone])).toEqual([
      ['0.0 s', 'good'],
      ['12 s', 'bad'],
    ]);
    expect(row('tags').cells.map((c) => c.text)).toEqual(['q=ptq', '—']);
    expect(full.find((r) => r.key === 'memUsedPeakBytes')).toBeUndefined();
    // Peak memory is the whole device's, and says so.
    const mem = compareRows({ baseline: 'a', experiments: [stats('a', { memUsedPeakBytes: 2 ** 30 })] });
    expect(mem.find((r) => r.key === 'memUsedPeakBytes')!.label).toBe('Peak memory (whole device)');
  });

  it('lists the run conditions, marking those that differ', () => {
    const rows = conditionRows([fp32, int8]);
    expect(rows.map((r) => [r.key, r.differs, r.cells.map((c) => c.text)])).toEqual([
      ['cond.powerMode', true, ['MAXN', '15W']],
      ['cond.cpuGovernor', false, ['performance', 'performance']],
      ['cond.gpu', false, ['Orin', 'Orin']],
      ['cond.gpuPowerLimit', true, ['40.0 W', '15.0 W']],
    ]);
    expect(conditionRows([stats('a', {}), stats('b', {})])).toEqual([]);
    expect(compareRows({ baseline: 'fp32', experiments: [fp32, int8] }).at(-1)!.section).toBe('Conditions');
  });
});

describe('Pareto front', () => {
  const P = (id: string, x: number, y: number) => ({ id, x, y });

  it('keeps the points nothing beats on both cost and score, by cost', () => {
    const pts = [P('fp32', 20, 0.76), P('int8', 8, 0.75), P('int4', 5, 0.7), P('bad', 21, 0.7), P('mid', 10, 0.74), P('dom', 9, 0.74)];
    expect(paretoFront(pts, 'higher').map((p) => p.id)).toEqual(['int4', 'int8', 'fp32']);
    // Lower is better (WER): the lowest score at each cost wins.
    const wer = [P('a', 10, 5), P('b', 5, 9), P('c', 12, 4), P('d', 11, 6)];
    expect(paretoFront(wer, 'lower').map((p) => p.id)).toEqual(['b', 'a', 'c']);
  });

  it('keeps ties, and handles one point or none', () => {
    expect(paretoFront([P('a', 5, 0.7), P('b', 5, 0.7)], 'higher').map((p) => p.id)).toEqual(['a', 'b']);
    expect(paretoFront([P('a', 5, 0.7), P('b', 5, 0.8)], 'higher').map((p) => p.id)).toEqual(['b']);
    expect(paretoFront([P('only', 1, 1)], 'higher').map((p) => p.id)).toEqual(['only']);
    expect(paretoFront([], 'higher')).toEqual([]);
  });

  it('plots experiments with a cost and the chosen score, sized by model bytes or params', () => {
    const exps = [
      stats('fp32', { latencyP50Ms: 20, energyPerInferenceJ: 0.05, modelBytes: 4e7, params: 1e7, scores: [{ name: 'top-1', value: 0.76, better: 'higher' }] }),
      stats('int8', { latencyP50Ms: 8, modelBytes: 1e7, scores: [{ name: 'top-1', value: 0.75, better: 'higher' }] }),
      stats('noscore', { latencyP50Ms: 5, modelBytes: 1e6 }),
    ];
    expect(paretoChoices(exps)).toEqual({ xs: ['latency', 'energy'], scores: [{ name: 'top-1', better: 'higher' }] });
    const plot = paretoPlot(exps, 'latency', 'top-1');
    expect(plot.points.map((p) => [p.id, p.x, p.y, p.size])).toEqual([
      ['fp32', 20, 0.76, 4e7],
      ['int8', 8, 0.75, 1e7],
    ]);
    expect(plot.sizeBy).toBe('modelBytes');
    expect(plot.front.map((p) => p.id)).toEqual(['int8', 'fp32']);
    expect(plot.missing).toEqual(['noscore']);
    expect(paretoPlot(exps, 'energy', 'top-1').points.map((p) => p.id)).toEqual(['fp32']);
    expect(paretoChoices([stats('a', { latencyP50Ms: 3 })]).scores).toEqual([]);
    // Radius ∝ √size: a quarter of the bytes, half the radius.
    expect(markerRadius(4e7, 4e7)).toBe(18);
    expect(markerRadius(1e7, 4e7)).toBe(9);
    expect(markerRadius(1, 4e7)).toBe(4);
    expect(markerRadius(null, 4e7)).toBe(6);
  });
});

describe('inference charts and readings', () => {
  const names = ['cpu.util', 'infer.resnet18_fp32.rate', 'infer.resnet18_fp32.items_rate', 'infer.resnet18_fp32.latency.p50', 'infer.resnet18_fp32.latency.p99', 'infer.resnet18_fp32.latency.mean', 'infer.yolo.rate', 'infer.yolo.latency.p50'];

  it('plans a throughput and a latency chart, p50 solid and p99 dashed, one colour per model', () => {
    const plan = planPage(names, new Map(), new Map([['resnet18_fp32', 'resnet18-fp32']]));
    expect(plan.charts.map((c) => c.id)).toEqual(['infer-rate', 'infer-latency', 'cpu']);
    const rate = plan.charts[0]!;
    expect(rate).toMatchObject({ title: 'Inference throughput', unit: '/s', min: 0 });
    expect(rate.series.map((s) => [s.metric, s.label, s.dash ?? null])).toEqual([
      ['infer.resnet18_fp32.rate', 'resnet18-fp32 calls/s', null],
      ['infer.resnet18_fp32.items_rate', 'resnet18-fp32 items/s', [5, 3]],
      ['infer.yolo.rate', 'yolo calls/s', null],
    ]);
    const lat = plan.charts[1]!;
    expect(lat).toMatchObject({ title: 'Inference latency', unit: 'ms' });
    expect(lat.series.map((s) => [s.metric, s.dash ?? null])).toEqual([
      ['infer.resnet18_fp32.latency.p50', null],
      ['infer.resnet18_fp32.latency.p99', [5, 3]],
      ['infer.yolo.latency.p50', null],
    ]);
    expect(lat.series[0]!.color).toBe(lat.series[1]!.color);
    expect(lat.series[0]!.color).not.toBe(lat.series[2]!.color);
  });

  it('reads the latest values per model from a sample', () => {
    const m = { 'cpu.util': 3, 'infer.yolo.rate': 30, 'infer.yolo.latency.p50': 12.5, 'infer.a.latency.p99': 40 };
    expect(modelReadings(m, new Map([['yolo', 'yolo-v8n']]))).toEqual([
      { key: 'a', name: 'a', p99: 40 },
      { key: 'yolo', name: 'yolo-v8n', rate: 30, p50: 12.5 },
    ]);
  });
});

describe('routes and links', () => {
  it('parses the experiments and compare routes', () => {
    expect(parseRoute('#/experiments')).toEqual({ page: 'experiments', device: null, name: null });
    expect(parseRoute('#/experiments?device=pi&name=int8')).toEqual({ page: 'experiments', device: 'pi', name: 'int8' });
    expect(parseRoute('#/compare?ids=a,b&baseline=b')).toEqual({ page: 'compare', ids: ['a', 'b'], baseline: 'b' });
    expect(parseRoute('#/compare?ids=a,b,a')).toEqual({ page: 'compare', ids: ['a', 'b'], baseline: 'a' });
    expect(parseRoute('#/compare?ids=a,b&baseline=zzz')).toEqual({ page: 'compare', ids: ['a', 'b'], baseline: 'a' });
    expect(parseRoute(compareHref(['x-1', 'x.2'], 'x.2'))).toEqual({ page: 'compare', ids: ['x-1', 'x.2'], baseline: 'x.2' });
  });

  it('builds the API links for the exports', () => {
    expect(compareApiUrl(['a', 'b'], 'a', 'csv')).toBe('api/v1/experiments/compare?ids=a,b&baseline=a&format=csv');
    expect(compareApiUrl(['a', 'b'], null)).toBe('api/v1/experiments/compare?ids=a,b');
    expect(compareApiUrl(['a', 'b'], 'b', 'html')).toBe('api/v1/experiments/compare?ids=a,b&baseline=b&format=html');
  });

  it('filters by name, model or tag and picks a device-page range that shows an experiment', () => {
    const e = { name: 'ResNet18-int8', models: ['resnet18-int8'], tags: { quant: 'ptq' } };
    expect(matchesName(e, 'int8')).toBe(true);
    expect(matchesName(e, 'quant=ptq')).toBe(true);
    expect(matchesName(e, 'fp32')).toBe(false);
    expect(matchesName(e, ' ')).toBe(true);
    const now = 10 * 86_400_000;
    expect(rangeFor(now - 5 * 60_000, now)).toBe('15m');
    expect(rangeFor(now - 50 * 60_000, now)).toBe('1h');
    expect(rangeFor(now - 30 * 86_400_000, now)).toBe('7d');
  });
});
