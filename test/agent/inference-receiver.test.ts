// The inference receiver on real sockets on 127.0.0.1: UDP lines and the HTTP API, into a
// recording sink, and what a bad sender gets back.
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startInferenceReceiver, MAX_BODY_BYTES, type InferenceReceiver, type InferenceSink } from '../../agent/inference/receiver.js';
import type { ExperimentEndSummary, ExperimentStart, Score, Timing } from '../../shared/inference.js';
import { silentLogger } from '../../shared/log.js';
import { eventually } from '../helpers/processes.js';

const digest = (count: number): ExperimentEndSummary['measured'] => ({
  count,
  mean: count ? 1 : null,
  p50: count ? 1 : null,
  p90: count ? 1 : null,
  p95: count ? 1 : null,
  p99: count ? 1 : null,
  min: count ? 1 : null,
  max: count ? 1 : null,
  stdev: count ? 0 : null,
});

/** A stand-in for the aggregator: records what the receiver hands it (the receiver is under test). */
class RecordingSink implements InferenceSink {
  readonly timings: { t: Timing; receivedAt: number }[] = [];
  readonly started: { s: ExperimentStart; at: number }[] = [];
  readonly scored: { id: string; scores: readonly Score[] }[] = [];
  private readonly open = new Set<string>();
  private n = 0;
  timing(t: Timing, receivedAt: number): void {
    this.timings.push({ t, receivedAt });
  }
  startExperiment(s: ExperimentStart, at: number): { id: string; start: number } {
    this.started.push({ s, at });
    const id = `x-test-${++this.n}`;
    this.open.add(id);
    return { id, start: at };
  }
  endExperiment(id: string, at: number): { id: string; end: number; summary: ExperimentEndSummary } | null {
    if (!this.open.delete(id)) return null;
    const summary: ExperimentEndSummary = { inferences: 3, items: 3, durationMs: 1000, measured: digest(2), warmup: digest(1), firstCallMs: 1, dropped: 0, scores: [{ name: 'top1', value: 0.5, better: 'higher' }] };
    return { id, end: at, summary };
  }
  scoreExperiment(id: string, scores: readonly Score[]): boolean {
    if (!this.open.has(id)) return false;
    this.scored.push({ id, scores });
    return true;
  }
}

