// Experiments end to end through a real hub on 127.0.0.1 (temp SQLite file): an agent peer
// sends an original model's run and two runs of its compressed version (inference aggregates,
// experiment events, power/CPU/GPU/memory/temperature samples, a Pi throttle flag); every
// figure of GET /api/v1/experiments/compare is checked against values computed here from the
// raw inputs, as are the repeat groups, the CSV and Markdown exports and the 400/404 answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { EXPERIMENT_FIGURES } from '../../dashboard/server/compare.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ComparisonResponse, ExperimentStats, ExperimentSummary } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type ExperimentEvent, type InferenceAggregate, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

// Recent enough that the hub's raw retention (7 days by the hub clock) keeps it: an hour boundary a day ago.
const T0 = Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3_600_000;
const SECONDS = 20;

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

interface Run {
  event: ExperimentEvent;
  /** Timings carry the experiment id (else they are sent untagged). */
  tagged: boolean;
  latency: (r: number) => number;
  batch: number;
  latencies: number[];
  items: number;
}

const runs: Run[] = [
  { event: { id: 'x-orig', name: 'resnet50', params: 25_557_032, modelBytes: 102_228_128, tags: { precision: 'fp32' }, start: T0 + 1000, end: T0 + 21_000 }, tagged: true, latency: (r) => 20 + 10 * r * r, batch: 2, latencies: [], items: 0 },
  { event: { id: 'x-int8-a', name: 'resnet50-int8', params: 6_400_000, modelBytes: 25_700_000, tags: { precision: 'int8' }, start: T0 + 30_000, end: T0 + 50_000 }, tagged: true, latency: (r) => 8 + 4 * r * r, batch: 1, latencies: [], items: 0 },
  // A repeat whose client gave no params and no experiment id on its timings.
  { event: { id: 'x-int8-b', name: 'resnet50-int8', start: T0 + 60_000, end: T0 + 80_000 }, tagged: false, latency: (r) => 9 + 4 * r, batch: 1, latencies: [], items: 0 },
];
const EVIL_NAME = '=HYPERLINK("http://evil.example","click"), | pipe\nnew line';
const evil: ExperimentEvent = { id: 'x-evil', name: EVIL_NAME, tags: { '@x': '-2+3' }, start: T0 + 85_000, end: T0 + 88_000 };

// Metrics every second from T0 to T0 + 90 s.
const metricAt = (k: number): Record<string, number> => ({
  'power.board': 3 + 0.05 * k + (k % 3 === 0 ? 0.7 : 0),
  'gpu.0.power': 1.5, // ignored: power.board is preferred
  'cpu.util': (k * 37) % 100,
  'gpu.0.util': (k * 13) % 100,
  'gpu.1.util': (k * 29) % 100,
  'mem.used': 1e9 + k * 1e6 + (k === 45 ? 5e8 : 0),
  'temp.cpu': 40 + (k % 10) + (k === 33 ? 30 : 0),
  'gpu.0.temp': 45 + (k % 7),
  'pi.throttle.throttled': k === 40 ? 1 : 0,
  'pi.throttle.under_voltage': 0,
});

function buildSamples(): Sample[] {
  const next = rng(42);
  const samples = new Map<number, Sample>();
  for (let k = 0; k <= 90; k++) samples.set(T0 + k * 1000, { t: T0 + k * 1000, m: metricAt(k) });
  const at = (t: number): Sample => samples.get(t)!;
  for (const run of runs) {
    const e = run.event;
    (at(e.start).e ??= []).push({ ...e, end: undefined });
    (at(e.end!).e ??= []).push(e);
    for (let j = 0; j < SECONDS; j++) {
      const second = e.start + j * 1000;
      const lat = Array.from({ length: 10 + (j % 5) * 3 }, () => Math.round(run.latency(next()) * 1000) / 1000);
      run.latencies.push(...lat);
      run.items += lat.length * run.batch;
      const h = new LogHistogram();
      for (const v of lat) h.add(v);
      const s = h.summary();
      const agg: InferenceAggregate = { model: 'resnet50', t: second, count: s.count, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max, items: lat.length * run.batch, buckets: s.buckets };
      if (run.tagged) agg.experiment = e.id;
      // The agent sends a second's histogram with the first sample after it ends.
      (at(second + 1000).i ??= []).push(agg);
    }
  }
  (at(evil.start).e ??= []).push(evil);
  return [...samples.values()];
}

