// Hub ingest throughput: a real hub process, 100 simulated agents on 127.0.0.1 (in this
// process), each keeping a few batches in flight and sending the next as soon as one is
// acked, i.e. as fast as the hub commits. One sample per batch with ~80 values, the shape a
// real agent sends each second. Counted: acked samples per second (acks mean committed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../shared/protocol.js';
import { startBenchHub } from './net.js';
import { cpuNs } from './proc-usage.js';
import { median, type BenchRow } from './report.js';

const WINDOW = 4;
const VALUES_PER_SAMPLE = 80;

export async function hubIngestBench(opts: { agents: number; rounds: number; seconds: number }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-'));
  const { proc: hub, port } = await startBenchHub(dir);
  const agents: SimAgent[] = [];
  try {
    for (let i = 0; i < opts.agents; i++) agents.push(await SimAgent.connect(`ws://127.0.0.1:${port}/ws/agent`, `bench-${i}`));
    agents.forEach((a) => a.run());
    await sleep(1000); // warm-up
    const rates: number[] = [];
    const hubCpu: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const acked0 = total(agents);
      const cpu0 = cpuNs(hub.pid!);
      const t0 = performance.now();
      await sleep(opts.seconds * 1000);
      const elapsedS = (performance.now() - t0) / 1000;
      rates.push((total(agents) - acked0) / elapsedS);
      hubCpu.push((cpuNs(hub.pid!) - cpu0) / 1e9 / elapsedS);
    }
    const rate = median(rates);
    return [
      { benchmark: `hub ingest, ${opts.agents} agents on loopback`, result: `${Math.round(rate).toLocaleString('en')} samples/s`, how: `1 sample (${VALUES_PER_SAMPLE} values) per batch, ${WINDOW} in flight per agent, ack after commit; median of ${opts.rounds} × ${opts.seconds} s` },
      { benchmark: 'hub ingest, values', result: `${Math.round(rate * VALUES_PER_SAMPLE).toLocaleString('en')} values/s`, how: 'same run' },
      { benchmark: 'hub CPU while ingesting', result: `${(median(hubCpu) * 100).toFixed(0)} % of a core`, how: 'schedstat of the hub process; the simulated agents run in the bench process' },
    ];
  } finally {
    agents.forEach((a) => a.stop());
    hub.kill();
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

function total(agents: SimAgent[]): number {
  return agents.reduce((sum, a) => sum + a.acked, 0);
}

class SimAgent {
  acked = 0;
  private seq = 1;
  private running = false;
  private readonly metrics: string[];

  private constructor(private readonly socket: WebSocket) {
    this.metrics = Array.from({ length: VALUES_PER_SAMPLE }, (_, i) => (i < 16 ? `cpu.core.${i}.util` : `temp.sensor_${i}`));
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { type: string };
      if (msg.type === 'ack') {
        this.acked++;
        if (this.running) this.send();
      }
    });
  }

  static connect(url: string, id: string): Promise<SimAgent> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('error', reject);
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, device: { id, name: id }, agent: { version: 'bench' }, intervalMs: 1000, capabilities: [], inventory: {}, clock: Date.now() }));
        socket.once('message', () => resolve(new SimAgent(socket)));
      });
    });
  }

  run(): void {
    this.running = true;
    for (let i = 0; i < WINDOW; i++) this.send();
  }

  stop(): void {
    this.running = false;
    this.socket.terminate();
  }

  private send(): void {
    const m: Record<string, number> = {};
    for (const name of this.metrics) m[name] = Math.round(Math.random() * 10000) / 100;
    const seq = this.seq++;
    this.socket.send(JSON.stringify({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: [{ t: 1_700_000_000_000 + seq * 1000, m }] }));
  }
}

