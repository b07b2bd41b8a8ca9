// The experiments UI's pure logic, without a browser: number formats (×, J/mJ, counts), bands
// on the time charts, the comparison table's rows, repeats, the inference charts' plan and
// the new hash routes.
import { describe, expect, it } from 'vitest';
import type { ComparisonResponse, ExperimentStats, RepeatGroup } from '../../shared/live.js';
import { planPage } from '../../dashboard/web/src/chart-plan.js';
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

function stats(id: string, over: Partial<ExperimentStats>): ExperimentStats {
  return {
    id,
    deviceId: 'dev',
    deviceName: 'dev',
    name: id,
    tags: {},
    params: null,
    modelBytes: null,
    start: 0,
    end: 1000,
    models: [],
    inferences: 100,
    running: false,
    items: 100,
    durationS: 10,
    inferencesPerS: 10,
    itemsPerS: 10,
    latencySource: 'experiment',
    latencyMeanMs: null,
    latencyP50Ms: null,
    latencyP90Ms: null,
    latencyP99Ms: null,
    latencyMaxMs: null,
    latencyStdevMs: null,
    cpuUtilMean: null,
    cpuUtilPeak: null,
    gpuUtilMean: null,
    gpuUtilPeak: null,
    memUsedPeakBytes: null,
    powerSource: null,
    powerMetrics: [],
    powerMeanW: null,
    powerPeakW: null,
    energyJ: null,
    energyPerInferenceJ: null,
    tempPeakC: null,
    throttled: null,
    speedupP50: null,
    speedupMean: null,
    compressionParams: null,
    spaceSavingParams: null,
    compressionBytes: null,
    spaceSavingBytes: null,
    ...over,
  };
}

describe('comparison rows', () => {
  const res: ComparisonResponse = {
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
    groups: [],
  };
  const rows = compareRows(res);
  const row = (key: string) => rows.find((r) => r.key === key);

  it('puts the versus-baseline rows first, the baseline marked, ratios as × and savings as %', () => {
    expect(rows[0]!.section).toBe('Versus baseline');
    expect(row('speedupP50')!.cells.map((c) => [c.text, c.tone])).toEqual([
      ['baseline', 'baseline'],
      ['2.50×', 'good'],
    ]);
    expect(row('speedupP50')!.emphasis).toBe('speedup');
    expect(row('compressionParams')!.cells[1]!.text).toBe('4.00×');
    expect(row('spaceSavingParams')!.cells[1]!.text).toBe('300 %');
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
    expect(row('powerMeanW')!.cells[0]!.sub).toBe('board input');
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
