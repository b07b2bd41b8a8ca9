// The aggregator against exact arithmetic: per-second counts and sums, quantiles within the
// histogram's 1 %, when seconds are sealed, experiment events, metric names and the bounds.
import { describe, expect, it } from 'vitest';
import { InferenceAggregator } from '../../agent/inference/aggregator.js';
import { describeMetric } from '../../shared/catalog.js';
import { LogHistogram, RELATIVE_ACCURACY } from '../../shared/histogram.js';
import { InferenceAggregateSchema, ExperimentEventSchema, SampleSchema, type InferenceAggregate } from '../../shared/protocol.js';

const T0 = 1_790_000_000_000; // a whole second

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The exact value of rank q·(n−1), as LogHistogram.quantile defines rank. */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('InferenceAggregator', () => {
  it('keeps exact counts, sums, items, min and max per (model, experiment) per second', () => {
    const agg = new InferenceAggregator();
    agg.timing({ model: 'a', latencyMs: 10, batch: 4 }, T0 + 10);
    agg.timing({ model: 'a', latencyMs: 20 }, T0 + 999);
    agg.timing({ model: 'a', latencyMs: 5, experiment: 'x-1' }, T0 + 500);
    agg.timing({ model: 'b', latencyMs: 1.5, batch: 2 }, T0 + 1);
    agg.timing({ model: 'a', latencyMs: 30 }, T0 + 1000); // next second

    const { aggregates } = agg.drain(T0 + 2250);
    const key = (a: InferenceAggregate) => `${a.t - T0}:${a.model}:${a.experiment ?? ''}`;
    const byKey = new Map(aggregates.map((a) => [key(a), a]));
    expect([...byKey.keys()].sort()).toEqual(['0:a:', '0:a:x-1', '0:b:', '1000:a:']);
    expect(byKey.get('0:a:')).toMatchObject({ model: 'a', t: T0, count: 2, sum: 30, sumSq: 500, min: 10, max: 20, items: 5 });
    expect(byKey.get('0:a:')).not.toHaveProperty('experiment');
    expect(byKey.get('0:a:x-1')).toMatchObject({ experiment: 'x-1', count: 1, sum: 5, items: 1 });
    expect(byKey.get('0:b:')).toMatchObject({ count: 1, sum: 1.5, items: 2 });
    expect(byKey.get('1000:a:')).toMatchObject({ t: T0 + 1000, count: 1, sum: 30 });
    // Oldest second first.
    expect(aggregates.map((a) => a.t)).toEqual([...aggregates.map((a) => a.t)].sort((x, y) => x - y));
    for (const a of aggregates) expect(InferenceAggregateSchema.safeParse(a).success).toBe(true);
    // Handed out once.
    expect(agg.drain(T0 + 3250).aggregates).toEqual([]);
  });

  it('reads back quantiles within 1 % of the exact ones for generated latencies', () => {
    const agg = new InferenceAggregator();
    const rand = random(42);
    const latencies: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Log-normal around 12 ms with a slow tail, the shape real inference has.
      const u = Math.max(rand(), 1e-12);
      const v = rand();
      const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      const ms = 12 * Math.exp(0.4 * normal) + (rand() < 0.02 ? 200 * rand() : 0);
      latencies.push(ms);
      agg.timing({ model: 'resnet18', latencyMs: ms }, T0 + (i % 1000));
    }
    const { aggregates, metrics } = agg.drain(T0 + 1250);
    expect(aggregates).toHaveLength(1);
    const h = LogHistogram.from(aggregates[0]!);
    const sorted = [...latencies].sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(h.quantile(q) - exact) / exact, `q=${q}`).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-9);
    }
    const sum = latencies.reduce((s, x) => s + x, 0);
    expect(aggregates[0]!.count).toBe(20_000);
    expect(aggregates[0]!.sum).toBeCloseTo(sum, 6);
    expect(metrics['infer.resnet18.latency.mean']).toBeCloseTo(sum / 20_000, 9);
    expect(metrics['infer.resnet18.latency.max']).toBe(sorted[sorted.length - 1]);
    for (const [name, q] of [['p50', 0.5], ['p99', 0.99]] as const) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(metrics[`infer.resnet18.latency.${name}`]! - exact) / exact).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-9);
    }
  });

  it('seals a second once it has ended plus 250 ms, and still counts timings that arrive after (a further aggregate)', () => {
    const agg = new InferenceAggregator();
    agg.timing({ model: 'm', latencyMs: 1 }, T0 + 100);
    expect(agg.drain(T0 + 999).aggregates).toEqual([]);
    expect(agg.drain(T0 + 1249).aggregates).toEqual([]);
    // Still open: a timing stamped in the second, arriving 200 ms after it ended, counts.
    agg.timing({ model: 'm', latencyMs: 2, t: T0 + 900 }, T0 + 1200);
    const sealed = agg.drain(T0 + 1250);
    expect(sealed.aggregates).toEqual([expect.objectContaining({ t: T0, count: 2 })]);
    expect(sealed.metrics['infer.m.rate']).toBe(2);
    // After sealing (an SDK flushing its last lines at exit): a second aggregate for that second.
    agg.timing({ model: 'm', latencyMs: 3, t: T0 + 950 }, T0 + 2700);
    const late = agg.drain(T0 + 3000);
    expect(late.aggregates).toEqual([expect.objectContaining({ t: T0, count: 1, sum: 3 })]);
    expect(agg.stats().late).toBe(1);
    expect(agg.dropped).toBe(0);
    expect(late.metrics['inference.dropped']).toBeUndefined();
    expect(agg.drain(T0 + 5000).aggregates).toEqual([]);
  });

  it('counts every drop over a bound in inference.dropped on the next drain, and on the experiment', () => {
    const agg = new InferenceAggregator({ maxOpenSeconds: 2 });
    const { id } = agg.startExperiment({ name: 'e' }, T0);
    agg.timing({ model: 'm', latencyMs: 1, t: T0 + 100, experiment: id }, T0 + 100);
    agg.timing({ model: 'm', latencyMs: 1, t: T0 + 1100, experiment: id }, T0 + 1100);
    agg.timing({ model: 'm', latencyMs: 1, t: T0 + 2100, experiment: id }, T0 + 2100); // a third open second: over the bound
    agg.timing({ model: 'm', latencyMs: 1, t: T0 + 2200 }, T0 + 2200);
    expect(agg.stats().dropped).toEqual({ overflow: 2, stale: 0, models: 0 });
    const first = agg.drain(T0 + 2300);
    expect(first.metrics['inference.dropped']).toBe(2);
    expect(agg.drain(T0 + 2400).metrics['inference.dropped']).toBeUndefined();
    const ended = agg.endExperiment(id, T0 + 2500)!;
    expect(ended.summary).toMatchObject({ inferences: 2, dropped: 1 });
    expect(agg.drain(T0 + 2600).experiments).toEqual([expect.objectContaining({ id, end: T0 + 2500, dropped: 1 })]);
  });

  it('trusts a timing\'s t from an hour before the agent clock to a second after, and uses the receive time beyond', () => {
    const agg = new InferenceAggregator();
    const at = T0 + 1000;
    agg.timing({ model: 'm', latencyMs: 1, t: at - 500 }, at); // the previous second, still open
    agg.timing({ model: 'm', latencyMs: 2, t: at + 900 }, at); // slightly ahead: trusted
    agg.timing({ model: 'm', latencyMs: 3, t: at + 5000 }, at); // ahead: receive time
    agg.timing({ model: 'm', latencyMs: 4, t: at - 3_600_001 }, at); // over an hour back: receive time
    agg.timing({ model: 'm', latencyMs: 5, t: 5 }, at); // 1970: receive time
    const { aggregates } = agg.drain(T0 + 2250);
    expect(aggregates.map((a) => [a.t - T0, a.sum])).toEqual([
      [0, 1],
      [1000, 2 + 3 + 4 + 5],
    ]);
    // Within the hour, so trusted: filed under its own second although that was handed out long ago.
    agg.timing({ model: 'm', latencyMs: 6, t: at + 1500 - 3_600_000 }, at + 1500);
    expect(agg.drain(T0 + 2750).aggregates).toEqual([expect.objectContaining({ t: at + 1000 - 3_600_000, sum: 6 })]);
    expect(agg.stats().dropped).toEqual({ overflow: 0, stale: 0, models: 0 });
  });

  it('gives infer.* metrics for the last complete second only, on the drain that seals it', () => {
    const agg = new InferenceAggregator();
    for (let i = 0; i < 10; i++) agg.timing({ model: 'resnet18-int8', latencyMs: 10 + i, batch: 8 }, T0 + i * 50);
    for (let i = 0; i < 3; i++) agg.timing({ model: 'resnet18-int8', latencyMs: 100, experiment: 'x-1' }, T0 + 600);
    agg.timing({ model: 'other', latencyMs: 1 }, T0 + 1100);
    // 500 ms ticks: the first sealing drain has the metrics, the next one none.
    const first = agg.drain(T0 + 1300);
    expect(first.metrics).toEqual({
      'infer.resnet18_int8.rate': 13,
      'infer.resnet18_int8.items_rate': 83,
      'infer.resnet18_int8.latency.mean': (145 + 300) / 13,
      'infer.resnet18_int8.latency.p50': expect.any(Number),
      'infer.resnet18_int8.latency.p99': expect.any(Number),
      'infer.resnet18_int8.latency.max': 100,
    });
    // Exact ranks 6 and 11.88 of 10…19, 100, 100, 100: 16 and 100, to the histogram's 1 %.
    expect(Math.abs(first.metrics['infer.resnet18_int8.latency.p50']! - 16) / 16).toBeLessThanOrEqual(RELATIVE_ACCURACY);
    expect(Math.abs(first.metrics['infer.resnet18_int8.latency.p99']! - 100) / 100).toBeLessThanOrEqual(RELATIVE_ACCURACY);
    for (const name of Object.keys(first.metrics)) expect(describeMetric(name)?.spec.group, name).toBe('inference');
    expect(agg.drain(T0 + 1800).metrics).toEqual({});
    const next = agg.drain(T0 + 2300);
    expect(Object.keys(next.metrics).sort()).toEqual(['infer.other.items_rate', 'infer.other.latency.max', 'infer.other.latency.mean', 'infer.other.latency.p50', 'infer.other.latency.p99', 'infer.other.rate']);
    // A 2 s tick hands out both seconds' histograms, but metrics for the newer one only.
    agg.timing({ model: 'm', latencyMs: 1 }, T0 + 2100);
    agg.timing({ model: 'n', latencyMs: 1 }, T0 + 3100);
    const wide = agg.drain(T0 + 4300);
    expect(wide.aggregates.map((a) => a.model)).toEqual(['m', 'n']);
    expect(Object.keys(wide.metrics).some((k) => k.startsWith('infer.m.'))).toBe(false);
    expect(wide.metrics['infer.n.rate']).toBe(1);
  });

  it('gives colliding model names distinct segments, stable for its lifetime', () => {
    const agg = new InferenceAggregator();
    const second = (s: number, models: string[]) => {
      for (const model of models) agg.timing({ model, latencyMs: 1 }, T0 + s * 1000 + 1);
      return Object.keys(agg.drain(T0 + s * 1000 + 1250).metrics).filter((k) => k.endsWith('.rate') && !k.endsWith('items_rate'));
    };
    expect(second(0, ['ResNet-18'])).toEqual(['infer.resnet_18.rate']);
    expect(second(1, ['resnet_18', 'ResNet-18']).sort()).toEqual(['infer.resnet_18.rate', 'infer.resnet_18_1.rate']);
    // ResNet-18 was seen first and keeps the plain segment, in the same second as resnet_18 or not.
    expect(second(2, ['resnet_18'])).toEqual(['infer.resnet_18_1.rate']);
    expect(second(3, ['ResNet-18', 'resnet.18'])).toEqual(expect.arrayContaining(['infer.resnet_18.rate', 'infer.resnet_18_2.rate']));
    expect(second(4, ['llama/3.1:8b@q4'])).toEqual(['infer.llama_3_1_8b_q4.rate']);
  });

  it('makes time-ordered unique experiment ids and hands each start and end out once', () => {
    const agg = new InferenceAggregator();
    const ids = new Set<string>();
    let prev = '';
    for (let i = 0; i < 40; i++) {
      const at = T0 + Math.floor(i / 10); // ten in the same millisecond
      const { id, start } = agg.startExperiment({ name: `run ${i}` }, at);
      expect(id).toMatch(/^x-[0-9a-z]+-[0-9a-f]{4}$/);
      expect(start).toBe(at);
      if (i % 10 === 0) expect(id > prev).toBe(true);
      prev = id;
      ids.add(id);
      agg.endExperiment(id, at);
    }
    expect(ids.size).toBe(40);

    const b = new InferenceAggregator();
    const x = b.startExperiment({ name: 'int8', tags: { quant: 'int8' }, params: 11_689_512, modelBytes: 12_000_000 }, T0 + 5);
    const first = b.drain(T0 + 100).experiments;
    expect(first).toEqual([{ id: x.id, name: 'int8', tags: { quant: 'int8' }, params: 11_689_512, modelBytes: 12_000_000, start: T0 + 5 }]);
    expect(b.drain(T0 + 200).experiments).toEqual([]);
    expect(b.endExperiment(x.id, T0 + 9000)).toEqual({ id: x.id, end: T0 + 9000, summary: expect.objectContaining({ inferences: 0, durationMs: 8995 }) });
    expect(b.endExperiment(x.id, T0 + 9001)).toBeNull();
    expect(b.endExperiment('x-unknown', T0 + 9001)).toBeNull();
    expect(b.drain(T0 + 9100).experiments).toEqual([{ ...first[0], end: T0 + 9000, dropped: 0 }]);
    expect(b.drain(T0 + 9200).experiments).toEqual([]);

    // Started and ended between two drains: one event carrying both.
    const y = b.startExperiment({ name: 'quick' }, T0 + 10_000);
    b.endExperiment(y.id, T0 + 10_050);
    const events = b.drain(T0 + 10_100).experiments;
    expect(events).toEqual([{ id: y.id, name: 'quick', start: T0 + 10_000, end: T0 + 10_050, dropped: 0 }]);
    for (const e of events) expect(ExperimentEventSchema.safeParse(e).success).toBe(true);
  });

  it('bounds pairs per second, open seconds, open experiments, and what one drain hands out', () => {
    const agg = new InferenceAggregator();
    for (let i = 0; i < 300; i++) agg.timing({ model: `m${i}`, latencyMs: 1 }, T0 + 1);
    expect(agg.stats().dropped.overflow).toBe(44);
    agg.timing({ model: 'm0', latencyMs: 1 }, T0 + 2); // an existing pair still counts
    expect(agg.stats().dropped.overflow).toBe(44);
    const drain = agg.drain(T0 + 1250);
    expect(drain.aggregates).toHaveLength(256);
    // A sample carrying it all stays within the protocol's caps (256 aggregates, 2000 values).
    expect(Object.keys(drain.metrics)).toHaveLength(64 * 6 + 1);
    expect(drain.metrics['inference.dropped']).toBe(44);
    expect(SampleSchema.safeParse({ t: T0 + 1250, m: drain.metrics, i: drain.aggregates }).success).toBe(true);
    expect(agg.stats().metricsSkipped).toBe(256 - 64);

    // More sealed aggregates than one sample may carry: the rest wait for the next drain.
    const many = new InferenceAggregator();
    for (let s = 0; s < 3; s++) for (let i = 0; i < 200; i++) many.timing({ model: `m${i}`, latencyMs: 1 }, T0 + s * 1000);
    const sizes = [many.drain(T0 + 3250), many.drain(T0 + 3500), many.drain(T0 + 3750)].map((d) => d.aggregates.length);
    expect(sizes).toEqual([256, 256, 88]);

    // Timings stamped over many seconds (before any drain has sealed the past) cannot pile up
    // seconds without limit.
    const spread = new InferenceAggregator({ maxOpenSeconds: 4 });
    for (let s = 0; s < 10; s++) spread.timing({ model: 'm', latencyMs: 1, t: T0 - s * 1000 }, T0);
    expect(spread.stats().dropped.overflow).toBe(6);

    // At most 64 open: a 65th start within a minute of them all is refused (429, counted); once
    // the oldest has been idle a minute, the next start ends it, and it is reported as ended.
    const exps = new InferenceAggregator();
    const started = Array.from({ length: 64 }, (_, i) => exps.startExperiment({ name: `e${i}` }, T0 + i).id);
    expect(() => exps.startExperiment({ name: 'e64' }, T0 + 64)).toThrow(expect.objectContaining({ status: 429, message: expect.stringMatching(/64 experiments are open/) }));
    expect(exps.stats()).toMatchObject({ openExperiments: 64, experimentsEvicted: 0, experimentsRefused: 1 });
    const late = T0 + 60_001;
    exps.startExperiment({ name: 'e64' }, late);
    expect(exps.stats()).toMatchObject({ openExperiments: 64, experimentsEvicted: 1 });
    expect(exps.endExperiment(started[0]!, late + 100)).toBeNull();
    const first = exps.drain(late + 200).experiments;
    expect(first).toHaveLength(64);
    expect(first.find((e) => e.id === started[0])).toEqual(expect.objectContaining({ end: late }));
    expect(exps.drain(late + 300).experiments).toHaveLength(1);
  });

  it('drops seconds older than 10 s that were never drained, counting their timings', () => {
    const agg = new InferenceAggregator();
    for (let i = 0; i < 5; i++) agg.timing({ model: 'm', latencyMs: 1 }, T0 + i);
    agg.timing({ model: 'm', latencyMs: 1 }, T0 + 9500);
    const { aggregates } = agg.drain(T0 + 11_000);
    expect(agg.stats().dropped.stale).toBe(5);
    expect(aggregates.map((a) => a.t)).toEqual([T0 + 9000]);
  });

  it('starts over when the clock steps back by more than 10 s', () => {
    const agg = new InferenceAggregator();
    agg.timing({ model: 'm', latencyMs: 1 }, T0);
    agg.drain(T0 + 1250);
    const back = T0 - 86_400_000;
    agg.timing({ model: 'm', latencyMs: 1 }, back + 10); // late by the old clock
    agg.drain(back + 20);
    agg.timing({ model: 'm', latencyMs: 2 }, back + 30);
    expect(agg.drain(back + 1300).aggregates).toEqual([expect.objectContaining({ t: back, count: 1, sum: 2 })]);
  });

  it('keeps an experiment\'s first N calls per model apart as warm-up, and reports the first call always', () => {
    const agg = new InferenceAggregator();
    const { id } = agg.startExperiment({ name: 'cold', warmup: { calls: 3 } }, T0);
    const latencies = [500, 40, 30, 2, 2, 3, 2];
    latencies.forEach((ms, k) => agg.timing({ model: 'm', latencyMs: ms, experiment: id }, T0 + 10 + k));
    agg.timing({ model: 'other', latencyMs: 9, experiment: id }, T0 + 20); // its own first call: warm-up too
    const { aggregates, experiments } = agg.drain(T0 + 1250);
    const warm = aggregates.filter((a) => a.warmup);
    const measured = aggregates.filter((a) => !a.warmup);
    expect(warm.map((a) => [a.model, a.count, a.sum])).toEqual([
      ['m', 3, 570],
      ['other', 1, 9],
    ]);
    expect(measured.map((a) => [a.model, a.count, a.sum])).toEqual([['m', 4, 9]]);
    for (const a of aggregates) expect(InferenceAggregateSchema.safeParse(a).success).toBe(true);
    expect(experiments).toEqual([expect.objectContaining({ id, warmup: { calls: 3 }, firstCallMs: 500 })]);
    const { summary } = agg.endExperiment(id, T0 + 2000)!;
    expect(summary).toMatchObject({ inferences: 8, firstCallMs: 500, measured: { count: 4, max: 3 }, warmup: { count: 4, max: 500 } });
  });

  it('takes warm-up by duration from the experiment start, and none without a warm-up', () => {
    const agg = new InferenceAggregator();
    const timed = agg.startExperiment({ name: 'by-time', warmup: { ms: 500 } }, T0);
    const plain = agg.startExperiment({ name: 'plain' }, T0);
    for (const at of [T0 + 100, T0 + 499, T0 + 500, T0 + 900]) {
      agg.timing({ model: 'm', latencyMs: 1, experiment: timed.id, t: at }, at);
      agg.timing({ model: 'm', latencyMs: 1, experiment: plain.id, t: at }, at);
    }
    const all = agg.drain(T0 + 1250).aggregates;
    const count = (x: string, warm: boolean) => all.filter((a) => a.experiment === x && !!a.warmup === warm).reduce((n, a) => n + a.count, 0);
    expect([count(timed.id, true), count(timed.id, false), count(plain.id, true), count(plain.id, false)]).toEqual([2, 2, 0, 4]);
    expect(agg.endExperiment(plain.id, T0 + 2000)!.summary).toMatchObject({ firstCallMs: 1, warmup: { count: 0, p50: null }, measured: { count: 4 } });
  });

  it('keeps the latest score of each name for an open experiment, refuses ended ones, and sends them on the next event', () => {
    const agg = new InferenceAggregator();
    const { id } = agg.startExperiment({ name: 's' }, T0);
    agg.drain(T0 + 10);
    expect(agg.scoreExperiment(id, [{ name: 'top1', value: 0.9, better: 'higher' }, { name: 'wer', value: 0.2, better: 'lower' }])).toBe(true);
    expect(agg.scoreExperiment(id, [{ name: 'top1', value: 0.91, better: 'higher' }])).toBe(true);
    expect(agg.drain(T0 + 20).experiments).toEqual([
      expect.objectContaining({ id, scores: [{ name: 'top1', value: 0.91, better: 'higher' }, { name: 'wer', value: 0.2, better: 'lower' }] }),
    ]);
    const many = Array.from({ length: 40 }, (_, k) => ({ name: `s${k}`, value: k, better: 'higher' as const }));
    agg.scoreExperiment(id, many);
    const { summary } = agg.endExperiment(id, T0 + 30)!;
    expect(summary.scores).toHaveLength(32);
    expect(agg.scoreExperiment(id, [{ name: 'late', value: 1, better: 'higher' }])).toBe(false);
    expect(agg.scoreExperiment('x-nope', [{ name: 'late', value: 1, better: 'higher' }])).toBe(false);
    for (const e of agg.drain(T0 + 40).experiments) expect(ExperimentEventSchema.safeParse(e).success).toBe(true);
  });

  it('sends the run conditions in a later event once read, also when the experiment ended first', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const agg = new InferenceAggregator({}, async () => {
      await gate;
      return { kernel: '6.1.0-test', cpuGovernor: 'performance' };
    });
    const { id } = agg.startExperiment({ name: 'c' }, T0);
    expect(agg.drain(T0 + 10).experiments).toEqual([expect.not.objectContaining({ conditions: expect.anything() })]);
    agg.endExperiment(id, T0 + 20);
    expect(agg.drain(T0 + 30).experiments).toEqual([expect.objectContaining({ id, end: T0 + 20 })]);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(agg.drain(T0 + 40).experiments).toEqual([
      expect.objectContaining({ id, end: T0 + 20, conditions: { kernel: '6.1.0-test', cpuGovernor: 'performance' } }),
    ]);
  });
});
