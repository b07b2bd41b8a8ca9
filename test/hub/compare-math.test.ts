// The comparison maths on hand-made inputs (no SQLite): edge cases the end-to-end test does
// not reach — no power, no inferences, missing params, other power sources, running experiments.
import { describe, expect, it } from 'vitest';
import { choosePower, combineByTime, compareExperiments, comparisonMetrics, comparisonNotes, experimentStats, versusBaseline, repeatFigure, trapezoid, type ExperimentInput } from '../../dashboard/server/compare.js';
import { csvCell, mdCell } from '../../dashboard/server/compare-export.js';
import { LogHistogram } from '../../shared/histogram.js';

const S = 1_000_000;

function input(id: string, over: Partial<ExperimentInput> = {}, exp: Partial<ExperimentInput['experiment']> = {}): ExperimentInput {
  return {
    experiment: { id, deviceId: 'd', deviceName: 'd', name: id, tags: {}, params: null, modelBytes: null, start: S, end: S + 10_000, ...exp },
    rangeEnd: exp.end === null ? S + 4000 : S + 10_000,
    timings: [],
    latencySource: null,
    samples: {},
    ...over,
  };
}

function timings(values: number[], items = values.length) {
  const h = new LogHistogram();
  for (const v of values) h.add(v);
  return [{ model: 'm', histogram: h.summary(), items }];
}

describe('compare.ts', () => {
  it('has null energy and power without power metrics, and null throttling without Pi flags', () => {
    const s = experimentStats(input('a', { timings: timings([5, 6]), samples: { 'cpu.util': [[S, 10], [S + 5000, 30]] } }));
    expect(s).toMatchObject({ powerSource: null, powerMetrics: [], powerMeanW: null, powerPeakW: null, energyJ: null, energyPerInferenceJ: null, throttled: null, gpuUtilMean: null, tempPeakC: null, memUsedPeakBytes: null });
    expect(s.cpuUtilMean).toBe(20);
  });

  it('reports zero inferences as zero throughput with no latency and no energy per inference', () => {
    const s = experimentStats(input('a', { latencySource: 'time-range', samples: { 'power.board': [[S, 2], [S + 10_000, 4]] } }));
    expect(s).toMatchObject({ inferences: 0, items: 0, inferencesPerS: 0, itemsPerS: 0, latencySource: null, latencyP50Ms: null, latencyMeanMs: null, latencyStdevMs: null, latencyMaxMs: null, energyJ: 30, energyPerInferenceJ: null });
  });

  it('leaves α and β null where either side lacks params or size, and δ null where a side has no timings', () => {
    const r = compareExperiments(
      [
        input('base', { timings: timings([10, 10, 10]) }, { params: 1000, modelBytes: null }),
        input('small', { timings: timings([5, 5]) }, { params: null, modelBytes: 100 }),
        input('empty', {}, { params: 250, modelBytes: 0 }),
      ],
      'base',
    );
    const [base, small, empty] = r.experiments;
    expect(base).toMatchObject({ speedupP50: 1, compressionParams: 1, spaceSavingParams: 0, compressionBytes: null, spaceSavingBytes: null });
    expect(small).toMatchObject({ compressionParams: null, spaceSavingParams: null, compressionBytes: null, spaceSavingBytes: null });
    expect(small!.speedupP50).toBeCloseTo(2, 1);
    expect(empty).toMatchObject({ speedupP50: null, speedupMean: null, compressionParams: 4, spaceSavingParams: 3, compressionBytes: null });
    expect(() => compareExperiments([input('a')], 'b')).toThrow(/baseline "b" is not among/);
  });

  it('sums GPU and RAPL package/DRAM power when there is no board rail, and falls back to hwmon', () => {
    const names = ['gpu.0.power', 'gpu.0.power.limit', 'gpu.1.power', 'power.rapl.package_0', 'power.rapl.dram', 'power.rapl.core', 'power.hwmon.ina3221_0'];
    expect(choosePower(names)).toEqual({ source: 'gpu+rapl', metrics: ['gpu.0.power', 'gpu.1.power', 'power.rapl.dram', 'power.rapl.package_0'] });
    expect(choosePower(['power.hwmon.b', 'power.hwmon.a', 'power.rail.vdd_in'])).toEqual({ source: 'hwmon', metrics: ['power.hwmon.a', 'power.hwmon.b'] });
    expect(choosePower(['power.board', ...names])).toEqual({ source: 'board', metrics: ['power.board'] });
    expect(choosePower(['power.rail.vdd_cpu'])).toBeNull();
    expect(comparisonMetrics(['cpu.util', 'cpu.core.0.util', 'gpu.0.power.limit', 'gpu.0.temp.mem', 'temp.soc', 'pi.throttle.bits', 'pi.throttle.throttled'])).toEqual(['cpu.util', 'temp.soc', 'pi.throttle.throttled']);

    const s = experimentStats(
      input('x', {
        timings: timings([1, 1, 1, 1]),
        samples: {
          'gpu.0.power': [[S, 10], [S + 1000, 20]],
          'gpu.0.power.limit': [[S, 300], [S + 1000, 300]],
          'power.rapl.package_0': [[S, 5], [S + 1000, 5]],
          'power.hwmon.x': [[S, 99], [S + 1000, 99]],
          'gpu.0.util': [[S, 100], [S + 1000, 50]],
          'gpu.1.util': [[S, 0], [S + 1000, 50]],
        },
      }),
    );
    expect(s).toMatchObject({ powerSource: 'gpu+rapl', powerMeanW: 20, powerPeakW: 25, energyJ: 20, energyPerInferenceJ: 5, gpuUtilMean: 50, gpuUtilPeak: 50 });
  });

  it('uses only samples within [start, rangeEnd]; a running experiment runs to rangeEnd', () => {
    const s = experimentStats(
      input('r', { timings: timings([3]), samples: { 'power.board': [[S - 1000, 1000], [S, 1], [S + 4000, 1], [S + 4001, 1000]], 'pi.throttle.freq_capped': [[S - 1, 1], [S, 0]] } }, { end: null }),
    );
    expect(s).toMatchObject({ running: true, durationS: 4, energyJ: 4, powerPeakW: 1, throttled: false, inferencesPerS: 0.25 });
    // One sample is not an integral.
    expect(trapezoid([[S, 5]])).toBeNull();
    expect(combineByTime([[[1, 2]], [[1, 3], [2, 4]]], 'sum')).toEqual([[1, 5], [2, 4]]);
  });

  it('averages repeats with the sample standard deviation, over the runs that have the figure', () => {
    expect(repeatFigure([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ n: 8, mean: 5, stdev: Math.sqrt(32 / 7) });
    expect(repeatFigure([null, 3])).toEqual({ n: 1, mean: 3, stdev: null });
    expect(repeatFigure([null])).toEqual({ n: 0, mean: null, stdev: null });
  });

  it('escapes export cells: CSV quoting and formula prefix for text only, Markdown pipes, newlines and HTML', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('-x,y')).toBe(`"'-x,y"`);
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('a\nb')).toBe('"a\nb"');
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
    expect(mdCell('a|b\r\nc <b>\\')).toBe('a\\|b c &lt;b&gt;\\\\');
    expect(mdCell(null)).toBe('–');
  });
});

