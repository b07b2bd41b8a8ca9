// `edgewatch bench` and `edgewatch run` as a user runs them, against a real hub and agent
// (`edgewatch start --no-auth` on loopback ports, temp data dir). The commands under test are
// small Python scripts that report latencies they draw from a seeded RNG through the real
// Python SDK (sdk/python/edgewatch.py), so the expected verdicts are known: "slow" is about
// 4 ms and "fast" about 2 ms, with a few per cent of noise from trial to trial.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTrials } from '../../cli/bench/plan.js';
import { parseWarmup } from '../../cli/experiment/option-parsers.js';
import { parseScores } from '../../cli/experiment/scores-input.js';
import type { ExperimentStats, ExperimentSummary } from '../../shared/live.js';
import { CLI, eventually, freePort, getJson, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const exec = promisify(execFile);
const AGENT_BIN = join(REPO_ROOT, 'dist/edgewatch-agent.mjs');
const HAVE_PYTHON = await exec('python3', ['--version']).then(
  () => true,
  () => false,
);
if (!HAVE_PYTHON && process.env.EDGEWATCH_REQUIRE_PYTHON === '1') throw new Error('python3 is needed for the bench tests');

/**
 * argv: scale (ms), seed, [top1 score]. 300 calls around scale × (1 + 3 % trial noise), seeded
 * by the seed and the trial number bench passes in EDGEWATCH_BENCH_TRIAL. Prints a line of its
 * own, then (with a score) the `{"scores": …}` line `--scores-from stdout` reads.
 */
const CHILD = `
import json, os, random, sys
import edgewatch
scale, seed = float(sys.argv[1]), int(sys.argv[2])
trial = int(os.environ.get("EDGEWATCH_BENCH_TRIAL", "0"))
rnd = random.Random(seed * 7919 + trial)
level = scale * (1 + rnd.gauss(0, 0.03))
for _ in range(300):
    edgewatch.record("bench-model", round(level * rnd.lognormvariate(0, 0.1), 4))
edgewatch.flush()
print("child says hello")
if len(sys.argv) > 3:
    print(json.dumps({"scores": {"top1": float(sys.argv[3])}}))
`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

interface BenchJson {
  bench: string;
  baseline: string;
  variants: {
    name: string;
    baseline: boolean;
    ids: string[];
    stats: { n: number; latencyP50Ms: { value: number; lo: number; hi: number } | null; verdict: string };
    firstCallMs: number | null;
    warmupExcluded: number | null;
    scores: { name: string; value: number; delta: number | null; deltaUnit: string | null; worse: boolean | null }[];
  }[];
  comparisons: { variant: string; baseline: string; speedupP50: { value: number; lo: number; hi: number }; pValue: number; verdict: string }[];
  warnings: string[];
  compare: string;
  trials: { order: number; variant: string; trial: number; id: string }[];
}

describe.skipIf(!HAVE_PYTHON)('edgewatch bench and run, with a real hub and agent', () => {
  let tmp: ReturnType<typeof tempDir>;
  let start: CliProcess;
  let hub = '';
  let inferencePort = 0;
  let child = '';

  /** The CLI (or the standalone agent file), from the repository root, as a user types it. */
  async function cli(args: string[], opts: { bin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    const t0 = Date.now();
    const env = { ...process.env, EDGEWATCH_INFERENCE_PORT: String(inferencePort), PYTHONPATH: join(REPO_ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1', ...opts.env };
    return exec(process.execPath, [opts.bin ?? CLI, ...args], { cwd: REPO_ROOT, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr, ms: Date.now() - t0 }),
    );
  }
  const variant = (name: string, scale: number, seed: number, top1?: number) => ['--variant', `${name}=python3 ${child} ${scale} ${seed}${top1 === undefined ? '' : ` ${top1}`}`];
  const experiments = async (): Promise<ExperimentSummary[]> => (await getJson<{ experiments: ExperimentSummary[] }>(`${hub}/api/v1/experiments`)).experiments;
  const stats = async (id: string): Promise<ExperimentStats> => {
    const cmp = await getJson<{ experiments: ExperimentStats[] }>(`${hub}/api/v1/experiments/compare?ids=${id}`);
    return cmp.experiments[0]!;
  };
  /** The experiment id `run` announced on stderr. */
  const runId = (r: Result): string => {
    const id = /experiment (x-[a-z0-9-]+) \(/.exec(r.stderr)?.[1];
    if (!id) throw new Error(`edgewatch run printed no experiment id:\n${r.stderr}`);
    return id;
  };
  const ended = (id: string) => eventually(`experiment ${id} ended on the hub`, async () => (await experiments()).find((e) => e.id === id && e.end !== null), 15_000, 200);

  beforeAll(async () => {
    tmp = tempDir('edgewatch-bench-');
    child = join(tmp.dir, 'child.py');
    writeFileSync(child, CHILD);
    const port = await freePort();
    inferencePort = await freePort();
    hub = `http://127.0.0.1:${port}`;
    start = spawnCli(['start', '--no-auth', '--port', String(port), '--data', join(tmp.dir, 'data'), '--interval', '500', '--inference-port', String(inferencePort)]);
    await eventually('the hub and its local agent', async () => (await getJson<{ agentsOnline: number }>(`${hub}/healthz`)).agentsOnline === 1, 30_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${start.output().slice(-3000)}`);
    });
    await eventually('the agent’s timing port', async () => (await fetch(`http://127.0.0.1:${inferencePort}/v1/health`)).ok, 15_000, 100);
  }, 60_000);

  afterAll(async () => {
    await start?.kill();
    tmp?.remove();
  }, 30_000);

  it('bench slow vs fast: δ ≈ 2× with a CI that excludes 1×, verdict faster, trials interleaved on the hub, --json parsed', async () => {
    const r = await cli(['bench', '--name', 'itest', '--repeat', '5', '--scores-from', 'stdout', '--json', ...variant('slow', 4, 1, 0.9), ...variant('fast', 2, 2, 0.88)]);
    expect(r.code, r.stderr).toBe(0);
    // --json: stdout is the JSON object alone; the commands' own output went to stderr.
    const report = JSON.parse(r.stdout) as BenchJson;
    expect(r.stderr).toContain('child says hello');
    expect(report.baseline).toBe('slow');
    const [slow, fast] = report.variants;
    expect(slow).toMatchObject({ name: 'slow', baseline: true, stats: { n: 5, verdict: 'baseline' } });
    expect(fast).toMatchObject({ name: 'fast', baseline: false, stats: { n: 5, verdict: 'faster' } });
    expect(slow!.stats.latencyP50Ms!.value).toBeGreaterThan(3.6);
    expect(slow!.stats.latencyP50Ms!.value).toBeLessThan(4.4);
    expect(fast!.stats.latencyP50Ms!.value).toBeGreaterThan(1.8);
    expect(fast!.stats.latencyP50Ms!.value).toBeLessThan(2.2);
    const cmp = report.comparisons[0]!;
    expect(cmp).toMatchObject({ variant: 'fast', baseline: 'slow', verdict: 'faster' });
    expect(cmp.speedupP50.lo).toBeLessThanOrEqual(2);
    expect(cmp.speedupP50.hi).toBeGreaterThanOrEqual(2);
    expect(cmp.speedupP50.lo).toBeGreaterThan(1);
    expect(cmp.pValue).toBeLessThan(0.05);
    // Scores: medians, and Δ vs the baseline in percentage points (both in [0, 1]).
    expect(slow!.scores).toEqual([expect.objectContaining({ name: 'top1', value: 0.9, delta: null })]);
    expect(fast!.scores[0]).toMatchObject({ name: 'top1', value: 0.88, deltaUnit: 'pp', worse: true });
    expect(fast!.scores[0]!.delta).toBeCloseTo(-2, 9);
    expect(fast!.firstCallMs).toBeGreaterThan(0);
    expect(fast!.warmupExcluded).toBe(0);
    // These trials are far shorter than summariseTrials asks for: it says so.
    expect(report.warnings.join('\n')).toMatch(/ran only/);
    const ids = report.trials.map((t) => t.id);
    expect(report.compare).toBe(`#/compare?ids=${ids.join(',')}&baseline=${slow!.ids[0]}`);

    // On the hub: one ended experiment per trial, named PREFIX/VARIANT, with the bench's tags,
    // alternating slow fast slow fast … by start time. The last second's timings reach the hub
    // a tick after the experiment's end does: wait for all of them.
    const stored = await eventually(
      'the 10 trials ended on the hub with all their timings',
      async () => {
        const mine = (await experiments()).filter((e) => e.tags.bench === report.bench && e.end !== null && e.inferences === 300);
        return mine.length === 10 ? mine : undefined;
      },
      15_000,
      200,
    );
    stored.sort((a, b) => a.start - b.start);
    expect(stored.map((e) => e.tags.variant)).toEqual(['slow', 'fast', 'slow', 'fast', 'slow', 'fast', 'slow', 'fast', 'slow', 'fast']);
    expect(stored.map((e) => e.tags.trial)).toEqual(['1', '1', '2', '2', '3', '3', '4', '4', '5', '5']);
    expect(stored.map((e) => e.tags.order)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(stored.map((e) => e.id)).toEqual(ids);
    expect(stored.map((e) => e.name)).toEqual(stored.map((e) => `itest/${e.tags.variant}`));
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.start).toBeGreaterThanOrEqual(stored[i - 1]!.end!);
    expect(stored[0]!.tags['git.commit']).toMatch(/^[0-9a-f]{4,}$/);
  }, 60_000);

  it('bench of two identical variants (different seeds) through the standalone agent file: no measurable difference, as a table', async () => {
    const r = await cli(['bench', '--repeat', '5', ...variant('a', 3, 11), ...variant('b', 3, 12)], { bin: AGENT_BIN });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('child says hello'); // the commands' stdout passes through
    const table = r.stdout.slice(r.stdout.indexOf('\nb-'));
    expect(table).toMatch(/^variant\s+trials\s+p50 ms \[95 % CI\]\s+p90\s+p95\s+p99\s+mean\s+stdev\s+CoV\s+first call\s+warm-up\s+calls\/s$/m);
    expect(table).toMatch(/^a \*\s+5\s+\d\.\d\d ms \[/m);
    expect(table).toMatch(/^b vs a: δ p50 \d\.\d\d× \[\d\.\d\d×, \d\.\d\d×\], p [=<] [\d.]+ → no measurable difference$/m);
    expect(table).toContain('warnings:');
    expect(table).toMatch(/^conditions \(trial 1\): /m);
    expect(table).toMatch(/^energy: .*hub/m);
    expect(table).toMatch(/^compare on the hub: #\/compare\?ids=(x-[a-z0-9-]+,){9}x-[a-z0-9-]+&baseline=x-[a-z0-9-]+$/m);
  }, 60_000);

  it('a failing variant stops the bench with a clear message, unless --keep-going', async () => {
    const fail = ['--variant', `bad=python3 -c "import sys; sys.exit(3)"`];
    const stopped = await cli(['bench', '--repeat', '3', ...variant('ok', 2, 3), ...fail]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/trial 2\/6 \(bad #1, experiment x-[a-z0-9-]+\) failed: `python3 -c "import sys; sys.exit\(3\)"` exited with code 3; stopping \(pass --keep-going to run the remaining trials\)/);
    expect(stopped.stderr).not.toContain('[3/6]');
    expect(stopped.stdout).not.toContain('compare on the hub');

    const going = await cli(['bench', '--repeat', '2', '--json', ...variant('ok', 2, 3), ...fail, '--keep-going']);
    expect(going.code).toBe(1);
    const report = JSON.parse(going.stdout) as BenchJson;
    expect(report.trials).toHaveLength(4);
    expect(report.variants.find((v) => v.name === 'ok')!.stats.n).toBe(2);
    expect(report.warnings.filter((w) => /exited with code 3; left out of the figures/.test(w))).toHaveLength(2);
  }, 60_000);

  it('cool-down: a board that stays too hot is waited for until --cooldown-max, then a warning', async () => {
    const sys = join(tmp.dir, 'hot-sys');
    for (const [zone, type, milli] of [
      ['thermal_zone0', 'cpu-thermal', '95000'],
      ['thermal_zone1', 'PMIC-Die', '100000'], // an alarm level, not a temperature: ignored
      ['thermal_zone2', 'gpu-thermal', '61500'],
    ] as const) {
      mkdirSync(join(sys, 'class/thermal', zone), { recursive: true });
      writeFileSync(join(sys, 'class/thermal', zone, 'type'), `${type}\n`);
      writeFileSync(join(sys, 'class/thermal', zone, 'temp'), `${milli}\n`);
    }
    const r = await cli(['bench', '--repeat', '1', '--json', '--cooldown-temp', '50', '--cooldown-max', '1s', ...variant('a', 1, 5), ...variant('b', 1, 6)], {
      env: { EDGEWATCH_SYS_ROOT: sys },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: still 95\.0 °C after 1\.\d+ s of cooling \(--cooldown-temp 50\); starting the next trial anyway/);
    expect((JSON.parse(r.stdout) as BenchJson).warnings.some((w) => /^before trial 2: still 95\.0 °C/.test(w))).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
  }, 30_000);

  it('run --scores-from stdout and --warmup 20: the scores and the warm-up reach the experiment, and the summary is printed', async () => {
    const r = await cli(['run', '--name', 'scored', '--warmup', '20', '--scores-from', 'stdout', '--', 'python3', child, '4', '7', '0.912']);
    expect(r.code, r.stderr).toBe(0);
    // stdout passes through unchanged, the scores line included.
    expect(r.stdout).toBe('child says hello\n{"scores": {"top1": 0.912}}\n');
    expect(r.stderr).toMatch(/^edgewatch run: 300 inferences in \d+\.\d s; p50 \d\.\d\d ms, p99 \d\.\d\d ms; first call [\d.]+ ms; 20 warm-up calls excluded$/m);
    expect(r.stderr).toMatch(/^edgewatch run: scores: top1 0\.912$/m);
    const id = runId(r);
    await ended(id);
    const s = await eventually('scores and warm-up on the hub', async () => {
      const e = await stats(id);
      return e.scores.length > 0 && e.warmupInferences + e.inferences === 300 ? e : undefined;
    });
    expect(s.scores).toEqual([{ name: 'top1', value: 0.912, better: 'higher' }]);
    expect(s.warmup).toEqual({ calls: 20 });
    expect(s.warmupInferences).toBe(20);
    expect(s.tags['git.commit']).toMatch(/^[0-9a-f]{4,}$/);
  }, 30_000);

  it('run --scores-from FILE reads the file after the command; bad scores give one warning line and the run still succeeds', async () => {
    const file = join(tmp.dir, 'scores.json');
    const writer = `import json; json.dump({"scores": {"wer": {"value": 0.08, "better": "lower"}, "top1": 0.75, "mAP": "high"}}, open(${JSON.stringify(file)}, "w"))`;
    const r = await cli(['run', '--name', 'from-file', '--scores-from', file, '--', 'python3', '-c', writer]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('scores from'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^edgewatch run: scores from .*scores\.json: left out "mAP" \(value: .*\); sent wer, top1$/);
    const id = runId(r);
    await ended(id);
    const s = await eventually('file scores on the hub', async () => {
      const e = await stats(id);
      return e.scores.length > 0 ? e : undefined;
    });
    expect(s.scores).toEqual(
      expect.arrayContaining([
        { name: 'wer', value: 0.08, better: 'lower' },
        { name: 'top1', value: 0.75, better: 'higher' },
      ]),
    );
    expect(s.scores).toHaveLength(2);

    // No scores line at all: a warning, exit code of the command, no scores.
    const none = await cli(['run', '--name', 'no-scores', '--scores-from', 'stdout', '--', 'python3', '-c', 'print("nothing here")']);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/scores from stdout: the command printed no line like \{"scores"/);
    // A file the command did not write this time is not taken for its scores.
    const stale = await cli(['run', '--name', 'stale', '--scores-from', file, '--', 'python3', '-c', 'pass']);
    expect(stale.code).toBe(0);
    expect(stale.stderr).toMatch(/was not written during this run/);
  }, 30_000);
});

describe('bench and run option logic', () => {
  const variants = [
    { name: 'a', command: 'x' },
    { name: 'b', command: 'y' },
    { name: 'c', command: 'z' },
  ];

  it('plans trials interleaved, or shuffled within each round by a seed', () => {
    const plain = planTrials(variants, 2, null);
    expect(plain.map((t) => `${t.order}:${t.variant.name}${t.trial}`)).toEqual(['1:a1', '2:b1', '3:c1', '4:a2', '5:b2', '6:c2']);
    const shuffled = planTrials(variants, 20, { seed: 42 });
    for (let k = 0; k < 20; k++) {
      const round = shuffled.slice(3 * k, 3 * k + 3);
      expect(round.map((t) => t.variant.name).sort()).toEqual(['a', 'b', 'c']);
      expect(round.every((t) => t.trial === k + 1)).toBe(true);
    }
    expect(shuffled.map((t) => t.order)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const names = (p: typeof shuffled) => p.map((t) => t.variant.name).join('');
    expect(names(planTrials(variants, 20, { seed: 42 }))).toBe(names(shuffled));
    expect(names(planTrials(variants, 20, { seed: 43 }))).not.toBe(names(shuffled));
    expect(names(shuffled)).not.toBe('abc'.repeat(20));
  });

  it('reads --warmup as calls or a duration, and scores in both forms', () => {
    expect(parseWarmup('20')).toEqual({ calls: 20 });
    expect(parseWarmup('5s')).toEqual({ ms: 5000 });
    expect(parseWarmup('500ms')).toEqual({ ms: 500 });
    expect(() => parseWarmup('0')).toThrow(/not a warm-up/);
    expect(() => parseWarmup('fast')).toThrow(/not a warm-up/);
    expect(parseScores({ scores: { top1: 0.9, wer: { value: 0.08, better: 'lower' } } })).toEqual({
      scores: [
        { name: 'top1', value: 0.9, better: 'higher' },
        { name: 'wer', value: 0.08, better: 'lower' },
      ],
    });
    expect(parseScores({ scores: [{ name: 'mAP', value: 0.41 }] })).toEqual({ scores: [{ name: 'mAP', value: 0.41, better: 'higher' }] });
    const bad = parseScores({ scores: { top1: 0.9, wer: { value: 0.1, better: 'smaller' }, x: null } });
    expect(bad.scores).toEqual([{ name: 'top1', value: 0.9, better: 'higher' }]);
    expect(bad.problem).toMatch(/^left out "wer" \(better: .*\); "x" \(value: .*\); sent top1$/);
    expect(parseScores({ scores: 3 }).problem).toMatch(/not an object/);
  });
});
