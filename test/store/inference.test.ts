// Inference timings and experiments in the real SQLite store: written in the batch's commit,
// once; histograms merged across seconds read back exactly as one histogram of all the values;
// experiment events upserted without losing what an earlier one said; list filters.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { deflateRawSync } from 'node:zlib';
import { decodeBuckets, encodeBuckets } from '../../dashboard/store/buckets-codec.js';
import { Store, type BatchToCommit } from '../../dashboard/store/store.js';
import { LogHistogram, type Buckets } from '../../shared/histogram.js';
import type { ExperimentEvent, InferenceAggregate, Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

const T0 = 1_790_000_000_000;

/** Deterministic pseudo-random numbers (tests must not flake). */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** The aggregate an agent would send for these latencies in the second starting at t. */
function aggregate(model: string, t: number, latencies: number[], experiment?: string, batch = 1): InferenceAggregate {
  const h = new LogHistogram();
  for (const v of latencies) h.add(v);
  const s = h.summary();
  return { model, ...(experiment ? { experiment } : {}), t, count: s.count, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max, items: latencies.length * batch, buckets: s.buckets };
}

describe('Store inference timings and experiments (real SQLite file)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let num: number;
  let seq: number;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open(tmp.dir);
    num = store.upsertDevice(helloFrame('jetson'), 0).num;
    seq = 0;
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  const batch = (samples: Sample[], deviceNum = num): BatchToCommit => ({ deviceNum, seq: ++seq, receivedAt: T0, samples });
  const start = (id: string, at: number, extra: Partial<ExperimentEvent> = {}): ExperimentEvent => ({ id, name: 'resnet18', start: at, ...extra });

  it('stores aggregates and experiment events with their batch, and merges seconds into exactly one histogram of all the values', () => {
    const next = rng(1);
    const all = new LogHistogram();
    const samples: Sample[] = [];
    let items = 0;
    for (let k = 0; k < 20; k++) {
      const lat = Array.from({ length: 5 + (k % 7) * 10 }, () => 5 + 20 * next() ** 3);
      for (const v of lat) all.add(v);
      items += lat.length * 4;
      samples.push({ t: T0 + (k + 1) * 1000, m: { 'cpu.util': k }, i: [aggregate('resnet18', T0 + k * 1000, lat, 'x-1', 4)], ...(k === 0 ? { e: [start('x-1', T0, { params: 11_689_512, modelBytes: 46_830_571, tags: { precision: 'fp16' } })] } : {}) });
    }
    expect(store.commitBatches([batch(samples)])).toEqual([{ stored: true }]);

    const merged = store.inferenceHistogram({ deviceNum: num, from: 0, to: Number.MAX_SAFE_INTEGER, experiment: 'x-1' });
    expect([...merged.keys()]).toEqual(['resnet18']);
    const m = merged.get('resnet18')!;
    expect(m.seconds).toBe(20);
    expect(m.items).toBe(items);
    expect(m.histogram.count).toBe(all.count);
    expect(m.histogram.buckets).toEqual(all.buckets);
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1]) expect(m.histogram.quantile(q)).toBe(all.quantile(q));
    expect(m.histogram.min).toBe(all.min);
    expect(m.histogram.max).toBe(all.max);
    expect(m.histogram.sum).toBeCloseTo(all.sum, 9);
    expect(m.histogram.stdev).toBeCloseTo(all.stdev, 9);

    // A time range and a model narrow the read; unknown model or experiment read nothing.
    const firstFive = store.inferenceHistogram({ deviceNum: num, from: T0, to: T0 + 4000 }).get('resnet18')!;
    expect(firstFive.seconds).toBe(5);
    expect(store.inferenceHistogram({ deviceNum: num, from: 0, to: T0 * 2, model: 'resnet18' }).get('resnet18')!.histogram.count).toBe(all.count);
    expect(store.inferenceHistogram({ deviceNum: num, from: 0, to: T0 * 2, model: 'other' }).size).toBe(0);
    expect(store.inferenceHistogram({ deviceNum: num, from: 0, to: T0 * 2, experiment: 'x-2' }).size).toBe(0);
    expect(store.inferenceHistogram({ deviceNum: num, from: 0, to: T0 * 2, experiment: '' }).size).toBe(0);

    expect(store.getExperiment('x-1')).toEqual({
      id: 'x-1',
      deviceNum: num,
      deviceId: 'jetson',
      deviceName: 'device jetson',
      name: 'resnet18',
      tags: { precision: 'fp16' },
      params: 11_689_512,
      modelBytes: 46_830_571,
      start: T0,
      end: null,
      deviceLatestT: T0 + 20_000,
      warmup: null,
      measuredFrom: null,
      firstCallMs: null,
      conditions: null,
      dropped: null,
      endedBy: null,
    });
    expect(store.getExperiment('x-nope')).toBeUndefined();
  });

  it('stores nothing for a resent batch, and merges a later aggregate for a stored second (timings that arrived late)', () => {
    const first = batch([{ t: T0 + 1000, m: {}, i: [aggregate('m', T0, [10, 11, 12], 'x-1')], e: [start('x-1', T0)] }]);
    expect(store.commitBatches([first])).toEqual([{ stored: true }]);
    expect(store.commitBatches([{ ...first, samples: [{ t: T0 + 1000, m: {}, i: [aggregate('m', T0, [99], 'x-1')], e: [start('x-1', T0, { name: 'changed', end: T0 + 5 })] }] }])).toEqual([{ stored: false }]);
    // A new batch with more of a second already stored: the agent sends timings that came after
    // it had sent that second as a further aggregate, and the hub keeps one row of all of them.
    expect(store.commitBatches([batch([{ t: T0 + 2000, m: {}, i: [aggregate('m', T0, [50, 60], 'x-1', 3), aggregate('m', T0 + 1000, [7], 'x-1')] }])])).toEqual([{ stored: true }]);
    const h = store.inferenceHistogram({ deviceNum: num, from: 0, to: T0 * 2, experiment: 'x-1' }).get('m')!;
    const all = new LogHistogram();
    for (const v of [10, 11, 12, 50, 60, 7]) all.add(v);
    expect(h.seconds).toBe(2);
    expect(h.histogram.count).toBe(6);
    expect(h.histogram.buckets).toEqual(all.buckets);
    expect(h.histogram.sum).toBeCloseTo(all.sum, 9);
    expect(h.histogram.max).toBe(60);
    expect(h.histogram.min).toBe(7);
    expect(h.items).toBe(3 + 2 * 3 + 1);
    expect(store.getExperiment('x-1')).toMatchObject({ name: 'resnet18', end: null });
  });

  it('keeps warm-up timings apart in one histogram per experiment and model, and stores scores, conditions, first call and drops', () => {
    const warm = (t: number, values: number[]): InferenceAggregate => ({ ...aggregate('m', t, values, 'x-1'), warmup: true });
    const events = (extra: Partial<ExperimentEvent>): ExperimentEvent[] => [start('x-1', T0, extra)];
    store.commitBatches([
      batch([{ t: T0 + 1000, m: {}, i: [warm(T0, [500, 40]), aggregate('m', T0, [2, 3], 'x-1')], e: events({ warmup: { calls: 3 }, firstCallMs: 500 }) }]),
    ]);
    store.commitBatches([
      batch([
        {
          t: T0 + 2000,
          m: {},
          i: [warm(T0 + 1000, [30])],
          e: events({
            measuredFrom: T0 + 1200,
            conditions: { kernel: '6.1', powerMode: 'MAXN' },
            scores: [{ name: 'top1', value: 0.9, better: 'higher' }, { name: '=cmd|x', value: 1, better: 'lower' }],
          }),
        },
      ]),
    ]);
    // Later events fill in and replace by name; the first call and the conditions stay as first said.
    store.commitBatches([
      batch([{ t: T0 + 3000, m: {}, e: events({ end: T0 + 2500, dropped: 2, firstCallMs: 1, conditions: { kernel: 'other' }, scores: [{ name: 'top1', value: 0.91, better: 'higher' }] }) }]),
    ]);
    const w = store.warmupHistogram(num, 'x-1').get('m')!;
    expect([w.histogram.count, w.histogram.max, w.histogram.min]).toEqual([3, 500, 30]);
    expect(store.inferenceHistogram({ deviceNum: num, from: 0, to: T0 * 2, experiment: 'x-1' }).get('m')!.histogram.count).toBe(2);
    expect(store.getExperiment('x-1')).toMatchObject({
      end: T0 + 2500,
      warmup: { calls: 3 },
      measuredFrom: T0 + 1200,
      firstCallMs: 500,
      conditions: { kernel: '6.1', powerMode: 'MAXN' },
      dropped: 2,
    });
    expect(store.experimentScores('x-1')).toEqual([
      { name: '=cmd|x', value: 1, better: 'lower' },
      { name: 'top1', value: 0.91, better: 'higher' },
    ]);
  });

  it('rolls back timings and experiments with the rest of a failed commit', () => {
    const good = batch([{ t: T0, m: {}, i: [aggregate('m', T0, [1], 'x-1')], e: [start('x-1', T0)] }]);
    // A batch for a device that does not exist breaks the experiments foreign key: the whole group fails.
    const bad = batch([{ t: T0, m: {}, e: [start('x-2', T0)] }], num + 100);
    expect(() => store.commitBatches([good, bad])).toThrow();
    expect(store.getExperiment('x-1')).toBeUndefined();
    expect(store.inferenceHistogram({ deviceNum: num, from: 0, to: T0 * 2 }).size).toBe(0);
    expect(store.commitBatches([{ ...good }])).toEqual([{ stored: true }]);
  });

  it('upserts experiment events: the end is filled in, never cleared; params, size and tags are never lost; another device cannot take the id', () => {
    store.commitBatches([batch([{ t: T0, m: {}, e: [start('x-1', T0, { params: 100, tags: { a: '1' } })] }])]);
    store.commitBatches([batch([{ t: T0 + 9000, m: {}, e: [start('x-1', T0, { modelBytes: 400, tags: { b: '2' }, end: T0 + 9000 })] }])]);
    expect(store.getExperiment('x-1')).toMatchObject({ params: 100, modelBytes: 400, tags: { a: '1', b: '2' }, start: T0, end: T0 + 9000 });
    // A late start event (no end) changes nothing it lacks.
    store.commitBatches([batch([{ t: T0 + 9500, m: {}, e: [start('x-1', T0, { end: null })] }])]);
    expect(store.getExperiment('x-1')).toMatchObject({ params: 100, modelBytes: 400, tags: { a: '1', b: '2' }, end: T0 + 9000 });

    const other = store.upsertDevice(helloFrame('intruder'), 0).num;
    store.commitBatches([batch([{ t: T0, m: {}, e: [start('x-1', T0 + 1, { name: 'hijack', params: 1, end: T0 + 2 })] }], other)]);
    expect(store.getExperiment('x-1')).toMatchObject({ deviceId: 'jetson', name: 'resnet18', params: 100, end: T0 + 9000 });
  });

  it('lists experiments by device, name and overlap with [from, to], in start order', () => {
    const pi = store.upsertDevice(helloFrame('pi'), 0).num;
    store.commitBatches([
      batch([{ t: T0, m: {}, e: [start('a', T0, { end: T0 + 10_000 }), start('b', T0 + 20_000, { name: 'int8', end: T0 + 30_000 }), start('c', T0 + 40_000)] }]),
      batch([{ t: T0, m: {}, e: [start('d', T0 + 5000, { end: T0 + 6000 })] }], pi),
    ]);
    const ids = (q: Parameters<Store['listExperiments']>[0]) => store.listExperiments(q).map((e) => e.id);
    expect(ids({})).toEqual(['a', 'd', 'b', 'c']);
    expect(ids({ deviceNum: num })).toEqual(['a', 'b', 'c']);
    expect(ids({ deviceNum: pi })).toEqual(['d']);
    expect(ids({ name: 'int8' })).toEqual(['b']);
    expect(ids({ name: 'resnet18', deviceNum: num })).toEqual(['a', 'c']);
    // Overlap: ends at or after from, starts at or before to; a running one has no end.
    expect(ids({ from: T0 + 10_000 })).toEqual(['a', 'b', 'c']);
    expect(ids({ from: T0 + 10_001 })).toEqual(['b', 'c']);
    expect(ids({ from: T0 + 10_001, to: T0 + 39_999 })).toEqual(['b']);
    expect(ids({ to: T0 + 5000 })).toEqual(['a', 'd']);
    expect(ids({ from: T0 + 50_000 })).toEqual(['c']);
  });

  it('scopes an experiment to its tagged timings, else to untagged ones in its time range', () => {
    store.commitBatches([
      batch([
        { t: T0, m: {}, e: [start('tagged', T0, { end: T0 + 5000 }), start('untagged', T0 + 10_000, { end: T0 + 15_000 })] },
        { t: T0 + 20_000, m: {}, i: [
          aggregate('m', T0, [1, 2], 'tagged'),
          aggregate('m', T0 + 9000, [3]), // its second ends before the range: out
          aggregate('m', T0 + 9500, [4]), // overlaps the start: in
          aggregate('m', T0 + 12_000, [5, 6]),
          aggregate('m', T0 + 12_000, [70], 'tagged'), // another experiment's: out
          aggregate('m', T0 + 15_000, [7]),
          aggregate('m', T0 + 15_001, [8]),
        ] },
      ]),
    ]);
    const tagged = store.experimentTimingScope(store.getExperiment('tagged')!);
    expect(tagged.source).toBe('experiment');
    expect(store.inferenceHistogram(tagged.query).get('m')!.histogram.count).toBe(3);
    const untagged = store.experimentTimingScope(store.getExperiment('untagged')!);
    expect(untagged.source).toBe('time-range');
    const h = store.inferenceHistogram(untagged.query).get('m')!.histogram;
    expect([h.count, h.min, h.max]).toEqual([4, 4, 7]);
    expect(store.inferenceCounts(untagged.query)).toEqual([{ model: 'm', count: 4 }]);
    expect(store.inferenceCounts(tagged.query)).toEqual([{ model: 'm', count: 3 }]);
  });

  it('stores buckets as a compact varint blob, smaller than deflated JSON', () => {
    const next = rng(2);
    const lat = Array.from({ length: 30 }, () => 12 + 2 * (next() - 0.5));
    const agg = aggregate('m', T0, lat, 'x-1');
    store.commitBatches([batch([{ t: T0 + 1000, m: {}, i: [agg] }])]);
    store.close();
    const db = new Database(store.path, { readonly: true });
    const row = db.prepare('SELECT experiment_id, count, items, buckets FROM inference_seconds').get() as { experiment_id: string; count: number; items: number; buckets: Buffer };
    db.close();
    expect(row).toMatchObject({ experiment_id: 'x-1', count: 30, items: 30 });
    expect(decodeBuckets(row.buckets)).toEqual(agg.buckets);
    expect(row.buckets.length).toBeLessThanOrEqual(2 * agg.buckets.length + 1);
    expect(row.buckets.length).toBeLessThan(deflateRawSync(JSON.stringify(agg.buckets)).length);
    store = Store.open(tmp.dir);
  });
});

describe('bucket blob codec', () => {
  it('round-trips negative indexes, big counts and gaps; sorts and merges what it is given', () => {
    const buckets: Buckets = [[-698, 1], [-3, 2 ** 40], [0, 127], [1, 128], [900, 16_384]];
    expect(decodeBuckets(encodeBuckets(buckets))).toEqual(buckets);
    expect(decodeBuckets(encodeBuckets([[5, 1], [2, 3], [5, 2]]))).toEqual([[2, 3], [5, 3]]);
    expect(encodeBuckets([]).length).toBe(0);
    expect(decodeBuckets(Buffer.alloc(0))).toEqual([]);
  });

  it('refuses a damaged blob, saying what is wrong', () => {
    const blob = encodeBuckets([[10, 300], [12, 1]]);
    expect(() => decodeBuckets(blob.subarray(0, blob.length - 1))).toThrow(/without its count/);
    expect(() => decodeBuckets(blob.subarray(0, 2))).toThrow(/truncated inside a varint/);
    expect(() => decodeBuckets(Buffer.from([20, 1, 0, 1]))).toThrow(/repeats index 10/);
    expect(() => encodeBuckets([[1, -1]])).toThrow(/cannot encode -1/);
  });
});