// Independent expectations from the raw inputs.
const exactQuantile = (sorted: number[], q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;
const inRange = (e: ExperimentEvent) => Array.from({ length: 91 }, (_, k) => k).filter((k) => T0 + k * 1000 >= e.start && T0 + k * 1000 <= e.end!);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStdev = (xs: number[]): number => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
function trapezoidJ(points: [number, number][]): number {
  let j = 0;
  for (let i = 1; i < points.length; i++) j += ((points[i - 1]![1] + points[i]![1]) / 2) * ((points[i]![0] - points[i - 1]![0]) / 1000);
  return j;
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF), to read the export as a spreadsheet would. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  expect(cell).toBe('');
  return rows;
}

describe('experiments API and comparison', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  let agent: TestPeer;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    base = `${hub.url}/api/v1`;
    agent = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    agent.send(helloFrame('edge-1', { capabilities: ['cpu', 'power', 'inference'] }));
    await agent.waitFor((f) => f.type === 'welcome');
    const samples = buildSamples();
    for (let seq = 1; samples.length > 0; seq++) {
      agent.send({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: samples.splice(0, 25) });
      await agent.waitFor((f) => f.type === 'ack' && f.seq === seq);
    }
    expect(agent.received.filter((f) => f.type === 'error')).toEqual([]);
  });
  afterAll(async () => {
    agent.close();
    await hub.close();
    tmp.remove();
  });

  const get = async (path: string): Promise<{ status: number; body: unknown; headers: Headers; text: string }> => {
    const res = await fetch(`${base}${path}`);
    const text = await res.text();
    let body: unknown = text;
    if (res.headers.get('content-type')?.includes('json')) body = JSON.parse(text);
    return { status: res.status, body, headers: res.headers, text };
  };
  const compare = async (query: string): Promise<ComparisonResponse> => {
    const res = await get(`/experiments/compare?${query}`);
    expect(res.status, res.text).toBe(200);
    return res.body as ComparisonResponse;
  };

  it('lists experiments with their models and inference counts, filtered by device, name and time', async () => {
    const all = (await get('/experiments')).body as { experiments: ExperimentSummary[] };
    expect(all.experiments.map((e) => e.id)).toEqual(['x-orig', 'x-int8-a', 'x-int8-b', 'x-evil']);
    expect(all.experiments[0]).toEqual({
      id: 'x-orig',
      deviceId: 'edge-1',
      deviceName: 'device edge-1',
      name: 'resnet50',
      tags: { precision: 'fp32' },
      params: 25_557_032,
      modelBytes: 102_228_128,
      start: T0 + 1000,
      end: T0 + 21_000,
      endedBy: null,
      models: ['resnet50'],
      inferences: runs[0]!.latencies.length,
    } satisfies ExperimentSummary);
    // Untagged timings are found by time range.
    expect(all.experiments[2]).toMatchObject({ params: null, modelBytes: null, models: ['resnet50'], inferences: runs[2]!.latencies.length });
    expect(all.experiments[3]).toMatchObject({ name: EVIL_NAME, models: [], inferences: 0 });

    const ids = async (q: string) => ((await get(`/experiments?${q}`)).body as { experiments: ExperimentSummary[] }).experiments.map((e) => e.id);
    expect(await ids('device=edge-1&name=resnet50-int8')).toEqual(['x-int8-a', 'x-int8-b']);
    expect(await ids(`from=${T0 + 50_001}&to=${T0 + 84_999}`)).toEqual(['x-int8-b']);
    expect(await ids(`to=${T0 + 1000}`)).toEqual(['x-orig']);

    expect((await get('/experiments/x-int8-a')).body).toEqual({ experiment: all.experiments[1] });
    const missing = await get('/experiments/x-nope');
    expect(missing.status).toBe(404);
    expect((missing.body as { error: string }).error).toMatch(/no experiment with id "x-nope"/);
    expect((await get('/experiments?device=nope')).status).toBe(404);
    expect((await get('/experiments?from=abc')).status).toBe(400);
    expect((await get(`/experiments?from=${T0 + 10}&to=${T0}`)).status).toBe(400);
  });

  it('computes every figure from the raw inputs: latency, throughput, CPU, GPU, memory, power, energy, temperature, throttling', async () => {
    const result = await compare('ids=x-orig,x-int8-a,x-int8-b');
    expect(result.baseline).toBe('x-orig');
    expect(result.experiments.map((e) => e.id)).toEqual(['x-orig', 'x-int8-a', 'x-int8-b']);
    for (const [i, run] of runs.entries()) {
      const s = result.experiments[i]!;
      const e = run.event;
      const lat = [...run.latencies].sort((a, b) => a - b);
      const n = lat.length;
      expect(s).toMatchObject({ id: e.id, running: false, durationS: 20, inferences: n, items: run.items, models: ['resnet50'] });
      expect(s.latencySource).toBe(run.tagged ? 'experiment' : 'time-range');
      expect(s.inferencesPerS).toBeCloseTo(n / 20, 12);
      expect(s.itemsPerS).toBeCloseTo(run.items / 20, 12);
      for (const [q, got] of [[0.5, s.latencyP50Ms], [0.9, s.latencyP90Ms], [0.99, s.latencyP99Ms]] as const) {
        const exact = exactQuantile(lat, q);
        expect(Math.abs(got! - exact) / exact, `p${q * 100} of ${e.id}: ${got} vs exact ${exact}`).toBeLessThanOrEqual(0.01 + 1e-12);
      }
      const m = mean(lat);
      expect(s.latencyMeanMs).toBeCloseTo(m, 9);
      expect(s.latencyMaxMs).toBe(lat[n - 1]);
      expect(s.latencyStdevMs).toBeCloseTo(Math.sqrt(mean(lat.map((x) => (x - m) ** 2))), 6);

      const ks = inRange(e);
      expect(ks).toHaveLength(21);
      const metric = (name: string) => ks.map((k) => metricAt(k)[name]!);
      expect(s.cpuUtilMean).toBeCloseTo(mean(metric('cpu.util')), 9);
      expect(s.cpuUtilPeak).toBe(Math.max(...metric('cpu.util')));
      const gpu = ks.map((k) => (metricAt(k)['gpu.0.util']! + metricAt(k)['gpu.1.util']!) / 2);
      expect(s.gpuUtilMean).toBeCloseTo(mean(gpu), 9);
      expect(s.gpuUtilPeak).toBe(Math.max(...gpu));
      expect(s.memUsedPeakBytes).toBe(Math.max(...metric('mem.used')));
      expect(s.tempPeakC).toBe(Math.max(...metric('temp.cpu'), ...metric('gpu.0.temp')));
      expect(s.powerSource).toBe('board');
      expect(s.powerMetrics).toEqual(['power.board']);
      const power = metric('power.board');
      expect(s.powerMeanW).toBeCloseTo(mean(power), 9);
      expect(s.powerPeakW).toBe(Math.max(...power));
      const energy = trapezoidJ(ks.map((k) => [T0 + k * 1000, metricAt(k)['power.board']!]));
      expect(s.energyJ).toBeCloseTo(energy, 9);
      expect(s.energyPerInferenceJ).toBeCloseTo(energy / n, 12);
      expect(s.throttled).toBe(ks.includes(40));
      expect(s.params).toBe(e.params ?? null);
      expect(s.modelBytes).toBe(e.modelBytes ?? null);
    }
    // The spike at k = 33 and the flag at k = 40 fall in the int8 run a only.
    expect(result.experiments.map((s) => s.throttled)).toEqual([false, true, false]);
    expect(result.experiments[1]!.tempPeakC).toBe(Math.max(...inRange(runs[1]!.event).map((k) => metricAt(k)['temp.cpu']!)));
    expect(result.experiments[1]!.tempPeakC).toBe(70 + (33 % 10) - 0);
  });

  it('gives speedup δ, compression α and space saving β against the baseline', async () => {
    const [orig, a, b] = (await compare('ids=x-orig,x-int8-a,x-int8-b')).experiments as [ExperimentStats, ExperimentStats, ExperimentStats];
    expect([orig.speedupP50, orig.speedupMean, orig.compressionParams, orig.spaceSavingParams, orig.compressionBytes, orig.spaceSavingBytes]).toEqual([1, 1, 1, 0, 1, 0]);
    expect(a.compressionParams).toBe(25_557_032 / 6_400_000);
    expect(a.spaceSavingParams).toBe((25_557_032 - 6_400_000) / 6_400_000);
    expect(a.compressionBytes).toBe(102_228_128 / 25_700_000);
    expect(a.spaceSavingBytes).toBe((102_228_128 - 25_700_000) / 25_700_000);
    expect(a.speedupP50).toBe(orig.latencyP50Ms! / a.latencyP50Ms!);
    expect(a.speedupMean).toBe(orig.latencyMeanMs! / a.latencyMeanMs!);
    // Against the true medians: each within 1 %, so the ratio within ~2 %.
    const median = (r: Run) => exactQuantile([...r.latencies].sort((x, y) => x - y), 0.5);
    expect(Math.abs(a.speedupP50! / (median(runs[0]!) / median(runs[1]!)) - 1)).toBeLessThan(0.0202);
    expect(a.speedupMean).toBeCloseTo(mean(runs[0]!.latencies) / mean(runs[1]!.latencies), 9);
    // Run b gave no params or size: α and β are not invented.
    expect([b.compressionParams, b.spaceSavingParams, b.compressionBytes, b.spaceSavingBytes]).toEqual([null, null, null, null]);
    expect(b.speedupP50).toBe(orig.latencyP50Ms! / b.latencyP50Ms!);

    // Another baseline flips the ratios.
    const flipped = await compare('ids=x-orig,x-int8-a&baseline=x-int8-a');
    expect(flipped.baseline).toBe('x-int8-a');
    expect(flipped.experiments[0]!.compressionParams).toBe(6_400_000 / 25_557_032);
    expect(flipped.experiments[0]!.speedupP50).toBe(a.latencyP50Ms! / orig.latencyP50Ms!);
    expect(flipped.experiments[1]!.speedupP50).toBe(1);
  });

  it('groups repeats by name with mean ± sample stdev of every figure', async () => {
    const result = await compare('ids=x-orig,x-int8-a,x-int8-b');
    expect(result.groups.map((g) => [g.name, g.runs, g.ids])).toEqual([
      ['resnet50', 1, ['x-orig']],
      ['resnet50-int8', 2, ['x-int8-a', 'x-int8-b']],
    ]);
    const [single, int8] = result.groups as [ComparisonResponse['groups'][0], ComparisonResponse['groups'][0]];
    expect(single.figures.inferences).toEqual({ n: 1, mean: runs[0]!.latencies.length, stdev: null });
    const counts = [runs[1]!.latencies.length, runs[2]!.latencies.length];
    expect(int8.figures.inferences.n).toBe(2);
    expect(int8.figures.inferences.mean).toBe(mean(counts));
    expect(int8.figures.inferences.stdev).toBeCloseTo(sampleStdev(counts), 12);
    const [a, b] = [result.experiments[1]!, result.experiments[2]!];
    expect(int8.figures.latencyP50Ms.mean).toBeCloseTo((a.latencyP50Ms! + b.latencyP50Ms!) / 2, 12);
    expect(int8.figures.latencyP50Ms.stdev).toBeCloseTo(Math.abs(a.latencyP50Ms! - b.latencyP50Ms!) / Math.SQRT2, 12);
    expect(int8.figures.energyPerInferenceJ.stdev).toBeCloseTo(sampleStdev([a.energyPerInferenceJ!, b.energyPerInferenceJ!]), 12);
    // Only run a has params: n counts the runs that have the figure.
    expect(int8.figures.compressionParams).toEqual({ n: 1, mean: a.compressionParams, stdev: null });
    expect(Object.keys(int8.figures).sort()).toEqual([...EXPERIMENT_FIGURES].sort());
    // Two repeats each: trial statistics for both groups, the baseline's own against nothing.
    expect(result.groups.map((g) => g.trials?.verdict)).toEqual(result.groups.map((g) => (g.runs >= 2 ? (g.ids.includes(result.baseline) ? 'baseline' : expect.any(String)) : undefined)));
  });

  it('exports CSV with RFC 4180 quoting and formula injection defused', async () => {
    const res = await get('/experiments/compare?ids=x-orig,x-evil&format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="experiments-\d+\.csv"$/);
    const rows = parseCsv(res.text);
    expect(rows).toHaveLength(3);
    const header = rows[0]!;
    expect(rows.every((r) => r.length === header.length)).toBe(true);
    const col = (row: string[], name: string) => row[header.indexOf(name)];
    const [orig, bad] = [rows[1]!, rows[2]!];
    expect(col(orig, 'id')).toBe('x-orig');
    expect(col(orig, 'baseline')).toBe('true');
    expect(Number(col(orig, 'inferences'))).toBe(runs[0]!.latencies.length);
    expect(Number(col(orig, 'params'))).toBe(25_557_032);
    expect(col(orig, 'throttled')).toBe('false');
    expect(col(orig, 'powerSource')).toBe('board');
    expect(col(bad, 'name')).toBe(`'${EVIL_NAME}`);
    expect(col(bad, 'tags')).toBe("'@x=-2+3");
    expect(col(bad, 'latencyP50Ms')).toBe('');
    expect(col(bad, 'inferences')).toBe('0');
    // Every cell a spreadsheet could run as a formula starts with the quote mark.
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+@]/);
  });

  it('exports a Markdown report (a row per figure, a column per variant) with names escaped', async () => {
    const res = await get('/experiments/compare?ids=x-orig,x-int8-a,x-int8-b,x-evil&format=md');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(res.text).toMatch(/^# Comparison: resnet50 \(baseline\) vs /);
    // The tables: runs of lines starting with "|"; the first is the headline (after "## Figures").
    const tables = res.text.split('\n\n').map((b) => b.split('\n')).filter((b) => b[0]!.startsWith('|'));
    const lines = tables[0]!;
    const columns = (line: string) => line.split(/(?<!\\)\|/).length;
    // Every row has a label and one cell per variant (the two int8 runs share a name), pipes in names escaped.
    for (const t of tables) expect(t.every((l) => columns(l) === columns(t[0]!))).toBe(true);
    expect(columns(lines[0]!)).toBe(3 + 3);
    expect(lines[0]).toMatch(/^\|  \| resnet50 \(baseline\) \| /);
    expect(lines[0]).toContain('=HYPERLINK("http\\://evil.example","click"), \\| pipe new line');
    expect(lines[1]).toMatch(/^\| --- \| ---: \|/);
    const row = (label: string) => lines.find((l) => l.startsWith(`| ${label} |`))?.split(/(?<!\\)\|/).slice(2, -1).map((c) => c.trim());
    expect(row('run ids')).toEqual(['x-orig', 'x-int8-a, x-int8-b', 'x-evil']);
    const json = (await get('/experiments/compare?ids=x-orig,x-int8-a,x-int8-b,x-evil')).body as ComparisonResponse;
    const [a, b] = [json.experiments[1]!, json.experiments[2]!];
    const group = json.groups.find((g) => g.name === a.name)!;
    // Two trials: the trials' δ where compare.ts made one, else the median (here the mean) of the runs' δ.
    const delta = group.trials?.versusBaseline?.speedup.value ?? (a.speedupP50! + b.speedupP50!) / 2;
    expect(row('speedup δ on p50 (×) [95 % CI]')![0]).toBe('1 (baseline)');
    expect(row('speedup δ on p50 (×) [95 % CI]')![1]!.startsWith(String(Number(delta.toPrecision(4))))).toBe(true);
    // Only run a has params: the variant's figure is its.
    expect(row('compression α on params (×)')![1]).toBe(String(Number(a.compressionParams!.toPrecision(4))));
    expect(row('parameters')![0]).toBe('25557032');
    // The evil experiment has no params: its cells say so rather than inventing a ratio.
    expect(row('compression α on params (×)')![2]).toBe('–');
    // Trials: the two int8 runs share a name.
    const trials = res.text.split('## Trials')[1];
    expect(trials).toBeDefined();
    expect(trials!.split('\n').some((l) => new RegExp(`^\\| ${a.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\| 2 \\| `).test(l))).toBe(true);
  });

  it('answers 400 for bad ids, baseline or format and 404 naming unknown ids', async () => {
    const bad = async (query: string, message: RegExp) => {
      const res = await get(`/experiments/compare${query}`);
      expect(res.status, query).toBe(400);
      expect((res.body as { error: string }).error).toMatch(message);
    };
    await bad('', /ids is required/);
    await bad('?ids=', /ids is required/);
    await bad('?ids=x-orig,bad%20id', /not an experiment id: "bad id"/);
    await bad('?ids=x-orig,', /not an experiment id: ""/);
    await bad('?ids=x-orig&ids=x-int8-a', /ids must be given once/);
    await bad('?ids=x-orig,x-int8-a&baseline=x-int8-b', /baseline "x-int8-b" is not one of ids/);
    await bad('?ids=x-orig&format=xlsx', /format must be one of json, csv, md, html, got "xlsx"/);
    await bad(`?ids=${Array.from({ length: 51 }, (_, i) => `x${i}`).join(',')}`, /at most 50/);
    const missing = await get('/experiments/compare?ids=x-orig,x-gone,x-lost');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'no experiment with id "x-gone", "x-lost"', missing: ['x-gone', 'x-lost'] });
  });
});
