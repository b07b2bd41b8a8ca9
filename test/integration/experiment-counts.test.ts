// Every timing that was recorded is counted: `edgewatch run` around Python scripts that time
// their calls with the real SDK, through the real agent and hub on 127.0.0.1. The first case is
// the one a user reported losing 3 of 200 timings on, every time: the SDK holds the last lines
// of a burst until the script exits 1.5 s later, long after the agent had sent their second.
// The fuzzed cases put calls and the exit at random spacings around second boundaries. Each
// checks the hub's count against what the script recorded and what the agent accepted.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComparisonResponse, ExperimentSummary } from '../../shared/live.js';
import { CLI, eventually, freePort, getJson, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const HAVE_PYTHON = await run('python3', ['--version']).then(
  () => true,
  () => false,
);
if (!HAVE_PYTHON && process.env.EDGEWATCH_REQUIRE_PYTHON === '1') throw new Error('python3 is needed for the experiment count tests');

/** The reported script, as the user wrote it. */
const REPORTED = `
import time
import edgewatch
for i in range(200):
    with edgewatch.timed("m"):
        time.sleep(0.002 if i % 10 else 0.02)
time.sleep(1.5)
`;

/**
 * Calls at the spacings given, each batch starting just before a second boundary (where a
 * second is sealed), then a pause before exit; prints how many calls it timed.
 */
const FUZZED = `
import json, sys, time
import edgewatch
plan = json.loads(sys.argv[1])
n = 0
for burst in plan["bursts"]:
    # Start the burst burst["offset"] s before the next whole second.
    now = time.time()
    wait = (1.0 - (now % 1.0)) - burst["offset"]
    if wait > 0:
        time.sleep(wait)
    for k in range(burst["calls"]):
        with edgewatch.timed(burst["model"]):
            if burst["gap"] > 0:
                time.sleep(burst["gap"])
        n += 1
time.sleep(plan["tail"])
print(json.dumps({"timed": n}))
`;

/** Timings that arrive with the warm-up: the first 20 calls take 50 ms, the rest 2 ms. */
const COLD_START = `
import time
import edgewatch
for i in range(220):
    with edgewatch.timed("cold"):
        time.sleep(0.05 if i < 20 else 0.002)
`;

describe.skipIf(!HAVE_PYTHON)('experiment counts through the real SDK, agent and hub', () => {
  let tmp: ReturnType<typeof tempDir>;
  let start: CliProcess;
  let base = '';
  let agent = '';
  let inferencePort = 0;

  async function runScript(name: string, script: string, args: string[] = [], runFlags: string[] = []): Promise<{ id: string; stdout: string }> {
    const file = join(tmp.dir, `${name}.py`);
    writeFileSync(file, script);
    const res = await run(process.execPath, [CLI, 'run', '--name', name, ...runFlags, '--', 'python3', file, ...args], {
      env: { ...process.env, EDGEWATCH_INFERENCE_PORT: String(inferencePort), PYTHONPATH: join(REPO_ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 60_000,
    });
    const id = /experiment (x-[a-z0-9-]+) \(/.exec(res.stderr)?.[1];
    if (!id) throw new Error(`edgewatch run printed no experiment id:\n${res.stderr}`);
    return { id, stdout: res.stdout };
  }

  async function accepted(): Promise<number> {
    return (await getJson<{ stats: { accepted: number } }>(`${agent}/v1/health`)).stats.accepted;
  }

  /** The hub's count once it has settled: at the expected number, or whatever it stays at. */
  async function hubCount(id: string, expected: number): Promise<number> {
    const read = async () => (await getJson<{ experiment: ExperimentSummary }>(`${base}api/v1/experiments/${id}`)).experiment;
    const settled = await eventually(`experiment ${id} ended with ${expected} inferences`, async () => {
      const e = await read();
      return e.end !== null && e.inferences === expected ? e : undefined;
    }, 8_000, 200).catch(async () => read());
    return settled.inferences;
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-counts-');
    const port = await freePort();
    inferencePort = await freePort();
    base = `http://127.0.0.1:${port}/`;
    agent = `http://127.0.0.1:${inferencePort}`;
    start = spawnCli(['start', '--no-auth', '--port', String(port), '--data', join(tmp.dir, 'data'), '--interval', '500', '--inference-port', String(inferencePort)]);
    await eventually('the hub listing this machine', async () => (await getJson<{ devices: unknown[] }>(`${base}api/v1/devices`)).devices.length === 1, 30_000, 250).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${start.output().slice(-3000)}`);
      },
    );
  });

  afterAll(async () => {
    await start?.kill();
    tmp?.remove();
  });

  it('counts all 200 timings of the reported script, twice, and as many as the agent accepted', async () => {
    for (let k = 0; k < 2; k++) {
      const before = await accepted();
      const { id } = await runScript(`reported-${k}`, REPORTED);
      expect(await accepted()).toBe(before + 200);
      expect(await hubCount(id, 200)).toBe(200);
    }
  });

  it('counts every timing at random call counts and spacings around second boundaries', async () => {
    const burst = fc.record({
      model: fc.constantFrom('a', 'b'),
      calls: fc.integer({ min: 1, max: 60 }),
      gap: fc.constantFrom(0, 0.0005, 0.002, 0.011),
      offset: fc.double({ min: 0, max: 0.3, noNaN: true }),
    });
    const plan = fc.record({ bursts: fc.array(burst, { minLength: 1, maxLength: 3 }), tail: fc.constantFrom(0, 0.05, 0.26, 0.7, 1.3) });
    let k = 0;
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const expected = p.bursts.reduce((n, b) => n + b.calls, 0);
        const { id, stdout } = await runScript(`fuzz-${k++}`, FUZZED, [JSON.stringify(p)]);
        expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ timed: expected });
        expect(await hubCount(id, expected)).toBe(expected);
      }),
      // Each run takes 1–4 s of real time: a handful of plans, the same ones every time.
      { numRuns: 5, seed: 20261203, endOnFailure: true },
    );
  }, 120_000);

  it('keeps a warm-up apart: measured p50 from the warm calls, first-call latency and the warm-up shown', async () => {
    const { id } = await runScript('cold-warmup', COLD_START, [], ['--warmup', '20']);
    const { id: plain } = await runScript('cold-plain', COLD_START);
    expect(await hubCount(id, 220)).toBe(220);
    expect(await hubCount(plain, 220)).toBe(220);
    const cmp = await getJson<ComparisonResponse>(`${base}api/v1/experiments/compare?ids=${plain},${id}`);
    const [all, warm] = [cmp.experiments.find((e) => e.id === plain)!, cmp.experiments.find((e) => e.id === id)!];
    expect(warm.warmup).toEqual({ calls: 20 });
    expect(warm.inferences).toBe(200);
    expect(warm.warmupInferences).toBe(20);
    // Sleeps overshoot a little (more on a loaded machine), never undershoot.
    expect(warm.warmupMeanMs).toBeGreaterThanOrEqual(50);
    expect(warm.latencyP50Ms).toBeGreaterThanOrEqual(2);
    expect(warm.latencyP50Ms).toBeLessThan(10);
    expect(warm.latencyMaxMs).toBeLessThan(50);
    expect(warm.firstCallMs).toBeGreaterThanOrEqual(50);
    // Without a warm-up nothing is excluded, the first call is still reported, and the page is told.
    expect(all.warmup).toBeNull();
    expect(all.inferences).toBe(220);
    expect(all.warmupInferences).toBe(0);
    expect(all.firstCallMs).toBeGreaterThanOrEqual(50);
    expect(all.latencyMaxMs).toBeGreaterThanOrEqual(50);
    expect(cmp.notes.join(' ')).toMatch(/Warm-up excluded .*first 20 calls.*1 run had no warm-up/);
    expect(all.timingsDropped).toBe(0);
  });
});
