// Backfill after an outage: an agent comes back with one hour of samples (3600 batches at
// 1 Hz, ~80 values each) in its on-disk spool. Measured: how long until the hub holds all of
// them, and how fresh the live samples stayed meanwhile (the backlog is sent at a bounded
// rate so that live data keeps flowing).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { AgentState } from '../agent/state.js';
import { DiskSpool } from '../agent/transport/disk-spool.js';
import { silentLogger } from '../shared/log.js';
import type { SeriesResponse } from '../shared/live.js';
import { startBenchHub } from './net.js';
import { median, type BenchRow } from './report.js';

const AGENT = fileURLToPath(new URL('./edgewatch-agent.mjs', import.meta.url));
const VALUES = 80;

/** One spool push with the default durability (fdatasync before push returns), as the agent does every sample. */
function spoolPushCost(dir: string, pushes: number): BenchRow {
  const spool = DiskSpool.open({ dir: join(dir, 'push-cost'), log: silentLogger() });
  const m: Record<string, number> = {};
  for (let i = 0; i < VALUES; i++) m[`temp.sensor_${i}`] = 40 + i / 10;
  const costs: number[] = [];
  for (let k = 1; k <= pushes; k++) {
    const t0 = process.hrtime.bigint();
    spool.push({ seq: k, samples: [{ t: Date.now(), m }] });
    costs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    spool.ack(k);
  }
  spool.close?.();
  const sorted = [...costs].sort((a, b) => a - b);
  return {
    benchmark: 'agent spool: one batch written and fdatasync-ed',
    result: `${median(costs).toFixed(2)} ms (p99 ${sorted[Math.floor(0.99 * (sorted.length - 1))]!.toFixed(2)} ms)`,
    how: `${pushes} pushes of one ${VALUES}-value sample to the on-disk spool (${tmpdir()}), each durable before it returns`,
  };
}

export async function backfillBench(opts: { batches: number }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-backfill-'));
  const pushRow = spoolPushCost(dir, 1000);
  const stateDir = join(dir, 'agent');
  const deviceId = 'backfill-bench';
  // The outage: an hour of batches the hub never acked, spooled as the agent would.
  const state = AgentState.load(stateDir, deviceId);
  const spool = DiskSpool.open({ dir: join(stateDir, 'spool'), log: silentLogger(), syncEveryMs: 1000 });
  const end = Date.now() - 5_000;
  const start = end - opts.batches * 1000;
  for (let k = 0; k < opts.batches; k++) {
    const m: Record<string, number> = { 'bench.backlog': k };
    for (let i = 1; i < VALUES; i++) m[`temp.sensor_${i}`] = 40 + ((k + i) % 20);
    spool.push({ seq: state.takeSeq(), samples: [{ t: start + k * 1000, m }] });
  }
  spool.close?.();

  const env = { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' };
  const { proc: hub, port } = await startBenchHub(join(dir, 'hub'));
  const base = `http://127.0.0.1:${port}`;
  try {
    const t0 = Date.now();
    const agent = spawn(
      process.execPath,
      [AGENT, '--hub', `ws://127.0.0.1:${port}`, '--id', deviceId, '--interval', '1s', '--state-dir', stateDir, '--inference-port', '0', '--process-interval', '0'],
      { stdio: 'ignore', env },
    );
    try {
      const liveLag: number[] = [];
      let drainedMs = NaN;
      const deadline = t0 + 180_000;
      while (Date.now() < deadline) {
        await sleep(250);
        const res = await fetch(`${base}/api/v1/devices/${deviceId}/series?metrics=bench.backlog&from=${start - 1}&to=${end + 1}&points=5000`).catch(() => null);
        if (!res?.ok) continue;
        const stored = ((await res.json()) as SeriesResponse).series['bench.backlog']?.length ?? 0;
        const devices = (await (await fetch(`${base}/api/v1/devices`)).json()) as { devices: { id: string; latest: { t: number } | null }[] };
        const latest = devices.devices.find((d) => d.id === deviceId)?.latest;
        if (latest && latest.t > end) liveLag.push(Date.now() - latest.t);
        if (stored >= opts.batches) {
          drainedMs = Date.now() - t0;
          break;
        }
      }
      return [
        pushRow,
        {
          benchmark: `backfill: ${opts.batches.toLocaleString('en')} spooled batches (${(opts.batches / 3600).toFixed(1)} h at 1 Hz)`,
          result: Number.isNaN(drainedMs) ? 'not drained in 180 s' : `${(drainedMs / 1000).toFixed(1)} s`,
          how: `agent restarted with its on-disk spool full, ${VALUES} values a sample; from agent start until the hub holds every backlog sample`,
        },
        {
          benchmark: 'live data during the backfill: age of the newest sample',
          result: liveLag.length ? `${Math.round(median(liveLag))} ms (max ${Math.max(...liveLag)} ms)` : 'no live sample seen',
          how: `the device's latest sample on the hub, polled every 250 ms while the backlog drained (${liveLag.length} polls)`,
        },
      ];
    } finally {
      agent.kill();
    }
  } finally {
    hub.kill();
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

