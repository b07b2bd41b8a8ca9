// Inference timings: what the SDKs cost the user's loop per recorded timing, how many timings
// a second the agent takes in, how close the hub's quantiles are to the exact ones, and how
// long a timing takes to reach a browser. A real hub and the standalone agent run as separate
// processes; the SDK runs in this process (TypeScript) or in python3.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { createClient } from '../sdk/index.js';
import type { ComparisonResponse, ExperimentSummary } from '../shared/live.js';
import { freePortNumber, startBenchHub, waitForHealth } from './net.js';
import { median, type BenchRow } from './report.js';

const AGENT = fileURLToPath(new URL('./edgewatch-agent.mjs', import.meta.url));
const SDK_PYTHON = fileURLToPath(new URL('../sdk/python', import.meta.url));
const run = promisify(execFile);

interface Stack {
  hubUrl: string;
  inferencePort: number;
  hub: ChildProcess;
  agent: ChildProcess;
  dir: string;
}

async function startStack(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-inference-'));
  const inferencePort = await freePortNumber();
  const env = { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' };
  const { proc: hub, port } = await startBenchHub(join(dir, 'hub'));
  const agent = spawn(
    process.execPath,
    [AGENT, '--hub', `ws://127.0.0.1:${port}`, '--interval', '1s', '--state-dir', join(dir, 'agent'), '--inference-port', String(inferencePort), '--process-interval', '0'],
    { stdio: 'ignore', env },
  );
  await waitForHealth(`http://127.0.0.1:${inferencePort}/v1/health`);
  return { hubUrl: `http://127.0.0.1:${port}`, inferencePort, hub, agent, dir };
}

async function stopStack(s: Stack): Promise<void> {
  s.agent.kill();
  s.hub.kill();
  await sleep(300);
  rmSync(s.dir, { recursive: true, force: true });
}

export async function inferenceBench(opts: { quick: boolean }): Promise<BenchRow[]> {
  const stack = await startStack();
  try {
    return [
      ...(await sdkCost(stack, opts.quick ? 50_000 : 200_000)),
      ...(await pythonSdkCost(stack, opts.quick ? 50_000 : 200_000)),
      ...(await agentIngest(stack, opts.quick ? 3 : 5)),
      ...(await exactCounts(stack, opts.quick ? 3 : 10)),
      ...(await benchOverhead(stack, opts.quick ? 2 : 5)),
      ...(await quantileError(stack, opts.quick ? 20_000 : 100_000)),
      ...(await liveLatency(stack, opts.quick ? 5 : 10)),
    ];
  } finally {
    await stopStack(stack);
  }
}

/** ns per record() in a tight loop, including its share of the sends, for UDP and for HTTP batches. */
async function sdkCost(stack: Stack, n: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const transport of ['udp', 'http'] as const) {
    const rounds: number[] = [];
    let dropped = 0;
    for (let r = 0; r < 5; r++) {
      const client = createClient({ port: stack.inferencePort, transport, experiment: null, maxPending: n + 1 });
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) client.record('bench-model', 3 + (i % 97) / 10);
      await client.flush();
      rounds.push(Number(process.hrtime.bigint() - start) / n);
      dropped += client.stats().dropped;
      await client.close();
      await sleep(1100); // let the agent drain what was sent before the next round
    }
    rows.push({
      benchmark: `TypeScript SDK per timing (${transport === 'udp' ? 'UDP' : 'HTTP batched'})`,
      result: `${Math.round(median(rounds))} ns`,
      how: `${n.toLocaleString('en')} record() calls back to back then flush(), wall time ÷ calls, median of 5; ${dropped} dropped`,
    });
  }
  const client = createClient({ port: stack.inferencePort, experiment: null });
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    let x = 0;
    for (let i = 0; i < n; i++) x += client.time('bench-model', () => i & 7);
    rounds.push(Number(process.hrtime.bigint() - start) / n);
    if (x < 0) throw new Error('unreachable');
  }
  await client.close();
  rows.push({ benchmark: 'TypeScript SDK time(fn) overhead', result: `${Math.round(median(rounds))} ns`, how: `${n.toLocaleString('en')} time() around a trivial function, UDP, median of 5` });
  return rows;
}

async function pythonSdkCost(stack: Stack, n: number): Promise<BenchRow[]> {
  const script = `
import sys, time
import edgewatch
n = int(sys.argv[1])
c = edgewatch.Client(port=int(sys.argv[2]), experiment=None)
rounds = []
for r in range(5):
    t0 = time.perf_counter_ns()
    for i in range(n):
        c.record("bench-model", 3 + (i % 97) / 10)
    c.flush()
    rounds.append((time.perf_counter_ns() - t0) / n)
    time.sleep(1.1)
rounds.sort()
print(rounds[2], c.stats().get("dropped"))
`;
  try {
    const { stdout } = await run('python3', ['-c', script, String(n), String(stack.inferencePort)], { env: { ...process.env, PYTHONPATH: SDK_PYTHON }, timeout: 300_000 });
    const [ns, dropped] = stdout.trim().split(/\s+/);
    return [{ benchmark: 'Python SDK per timing (UDP)', result: `${Math.round(Number(ns))} ns`, how: `${n.toLocaleString('en')} record() calls then flush(), perf_counter_ns, median of 5; ${dropped} dropped` }];
  } catch (err) {
    return [{ benchmark: 'Python SDK per timing (UDP)', result: 'skipped', how: `python3 failed: ${(err as Error).message.split('\n')[0]}` }];
  }
}

