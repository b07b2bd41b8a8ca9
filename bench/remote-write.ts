// Prometheus remote write from the hub to a real VictoriaMetrics on loopback
// (dashboard/server/remote-write/). The scenario is an outage of the receiver: a backlog from
// 100 devices (1 h of 1 Hz samples; 10 min with --quick) is committed into the hub's store
// while nothing listens at the destination's URL, so it all waits in the durable queue. Then
// VictoriaMetrics starts and the clock runs until the destination's `pending` is 0.
//
// Measured, each on a fresh hub and VictoriaMetrics:
//  - the sender's own capacity: its rate cap (maxSamplesPerSecond) raised out of the way, so
//    the figure is what one sender sustains (samples/s), the hub CPU that costs per 100k
//    values, and how long the whole backlog takes;
//  - the default configuration, whose cap keeps a backlog from starving live ingest: the
//    catch-up time of the same backlog, and the rate it drains at.
// The hub runs in this process (hub.remoteWrite.status() is read directly); while it drains,
// this process does nothing else but read that status every 100 ms, so process.cpuUsage() is
// the hub's CPU. The backlog's windows are sealed before the receiver starts, so the storage
// maintenance that follows a big commit is not counted. Retry backoff is capped at 250 ms, so
// the sender notices the receiver within a quarter second rather than after its 30 s
// maximum backoff.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHub, type Hub, type HubOptions } from '../dashboard/server/hub.js';
import { DEFAULT_BATCH_SAMPLES, DEFAULT_MAX_SAMPLES_PER_SECOND } from '../dashboard/server/remote-write/config.js';
import type { BatchToCommit } from '../dashboard/store/store.js';
import type { RemoteWriteStatus } from '../shared/live.js';
import { silentLogger } from '../shared/log.js';
import { PROTOCOL_VERSION, type Hello } from '../shared/protocol.js';
import { engineBinary, startVictoriaMetrics, type VictoriaMetricsEngine } from '../test/helpers/engines.js';
import { cpuNs } from './proc-usage.js';
import type { BenchRow } from './report.js';

/** Metric names of one sample: what a small board sends each second (CPU and cores, memory, temperatures, GPU, power, network, inference). */
function metricNames(count: number): string[] {
  const base = [
    'cpu.util',
    'cpu.iowait',
    'load.1',
    'mem.used',
    'mem.util',
    'mem.available',
    'temp.soc',
    'temp.cpu',
    'temp.gpu',
    'gpu.0.util',
    'gpu.0.power',
    'power.board',
    'power.rail.vdd_cpu_cv',
    'power.rail.vdd_gpu_soc',
    'net.eth0.rx_bps',
    'net.eth0.tx_bps',
    'infer.yolov8n.rate',
    'infer.yolov8n.latency.p50',
    'infer.yolov8n.latency.p99',
    'fs.rootfs.used',
  ];
  const names = base.slice(0, count);
  for (let core = 0; names.length < count; core++) names.push(`cpu.core.${core}.util`);
  return names;
}

interface Backlog {
  devices: number;
  seconds: number;
  valuesPerSample: number;
  /** Values committed (= samples the receiver should end up with). */
  values: number;
  /** Device clock (ms) of the first and last sample. */
  firstT: number;
  lastT: number;
}

/** Commits `seconds` of 1 Hz samples for each device, ending now, straight into the store (with its remote-write queue), a minute per batch. */
function writeBacklog(hub: Hub, devices: number, seconds: number, valuesPerSample: number): Backlog {
  const names = metricNames(valuesPerSample);
  const now = Date.now();
  const start = now - seconds * 1000;
  const nums: number[] = [];
  for (let d = 0; d < devices; d++) {
    const id = `rw-bench-${d}`;
    const hello: Hello = { type: 'hello', v: PROTOCOL_VERSION, device: { id, name: id, hostname: `${id}.local` }, agent: { version: 'bench' }, intervalMs: 1000, capabilities: ['cpu'], inventory: {}, clock: now };
    nums.push(hub.store.upsertDevice(hello, now).num);
  }
  const perBatch = 60;
  let values = 0;
  for (let first = 0, seq = 1; first < seconds; first += perBatch, seq++) {
    const items: BatchToCommit[] = nums.map((deviceNum, d) => {
      const samples: BatchToCommit['samples'] = [];
      for (let k = first; k < Math.min(seconds, first + perBatch); k++) {
        const m: Record<string, number> = {};
        names.forEach((name, i) => (m[name] = (((k + d * 7 + i * 13) % 100) + 0.5)));
        samples.push({ t: start + k * 1000, m });
        values += names.length;
      }
      return { deviceNum, seq, samples, receivedAt: now };
    });
    hub.store.commitBatches(items);
  }
  // Seal now: the maintenance this big commit causes is not the sender's.
  hub.store.sealAll();
  return { devices, seconds, valuesPerSample, values, firstT: start, lastT: start + (seconds - 1) * 1000 };
}

