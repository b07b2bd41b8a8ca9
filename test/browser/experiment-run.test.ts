// The experiment workflow as a user runs it: `edgewatch start` (hub + this machine's agent,
// with a fake nvidia-smi replaying a real H200's power draw), two `edgewatch run` invocations
// around a Python script that reports latencies through the stdlib SDK, then the comparison
// in the API and on the compare page. Every figure is checked against values computed here,
// independently, from the raw inputs: the latencies the scripts sent, the parameter counts
// given to `run`, and the power samples the hub stored. The hub runs with its default login:
// Node logs in with the password `start` printed (POST /api/v1/login) and sends the cookie;
// the browser contexts get theirs from the same endpoint.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComparisonResponse, ExperimentStats, ExperimentSummary, SeriesResponse } from '../../shared/live.js';
import { createClient } from '../../sdk/index.js';
import { CLI, eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { apiLogin, getJsonAs, printedLogin } from './auth-helpers.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium } from './harness.js';

const run = promisify(execFile);
const HAVE_PYTHON = await run('python3', ['--version']).then(
  () => true,
  () => false,
);
if (!HAVE_PYTHON && process.env.EDGEWATCH_REQUIRE_PYTHON === '1') throw new Error('python3 is needed for the experiment tests');
const FAKE_BIN = join(REPO_ROOT, 'test/fixtures/bin');

/** The user's benchmark: log-normal latencies around `scale` ms, reported one by one, spread over ~2 s. */
const SCRIPT = `
import json, random, sys, time
import edgewatch
seed, scale, n, model, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rnd = random.Random(seed)
sent = []
for i in range(n):
    v = round(rnd.lognormvariate(0, 0.35) * scale, 3)
    edgewatch.record(model, v)
    sent.append(v)
    time.sleep(0.005)
edgewatch.flush()
json.dump(sent, open(out, "w"))
sys.exit(int(sys.argv[6]) if len(sys.argv) > 6 else 0)
`;

const N = 400;
const ORIGINAL = { name: 'resnet50-fp32', params: 25_557_032, bytes: 102_228_128, scale: 20, seed: 1 };
const COMPRESSED = { name: 'resnet50-int8', params: 6_389_258, bytes: 25_557_032, scale: 8, seed: 2 };

/** The value at rank ⌊q·(n−1)⌋: the definition the hub's histogram estimates within 1 %. */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe.skipIf(!HAVE_BROWSER || !HAVE_PYTHON)('edgewatch run → experiments → comparison, end to end', () => {
  let tmp: ReturnType<typeof tempDir>;
  let start: CliProcess;
  let base = '';
  let inferencePort = 0;
  let browser: Browser | undefined;
  const sent: Record<string, number[]> = {};
  const ids: Record<string, string> = {};
  const codes: Record<string, number> = {};
  let password = '';
  let cookie = '';
  const getJson = <T>(url: string): Promise<T> => getJsonAs<T>(cookie, url);

  /** A page in a fresh context that logged in through the API (the form has its own suites). */
  async function loggedInPage(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const res = await context.request.post(`${base}api/v1/login`, { data: { user: 'admin', password } });
    expect(res.status()).toBe(204);
    const page = await context.newPage();
    // Closing the page closes its context; the browser may already be going away (afterAll).
    page.on('close', () => {
      context.close().catch(() => {});
    });
    return page;
  }

  async function runExperiment(spec: typeof ORIGINAL, exitCode = 0): Promise<void> {
    const out = join(tmp.dir, `${spec.name}.json`);
    const res = await run(
      process.execPath,
      [CLI, 'run', '--name', spec.name, '--params', String(spec.params), '--model-bytes', String(spec.bytes), '--tag', 'suite=e2e', '--',
        'python3', join(tmp.dir, 'bench.py'), String(spec.seed), String(spec.scale), String(N), spec.name, out, String(exitCode)],
      { env: { ...process.env, EDGEWATCH_INFERENCE_PORT: String(inferencePort), PYTHONPATH: join(REPO_ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1' }, timeout: 60_000 },
    ).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    codes[spec.name] = res.code;
    const id = /experiment (x-[a-z0-9-]+) \(/.exec(res.stderr)?.[1];
    if (!id) throw new Error(`edgewatch run printed no experiment id:\n${res.stderr}`);
    ids[spec.name] = id;
    sent[spec.name] = JSON.parse(readFileSync(out, 'utf8')) as number[];
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-run-');
    writeFileSync(join(tmp.dir, 'bench.py'), SCRIPT);
    const port = await freePort();
    inferencePort = await freePort();
    base = `http://127.0.0.1:${port}/`;
    start = spawnCli(['start', '--port', String(port), '--data', join(tmp.dir, 'data'), '--interval', '500', '--inference-port', String(inferencePort)], {
      PATH: `${FAKE_BIN}:${process.env.PATH ?? ''}`,
    });
    ({ password } = await printedLogin(start, 30_000));
    cookie = await eventually('POST /api/v1/login', () => apiLogin(base, 'admin', password), 30_000, 250);
    // Without the cookie the API refuses.
    expect((await fetch(`${base}api/v1/devices`)).status).toBe(401);
    // Wait for the GPU's power in the stream: energy needs it.
    await eventually(
      'the local agent streaming GPU power',
      async () => {
        const { devices } = await getJson<{ devices: { latest: { m: Record<string, number> } | null }[] }>(`${base}api/v1/devices`);
        return devices[0]?.latest?.m['gpu.0.power'] !== undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${start.output().slice(-3000)}`);
    });
    await runExperiment(ORIGINAL);
    // The second run's command fails: `run` must still end the experiment and pass the code on.
    await runExperiment(COMPRESSED, 3);
    // The agent sends a second's histogram once that second is over (and the next tick comes):
    // the last timings of a run reach the hub about a second after the command exits.
    await eventually(
      'every timing of both runs stored',
      async () => {
        const { experiments } = await getJson<{ experiments: ExperimentSummary[] }>(`${base}api/v1/experiments`);
        return experiments.length === 2 && experiments.every((e) => e.inferences === N);
      },
      15_000,
      250,
    );
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await start?.kill();
    tmp?.remove();
  }, 30_000);

  it('records both runs as ended experiments with the names, tags, sizes and exit codes given', async () => {
    expect(codes).toEqual({ [ORIGINAL.name]: 0, [COMPRESSED.name]: 3 });
    const { experiments } = await getJson<{ experiments: ExperimentSummary[] }>(`${base}api/v1/experiments`);
    for (const spec of [ORIGINAL, COMPRESSED]) {
      const e = experiments.find((x) => x.id === ids[spec.name]);
      expect(e, spec.name).toMatchObject({ name: spec.name, params: spec.params, modelBytes: spec.bytes, tags: { suite: 'e2e' }, models: [spec.name], inferences: N });
      expect(e!.end).not.toBeNull();
      expect(e!.end!).toBeGreaterThan(e!.start);
    }
  });

  it('compares them: quantiles, α, β, δ and energy per inference match values computed from the raw inputs', async () => {
    const a = ids[ORIGINAL.name]!;
    const b = ids[COMPRESSED.name]!;
    const cmp = await getJson<ComparisonResponse>(`${base}api/v1/experiments/compare?ids=${a},${b}&baseline=${a}`);
    const stats = (id: string): ExperimentStats => cmp.experiments.find((e) => e.id === id)!;

    for (const [spec, id] of [
      [ORIGINAL, a],
      [COMPRESSED, b],
    ] as const) {
      const s = stats(id);
      const values = sent[spec.name]!;
      expect(s.inferences).toBe(N);
      for (const [q, key] of [
        [0.5, 'latencyP50Ms'],
        [0.9, 'latencyP90Ms'],
        [0.99, 'latencyP99Ms'],
      ] as const) {
        const exact = exactQuantile(values, q);
        expect(Math.abs(s[key]! - exact) / exact, `${spec.name} ${key}: ${s[key]} vs exact ${exact}`).toBeLessThanOrEqual(0.01);
      }
      const mean = values.reduce((x, y) => x + y, 0) / values.length;
      expect(s.latencyMeanMs!).toBeCloseTo(mean, 6);
      expect(s.latencyMaxMs).toBe(Math.max(...values));

      // Energy: the power samples the hub stored for this experiment's span, integrated here.
      expect(s.powerSource).not.toBeNull();
      const series = await getJson<SeriesResponse>(
        `${base}api/v1/devices/${encodeURIComponent(s.deviceId)}/series?metrics=${s.powerMetrics.join(',')}&from=${s.start}&to=${s.end! + 1}&points=5000`,
      );
      expect(series.stepMs).toBe(0); // raw samples, not buckets
      const byT = new Map<number, number>();
      for (const points of Object.values(series.series)) {
        for (const [t, v] of points) if (t >= s.start && t <= s.end!) byT.set(t, (byT.get(t) ?? 0) + v);
      }
      const power = [...byT.entries()].sort((x, y) => x[0] - y[0]);
      expect(power.length).toBeGreaterThanOrEqual(3);
      let joules = 0;
      for (let k = 1; k < power.length; k++) joules += ((power[k - 1]![1] + power[k]![1]) / 2) * ((power[k]![0] - power[k - 1]![0]) / 1000);
      expect(s.energyJ!).toBeCloseTo(joules, 6);
      expect(s.energyPerInferenceJ!).toBeCloseTo(joules / N, 9);
      // A real H200's draw under load, replayed: hundreds of watts.
      expect(s.powerMeanW!).toBeGreaterThan(100);
    }

    const compressed = stats(b);
    const p50 = (name: string) => exactQuantile(sent[name]!, 0.5);
    expect(compressed.compressionParams).toBe(ORIGINAL.params / COMPRESSED.params);
    expect(compressed.spaceSavingParams).toBe((ORIGINAL.params - COMPRESSED.params) / COMPRESSED.params);
    expect(compressed.compressionBytes).toBe(4);
    expect(compressed.spaceSavingBytes).toBe(3);
    // δ from the hub's quantiles, within the 1 % of each quantile of the exact ratio.
    const exactSpeedup = p50(ORIGINAL.name) / p50(COMPRESSED.name);
    expect(Math.abs(compressed.speedupP50! - exactSpeedup) / exactSpeedup).toBeLessThanOrEqual(0.021);
    const meanOf = (name: string) => sent[name]!.reduce((x, y) => x + y, 0) / N;
    expect(compressed.speedupMean!).toBeCloseTo(meanOf(ORIGINAL.name) / meanOf(COMPRESSED.name), 6);
    expect(stats(a).speedupP50).toBe(1);

    // The compare page shows the same numbers.
    const page = await loggedInPage();
    try {
      await page.goto(`${base}#/compare?ids=${a},${b}&baseline=${a}`);
      const cell = (row: string, id: string) => page.locator(`tr[data-row="${row}"] [data-experiment-id="${id}"]`);
      await cell('compressionParams', b).waitFor();
      for (const key of ['compressionParams', 'spaceSavingBytes', 'speedupP50', 'energyPerInferenceJ', 'latencyP99Ms'] as const) {
        expect(Number(await cell(key, b).getAttribute('data-value')), key).toBeCloseTo(compressed[key]!, 9);
      }
      expect(await cell('compressionParams', b).textContent()).toContain('4.00×');
      await page.screenshot({ path: join(ARTIFACTS, 'run-compare.png'), fullPage: true });
    } finally {
      await page.close();
    }
  }, 60_000);

  it('shows a timing sent from the TypeScript SDK in the live inference panel', async () => {
    const { devices } = await getJson<{ devices: { id: string }[] }>(`${base}api/v1/devices`);
    const page = await loggedInPage();
    const client = createClient({ port: inferencePort, experiment: null });
    try {
      await page.goto(`${base}#/device/${devices[0]!.id}`);
      await page.locator('canvas[data-chart="cpu"]').waitFor();
      const sentAt = Date.now();
      // A timing every 100 ms, as a live loop would; the panel shows the model once a second holding one is sealed.
      const timer = setInterval(() => client.record('live-probe', 4.2), 100);
      try {
        await page.locator('[data-panel="inference"] [data-model="live_probe"]').waitFor({ timeout: 10_000 });
      } finally {
        clearInterval(timer);
      }
      const shownAfter = Date.now() - sentAt;
      // The figure itself is measured by `npm run bench`; this only records it.
      writeFileSync(join(ARTIFACTS, 'live-timing-latency.txt'), `${shownAfter} ms from the first record() to the live panel\n`);
      expect(await page.locator('[data-panel="inference"] [data-model="live_probe"]').textContent()).toContain('live-probe');
    } finally {
      await client.close();
      await page.close();
    }
  }, 30_000);
});