/** Timings/s the agent accepts while UDP datagrams of 100 lines arrive as fast as this process sends them. */
async function agentIngest(stack: Stack, seconds: number): Promise<BenchRow[]> {
  const health = async () => ((await (await fetch(`http://127.0.0.1:${stack.inferencePort}/v1/health`)).json()) as { stats: { accepted: number } }).stats.accepted;
  const lines = Array.from({ length: 100 }, (_, i) => `ew1 ingest-model ${(2 + (i % 50) / 10).toFixed(1)}`).join('\n');
  const datagram = Buffer.from(lines);
  const socket = createSocket('udp4');
  const rates: number[] = [];
  let sentLines = 0;
  try {
    for (let w = 0; w < 3; w++) {
      const before = await health();
      const t0 = Date.now();
      let sentThisWindow = 0;
      // Paced bursts: the sender yields every 20 datagrams so the socket buffer can drain.
      while (Date.now() - t0 < seconds * 1000) {
        await new Promise<void>((resolve) => {
          let left = 20;
          for (let k = 0; k < 20; k++) socket.send(datagram, stack.inferencePort, '127.0.0.1', () => --left === 0 && resolve());
        });
        sentThisWindow += 2000;
      }
      await sleep(200);
      const accepted = (await health()) - before;
      rates.push(accepted / ((Date.now() - t0) / 1000));
      sentLines += sentThisWindow;
    }
  } finally {
    socket.close();
  }
  return [
    {
      benchmark: 'agent ingest, UDP timings (saturated)',
      result: `${Math.round(median(rates)).toLocaleString('en')} timings/s`,
      how: `datagrams of 100 lines sent flat out for ${seconds} s (offered ${Math.round(sentLines / (3 * seconds)).toLocaleString('en')} lines/s; the kernel drops what the agent cannot read), accepted count from /v1/health, median of 3 windows`,
    },
  ];
}

/**
 * Every accepted timing is counted: an experiment fed 200,000 timings/s over UDP for `seconds`,
 * then what the agent accepted (its /v1/health) against what the hub counts for the experiment.
 * The two must be equal; the kernel may drop datagrams the agent never read, which neither counts.
 */