interface Drain {
  backlog: Backlog;
  /** From VictoriaMetrics ready to pending 0. */
  catchUpMs: number;
  /** From the first accepted request to pending 0. */
  sendingMs: number;
  sent: number;
  /** samples/s between 10 % and 90 % of the backlog sent: no first request, no initial burst of the rate cap, no tail. */
  steadyRate: number;
  hubCpuMs: number;
  vmCpuMs: number;
  /** Samples VictoriaMetrics holds afterwards (export of every series). */
  stored: number;
  status: RemoteWriteStatus;
}

type HubWithRemoteWrite = Hub & { remoteWrite?: { status(): RemoteWriteStatus[] } };

/** One run: a fresh hub whose destination is down, the backlog, then VictoriaMetrics, timed until pending is 0. */
async function drain(devices: number, seconds: number, valuesPerSample: number, maxSamplesPerSecond: number | undefined, timeoutMs: number): Promise<Drain> {
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-rw-'));
  // Created, not started: its URL is the destination while nothing listens there.
  const vm: VictoriaMetricsEngine = await startVictoriaMetrics({ start: false, dedup: '1ms' });
  let hub: HubWithRemoteWrite | undefined;
  try {
    const opts = {
      port: 0,
      host: '127.0.0.1',
      dataDir: dir,
      log: silentLogger(),
      remoteWrite: [{ name: 'victoria-metrics', url: vm.remoteWriteUrl, minBackoffMs: 100, maxBackoffMs: 250, ...(maxSamplesPerSecond ? { maxSamplesPerSecond } : {}) }],
    } as HubOptions;
    hub = (await startHub(opts)) as HubWithRemoteWrite;
    if (typeof hub.remoteWrite?.status !== 'function') throw new Error('this hub has no remoteWrite.status(): the remote-write sender is not in this build');
    const status = (): RemoteWriteStatus => hub!.remoteWrite!.status()[0]!;
    const backlog = writeBacklog(hub, devices, seconds, valuesPerSample);
    const queued = await waitFor(() => status().pending >= backlog.values, 30_000);
    if (!queued) throw new Error(`the queue holds ${status().pending} of ${backlog.values} values`);
    if (status().sent !== 0) throw new Error(`sent ${status().sent} with the receiver down`);

    await vm.start();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const vmCpu0 = cpuNs(vm.pid!);
    let firstSentAt: number | null = null;
    const timeline: [ms: number, sent: number][] = [];
    const deadline = Date.now() + timeoutMs;
    let s = status();
    while (s.pending > 0 && Date.now() < deadline) {
      await sleep(100);
      s = status();
      timeline.push([performance.now(), s.sent]);
      if (firstSentAt === null && s.sent > 0) firstSentAt = performance.now();
    }
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const vmCpuMs = (cpuNs(vm.pid!) - vmCpu0) / 1e6;
    if (s.pending > 0) throw new Error(`not caught up after ${timeoutMs / 1000} s: ${JSON.stringify(s)}`);
    await vm.flush();
    const stored = await storedSamples(vm, backlog);
    return { backlog, catchUpMs: t1 - t0, sendingMs: t1 - (firstSentAt ?? t0), sent: s.sent, steadyRate: steadyRate(timeline, s.sent), hubCpuMs: (cpu.user + cpu.system) / 1000, vmCpuMs, stored, status: s };
  } finally {
    await hub?.close();
    await vm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** samples/s from the first status read at ≥ 10 % of `total` sent to the first at ≥ 90 %. */
function steadyRate(timeline: readonly [number, number][], total: number): number {
  const from = timeline.find(([, sent]) => sent >= total * 0.1);
  const to = timeline.find(([, sent]) => sent >= total * 0.9);
  if (!from || !to || to[0] <= from[0]) return NaN;
  return ((to[1] - from[1]) / (to[0] - from[0])) * 1000;
}

/** The edgewatch samples VictoriaMetrics holds from the backlog's span (a count, not an export of millions). */
async function storedSamples(vm: VictoriaMetricsEngine, backlog: Backlog): Promise<number> {
  const spanS = Math.ceil((backlog.lastT - backlog.firstT) / 1000) + 2;
  const result = await vm.query(`sum(count_over_time({__name__=~"edgewatch_.+"}[${spanS}s]))`, backlog.lastT / 1000 + 1);
  if (result.resultType !== 'vector' || result.result.length === 0) return 0;
  return Number(result.result[0]!.value[1]);
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en');

export async function remoteWriteBench(opts: { quick: boolean }): Promise<BenchRow[]> {
  if (!engineBinary('victoria-metrics')) {
    return [{ benchmark: 'remote write to VictoriaMetrics', result: 'skipped', how: 'victoria-metrics is not installed (Debian package victoria-metrics)' }];
  }
  const devices = 100;
  const valuesPerSample = 20;
  const seconds = opts.quick ? 600 : 3600;
  const span = opts.quick ? '10 min' : '1 h';
  const rows: BenchRow[] = [];

  // 1. The sender's capacity: the cap out of the way.
  const fast = await drain(devices, seconds, valuesPerSample, 100_000_000, opts.quick ? 120_000 : 600_000);
  const backlogText = `${devices} devices × ${span} at 1 Hz × ${valuesPerSample} values = ${fmt(fast.backlog.values)} values`;
  const landed = (d: Drain): string => `VictoriaMetrics then held ${fmt(d.stored)} of ${fmt(d.backlog.values)} values; ${d.status.failed} failed, ${d.status.retries} requests retried (the receiver was down at first)`;
  rows.push(
    {
      benchmark: 'remote write → VictoriaMetrics: samples/s one sender sustains',
      result: `${fmt(fast.steadyRate)} samples/s`,
      how: `${backlogText} queued while the receiver was down; maxSamplesPerSecond raised to 1e8, ${DEFAULT_BATCH_SAMPLES} samples per request (default); rate from 10 % to 90 % of the backlog sent`,
    },
    {
      benchmark: 'remote write: hub CPU per 100k values sent',
      result: `${((fast.hubCpuMs / fast.sent) * 1e5).toFixed(0)} ms`,
      how: `process.cpuUsage of the in-process hub over that catch-up (${(fast.hubCpuMs / 1000).toFixed(1)} s CPU in ${(fast.catchUpMs / 1000).toFixed(1)} s = ${((fast.hubCpuMs / fast.catchUpMs) * 100).toFixed(0)} % of a core); VictoriaMetrics itself: ${((fast.vmCpuMs / fast.sent) * 1e5).toFixed(0)} ms per 100k`,
    },
    {
      benchmark: `remote write: catch-up of a ${span} backlog, ${devices} devices, cap raised`,
      result: `${(fast.catchUpMs / 1000).toFixed(1)} s`,
      how: `VictoriaMetrics ready → pending 0; ${landed(fast)}`,
    },
  );

  // 2. The same backlog with the default configuration: the rate cap keeps ingest its share.
  const capped = await drain(devices, seconds, valuesPerSample, undefined, opts.quick ? 120_000 : 600_000);
  rows.push({
    benchmark: `remote write: catch-up of a ${span} backlog, ${devices} devices, default config`,
    result: `${(capped.catchUpMs / 1000).toFixed(1)} s (${fmt(capped.steadyRate)} samples/s)`,
    how: `the same backlog, maxSamplesPerSecond at its default ${fmt(DEFAULT_MAX_SAMPLES_PER_SECOND)}; VictoriaMetrics ready → pending 0; ${landed(capped)}`,
  });
  return rows;
}
