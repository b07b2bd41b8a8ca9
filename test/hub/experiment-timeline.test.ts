// GET /api/v1/experiments/:id/timeline end to end through a real hub on 127.0.0.1 (temp SQLite
// file): an agent peer sends a short run with a warm-up, a latency step half-way and a board
// power sensor, and on a second device without one a long untagged run (longer than the
// timeline's 2000 points). Each second's throughput, p50 and p99, the power series, the CDF
// and the bounds are checked against values computed here from the raw inputs, and against
// the comparison's own figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { cdfQuantile } from '../../dashboard/server/experiment-series.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ComparisonResponse, ExperimentTimeline } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type InferenceAggregate, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

// Recent enough that the raw retention (7 days by the hub clock) keeps it: an hour boundary a day ago.
const T0 = Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000;
const STEP = { id: 'x-step', name: 'step', start: T0 + 1000, end: T0 + 40_000, measuredFrom: T0 + 5000 };
const LONG = { id: 'x-long', name: 'long', start: T0 + 100_000, seconds: 2500 };
const LONG_END = LONG.start + LONG.seconds * 1000;

/** x-step's calls in second s (s = 5…39 measured): 10 ms before s = 20, 20 ms after, every fifth call slower. */
function stepLatencies(s: number): number[] {
  const base = s < 20 ? 10 : 20;
  return Array.from({ length: 10 + (s % 4) }, (_, j) => (j % 5 === 4 ? base * 1.5 : base + j * 0.1));
}
const powerAt = (s: number): number => (s >= 1 && s <= 40 ? 12 + (s % 3) : 5);

function agg(model: string, t: number, values: number[], batch: number, extra: Partial<InferenceAggregate> = {}): InferenceAggregate {
  const h = new LogHistogram();
  for (const v of values) h.add(v);
  const s = h.summary();
  return { model, t, count: s.count, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max, items: s.count * batch, buckets: s.buckets, ...extra };
}