async function exactCounts(stack: Stack, seconds: number): Promise<BenchRow[]> {
  const agent = `http://127.0.0.1:${stack.inferencePort}`;
  const health = async () => ((await (await fetch(`${agent}/v1/health`)).json()) as { stats: { accepted: number } }).stats.accepted;
  const post = async (path: string, body: unknown) =>
    (await (await fetch(`${agent}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  const { id } = (await post('/v1/experiments', { name: 'exact-counts' })) as { id: string };
  const lines = Array.from({ length: 100 }, (_, i) => `ew1 count-model ${(1 + (i % 40) / 10).toFixed(1)} x=${id}`).join('\n');
  const datagram = Buffer.from(lines);
  const socket = createSocket('udp4');
  const before = await health();
  const t0 = Date.now();
  let offered = 0;
  try {
    // 200 lines a millisecond: 20 datagrams of 100 lines every 10 ms.
    for (let tick = 0; Date.now() - t0 < seconds * 1000; tick++) {
      await new Promise<void>((resolve) => {
        let left = 20;
        for (let k = 0; k < 20; k++) socket.send(datagram, stack.inferencePort, '127.0.0.1', () => --left === 0 && resolve());
      });
      offered += 2000;
      const due = t0 + (tick + 1) * 10;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  } finally {
    socket.close();
  }
  const sendingS = (Date.now() - t0) / 1000;
  await sleep(200);
  const accepted = (await health()) - before;
  const ended = (await post(`/v1/experiments/${id}/end`, {})) as { summary: { inferences: number; dropped: number } };
  let counted = -1;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { experiment } = (await (await fetch(`${stack.hubUrl}/api/v1/experiments/${id}`)).json()) as { experiment: ExperimentSummary };
    counted = experiment.inferences;
    if (experiment.end !== null && counted === accepted) break;
    await sleep(250);
  }
  return [
    {
      benchmark: 'timings accepted vs counted (200k/s offered)',
      result: `${accepted.toLocaleString('en')} accepted, ${counted.toLocaleString('en')} counted${counted === accepted ? ' (equal)' : ' (NOT EQUAL)'}; agent dropped ${ended.summary.dropped}`,
      how: `one experiment fed ${Math.round(offered / sendingS).toLocaleString('en')} timings/s over UDP for ${seconds} s (datagrams of 100 lines); accepted from the agent's /v1/health, counted from the hub's GET /api/v1/experiments/<id>`,
    },
  ];
}

/**
 * What `edgewatch bench` adds to each trial: a bench of two variants whose commands do nothing
 * (`true`), against running the same commands directly through /bin/sh, per trial. That is the
 * experiment start and end on the agent, the summary, the git look-up and the process start of
 * the shell, which a real trial pays once however long it runs.
 */
async function benchOverhead(stack: Stack, repeat: number): Promise<BenchRow[]> {
  const trials = 2 * repeat;
  const perTrial: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < trials; k++) await run('/bin/sh', ['-c', 'true']);
    const direct = Number(process.hrtime.bigint() - t0) / 1e6;
    const t1 = process.hrtime.bigint();
    await run(process.execPath, [AGENT, 'bench', '--repeat', String(repeat), '--variant', 'a=true', '--variant', 'b=true', '--json', '--agent-port', String(stack.inferencePort)], {
      env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' },
    });
    const benched = Number(process.hrtime.bigint() - t1) / 1e6;
    perTrial.push((benched - direct) / trials);
  }
  return [
    {
      benchmark: 'edgewatch bench overhead per trial',
      result: `${median(perTrial).toFixed(0)} ms`,
      how: `\`edgewatch-agent bench --repeat ${repeat}\` of two no-op variants (\`true\`), minus the same ${trials} commands run directly through /bin/sh, ÷ ${trials} trials (includes starting the bench CLI once), median of 3`,
    },
  ];
}

/** p50/p99 the hub reports for an experiment against the exact quantiles of the same latencies. */
async function quantileError(stack: Stack, n: number): Promise<BenchRow[]> {
  const client = createClient({ port: stack.inferencePort, transport: 'http', experiment: null, maxPending: n + 1 });
  const id = await client.startExperiment({ name: 'quantile-check' });
  if (!id) throw new Error('the agent did not start an experiment');
  let seed = 42;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const v = Math.round(12 * Math.exp(0.4 * z) * 1e4) / 1e4;
    values.push(v);
    client.record('quantile-model', v);
    if (i % 5000 === 4999) await client.flush();
  }
  await client.endExperiment(id);
  await client.close();
  const sorted = [...values].sort((a, b) => a - b);
  const exact = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
  let stats: ComparisonResponse['experiments'][number] | undefined;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const list = (await (await fetch(`${stack.hubUrl}/api/v1/experiments`)).json()) as { experiments: ExperimentSummary[] };
    if (list.experiments.find((e) => e.id === id)?.inferences === n) {
      stats = ((await (await fetch(`${stack.hubUrl}/api/v1/experiments/compare?ids=${id}`)).json()) as ComparisonResponse).experiments[0];
      break;
    }
    await sleep(250);
  }
  if (!stats) return [{ benchmark: 'quantile error', result: 'failed', how: `the hub did not hold all ${n} timings within 15 s` }];
  const err = (got: number | null, q: number) => `${((Math.abs(got! - exact(q)) / exact(q)) * 100).toFixed(2)} %`;
  return [
    {
      benchmark: 'quantile error at the hub (p50 / p99)',
      result: `${err(stats.latencyP50Ms, 0.5)} / ${err(stats.latencyP99Ms, 0.99)}`,
      how: `${n.toLocaleString('en')} log-normal latencies (median 12 ms) via the SDK → agent → hub; compare API vs exact quantiles of the same values (bound: 1 %)`,
    },
  ];
}

/** From record() to the sample carrying that model's histogram on the hub's live socket. */
async function liveLatency(stack: Stack, trials: number): Promise<BenchRow[]> {
  const ws = new WebSocket(`${stack.hubUrl.replace('http', 'ws')}/ws/live`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'subscribe', v: 1, devices: '*' }));
  const client = createClient({ port: stack.inferencePort, experiment: null });
  const delays: number[] = [];
  try {
    for (let k = 0; k < trials; k++) {
      const model = `live-${k}`;
      const seen = new Promise<number>((resolve) => {
        const onMessage = (raw: WebSocket.RawData) => {
          const frame = JSON.parse(raw.toString()) as { type: string; samples?: { i?: { model: string }[] }[] };
          if (frame.type === 'samples' && frame.samples?.some((s) => s.i?.some((a) => a.model === model))) {
            ws.off('message', onMessage);
            resolve(Date.now());
          }
        };
        ws.on('message', onMessage);
      });
      // Spread the sends over the second, as timings from a real loop arrive at any moment.
      await sleep(1000 * ((k * 0.37) % 1));
      const sentAt = Date.now();
      client.record(model, 5);
      delays.push((await seen) - sentAt);
    }
  } finally {
    await client.close();
    ws.close();
  }
  return [
    {
      benchmark: 'timing → browser live feed',
      result: `${Math.round(median(delays))} ms (max ${Math.max(...delays)} ms)`,
      how: `record() at spread moments of the second → agent (1 s ticks) → hub commit → /ws/live, ${trials} trials`,
    },
  ];
}

