// Experiment snapshots at the store level (real SQLite file, no hub): which commits mark an
// ended experiment stale (its end, late tagged timings, late samples or untagged timings in its
// window, its idle window included; never live data after it, never a running experiment), and
// the rollup fallback's figures checked exactly against the values sent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rollupSampleFigures } from '../../dashboard/server/experiment-snapshots.js';
import { Store, type BatchToCommit } from '../../dashboard/store/store.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { InferenceAggregate, Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

function agg(t: number, experiment?: string): InferenceAggregate {
  const h = new LogHistogram();
  h.add(12);
  const s = h.summary();
  return { model: 'm', t, count: 1, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max, items: 1, buckets: s.buckets, ...(experiment ? { experiment } : {}) };
}

describe('experiment snapshot marks and rollup figures (real SQLite file)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let num: number;
  let seq = 0;
  const commit = (samples: Sample[]): void => {
    const b: BatchToCommit = { deviceNum: num, seq: ++seq, receivedAt: T0, samples };
    expect(store.commitBatches([b])).toEqual([{ stored: true }]);
  };
  const dirty = (): string[] => store.snapshots.takeDirty(100).sort();

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open(tmp.dir);
    num = store.upsertDevice(helloFrame('pi'), 0).num;
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it('marks an experiment when it ends and when late data for its window arrives, not for live data after it', () => {
    commit([{ t: T0, m: { 'cpu.util': 1 }, e: [{ id: 'x-a', name: 'a', start: T0 + 60_000 }] }]);
    commit([{ t: T0 + 70_000, m: { 'cpu.util': 1 }, i: [agg(T0 + 69_000, 'x-a')] }]);
    expect(dirty()).toEqual([]); // running
    commit([{ t: T0 + 120_000, m: { 'cpu.util': 1 }, e: [{ id: 'x-a', name: 'a', start: T0 + 60_000, end: T0 + 120_000 }] }]);
    expect(dirty()).toEqual(['x-a']);
    commit([{ t: T0 + 121_000, m: { 'cpu.util': 2 } }]);
    expect(dirty()).toEqual([]); // live, after the end
    commit([{ t: T0 + 200_000, m: { 'cpu.util': 2 }, i: [agg(T0 + 90_000, 'x-a')] }]);
    expect(dirty()).toEqual(['x-a']); // a late tagged timing
    commit([{ t: T0 + 95_500, m: { 'power.board': 9 } }]);
    expect(dirty()).toEqual(['x-a']); // a late sample in the window
    commit([{ t: T0 + 55_000, m: { 'power.board': 9 } }]);
    expect(dirty()).toEqual(['x-a']); // in the 10 s idle window before the start
    commit([{ t: T0 + 40_000, m: { 'power.board': 9 } }]);
    expect(dirty()).toEqual([]); // before the idle window
    commit([{ t: T0 + 201_000, m: { 'cpu.util': 2 }, i: [agg(T0 + 100_000)] }]);
    expect(dirty()).toEqual(['x-a']); // a late untagged timing in the window
    commit([{ t: T0 + 202_000, m: { 'cpu.util': 2 }, e: [{ id: 'x-a', name: 'a', start: T0 + 60_000, end: T0 + 120_000, scores: [{ name: 'top1', value: 0.9, better: 'higher' }] }] }]);
    expect(dirty()).toEqual(['x-a']); // a later event with scores
    expect(store.snapshots.missing(1)).toEqual(['x-a']);
  });

  it('takes rollup figures from bucket sums and maxima over the buckets the run overlaps', () => {
    const samples: Sample[] = [];
    // Two whole minutes of run at 1 s, then a sample of an hour later so the windows seal.
    for (let k = 60; k < 180; k++) {
      const m: Record<string, number> = { 'cpu.util': k % 10, 'power.board': k < 120 ? 4 : 6, 'temp.cpu': 40 + (k === 100 ? 30 : 0), 'pi.throttle.throttled': k >= 150 && k < 165 ? 1 : 0 };
      samples.push({ t: T0 + k * 1000, m });
    }
    samples[0]!.e = [{ id: 'x-r', name: 'r', start: T0 + 60_000 }];
    samples.push({ t: T0 + 180_000, m: { 'cpu.util': 0 }, e: [{ id: 'x-r', name: 'r', start: T0 + 60_000, end: T0 + 179_999 }], i: [agg(T0 + 61_000, 'x-r'), agg(T0 + 62_000, 'x-r')] });
    commit(samples);
    commit([{ t: T0 + 3_600_000, m: { 'cpu.util': 0 } }]);
    store.sealAll();
    const row = store.getExperiment('x-r')!;
    const f = rollupSampleFigures(store, row, '1m')!;
    // Buckets [60 s, 120 s) and [120 s, 180 s); the end event's sample at 180 s is in a third the run does not reach.
    expect(f.cpuUtilMean).toBe((2 * 6 * 45) / 120);
    expect(f.cpuUtilPeak).toBe(9);
    expect(f.powerSource).toBe('board');
    expect(f.powerMeanW).toBe(5);
    expect(f.powerPeakW).toBe(6);
    expect(f.energyJ).toBe(5 * 119.999);
    expect(f.tempPeakC).toBe(70);
    expect(f.throttled).toBe(true);
    // 15 of the second bucket's 60 ticks: a quarter of the 59.999 s of it inside the run.
    expect(f.throttledS).toBeCloseTo(0.25 * 59.999, 9);
    expect(f.idlePowerW).toBeNull();
    expect(f.powerSampleIntervalS).toBe(60);
    expect(rollupSampleFigures(store, { ...row, start: T0 + 7_200_000, end: T0 + 7_300_000, measuredFrom: null }, '1m')).toBeNull();
  });
});
