// Agent cost on this machine: the self-contained agent at 1 Hz streaming to a real hub, its
// CPU time per sample, all threads (median over 10 s windows), and its RSS at the end; next to
// a bare Node process measured the same way (the floor any Node agent pays) and, when it is
// installed, Prometheus' node_exporter scraped once a second from loopback, the tool people
// would otherwise run (Debian package prometheus-node-exporter).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cpuNs, rssBytes } from './proc-usage.js';
import { median, type BenchRow } from './report.js';
import { freePortNumber, startBenchHub, waitForHealth } from './net.js';

/** What a board runs: the self-contained agent file. */
const AGENT = fileURLToPath(new URL('./edgewatch-agent.mjs', import.meta.url));
const WINDOW_S = 10;
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const WARMUP_S = 20;

export async function agentCostBench(opts: { seconds: number }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-'));
  const { proc: hub, port } = await startBenchHub(join(dir, 'hub'));
  try {
    const agent = spawn(process.execPath, [AGENT, '--hub', `ws://127.0.0.1:${port}`, '--interval', '1000', '--state-dir', join(dir, 'agent')], { stdio: 'ignore', env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' } });
    const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exporter = await startNodeExporter();
    try {
      // Skip start-up (module loading, the one-off inventory, the JIT warming up) before measuring.
      await sleep(WARMUP_S * 1000);
      const procs = exporter ? [agent, bare, exporter.proc] : [agent, bare];
      const [agentWindows = [], bareWindows = [], exporterWindows = []] = await measureWindows(procs, opts.seconds);
      const agentRss = rssBytes(agent.pid!);
      const bareRss = rssBytes(bare.pid!);
      const perSample = median(agentWindows) / WINDOW_S; // 1 sample per second
      const rows: BenchRow[] = [
        { benchmark: 'agent CPU per sample (1 Hz, all collectors here)', result: `${perSample.toFixed(2)} ms`, how: `dist/edgewatch-agent.mjs → real hub on 127.0.0.1, ${opts.seconds} s after ${WARMUP_S} s warm-up, median of ${agentWindows.length} × ${WINDOW_S} s windows, schedstat` },
        { benchmark: 'agent CPU share of one core', result: `${(perSample / 10).toFixed(2)} %`, how: 'same run' },
        { benchmark: 'bare Node process CPU share (baseline)', result: `${(median(bareWindows) / WINDOW_S / 10).toFixed(2)} %`, how: 'node -e "setInterval(()=>{},1000)", same windows' },
        { benchmark: `agent RSS after ${opts.seconds + WARMUP_S} s`, result: `${(agentRss / 1048576).toFixed(1)} MiB`, how: '/proc/<pid>/status VmRSS' },
        { benchmark: 'bare Node process RSS (baseline)', result: `${(bareRss / 1048576).toFixed(1)} MiB`, how: 'same' },
      ];
      if (exporter) {
        const exporterPerScrape = median(exporterWindows) / WINDOW_S;
        const exporterRss = rssBytes(exporter.proc.pid!);
        rows.push(
          { benchmark: 'node_exporter CPU share of one core (1 scrape/s)', result: `${(exporterPerScrape / 10).toFixed(2)} %`, how: `${exporter.version}, default collectors, scraped from 127.0.0.1 every 1 s (${exporter.scrapes()} scrapes), same windows` },
          { benchmark: 'node_exporter RSS', result: `${(exporterRss / 1048576).toFixed(1)} MiB`, how: 'same' },
          { benchmark: 'agent ÷ node_exporter', result: `CPU ${(perSample / exporterPerScrape).toFixed(2)}×, RSS ${(agentRss / exporterRss).toFixed(2)}×`, how: 'medians of the same windows; < 1 means the agent is lighter' },
        );
      } else {
        rows.push({ benchmark: 'node_exporter comparison', result: 'skipped', how: `${NODE_EXPORTER} not installed (apt-get install prometheus-node-exporter)` });
      }
      return rows;
    } finally {
      agent.kill();
      bare.kill();
      exporter?.stop();
    }
  } finally {
    hub.kill();
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU ms each process used per window, for as many whole windows as fit in `seconds`. */
async function measureWindows(procs: ChildProcess[], seconds: number): Promise<number[][]> {
  const windows: number[][] = procs.map(() => []);
  let last = procs.map((p) => cpuNs(p.pid!));
  for (let w = 0; w < Math.max(1, Math.floor(seconds / WINDOW_S)); w++) {
    await sleep(WINDOW_S * 1000);
    const now = procs.map((p) => cpuNs(p.pid!));
    now.forEach((ns, i) => windows[i]!.push((ns - last[i]!) / 1e6));
    last = now;
  }
  return windows;
}

interface RunningExporter {
  proc: ChildProcess;
  version: string;
  scrapes(): number;
  stop(): void;
}

/** node_exporter on a free loopback port, scraped once a second as Prometheus would. */
async function startNodeExporter(): Promise<RunningExporter | null> {
  if (!existsSync(NODE_EXPORTER)) return null;
  const port = await freePortNumber();
  const proc = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitForHealth(url);
  const version = /node_exporter_build_info\{[^}]*version="([^"]+)"/.exec(await (await fetch(url)).text())?.[1] ?? '?';
  let scrapes = 0;
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    fetch(url)
      .then((r) => r.arrayBuffer())
      .then(() => scrapes++)
      .catch(() => {});
  }, 1000);
  return {
    proc,
    version: `node_exporter ${version}`,
    scrapes: () => scrapes,
    stop() {
      stopped = true;
      clearInterval(timer);
      proc.kill();
    },
  };
}