describe('comparison notes (the page shows them as they are)', () => {
  const run = (id: string, over: Partial<ExperimentInput> = {}): ExperimentInput => ({
    experiment: { id, deviceId: 'd', deviceName: id === 'pi' ? 'pi-4' : 'orin', name: id, tags: {}, params: null, modelBytes: null, start: 1000, end: 11_000 },
    rangeEnd: 11_000,
    timings: [],
    latencySource: null,
    samples: id === 'pi' ? {} : { 'power.board': [[1000, 5], [6000, 5], [11_000, 5]] },
    ...over,
  });
  const notes = (inputs: ExperimentInput[]) => {
    const own = inputs.map((i) => experimentStats(i));
    return comparisonNotes(own.map((s) => versusBaseline(s, own[0]!)), 10);
  };

  it('says first calls are included when no run excluded a warm-up', () => {
    expect(notes([run('a', { timingsDropped: 0 })])[0]).toMatch(/^Nothing is excluded as warm-up: first calls are in every figure/);
  });

  it('names the warm-ups, the dropped timings and a device without a power sensor', () => {
    const out = notes([run('a', { warmup: { calls: 50 }, timingsDropped: 12 }), run('pi', { timingsDropped: 0 })]);
    expect(out).toContain('Warm-up excluded from the measured figures (the first 50 calls of each model); 1 run had no warm-up and include every call.');
    expect(out).toContain('a (a): the agent received 12 timings it could not count (over a bound); the figures miss them.');
    expect(out).toContain('No power sensor on pi-4: energy figures are empty there.');
  });
});
