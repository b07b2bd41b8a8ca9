// Experiment snapshots: an ended experiment's comparison figures, computed by the hub and kept
// in experiment_snapshots, so compare never depends on raw retention (7 days by default). The
// figures taken from metric samples (CPU/GPU, memory, power, energy, temperatures, throttling)
// could not be recomputed once retention drops the raw samples; the timing figures could, but
// are kept too so a snapshot is exactly what compare showed.
//
// When: the commit that ends an experiment marks it (store/snapshot-store.ts), and so does any
// later commit that changes its figures (late timings, late samples in its window, a later event
// with scores). Marks are debounced here: a backlog arriving batch by batch costs one
// computation per experiment per delay, off the ingest path. At start, every ended experiment
// without a snapshot is computed: migration 12 only creates the table, SQL cannot compute these
// figures (histogram merges, trapezoids over compressed columns).
//
// Recomputing after retention: the raw samples a snapshot saw may be gone by the time late
// timings arrive. Then the snapshot's own sample figures are kept and only the timing figures
// (and energy per inference) are computed again.
//
// Fallback: an experiment that predates snapshots and whose raw samples are gone takes its
// sample figures from the finest rollup tier that has them, marked approximate in compare.
import type { ExperimentSnapshotInfo, SampleSource } from '../../shared/live.js';
import type { Logger } from '../../shared/log.js';
import { floorTo, rollupTier } from '../store/tiers/layout.js';
import { experimentRangeEnd, sqliteCode, type ExperimentRow, type Store } from '../store/store.js';
import type { StoredSnapshot } from '../store/snapshot-store.js';
import {
  choosePower,
  comparisonMetrics,
  DEFAULT_IDLE_WINDOW_S,
  experimentStats,
  measuredFrom,
  rawPointsInWindow,
  sampleFiguresOf,
  THROTTLE_FLAGS,
  type OwnStats,
  type SampleFigures,
} from './compare.js';
import { experimentInput, ownFields } from './experiment-data.js';

/** Version of the figures' JSON; a snapshot of another format is computed again at start. */
export const SNAPSHOT_FORMAT = 1;

/** What a snapshot's `figures` column holds. */
interface SnapshotFigures {
  /** The idle window its idle power and net energy are for, s. */
  idleWindowS: number;
  /** Raw sample values of the measured window it was computed from (0 from rollups). */
  rawPoints: number;
  stats: OwnStats;
}

export interface ComputedFigures {
  stats: OwnStats;
  source: 'raw' | 'rollup';
  rawPoints: number;
  /** The sample figures are an earlier snapshot's: the raw samples it saw are gone. */
  keptFromSnapshot: boolean;
}

function parseFigures(s: StoredSnapshot | undefined): SnapshotFigures | null {
  if (!s || s.format !== SNAPSHOT_FORMAT) return null;
  try {
    const f = JSON.parse(s.figures) as SnapshotFigures;
    return typeof f.rawPoints === 'number' && typeof f.idleWindowS === 'number' && f.stats && typeof f.stats === 'object' ? f : null;
  } catch {
    return null;
  }
}

const GPU_UTIL_RE = /^gpu\.\d+\.util$/;
const TEMP_RE = /^(temp\.|gpu\.\d+\.temp$)/;

/**
 * Sample figures from rollup buckets over the measured window: means weighted by the buckets'
 * counts, peaks from the buckets' maxima, energy as mean power × duration. Buckets that only
 * overlap the window count whole: that and the bucket width are why the result is approximate.
 * Null when the tier holds nothing for the window.
 */
