// A fleet's steady load on one hub: N simulated agents (in this process) each sending one
// sample a second, spread over the second as real agents' clocks are, for a fixed time. Measured:
// the hub process's CPU and RSS, the latency from a sample's creation to its arrival at a
// browser's live socket (p50, p99), and samples lost: sent but never acked (acked = committed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../shared/protocol.js';
import { startBenchHub } from './net.js';
import { cpuNs, rssBytes } from './proc-usage.js';
import { median, type BenchRow } from './report.js';

const VALUES_PER_SAMPLE = 80;

export async function hubLoadBench(opts: { agents: number; seconds: number }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-load-'));
  const { proc: hub, port } = await startBenchHub(dir);
  const agents: PacedAgent[] = [];
  let browser: WebSocket | undefined;
  try {
    for (let i = 0; i < opts.agents; i++) agents.push(await connectWithRetry(`ws://127.0.0.1:${port}/ws/agent`, `load-${i}`));

    // A browser on the live feed: every sample's creation → arrival latency.
    const latencies: number[] = [];
    browser = new WebSocket(`ws://127.0.0.1:${port}/ws/live`);
    await new Promise((resolve, reject) => browser!.once('open', resolve).once('error', reject));
    browser.send(JSON.stringify({ type: 'subscribe', v: PROTOCOL_VERSION, devices: '*' }));
    let measuring = false;
    browser.on('message', (raw) => {
      if (!measuring) return;
      const frame = JSON.parse(raw.toString()) as { type: string; samples?: { t: number }[] };
      if (frame.type !== 'samples') return;
      const now = Date.now();
      for (const s of frame.samples ?? []) latencies.push(now - s.t);
    });

    agents.forEach((a, i) => a.start((i / agents.length) * 1000));
    await sleep(3000); // warm-up: connections settle, the hub's JIT warms
    measuring = true;
    const windowS = Math.min(10, opts.seconds);
    const cpu: number[] = [];
    const rss: number[] = [];
    for (let w = 0; w < Math.max(1, Math.floor(opts.seconds / windowS)); w++) {
      const c0 = cpuNs(hub.pid!);
      const t0 = performance.now();
      await sleep(windowS * 1000);
      cpu.push((cpuNs(hub.pid!) - c0) / 1e9 / ((performance.now() - t0) / 1000));
      rss.push(rssBytes(hub.pid!));
    }
    measuring = false;
    agents.forEach((a) => a.stopSending());
    // Everything sent must be acked: wait (bounded) for the last acks.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && agents.some((a) => a.acked < a.sent)) await sleep(100);
    const sent = agents.reduce((n, a) => n + a.sent, 0);
    const acked = agents.reduce((n, a) => n + a.acked, 0);
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
    return [
      { benchmark: `hub under ${opts.agents} agents at 1 Hz: CPU`, result: `${(median(cpu) * 100).toFixed(0)} % of a core`, how: `${opts.agents} simulated agents (1 sample of ${VALUES_PER_SAMPLE} values per second each, spread over the second) for ${opts.seconds} s after 3 s warm-up; median of ${cpu.length} windows` },
      { benchmark: `hub under ${opts.agents} agents: RSS`, result: `${(Math.max(...rss) / 1048576).toFixed(0)} MiB`, how: 'highest of the windows, /proc/<pid>/status' },
      { benchmark: 'sample → browser live feed, p50 / p99', result: `${pct(0.5)} ms / ${pct(0.99)} ms`, how: `${sorted.length.toLocaleString('en')} samples, from creation on the agent to arrival on /ws/live (group commit, then fan-out)` },
      { benchmark: 'samples lost', result: String(sent - acked), how: `${sent.toLocaleString('en')} sent, ${acked.toLocaleString('en')} acked (an ack means committed to SQLite)` },
    ];
  } finally {
    browser?.terminate();
    agents.forEach((a) => a.close());
    hub.kill();
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** As a real agent does: a refused connection (429 while many connect at once) is retried after a pause. */
async function connectWithRetry(url: string, id: string): Promise<PacedAgent> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await PacedAgent.connect(url, id);
    } catch (err) {
      if (attempt >= 20 || !/429/.test((err as Error).message)) throw err;
      await sleep(500);
    }
  }
}

class PacedAgent {
  sent = 0;
  acked = 0;
  private seq = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly metrics: string[];

  private constructor(private readonly socket: WebSocket) {
    this.metrics = Array.from({ length: VALUES_PER_SAMPLE }, (_, i) => (i < 16 ? `cpu.core.${i}.util` : `temp.sensor_${i}`));
    socket.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'ack') this.acked++;
    });
  }

  static connect(url: string, id: string): Promise<PacedAgent> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('error', reject);
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, device: { id, name: id }, agent: { version: 'bench' }, intervalMs: 1000, capabilities: [], inventory: {}, clock: Date.now() }));
        socket.once('message', () => resolve(new PacedAgent(socket)));
      });
    });
  }

  start(offsetMs: number): void {
    setTimeout(() => {
      this.send();
      this.timer = setInterval(() => this.send(), 1000);
    }, offsetMs);
  }

  stopSending(): void {
    clearInterval(this.timer);
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.terminate();
  }

  private send(): void {
    const m: Record<string, number> = {};
    for (const name of this.metrics) m[name] = Math.round(Math.random() * 10000) / 100;
    const seq = this.seq++;
    this.sent++;
    this.socket.send(JSON.stringify({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: [{ t: Date.now(), m }] }));
  }
}