function sendUdp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.send(Buffer.from(text), port, '127.0.0.1', (err) => {
      socket.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

describe('inference receiver', () => {
  let sink: RecordingSink;
  let receiver: InferenceReceiver;
  let base: string;

  beforeEach(async () => {
    sink = new RecordingSink();
    receiver = await startInferenceReceiver({ host: '127.0.0.1', port: 0, log: silentLogger(), sink });
    base = `http://127.0.0.1:${receiver.port}`;
  });
  afterEach(async () => {
    await receiver.close();
  });

  const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('takes every line of a multi-line UDP datagram, with its fields', async () => {
    const before = Date.now();
    await sendUdp(receiver.port, 'ew1 resnet18-int8 12.37 b=8 x=x-lq2v3k-9f3a #device=cpu\new1 resnet18-int8 13.5\n\new1 yolo:v8n 40 t=1790000000000\n');
    await eventually('three timings', () => sink.timings.length === 3, 2000, 10);
    expect(sink.timings.map((r) => r.t)).toEqual([
      { model: 'resnet18-int8', latencyMs: 12.37, batch: 8, experiment: 'x-lq2v3k-9f3a', tags: { device: 'cpu' } },
      { model: 'resnet18-int8', latencyMs: 13.5 },
      { model: 'yolo:v8n', latencyMs: 40, t: 1_790_000_000_000 },
    ]);
    // One datagram, one receive time: the agent clock, not the line's t=.
    expect(new Set(sink.timings.map((r) => r.receivedAt)).size).toBe(1);
    expect(sink.timings[0]!.receivedAt).toBeGreaterThanOrEqual(before);
    expect(receiver.stats()).toEqual({ udpDatagrams: 1, udpLines: 3, httpRequests: 0, accepted: 3, rejected: 0, refused: 0, connectionsRefused: 0 });
  });

  it('counts bad UDP lines as rejected, keeps the good ones beside them, and keeps running', async () => {
    await sendUdp(receiver.port, 'ew1 good 1\nnot a timing\new1 bad model 1\new1 m -5\new1 m 1 b=0\new1 m 1 q=1\n\u0000\u00ff garbage');
    await sendUdp(receiver.port, Buffer.alloc(3000, 0xff).toString('latin1'));
    await sendUdp(receiver.port, 'ew1 good 2');
    await eventually('both good timings', () => sink.timings.length === 2, 2000, 10);
    await eventually('all three datagrams', () => receiver.stats().udpDatagrams === 3, 2000, 10);
    expect(sink.timings.map((r) => r.t.latencyMs)).toEqual([1, 2]);
    expect(receiver.stats()).toMatchObject({ udpDatagrams: 3, udpLines: 9, accepted: 2, rejected: 7 });
    const health = await fetch(`${base}/v1/health`);
    expect(health.status).toBe(200);
  });

  it('counts a timing the sink throws on as rejected', async () => {
    sink.timing = () => {
      throw new Error('full');
    };
    await sendUdp(receiver.port, 'ew1 m 1');
    await eventually('the datagram', () => receiver.stats().rejected === 1, 2000, 10);
    expect(receiver.stats().accepted).toBe(0);
  });

  it('accepts a JSON batch over HTTP with 202 and the count', async () => {
    const timings: Timing[] = [
      { model: 'bert-base', latencyMs: 5.5, batch: 32, tags: { seq: '128' } },
      { model: 'bert-base', latencyMs: 0 },
      { model: 'bert-base', latencyMs: 7, experiment: 'x-1', t: 1_790_000_000_123 },
    ];
    const res = await post('/v1/timings', { timings });
    expect(res).toEqual({ status: 202, body: { accepted: 3 } });
    expect(sink.timings.map((r) => r.t)).toEqual(timings);
    expect(receiver.stats()).toMatchObject({ httpRequests: 1, accepted: 3, rejected: 0 });
    expect(await post('/v1/timings', { timings: [] })).toEqual({ status: 202, body: { accepted: 0 } });
  });

  it('answers 400 naming the bad field, and takes none of the batch', async () => {
    const res = await post('/v1/timings', { timings: [{ model: 'ok', latencyMs: 1 }, { model: 'ok', latencyMs: -3 }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/timings\.1\.latencyMs/);
    const name = await post('/v1/timings', { timings: [{ model: 'has space', latencyMs: 1 }] });
    expect(name.status).toBe(400);
    expect(name.body.error).toMatch(/timings\.0\.model: model names are 1–128 characters/);
    const missing = await post('/v1/timings', { timing: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/timings/);
    const notJson = await post('/v1/timings', '{"timings": [');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatch(/not JSON/);
    const empty = await post('/v1/timings', '');
    expect(empty.status).toBe(400);
    expect(sink.timings).toHaveLength(0);
    expect(receiver.stats().accepted).toBe(0);
    expect(receiver.stats().rejected).toBeGreaterThanOrEqual(5);
  });

  it('answers 413 to a body over 1 MiB, whether declared or streamed', async () => {
    const big = JSON.stringify({ timings: [{ model: 'm', latencyMs: 1, tags: { pad: 'x'.repeat(200) } }] }).padEnd(MAX_BODY_BYTES + 10, ' ');
    const declared = await post('/v1/timings', big);
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatch(/over 1048576 bytes/);

    // Chunked, so the size is only known while reading.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/v1/timings`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      const chunk = 'x'.repeat(64 * 1024);
      const write = (left: number): void => {
        if (left <= 0 || req.destroyed) return void req.end();
        if (req.write(chunk)) write(left - 1);
        else req.once('drain', () => write(left - 1));
      };
      write(20);
    });
    expect(streamed.status).toBe(413);
    expect(sink.timings).toHaveLength(0);
    // Still serving.
    expect((await post('/v1/timings', { timings: [{ model: 'm', latencyMs: 1 }] })).status).toBe(202);
  });

  it('starts and ends experiments, and answers 404 for an unknown or ended one', async () => {
    const start = await post('/v1/experiments', { name: 'resnet int8', tags: { quant: 'int8' }, params: 11_689_512, modelBytes: 12_000_000 });
    expect(start.status).toBe(201);
    expect(start.body).toEqual({ id: 'x-test-1', start: expect.any(Number) });
    expect(sink.started[0]!.s).toEqual({ name: 'resnet int8', tags: { quant: 'int8' }, params: 11_689_512, modelBytes: 12_000_000 });
    expect(Math.abs(sink.started[0]!.at - Date.now())).toBeLessThan(5000);

    const end = await post('/v1/experiments/x-test-1/end', {});
    expect(end).toEqual({
      status: 200,
      body: {
        id: 'x-test-1',
        end: expect.any(Number),
        summary: { inferences: 3, items: 3, durationMs: 1000, measured: digest(2), warmup: digest(1), firstCallMs: 1, dropped: 0, scores: [{ name: 'top1', value: 0.5, better: 'higher' }] },
      },
    });
    const again = await post('/v1/experiments/x-test-1/end', {});
    expect(again.status).toBe(404);
    expect(again.body.error).toMatch(/no open experiment with id "x-test-1"/);
    expect((await post('/v1/experiments/never/end', {})).status).toBe(404);

    const bad = await post('/v1/experiments', { name: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^invalid request: name:/);
    expect((await post('/v1/experiments', { name: 'x', params: -1 })).body.error).toMatch(/params/);
    expect((await post('/v1/experiments/bad%20id/end', {})).status).toBe(400);
    expect((await post('/v1/experiments/bad%E0%A4%A/end', {})).status).toBe(400);
  });

  it('passes a warm-up of an experiment start through, and refuses a bad one', async () => {
    expect((await post('/v1/experiments', { name: 'a', warmup: { calls: 20 } })).status).toBe(201);
    expect((await post('/v1/experiments', { name: 'b', warmup: { ms: 5000 } })).status).toBe(201);
    expect(sink.started.map((x) => x.s.warmup)).toEqual([{ calls: 20 }, { ms: 5000 }]);
    for (const warmup of [{ calls: 0 }, { calls: 1.5 }, { ms: -1 }, { calls: 1, ms: 1 }, { seconds: 5 }, 20, '5s']) {
      const res = await post('/v1/experiments', { name: 'bad', warmup });
      expect(res.status, JSON.stringify(warmup)).toBe(400);
      expect(res.body.error).toMatch(/^invalid request: warmup/);
    }
    expect(sink.started).toHaveLength(2);
  });

  describe('scores', () => {
    const open = async (): Promise<string> => (await post('/v1/experiments', { name: 'scored' })).body.id as string;

    it('takes scores of an open experiment with 200 and the count, better defaulting to higher', async () => {
      const id = await open();
      const hostile = ['<img src=x onerror=alert(1)>', '=HYPERLINK("http://evil.example","x")', 'top-1 (ImageNet) — 精度 ✓ 🚀', '"quoted" \\ back'];
      const res = await post(`/v1/experiments/${id}/scores`, {
        scores: [{ name: 'top1', value: 0.912 }, { name: 'WER', value: 7.25, better: 'lower' }, ...hostile.map((name, i) => ({ name, value: -(i + 1), better: 'higher' }))],
      });
      expect(res).toEqual({ status: 200, body: { id, scores: 6 } });
      expect(sink.scored).toEqual([
        {
          id,
          scores: [
            { name: 'top1', value: 0.912, better: 'higher' },
            { name: 'WER', value: 7.25, better: 'lower' },
            ...hostile.map((name, i) => ({ name, value: -(i + 1), better: 'higher' })),
          ],
        },
      ]);
      // The biggest batch, and a second one (replacing is the sink's business).
      const many = Array.from({ length: 32 }, (_, i) => ({ name: `s${i}`, value: i * 1e300 }));
      expect(await post(`/v1/experiments/${id}/scores`, { scores: many })).toEqual({ status: 200, body: { id, scores: 32 } });
      expect(sink.scored).toHaveLength(2);
      expect(receiver.stats().rejected).toBe(0);
    });

    it('answers 400 naming the bad field, takes none of the batch and counts it', async () => {
      const id = await open();
      const cases: [unknown, RegExp][] = [
        [{ scores: [{ name: 'ok', value: 1 }, { name: 'huge', value: '1e999' }] }, /^invalid scores: scores\.1\.value: .*expected number, received string/],
        ['{"scores": [{"name": "inf", "value": 1e999}]}', /scores\.0\.value/],
        ['{"scores": [{"name": "ninf", "value": -1e999}]}', /scores\.0\.value/],
        [{ scores: [{ name: 'nan', value: 'NaN' }] }, /scores\.0\.value/],
        [{ scores: [{ name: 'null', value: null }] }, /scores\.0\.value/],
        [{ scores: [{ name: 'top1', value: 1, better: 'more' }] }, /scores\.0\.better: .*"higher"\|"lower"/],
        [{ scores: [{ name: 'top1', value: 1, better: 'Higher' }] }, /scores\.0\.better/],
        [{ scores: [{ name: 'tab\there', value: 1 }] }, /scores\.0\.name: score names are 1–64 characters without control characters/],
        [{ scores: [{ name: 'new\nline', value: 1 }] }, /scores\.0\.name/],
        [{ scores: [{ name: 'nul\u0000', value: 1 }] }, /scores\.0\.name/],
        [{ scores: [{ name: 'del\u007f', value: 1 }] }, /scores\.0\.name/],
        [{ scores: [{ name: '', value: 1 }] }, /scores\.0\.name/],
        [{ scores: [{ name: 'x'.repeat(65), value: 1 }] }, /scores\.0\.name/],
        [{ scores: [{ value: 1 }] }, /scores\.0\.name/],
        [{ scores: Array.from({ length: 33 }, (_, i) => ({ name: `s${i}`, value: i })) }, /scores: Too big: .*<=32/],
        [{ scores: [] }, /scores: Too small: .*>=1/],
        [{ score: { name: 'top1', value: 1 } }, /scores: .*expected array/],
        [[{ name: 'top1', value: 1 }], /\(body\): .*expected object/],
      ];
      for (const [body, error] of cases) {
        const res = await post(`/v1/experiments/${id}/scores`, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error, JSON.stringify(body)).toMatch(error);
      }
      // Not JSON, empty: the same 400s as for timings.
      expect((await post(`/v1/experiments/${id}/scores`, '{"scores": [')).body.error).toMatch(/not JSON/);
      expect((await post(`/v1/experiments/${id}/scores`, '')).status).toBe(400);
      // 64 characters are fine, counted as code points (an emoji is two UTF-16 units).
      expect((await post(`/v1/experiments/${id}/scores`, { scores: [{ name: '🚀'.repeat(64), value: 1 }] })).status).toBe(200);
      expect(sink.scored).toEqual([{ id, scores: [{ name: '🚀'.repeat(64), value: 1, better: 'higher' }] }]);
      // One per score sent (2 in the first batch, 33 in the long one), at least one per request.
      expect(receiver.stats().rejected).toBe(2 + 13 + 33 + 3 + 2);
      expect(receiver.stats().accepted).toBe(0);
    });

    it('answers 404 for an unknown or ended experiment, saying scores go in while it runs', async () => {
      const unknown = await post('/v1/experiments/never-started/scores', { scores: [{ name: 'top1', value: 1 }] });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toMatch(/no open experiment with id "never-started": it is unknown .* or has already ended; send scores while the experiment runs/);
      const id = await open();
      expect((await post(`/v1/experiments/${id}/end`, {})).status).toBe(200);
      const ended = await post(`/v1/experiments/${id}/scores`, { scores: [{ name: 'top1', value: 1 }] });
      expect(ended.status).toBe(404);
      expect(ended.body.error).toMatch(/already ended/);
      expect(sink.scored).toEqual([]);
      // A bad id is the sender's mistake; a wrong method is 405.
      expect((await post('/v1/experiments/bad%20id/scores', { scores: [{ name: 'top1', value: 1 }] })).status).toBe(400);
      expect((await post('/v1/experiments/bad%E0%A4%A/scores', { scores: [{ name: 'top1', value: 1 }] })).status).toBe(400);
      expect((await fetch(`${base}/v1/experiments/${id}/scores`)).status).toBe(405);
    });

    it('answers 413 to a scores body over 1 MiB and a sink that throws with 500, and keeps serving', async () => {
      const id = await open();
      const big = JSON.stringify({ scores: [{ name: 'top1', value: 1 }] }).padEnd(MAX_BODY_BYTES + 10, ' ');
      expect((await post(`/v1/experiments/${id}/scores`, big)).status).toBe(413);
      sink.scoreExperiment = () => {
        throw new Error('sink broke');
      };
      const broken = await post(`/v1/experiments/${id}/scores`, { scores: [{ name: 'top1', value: 1 }] });
      expect(broken).toEqual({ status: 500, body: { error: 'internal error: sink broke' } });
      expect((await fetch(`${base}/v1/health`)).status).toBe(200);
    });
  });

  it('answers health with the counters, unknown routes with 404 JSON and wrong methods with 405', async () => {
    await post('/v1/timings', { timings: [{ model: 'm', latencyMs: 1 }] });
    const health = await fetch(`${base}/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, stats: { udpDatagrams: 0, udpLines: 0, httpRequests: 2, accepted: 1, rejected: 0, refused: 0, connectionsRefused: 0 } });

    const unknown = await fetch(`${base}/v2/nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/no route GET \/v2\/nothing/);

    const wrong = await fetch(`${base}/v1/timings`);
    expect(wrong.status).toBe(405);
  });

  it('frees both the TCP and the UDP port on close, with a keep-alive connection open', async () => {
    const port = receiver.port;
    // fetch keeps its connection alive; close() must not wait for it.
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
    await receiver.close();
    await receiver.close(); // twice is harmless

    await new Promise<void>((resolve, reject) => {
      const tcp = createServer();
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => tcp.close(() => resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      const udp = createSocket('udp4');
      udp.once('error', reject);
      udp.bind(port, '127.0.0.1', () => udp.close(() => resolve()));
    });
    // Restart for afterEach.
    receiver = await startInferenceReceiver({ host: '127.0.0.1', port, log: silentLogger(), sink });
    expect(receiver.port).toBe(port);
  });

  it('fails with the address when a fixed port is taken, leaving nothing bound', async () => {
    const taken = receiver.port;
    await expect(startInferenceReceiver({ host: '127.0.0.1', port: taken, log: silentLogger(), sink })).rejects.toThrow(
      new RegExp(`inference port ${taken} on 127\\.0\\.0\\.1 is in use`),
    );
    // UDP alone taken: TCP must be released again.
    const udp = createSocket('udp4');
    const udpPort = await new Promise<number>((resolve) => udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)));
    try {
      await expect(startInferenceReceiver({ host: '127.0.0.1', port: udpPort, log: silentLogger(), sink })).rejects.toThrow(/is in use/);
      await new Promise<void>((resolve, reject) => {
        const tcp = createServer();
        tcp.once('error', reject);
        tcp.listen(udpPort, '127.0.0.1', () => tcp.close(() => resolve()));
      });
    } finally {
      udp.close();
    }
  });

  it('gives two receivers on port 0 different ports, each taking its own UDP', async () => {
    const other = await startInferenceReceiver({ host: '127.0.0.1', port: 0, log: silentLogger(), sink });
    try {
      expect(other.port).not.toBe(receiver.port);
      await sendUdp(other.port, 'ew1 m 1');
      await eventually('the timing on the second receiver', () => other.stats().accepted === 1, 2000, 10);
      expect(receiver.stats().accepted).toBe(0);
    } finally {
      await other.close();
    }
  });
});
