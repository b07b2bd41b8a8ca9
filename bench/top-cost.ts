// What `edgewatch top` costs (issue 14 part 4): the standalone agent at 1 Hz streaming to a
// real hub, with a top attached to it (GET /v1/top once a tick) and without. top runs in a
// real terminal (a tmux pane); "without" windows freeze it with SIGSTOP, "with" windows let
// it run (SIGCONT), alternating in one run so that drift and neighbours fall on both alike.
// Also top's own CPU per refresh and RSS, attached and sampling directly.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cpuNs, rssBytes } from './proc-usage.js';
import { median, type BenchRow } from './report.js';
import { freePortNumber, startBenchHub, waitForHealth } from './net.js';

const AGENT = fileURLToPath(new URL('./edgewatch-agent.mjs', import.meta.url));
const WINDOW_S = 5;

export async function topCostBench(opts: { quick: boolean }): Promise<BenchRow[]> {
  const tmuxOk = (() => {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!tmuxOk) return [{ benchmark: 'edgewatch top cost', result: 'skipped', how: 'tmux is not installed (apt-get install tmux): top needs a terminal' }];
  const pairs = opts.quick ? 3 : 6;
  const warmupS = opts.quick ? 10 : 20;
  const socket = `edgewatch-bench-top-${process.pid}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-top-'));
  const { proc: hub, port } = await startBenchHub(join(dir, 'hub'));
  const inferencePort = await freePortNumber();
  const agent = spawn(process.execPath, [AGENT, '--hub', `ws://127.0.0.1:${port}`, '--interval', '1000', '--inference-port', String(inferencePort), '--state-dir', join(dir, 'agent')], {
    stdio: 'ignore',
    env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' },
  });
  /** A top in its own 120×40 pane; `exec` makes the pane's pid node's. */
  const startTop = (name: string, args: string[]): number => {
    tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', `exec '${process.execPath}' '${AGENT}' top ${args.join(' ')}`);
    return Number(tmux('list-panes', '-t', name, '-F', '#{pane_pid}').trim());
  };
  try {
    await waitForHealth(`http://127.0.0.1:${inferencePort}/v1/health`);
    const topPid = startTop('attached', ['--inference-port', String(inferencePort)]);
    // Start-up (module loading, the one-off inventory, the JIT warming up) is not measured.
    await sleep(warmupS * 1000);
    // A top that fell back to sampling by itself would measure something else.
    if (!tmux('capture-pane', '-p', '-t', 'attached').includes('attached to agent')) throw new Error('top did not attach to the agent: its screen does not say "attached to agent"');
    const agentRssBefore = rssBytes(agent.pid!);
    const without: number[] = [];
    const withTop: number[] = [];
    const topWindows: number[] = [];
    for (let i = 0; i < pairs; i++) {
      process.kill(topPid, 'SIGSTOP');
      without.push(await windowMs([agent.pid!]).then(([a]) => a!));
      process.kill(topPid, 'SIGCONT');
      const [a, t] = await windowMs([agent.pid!, topPid]);
      withTop.push(a!);
      topWindows.push(t!);
    }
    const agentRssWith = rssBytes(agent.pid!);
    const topRss = rssBytes(topPid);
    tmux('kill-session', '-t', 'attached');

    // top on its own: detects the collectors and samples every second, as an agent would.
    const directPid = startTop('direct', ['--direct', '--interval', '1s']);
    await sleep(5000);
    const direct: number[] = [];
    for (let i = 0; i < Math.max(2, Math.floor(pairs / 2)); i++) direct.push(await windowMs([directPid]).then(([d]) => d!));
    const directRss = rssBytes(directPid);
    tmux('kill-session', '-t', 'direct');

    const perTick = (ms: number[]): number => median(ms) / WINDOW_S;
    const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
    const how = `${pairs} alternating ${WINDOW_S} s windows each, after ${warmupS} s warm-up; schedstat`;
    return [
      { benchmark: 'agent CPU per tick, no top attached', result: `${perTick(without).toFixed(2)} ms`, how: `dist/edgewatch-agent.mjs at 1 Hz → real hub; top frozen (SIGSTOP); ${how}` },
      { benchmark: 'agent CPU per tick, top attached', result: `${perTick(withTop).toFixed(2)} ms`, how: 'same agent, top running (GET /v1/top each tick); same run' },
      { benchmark: 'agent CPU with ÷ without top', result: `${(median(withTop) / median(without)).toFixed(2)}×`, how: 'ratio of the medians' },
      { benchmark: 'agent RSS without → with top', result: `${mib(agentRssBefore)} → ${mib(agentRssWith)}`, how: '/proc/<pid>/status VmRSS, before the first window and after the last' },
      { benchmark: 'top CPU per refresh, attached', result: `${perTick(topWindows).toFixed(2)} ms`, how: `120×40 tmux pane, 1 refresh/s; median of ${topWindows.length} × ${WINDOW_S} s` },
      { benchmark: 'top RSS, attached', result: mib(topRss), how: 'VmRSS' },
      { benchmark: 'top CPU per refresh, sampling directly', result: `${perTick(direct).toFixed(2)} ms`, how: `--direct: all collectors and a process table every 1 s; median of ${direct.length} × ${WINDOW_S} s` },
      { benchmark: 'top RSS, sampling directly', result: mib(directRss), how: 'VmRSS' },
    ];
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // Already gone with its last session.
    }
    agent.kill();
    hub.kill();
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU ms each process used over one window. */
async function windowMs(pids: number[]): Promise<number[]> {
  const before = pids.map(cpuNs);
  await sleep(WINDOW_S * 1000);
  return pids.map((pid, i) => (cpuNs(pid) - before[i]!) / 1e6);
}
