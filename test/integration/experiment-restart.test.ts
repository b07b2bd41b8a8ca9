// Experiments that outlive their agent: real `edgewatch hub` and `edgewatch agent` processes
// (built dist/, loopback ports, temp dirs), `kill -9` of the agent.
// 1. `edgewatch run` around a Node script that reports timings through the real SDK: the agent
//    is killed and restarted twice (once while the script runs, once after it exited, so that
//    run's end has to wait for the agent to come back); run exits 0, the experiment ends
//    normally on the hub and every timing the script sent is counted there.
// 2. An agent killed and never restarted: the hub (--experiment-timeout 2s) closes its
//    experiment as "ended by timeout", at its last data. And an agent restarted without its
//    state file: its hello no longer lists the experiment, and the hub closes it too.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { OPEN_EXPERIMENTS_FILE_NAME } from '../../agent/inference/open-experiments-file.js';
import type { ExperimentSummary } from '../../shared/live.js';
import { eventually, freePort, getJson, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Reports timings in two phases through the SDK (HTTP transport: a timing the agent did not
 * take is counted as failed, never lost unseen), waiting for the test between them:
 * phase 1 → file sent1; waits for go2; phase 2 → sent2; waits for exit. Bounded: each wait
 * gives up after 60 s.
 */
const SCRIPT = `
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const { createClient } = await import(process.argv[3]);
const dir = process.argv[2];
const ew = createClient({ transport: 'http' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(name) {
  for (let i = 0; i < 600 && !existsSync(join(dir, name)); i++) await sleep(100);
  if (!existsSync(join(dir, name))) throw new Error('gave up waiting for ' + name);
}
async function phase(n, file) {
  for (let i = 0; i < n; i++) {
    ew.record('restart-model', 2 + (i % 7) * 0.5);
    if (i % 20 === 19) await sleep(20);
  }
  await ew.flush();
  writeFileSync(join(dir, file), JSON.stringify(ew.stats()));
}
await phase(${200}, 'sent1');
await waitFor('go2');
await phase(${150}, 'sent2');
await waitFor('exit');
await ew.close();
`;
const N1 = 200;
const N2 = 150;

const HUB_TIMEOUT_S = 60;

interface Setup {
  tmp: ReturnType<typeof tempDir>;
  hub: CliProcess;
  hubUrl: string;
  port: number;
  inferencePort: number;
  stateDir: string;
  agent: CliProcess | null;
}

const setups: Setup[] = [];
const others: CliProcess[] = [];

async function startHub(timeout: string): Promise<Setup> {
  const tmp = tempDir('ew-exp-restart-');
  const port = await freePort();
  const hub = spawnCli(['hub', '--no-auth', '--host', '127.0.0.1', '--port', String(port), '--data', join(tmp.dir, 'hub'), '--experiment-timeout', timeout]);
  const hubUrl = `http://127.0.0.1:${port}`;
  const s: Setup = { tmp, hub, hubUrl, port, inferencePort: await freePort(), stateDir: join(tmp.dir, 'agent'), agent: null };
  setups.push(s);
  await eventually('the hub', async () => (await fetch(`${hubUrl}/healthz`)).ok, HUB_TIMEOUT_S * 1000, 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${hub.output().slice(-3000)}`);
  });
  return s;
}

/** `edgewatch agent` with the same state dir and inference port every time. */
async function startAgent(s: Setup): Promise<CliProcess> {
  const agent = spawnCli([
    'agent', '--hub', `ws://127.0.0.1:${s.port}/ws/agent`, '--id', 'restart-dev', '--state-dir', s.stateDir,
    '--interval', '500', '--inference-port', String(s.inferencePort), '--process-interval', '0',
  ]);
  s.agent = agent;
  await eventually('the agent’s timing port', async () => (await fetch(`http://127.0.0.1:${s.inferencePort}/v1/health`)).ok, 30_000, 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${agent.output().slice(-3000)}`);
  });
  return agent;
}

async function kill9(s: Setup): Promise<void> {
  await s.agent!.kill('SIGKILL');
  s.agent = null;
}

const experiment = async (s: Setup, id: string): Promise<ExperimentSummary | undefined> => {
  const res = await fetch(`${s.hubUrl}/api/v1/experiments/${id}`);
  return res.ok ? ((await res.json()) as { experiment: ExperimentSummary }).experiment : undefined;
};

afterEach(async () => {
  for (const p of others.splice(0)) await p.kill();
  for (const s of setups.splice(0)) {
    await s.agent?.kill();
    await s.hub.kill();
    s.tmp.remove();
  }
}, 30_000);

describe('experiments across agent restarts', () => {
  it('edgewatch run survives two kill -9 of its agent: exit 0, a normal end, every timing counted on the hub', async () => {
    const s = await startHub('10m');
    await startAgent(s);
    const dir = join(s.tmp.dir, 'ctl');
    rmSync(dir, { recursive: true, force: true });
    const script = join(s.tmp.dir, 'timings.mjs');
    writeFileSync(script, SCRIPT);
    mkdirSync(dir);
    const sdk = pathToFileURL(join(REPO_ROOT, 'dist/sdk.mjs')).href;
    const run = spawnCli(['run', '--name', 'restart-run', '--agent-port', String(s.inferencePort), '--agent-retry', '45s', '--', process.execPath, script, dir, sdk]);
    others.push(run);
    const id = await eventually('run to announce its experiment', () => /experiment (x-[a-z0-9-]+) \(/.exec(run.output())?.[1], 20_000, 100);

    await eventually('phase 1 sent', () => existsSync(join(dir, 'sent1')), 30_000, 100);
    await eventually(`the hub to hold phase 1's ${N1} timings`, async () => (await experiment(s, id))?.inferences === N1, 20_000, 200);
    expect(existsSync(join(s.stateDir, OPEN_EXPERIMENTS_FILE_NAME))).toBe(true);

    // Killed mid-run, restarted with the same state dir: it reloads the experiment.
    await kill9(s);
    const second = await startAgent(s);
    await eventually('the restarted agent to reopen the experiment', () => second.output().includes('reopened experiments'), 10_000, 100);
    writeFileSync(join(dir, 'go2'), '');
    await eventually('phase 2 sent', () => existsSync(join(dir, 'sent2')), 30_000, 100);
    await eventually(`the hub to hold all ${N1 + N2} timings`, async () => (await experiment(s, id))?.inferences === N1 + N2, 20_000, 200);
    expect((await experiment(s, id))!.end).toBeNull();

    // Killed again, and the script exits while the agent is down: run's end must wait for it.
    await kill9(s);
    writeFileSync(join(dir, 'exit'), '');
    await eventually('run to retry the end', () => run.output().includes('it may be restarting: retrying'), 20_000, 100);
    await startAgent(s);
    const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 40_000))]);
    expect(code, run.output()).toBe(0);
    const out = run.output();
    expect(out).toContain(`experiment ${id} ended after`);
    expect(out).toContain('the agent restarted during the experiment: these figures count only the timings since its restart');
    expect(out).not.toContain('could not end experiment');

    const ended = await eventually('the end on the hub', async () => {
      const e = await experiment(s, id);
      return e && e.end !== null ? e : undefined;
    }, 15_000, 200);
    expect(ended.endedBy).toBeNull();
    expect(ended.inferences).toBe(N1 + N2);
    expect(ended.end!).toBeGreaterThan(ended.start);
    // The SDK saw every timing accepted: nothing was sent into a dead agent.
    const stats = JSON.parse(readFileSync(join(dir, 'sent2'), 'utf8')) as { sent: number; errors: number; dropped: number };
    expect(stats).toMatchObject({ sent: N1 + N2, errors: 0, dropped: 0 });
    expect(existsSync(join(s.stateDir, OPEN_EXPERIMENTS_FILE_NAME))).toBe(true);
  }, 150_000);

  it('an agent killed for good: the hub closes its experiment as ended by timeout, at its last data', async () => {
    const s = await startHub('2s');
    await startAgent(s);
    const agentUrl = `http://127.0.0.1:${s.inferencePort}`;
    const started = (await (await fetch(`${agentUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'abandoned' }) })).json()) as { id: string; start: number };
    // Timings with their own times, so the last second with data is known exactly.
    const lastT = started.start + 1500;
    const timings = [0, 500, 1000, 1500].map((dt) => ({ model: 'm', latencyMs: 3, experiment: started.id, t: started.start + dt }));
    // Sent once all four times have passed: the agent takes its receive time for a timing more
    // than MAX_AHEAD_MS in its future, which would move the last second.
    await new Promise((r) => setTimeout(r, Math.max(0, lastT + 50 - Date.now())));
    expect((await fetch(`${agentUrl}/v1/timings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timings }) })).status).toBe(202);
    await eventually('the hub to hold the timings', async () => (await experiment(s, started.id))?.inferences === 4, 20_000, 200);
    await kill9(s);

    const closed = await eventually('the hub to close it by timeout', async () => {
      const e = await experiment(s, started.id);
      return e && e.end !== null ? e : undefined;
    }, 20_000, 250);
    expect(closed.endedBy).toBe('timeout');
    expect(closed.end).toBe(Math.floor(lastT / 1000) * 1000 + 1000);
    expect(s.hub.output()).toContain('experiment closed (ended by timeout)');
    const list = await getJson<{ experiments: ExperimentSummary[] }>(`${s.hubUrl}/api/v1/experiments`);
    expect(list.experiments.find((e) => e.id === started.id)?.endedBy).toBe('timeout');
    const cmp = await getJson<{ notes?: string[] }>(`${s.hubUrl}/api/v1/experiments/compare?ids=${started.id}`);
    expect(JSON.stringify(cmp)).toContain('was ended by timeout');
  }, 90_000);

  it('an agent restarted without its state file no longer lists the experiment, and the hub closes it', async () => {
    // Longer than the agent's restart, so the device is never silent for the whole timeout
    // and only the hello's list can close the experiment.
    const s = await startHub('6s');
    await startAgent(s);
    const agentUrl = `http://127.0.0.1:${s.inferencePort}`;
    const started = (await (await fetch(`${agentUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forgotten' }) })).json()) as { id: string };
    await eventually('the hub to know the experiment', async () => (await experiment(s, started.id)) !== undefined, 20_000, 200);
    await kill9(s);
    rmSync(join(s.stateDir, OPEN_EXPERIMENTS_FILE_NAME));
    await startAgent(s);
    const closed = await eventually('the hub to close it by timeout', async () => {
      const e = await experiment(s, started.id);
      return e && e.end !== null ? e : undefined;
    }, 30_000, 250);
    expect(closed.endedBy).toBe('timeout');
    expect(s.hub.output()).toContain('its agent no longer has it open');
    expect(s.hub.output()).not.toContain('its device has sent nothing');
    // Its end arriving after all (an agent that did know it) would win: here nobody knows it.
    expect((await fetch(`${agentUrl}/v1/experiments/${started.id}/end`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
  }, 90_000);
});