export function rollupSampleFigures(store: Store, row: ExperimentRow, tier: '1m' | '1h'): SampleFigures | null {
  const rangeEnd = experimentRangeEnd(row);
  const from = measuredFrom({ experiment: row, rangeEnd, warmup: row.warmup, measuredFrom: row.measuredFrom });
  const metrics = comparisonMetrics(store.metricNames(row.deviceNum));
  if (metrics.length === 0) return null;
  const res = rollupTier(tier).res;
  const stats = metrics.map(() => ({ sum: 0, n: 0, hi: -Infinity }));
  const buckets: [t: number, values: ([mean: number, min: number, max: number, count: number] | null)[]][] = [];
  for (const r of store.exportRollupRows(row.deviceNum, metrics, floorTo(from, res), rangeEnd + 1, tier)) {
    buckets.push(r);
    r[1].forEach((v, j) => {
      if (!v) return;
      const s = stats[j]!;
      s.sum += v[0] * v[3];
      s.n += v[3];
      if (v[2] > s.hi) s.hi = v[2];
    });
  }
  const present = metrics.filter((_, j) => stats[j]!.n > 0);
  if (present.length === 0) return null;
  const at = (name: string) => stats[metrics.indexOf(name)]!;
  const meanOf = (name: string): number | null => (present.includes(name) ? at(name).sum / at(name).n : null);
  const peakOf = (name: string): number | null => (present.includes(name) ? at(name).hi : null);
  const gpus = present.filter((n) => GPU_UTIL_RE.test(n));
  const power = choosePower(present);
  const durationS = Math.max(0, rangeEnd - from) / 1000;
  // Power: the components' means add up; the peak is the highest bucket's sum of maxima (an upper bound).
  const powerMeanW = power ? power.metrics.reduce((sum, m) => sum + meanOf(m)!, 0) : null;
  let powerPeakW: number | null = null;
  if (power) {
    const idx = power.metrics.map((m) => metrics.indexOf(m));
    for (const [, values] of buckets) {
      let sum = 0;
      let any = false;
      for (const j of idx) {
        const v = values[j];
        if (v) (sum += v[2]), (any = true);
      }
      if (any && (powerPeakW === null || sum > powerPeakW)) powerPeakW = sum;
    }
  }
  const temps = present.filter((n) => TEMP_RE.test(n)).map((n) => at(n).hi);
  const flags = THROTTLE_FLAGS.filter((n) => present.includes(n));
  // Seconds throttled: per bucket, the largest flag mean is the share of its ticks with a flag set
  // (at least), over the part of the bucket inside the window.
  let throttledS: number | null = null;
  if (flags.length > 0) {
    const idx = flags.map((f) => metrics.indexOf(f));
    throttledS = 0;
    for (const [t, values] of buckets) {
      const share = Math.max(0, ...idx.map((j) => values[j]?.[0] ?? 0));
      throttledS += (share * Math.max(0, Math.min(t + res, rangeEnd) - Math.max(t, from))) / 1000;
    }
  }
  return {
    cpuUtilMean: meanOf('cpu.util'),
    cpuUtilPeak: peakOf('cpu.util'),
    gpuUtilMean: gpus.length > 0 ? gpus.reduce((sum, n) => sum + meanOf(n)!, 0) / gpus.length : null,
    gpuUtilPeak: gpus.length > 0 ? Math.max(...gpus.map((n) => at(n).hi)) : null,
    memUsedPeakBytes: peakOf('mem.used'),
    powerSource: power?.source ?? null,
    powerMetrics: power?.metrics ?? [],
    powerSampleIntervalS: power ? res / 1000 : null,
    powerMeanW,
    powerPeakW,
    energyJ: powerMeanW !== null && durationS > 0 ? powerMeanW * durationS : null,
    // The idle window (seconds) is far finer than a bucket: no honest idle power from rollups.
    idlePowerW: null,
    tempPeakC: temps.length > 0 ? Math.max(...temps) : null,
    throttled: flags.length > 0 ? flags.some((f) => at(f).hi > 0) : null,
    throttledS,
  };
}

/**
 * An ended experiment's figures now: from raw samples while they are all there; else the
 * previous snapshot's sample figures when it saw more raw samples than are left; else rollups.
 */
export function computeFigures(store: Store, row: ExperimentRow, idleWindowS: number, prev: SnapshotFigures | null): ComputedFigures {
  const input = experimentInput(store, row, idleWindowS);
  const rawPoints = rawPointsInWindow(input);
  if (prev && prev.rawPoints > rawPoints) {
    const source: SampleSource = prev.stats.sampleSource ?? 'raw';
    return {
      stats: experimentStats(input, idleWindowS, { figures: sampleFiguresOf(prev.stats), source }),
      source: source === 'raw' ? 'raw' : 'rollup',
      rawPoints: prev.rawPoints,
      keptFromSnapshot: true,
    };
  }
  const oldestRaw = store.snapshots.oldestRawT(row.deviceNum);
  const rawGone = oldestRaw === null || oldestRaw > measuredFrom(input);
  if (rawGone && rawPoints === 0) {
    for (const tier of ['1m', '1h'] as const) {
      const figures = rollupSampleFigures(store, row, tier);
      if (figures) return { stats: experimentStats(input, idleWindowS, { figures, source: tier }), source: 'rollup', rawPoints: 0, keptFromSnapshot: false };
    }
  }
  return { stats: experimentStats(input, idleWindowS), source: 'raw', rawPoints, keptFromSnapshot: false };
}

/** Computes and stores one ended experiment's snapshot; false when it is not (or no longer) ended. */
export function snapshotExperiment(store: Store, id: string, now: number = Date.now()): boolean {
  const row = store.getExperiment(id);
  if (!row || row.end === null) return false;
  const prev = parseFigures(store.snapshots.get(id));
  const c = computeFigures(store, row, DEFAULT_IDLE_WINDOW_S, prev);
  const figures: SnapshotFigures = { idleWindowS: DEFAULT_IDLE_WINDOW_S, rawPoints: c.rawPoints, stats: { ...c.stats, snapshot: null } };
  store.snapshots.put({ experimentId: id, computedAt: now, format: SNAPSHOT_FORMAT, source: c.source, figures: JSON.stringify(figures) });
  return true;
}