describe('experiment timeline API', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  const peers: TestPeer[] = [];

  async function sendAll(deviceId: string, capabilities: string[], samples: Sample[]): Promise<void> {
    const peer = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    peers.push(peer);
    peer.send(helloFrame(deviceId, { capabilities }));
    await peer.waitFor((f) => f.type === 'welcome');
    for (let seq = 1; samples.length > 0; seq++) {
      peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: samples.splice(0, 500) });
      await peer.waitFor((f) => f.type === 'ack' && f.seq === seq);
    }
    expect(peer.received.filter((f) => f.type === 'error')).toEqual([]);
  }

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    base = `${hub.url}/api/v1`;

    // Device 1: power.board every second from T0 to T0 + 45 s, x-step with 4 s of warm-up.
    const one: Sample[] = [];
    for (let s = 0; s <= 45; s++) one.push({ t: T0 + s * 1000, m: { 'power.board': powerAt(s), 'cpu.util': 50 } });
    const at = (t: number) => one.find((x) => x.t === t)!;
    at(STEP.start).e = [{ id: STEP.id, name: STEP.name, start: STEP.start, warmup: { calls: 40 } }];
    at(STEP.end).e = [{ id: STEP.id, name: STEP.name, start: STEP.start, end: STEP.end, warmup: { calls: 40 }, measuredFrom: STEP.measuredFrom }];
    // Warm-up: four seconds of 100 ms calls, kept apart from the measured timings.
    for (let s = 1; s < 5; s++) (at(T0 + (s + 1) * 1000).i ??= []).push(agg('m', T0 + s * 1000, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100], 2, { experiment: STEP.id, warmup: true }));
    for (let s = 5; s < 40; s++) (at(T0 + (s + 1) * 1000).i ??= []).push(agg('m', T0 + s * 1000, stepLatencies(s), 2, { experiment: STEP.id }));
    await sendAll('tl-1', ['cpu', 'power', 'inference'], one);

    // Device 2: no power sensor; x-long's timings are sent without its id (a time-range experiment).
    const two: Sample[] = [];
    for (let s = 0; s <= LONG.seconds; s++) {
      const t = LONG.start + s * 1000;
      const sample: Sample = { t, m: { 'cpu.util': 20 } };
      if (s > 0) sample.i = [agg('long-model', t - 1000, [3 + (s % 5), 4, 5], 1)];
      two.push(sample);
    }
    two[0]!.e = [{ id: LONG.id, name: LONG.name, start: LONG.start }];
    two[two.length - 1]!.e = [{ id: LONG.id, name: LONG.name, start: LONG.start, end: LONG_END }];
    await sendAll('tl-2', ['cpu', 'inference'], two);
  }, 60_000);

  afterAll(async () => {
    for (const p of peers) p.close();
    await hub.close();
    tmp.remove();
  });

  it('gives each measured second’s throughput, p50 and p99, and the power, of a short run', async () => {
    const { status, body: tl } = await get<ExperimentTimeline>(`/experiments/${STEP.id}/timeline`);
    expect(status).toBe(200);
    expect(tl).toMatchObject({ experimentId: STEP.id, deviceId: 'tl-1', name: 'step', start: STEP.start, end: STEP.end, rangeEnd: STEP.end, measuredFrom: STEP.measuredFrom, latencySource: 'experiment', stepMs: 1000 });
    // From the first measured second to the last: the warm-up's seconds are not in it.
    expect(tl.latency.map((p) => p[0])).toEqual(Array.from({ length: 35 }, (_, k) => T0 + (k + 5) * 1000));
    for (const [t, perS, itemsPerS, p50, p99] of tl.latency) {
      const values = stepLatencies((t - T0) / 1000);
      const h = new LogHistogram();
      for (const v of values) h.add(v);
      expect(perS).toBe(values.length);
      expect(itemsPerS).toBe(values.length * 2);
      expect(p50).toBe(h.quantile(0.5));
      expect(p99).toBe(h.quantile(0.99));
    }
    // The step half-way shows: p50 about 10 ms before, about 20 ms after.
    expect(Math.round(tl.latency[0]![3]! / 10)).toBe(1);
    expect(Math.round(tl.latency[34]![3]! / 10)).toBe(2);

    expect(tl.power).not.toBeNull();
    expect(tl.power!.source).toBe('board');
    expect(tl.power!.metrics).toEqual(['power.board']);
    expect(tl.power!.stepMs).toBe(0);
    expect(tl.power!.points).toEqual(Array.from({ length: 40 }, (_, k) => [T0 + (k + 1) * 1000, powerAt(k + 1)]));
  });

  it('gives the CDF of the measured timings, warm-up left out, agreeing with the comparison', async () => {
    const { body: tl } = await get<ExperimentTimeline>(`/experiments/${STEP.id}/timeline`);
    const { body: cmp } = await get<ComparisonResponse>(`/experiments/compare?ids=${STEP.id},${LONG.id}`);
    const stats = cmp.experiments.find((e) => e.id === STEP.id)!;
    const all = Array.from({ length: 35 }, (_, k) => stepLatencies(k + 5)).flat().sort((a, b) => a - b);
    const d = tl.distribution;
    expect(d.count).toBe(all.length);
    expect(d.count).toBe(stats.inferences);
    expect(d.maxMs).toBe(30); // no 100 ms warm-up call
    expect(d.minMs).toBe(10);
    expect(d.p50Ms).toBe(stats.latencyP50Ms);
    expect(d.p99Ms).toBe(stats.latencyP99Ms);
    expect(d.p90Ms).toBe(stats.latencyP90Ms);
    const cdf = d.cdf;
    expect(cdf[cdf.length - 1]![1]).toBe(1);
    for (let k = 1; k < cdf.length; k++) {
      expect(cdf[k]![0]).toBeGreaterThan(cdf[k - 1]![0]);
      expect(cdf[k]![1]).toBeGreaterThan(cdf[k - 1]![1]);
    }
    for (const q of [0.25, 0.5, 0.75, 0.9, 0.99]) {
      const exact = all[Math.ceil(q * all.length) - 1]!;
      expect(Math.abs(cdfQuantile(cdf, q)! - exact) / exact, `q=${q}`).toBeLessThanOrEqual(0.01);
    }
  });

  it('merges seconds of a long run into wider steps: at most 2000 points, or ?points=', async () => {
    const { body: tl } = await get<ExperimentTimeline>(`/experiments/${LONG.id}/timeline`);
    const { body: cmp } = await get<ComparisonResponse>(`/experiments/compare?ids=${STEP.id},${LONG.id}`);
    const stats = cmp.experiments.find((e) => e.id === LONG.id)!;
    expect(tl.latencySource).toBe('time-range');
    expect(tl.power).toBeNull();
    expect(tl.stepMs).toBe(2000);
    expect(tl.latency.length).toBeLessThanOrEqual(2000);
    expect(tl.latency.length).toBe(Math.ceil(LONG.seconds / 2));
    // Throughput × step width adds up to every call the comparison counts.
    const calls = tl.latency.reduce((n, p) => n + (p[1] * tl.stepMs) / 1000, 0);
    expect(calls).toBeCloseTo(stats.inferences, 6);
    expect(tl.distribution.count).toBe(stats.inferences);
    expect(tl.distribution.p50Ms).toBe(stats.latencyP50Ms);

    const small = await get<ExperimentTimeline>(`/experiments/${LONG.id}/timeline?points=100`);
    expect(small.status).toBe(200);
    expect(small.body.latency.length).toBeLessThanOrEqual(100);
    expect(small.body.stepMs).toBe(26_000);
    expect(small.body.latency.reduce((n, p) => n + (p[1] * small.body.stepMs) / 1000, 0)).toBeCloseTo(stats.inferences, 6);
    // The response stays small: 2000 points of five numbers and a CDF.
    const bytes = (await (await fetch(`${base}/experiments/${LONG.id}/timeline`)).text()).length;
    expect(bytes).toBeLessThan(150_000);
  });

  it('answers 404 for an unknown experiment and 400 for a bad points', async () => {
    for (const id of ['nope', 'bad%20id']) {
      const res = await get<{ error: string }>(`/experiments/${id}/timeline`);
      expect(res.status, id).toBe(404);
      expect(res.body.error).toMatch(/no experiment with id/);
    }
    for (const points of ['5', '2001', 'abc', '-3', '10.5']) {
      const res = await get<{ error: string }>(`/experiments/${STEP.id}/timeline?points=${points}`);
      expect(res.status, points).toBe(400);
      expect(res.body.error).toMatch(/points must be a whole number from 10 to 2000/);
    }
  });
});
