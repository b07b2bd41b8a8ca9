// Storage: what a fleet's history costs on disk and how fast it goes in and comes back out.
// A simulated fleet (storage-workload.ts: real captures replayed with jitter, ~120 values a
// sample) is ingested on the main thread the way the hub's IngestQueue does it: one
// transaction per second holding one sample from each device, with store.maintain() run
// every 5 s of simulated time as the hub's maintenance loop does (again at once while it
// reports more work). Then: bytes per stored value, chart queries, and retention a week on.
// A second store holds one device with 7 days at 1 Hz, for the week-long chart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type BatchToCommit } from '../dashboard/store/store.js';
import type { StorageResponse } from '../shared/live.js';
import { PROTOCOL_VERSION, type Hello, type Sample } from '../shared/protocol.js';
import { median, type BenchRow } from './report.js';
import { createFleet, DEVICE_KINDS, type SimDevice } from './storage-workload.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The hub's maintenance cadence (hub.ts: maintenanceMs, default 5000) and pass budget (storage-maintenance.ts). */
const MAINTAIN_EVERY_S = 5;
const PASS_BUDGET_MS = 50;
/** Bounds the back-to-back passes of one maintenance round; a round needing more is a bug. */
const MAX_PASSES = 100_000;
/** Hub receive time after the sample's device time: network and queueing. */
const RECEIVE_DELAY_MS = 40;
/** What a device page charts first, all present on a Jetson Orin Nano. */
const CHART_METRICS = ['cpu.util', 'cpu.core.0.util', 'mem.used', 'gpu.0.util', 'temp.cpu', 'power.board', 'net.eth0.rx_bps', 'load.1'];
const QUERY_RUNS = 7;
const POINTS = 1000;
const SEED = 20260101;
/** Fleet start, a Monday at midnight UTC: fixed so runs are comparable. */
const T0 = Date.UTC(2026, 0, 5);

export interface StorageBenchOptions {
  /** 20 × 2 h instead of 20 × 24 h. */
  quick: boolean;
}