/**
 * What compare shows for one experiment: a running one computed live; an ended one read from
 * its snapshot (identity fields — name, tags, device name — are the row's, they may change
 * without touching a figure); without a snapshot (or for another idle window) computed now,
 * from rollups when raw samples are gone. `note` says what a reader must know.
 */
export function comparisonFigures(store: Store, row: ExperimentRow, idleWindowS: number): { stats: OwnStats; note: string | null } {
  if (row.end === null) return { stats: experimentStats(experimentInput(store, row, idleWindowS), idleWindowS), note: null };
  const stored = store.snapshots.get(row.id);
  const prev = parseFigures(stored);
  if (stored && prev && prev.idleWindowS === idleWindowS) {
    const info: ExperimentSnapshotInfo = { computedAt: stored.computedAt, source: stored.source };
    return { stats: { ...prev.stats, ...ownFields(row), running: false, snapshot: info }, note: null };
  }
  const c = computeFigures(store, row, idleWindowS, prev);
  if (c.keptFromSnapshot && stored) {
    const info: ExperimentSnapshotInfo = { computedAt: stored.computedAt, source: stored.source };
    return {
      stats: { ...c.stats, snapshot: info },
      note: `${row.name} (${row.id}): its raw samples are past retention, so its idle power and net energy are for the snapshot's ${prev!.idleWindowS} s idle window, not ${idleWindowS} s.`,
    };
  }
  return { stats: c.stats, note: null };
}

export interface SnapshotWorker {
  stop(): void;
  /** Computes every marked snapshot now (tests). */
  flush(): void;
}

/** Per pass: long enough for a few experiments, short enough not to stall ingest or requests. */
const PASS_BUDGET_MS = 50;
const MAX_ATTEMPTS = 3;

/**
 * Keeps snapshots current: `delayMs` after the first mark, computes every marked experiment in
 * bounded passes; at start, marks every ended experiment that has none.
 */
export function startSnapshots(store: Store, log: Logger, opts: { delayMs?: number } = {}): SnapshotWorker {
  const delayMs = opts.delayMs ?? 2000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  /** Marks made by a pass itself (deferred or retried ids) must not push the next pass back by delayMs. */
  let inPass = false;
  const failures = new Map<string, number>();
  const schedule = (ms: number): void => {
    if (timer || stopped) return;
    timer = setTimeout(run, ms);
    timer.unref();
  };
  const one = (id: string): void => {
    try {
      snapshotExperiment(store, id);
      failures.delete(id);
    } catch (err) {
      const attempts = (failures.get(id) ?? 0) + 1;
      failures.set(id, attempts);
      // A full or read-only disk passes: retry. Anything else after a few tries is a bug to report, not to spin on.
      if (sqliteCode(err) !== undefined || attempts < MAX_ATTEMPTS) {
        log.warn({ err, experiment: id, attempts }, 'experiment snapshot failed; will retry');
        store.snapshots.mark(id);
      } else {
        log.error({ err, experiment: id, attempts }, 'experiment snapshot failed repeatedly; compare computes its figures on each request until the hub restarts');
        failures.delete(id);
      }
    }
  };
  function run(): void {
    timer = null;
    if (stopped) return;
    inPass = true;
    const deadline = performance.now() + PASS_BUDGET_MS;
    // Each id taken once per pass: one that failed and was marked again waits for the next.
    const ids = store.snapshots.takeDirty(store.snapshots.dirtyCount);
    let k = 0;
    for (; k < ids.length && performance.now() < deadline; k++) one(ids[k]!);
    for (; k < ids.length; k++) store.snapshots.mark(ids[k]!);
    inPass = false;
    if (store.snapshots.dirtyCount > 0) schedule(failures.size > 0 ? Math.max(delayMs, 1000) : 1);
  }
  const unlisten = store.snapshots.onDirty(() => {
    if (!inPass) schedule(delayMs);
  });
  const missing = store.snapshots.missing(SNAPSHOT_FORMAT);
  if (missing.length > 0) log.info({ experiments: missing.length }, 'computing snapshots of ended experiments that have none');
  for (const id of missing) store.snapshots.mark(id);
  // The start-up pass right away: the sooner, the more raw samples are still there.
  if (missing.length > 0) {
    if (timer) clearTimeout(timer);
    timer = null;
    schedule(0);
  }
  return {
    stop() {
      stopped = true;
      unlisten();
      if (timer) clearTimeout(timer);
      timer = null;
    },
    flush() {
      for (const id of store.snapshots.takeDirty(store.snapshots.dirtyCount)) one(id);
    },
  };
}