export function storageBench(opts: StorageBenchOptions): BenchRow[] {
  const devices = 20;
  const hours = opts.quick ? 2 : 24;
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'edgewatch-bench-storage-'));
    dirs.push(d);
    return d;
  };
  try {
    const fleetRows = fleetPhase(tempDir(), devices, hours);
    const weekRows = weekPhase(tempDir());
    return [...fleetRows, ...weekRows];
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

function hello(id: string, name: string): Hello {
  return { type: 'hello', v: PROTOCOL_VERSION, device: { id, name }, agent: { version: 'bench' }, intervalMs: 1000, capabilities: [], inventory: {}, clock: T0 };
}

function countValues(m: Record<string, number>): number {
  let n = 0;
  for (const _ in m) n++;
  return n;
}

/** Wall time spent in the store, kept apart from the time spent making samples. */
interface IngestClock {
  commitMs: number;
  maintainMs: number;
  passes: number;
  /** The longest single maintain() call: how long it holds the hub's event loop. */
  longestPassMs: number;
}

const newClock = (): IngestClock => ({ commitMs: 0, maintainMs: 0, passes: 0, longestPassMs: 0 });

/** Maintenance as the hub runs it: one pass, and more at once while it says there is more. */
function maintainRound(store: Store, now: number, clock: IngestClock): void {
  for (let i = 0; i < MAX_PASSES; i++) {
    const start = performance.now();
    const more = store.maintain(now, PASS_BUDGET_MS).more;
    const ms = performance.now() - start;
    clock.passes++;
    clock.maintainMs += ms;
    clock.longestPassMs = Math.max(clock.longestPassMs, ms);
    if (!more) break;
  }
}

function progress(text: string): void {
  process.stderr.write(`storage bench: ${text}\n`);
}

function fleetPhase(dir: string, devices: number, hours: number): BenchRow[] {
  const fleet = createFleet({ devices, seed: SEED, startMs: T0 });
  let store = Store.open(dir);
  const nums = fleet.map((d) => store.upsertDevice(hello(d.id, d.description), T0).num);
  const seconds = hours * 3600;
  const clock = newClock();
  let values = 0;
  let genMs = 0;
  let lastT = 0;
  const wallStart = performance.now();
  for (let s = 0; s < seconds; s++) {
    const g0 = performance.now();
    const items: BatchToCommit[] = new Array(devices);
    for (let i = 0; i < devices; i++) {
      const sample = fleet[i]!.next();
      values += countValues(sample.m);
      lastT = Math.max(lastT, sample.t);
      items[i] = { deviceNum: nums[i]!, seq: s + 1, receivedAt: sample.t + RECEIVE_DELAY_MS, samples: [sample] };
    }
    const c0 = performance.now();
    genMs += c0 - g0;
    store.commitBatches(items);
    clock.commitMs += performance.now() - c0;
    if ((s + 1) % MAINTAIN_EVERY_S === 0) maintainRound(store, lastT + RECEIVE_DELAY_MS, clock);
    if ((s + 1) % 3600 === 0) progress(`fleet ${(s + 1) / 3600}/${hours} h, ${Math.round((performance.now() - wallStart) / 1000)} s`);
  }
  const hubNow = lastT + RECEIVE_DELAY_MS;
  const sealStart = performance.now();
  store.sealAll();
  const sealMs = performance.now() - sealStart;
  const withWal = store.storage(hubNow);
  // Queries on a reopened store, so the first one is cold (statements, SQLite's page cache);
  // closing also checkpoints the WAL into the file, so the sizes below are the database's own.
  store.close();
  store = Store.open(dir);
  const sealed = store.storage(hubNow);
  const fleetIds = new Set(fleet.map((d) => d.id));
  const raw = tierTotals(sealed, fleetIds, 'raw');
  const ingestS = (clock.commitMs + clock.maintainMs) / 1000;
  const queryDevice = fleet.find((d) => d.kind === 'orin-nano')!;
  const queryNum = nums[fleet.indexOf(queryDevice)]!;
  const queryRows = [15 * 60_000, HOUR_MS, DAY_MS]
    .filter((span) => span <= hours * HOUR_MS)
    .map((span) => chartRow(store, queryNum, queryDevice.id, lastT + 1, span, `fleet store (${devices} devices), device ${queryDevice.id}`));

  // Retention a week and a day on. It counts back from each device's newest sample (a board
  // switched off keeps its last week), so every device first sends one sample 8 days later;
  // then raw windows older than 7 days go and the rollups stay.
  const later = hubNow + 8 * DAY_MS;
  store.commitBatches(
    fleet.map((d, i) => {
      const sample = d.next();
      return { deviceNum: nums[i]!, seq: seconds + 1, receivedAt: later, samples: [{ t: sample.t + 8 * DAY_MS, m: sample.m }] };
    }),
  );
  const retentionClock = newClock();
  maintainRound(store, later, retentionClock);
  const afterWithWal = store.storage(later);
  store.close();
  store = Store.open(dir);
  const after = store.storage(later);
  store.close();

  const kinds = [...new Set(fleet.map((d) => d.kind))];
  const perSample = values / (devices * seconds);
  return [
    {
      benchmark: `storage: workload, ${devices} devices × ${hours} h at 1 Hz`,
      result: `${values.toLocaleString('en')} values (${perSample.toFixed(1)} per sample)`,
      how: `storage-workload.ts, seed ${SEED}: ${kinds.join(', ')}; generating took ${(genMs / 1000).toFixed(0)} s (not counted below)`,
    },
    {
      benchmark: 'storage: ingest incl. maintenance, one core',
      result: `${rate(values, ingestS)} values/s`,
      how: `commitBatches (1 transaction per second of ${devices} samples) + maintain(now) every ${MAINTAIN_EVERY_S} s simulated until !more (${clock.passes.toLocaleString('en')} passes with a ${PASS_BUDGET_MS} ms budget, longest ${clock.longestPassMs.toFixed(0)} ms); store wall time ${ingestS.toFixed(1)} s`,
    },
    {
      benchmark: 'storage: ingest, commits alone',
      result: `${rate(values, clock.commitMs / 1000)} values/s`,
      how: `same run; maintenance took ${(clock.maintainMs / 1000).toFixed(1)} s of it (${((100 * clock.maintainMs) / (clock.commitMs + clock.maintainMs)).toFixed(0)} %); sealAll() at the end ${(sealMs / 1000).toFixed(1)} s`,
    },
    {
      benchmark: 'storage: bytes per stored value, raw tier',
      result: `${(raw.bytes / raw.values).toFixed(2)} B`,
      how: `store.storage() raw tier after sealAll(): ${mb(raw.bytes)} for ${raw.values.toLocaleString('en')} values (ingested ${values.toLocaleString('en')}); store's rawBytesPerValue ${sealed.rawBytesPerValue?.toFixed(2) ?? 'null'}`,
    },
    {
      benchmark: 'storage: bytes per stored value, whole file',
      result: `${(sealed.fileBytes / values).toFixed(2)} B`,
      how: `${mb(sealed.fileBytes)} file after a checkpoint (${mb(withWal.fileBytes)} with the WAL before), ${mb(sealed.usedBytes)} in use (${(sealed.usedBytes / values).toFixed(2)} B/value): raw, 1m and 1h rollups, batches, indexes`,
    },
    ...queryRows,
    {
      benchmark: 'storage: database after retention (8 d on)',
      result: `${mb(after.fileBytes)} file, ${mb(after.usedBytes)} used`,
      how: `one more sample per device 8 d later, then maintain(now + 8 d) until !more: ${retentionClock.passes} passes, ${(retentionClock.maintainMs / 1000).toFixed(1)} s; raw left ${tierTotals(after, fleetIds, 'raw').values.toLocaleString('en')} values, 1m ${tierTotals(after, fleetIds, '1m').values.toLocaleString('en')} rows, 1h ${tierTotals(after, fleetIds, '1h').values.toLocaleString('en')} rows; before: ${mb(sealed.fileBytes)} file; ${mb(afterWithWal.fileBytes)} with the WAL until a checkpoint`,
    },
  ];
}

/**
 * One device, 7 days at 1 Hz, in a store of its own: the week-long chart. Filled in bulk, a
 * minute per batch with maintenance every 15 minutes of device time (what an agent's backlog
 * looks like), and only the charted metrics: the query reads those alone, and the fleet above
 * already measures ingest and size with every metric.
 */
function weekPhase(dir: string): BenchRow[] {
  const orin = DEVICE_KINDS.find((k) => k.kind === 'orin-nano')!;
  const days = 7;
  const start = T0 - days * DAY_MS;
  const [device] = createFleet({ devices: 1, seed: SEED + 7, startMs: start, kinds: [orin] }) as [SimDevice];
  let store = Store.open(dir);
  const num = store.upsertDevice(hello('week', 'Jetson Orin Nano, 7 days'), start).num;
  const clock = newClock();
  let values = 0;
  let lastT = 0;
  const perBatch = 60;
  const maintainEvery = 15;
  const seconds = days * 86_400;
  const wallStart = performance.now();
  for (let b = 0; b < seconds / perBatch; b++) {
    const samples: Sample[] = [];
    for (let k = 0; k < perBatch; k++) {
      const full = device.next();
      const m: Record<string, number> = {};
      for (const name of CHART_METRICS) if (full.m[name] !== undefined) m[name] = full.m[name]!;
      values += countValues(m);
      lastT = full.t;
      samples.push({ t: full.t, m });
    }
    const c0 = performance.now();
    store.commitBatches([{ deviceNum: num, seq: b + 1, receivedAt: lastT + RECEIVE_DELAY_MS, samples }]);
    clock.commitMs += performance.now() - c0;
    if ((b + 1) % maintainEvery === 0) maintainRound(store, lastT + RECEIVE_DELAY_MS, clock);
    if (((b + 1) * perBatch) % 86_400 === 0) progress(`7-day device ${((b + 1) * perBatch) / 86_400}/${days} d, ${Math.round((performance.now() - wallStart) / 1000)} s`);
  }
  store.sealAll();
  store.close();
  store = Store.open(dir);
  const sealed = store.storage(lastT + RECEIVE_DELAY_MS);
  const raw = tierTotals(sealed, new Set(['week']), 'raw');
  const where = `7-day store: one device (${device.kind}), 7 d at 1 Hz of the ${CHART_METRICS.length} charted metrics`;
  const rows = [
    chartRow(store, num, 'week', lastT + 1, DAY_MS, where),
    chartRow(store, num, 'week', lastT + 1, days * DAY_MS, where),
    {
      benchmark: 'storage: 7-day device, bytes per stored value',
      result: `${(raw.bytes / raw.values).toFixed(2)} B raw, ${(sealed.fileBytes / values).toFixed(2)} B whole file`,
      how: `${values.toLocaleString('en')} values of ${CHART_METRICS.join(', ')}; ${mb(sealed.fileBytes)} file; filled in ${((clock.commitMs + clock.maintainMs) / 1000).toFixed(0)} s of store time`,
    },
  ];
  store.close();
  return rows;
}

/** A chart's query: cold first run, then the median of QUERY_RUNS more, and the tier that answered. */
function chartRow(store: Store, deviceNum: number, deviceId: string, end: number, span: number, where: string): BenchRow {
  const query = () => store.series({ deviceNum, deviceId, metrics: CHART_METRICS, from: end - span, to: end, points: POINTS });
  const c0 = performance.now();
  const first = query();
  const coldMs = performance.now() - c0;
  const warm: number[] = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const t0 = performance.now();
    query();
    warm.push(performance.now() - t0);
  }
  const points = Object.values(first.series).reduce((s, p) => s + p.length, 0);
  return {
    benchmark: `storage: ${spanLabel(span)} chart, ${CHART_METRICS.length} metrics`,
    result: `${median(warm).toFixed(1)} ms (cold ${coldMs.toFixed(1)} ms)`,
    how: `points=${POINTS}, tier ${first.tier ?? '?'}, ${points.toLocaleString('en')} points returned; median of ${QUERY_RUNS} after a cold first run on a reopened store; ${where}`,
  };
}

function tierTotals(s: StorageResponse, ids: ReadonlySet<string>, tier: 'raw' | '1m' | '1h'): { bytes: number; values: number } {
  let bytes = 0;
  let values = 0;
  for (const d of s.devices) {
    if (!ids.has(d.deviceId)) continue;
    const t = d.tiers.find((x) => x.tier === tier);
    bytes += t?.bytes ?? 0;
    values += t?.values ?? 0;
  }
  return { bytes, values };
}

function spanLabel(ms: number): string {
  return ms > DAY_MS ? `${ms / DAY_MS} d` : ms >= HOUR_MS ? `${ms / HOUR_MS} h` : `${ms / 60_000} min`;
}

function rate(values: number, seconds: number): string {
  return Math.round(values / seconds).toLocaleString('en');
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
