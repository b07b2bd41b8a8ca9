// Metric history in three tiers, behind one class: the raw tier (raw_head for unsealed
// samples, raw_chunks + raw_columns for sealed windows) and the 1-minute and 1-hour rollups.
// Ingest only appends to raw_head, inside the batch's commit, so an ack still means
// committed. maintain() does the rest in small steps off the ingest path: seals closed
// windows (compressing them and merging them into the rollups, each value counted once),
// applies retention per tier and the size cap, and hands freed pages back to the OS.
import type { Database, Statement } from 'better-sqlite3';
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { SeriesPoint, SeriesResponse, StorageResponse, StorageTier, TierUsage } from '../../../shared/live.js';
import { decodeColumn, decodeTimes, encodeColumn, encodeTimes } from './chunk-codec.js';
import { decodeHead, encodeHead } from './head-codec.js';
import { DEFAULT_RETENTION, floorTo, retentionOf, ROLLUP_TIERS, rollupTier, WINDOW_MS, type RetentionSettings, type RollupTier } from './layout.js';
import { decodeRollup, emptyBlock, encodeRollup, mergeIntoBlock, type BucketAcc } from './rollup-codec.js';

/** A window is sealed once the device has sent samples this far past its end… */
const SEAL_GRACE_MS = 60_000;
/** …or once the hub's clock is this far past it (a device that went quiet, or a backlog). */
const SEAL_IDLE_MS = 5 * 60_000;
/** Rows deleted per statement by retention: small steps keep each transaction short. */
const PRUNE_LIMIT = 2000;
/** Free pages handed back per maintenance pass (auto_vacuum = INCREMENTAL databases). */
const VACUUM_PAGES = 4096;
/** Retention runs at most this often (it reads every device's oldest rows), unless it left work. */
const RETENTION_EVERY_MS = 60_000;

export interface MaintenanceResult {
  /** Windows sealed in this pass. */
  sealed: number;
  /** Rows dropped by retention or the size cap. */
  pruned: number;
  /** Pages returned to the file system. */
  vacuumedPages: number;
  /** Work was left for the next pass (the time budget ran out or a limit was hit). */
  more: boolean;
}

export interface SeriesRequest {
  deviceNum: number;
  deviceId: string;
  metricIds: readonly (number | undefined)[];
  metrics: readonly string[];
  from: number;
  to: number;
  points: number;
  intervalMs: number | null;
  /** 'raw' never reads rollups (exact comparisons); default 'auto'. */
  tier?: 'auto' | 'raw';
}

/** Samples of some metrics over part of one window: `cols[j][i]` is metric j at `times[i]`, NaN if absent. */
export interface RawSlice {
  times: number[];
  cols: Float64Array[];
}

interface HeadRow {
  t: number;
  data: Buffer;
}

type Bucketed = { n: Float64Array; sum: Float64Array; lo: Float64Array; hi: Float64Array };

export class History {
  private readonly s: Record<string, Statement>;
  private readonly autoVacuum: boolean;
  lastRetentionAt: number | null = null;
  /** The last retention pass stopped early: run the next one without waiting. */
  private retentionBacklog = false;
  /** Retention or the size cap freed pages that are still to be handed back. */
  private vacuumPending = false;
  private statsCache: { at: number; tables: Map<string, number> } | null = null;

  constructor(
    private readonly db: Database,
    private readonly path: string,
    readonly retention: RetentionSettings = DEFAULT_RETENTION,
  ) {
    this.autoVacuum = (db.pragma('auto_vacuum', { simple: true }) as number) === 2;
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      // A second sample at the same (device, t) is a resend or a clock that stepped back: the first stays.
      insertHead: p('INSERT INTO raw_head (device_num, t, n, data) VALUES (?, ?, ?, ?) ON CONFLICT (device_num, t) DO NOTHING'),
      headRange: p('SELECT t, data FROM raw_head WHERE device_num = ? AND t >= ? AND t < ? ORDER BY t'),
      headMin: p('SELECT MIN(t) FROM raw_head WHERE device_num = ?').pluck(),
      headMax: p('SELECT MAX(t) FROM raw_head WHERE device_num = ?').pluck(),
      headNext: p('SELECT MIN(t) FROM raw_head WHERE device_num = ? AND t >= ? AND t < ?').pluck(),
      deleteHead: p('DELETE FROM raw_head WHERE device_num = ? AND t >= ? AND t < ?'),
      headDevices: p('SELECT num FROM devices').pluck(),
      chunkAt: p('SELECT n, t_first, t_last, times FROM raw_chunks WHERE device_num = ? AND t0 = ?'),
      chunkNext: p('SELECT MIN(t0) FROM raw_chunks WHERE device_num = ? AND t0 >= ? AND t0 < ?').pluck(),
      upsertChunk: p(
        `INSERT INTO raw_chunks (device_num, t0, n, t_first, t_last, times) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (device_num, t0) DO UPDATE SET n = excluded.n, t_first = excluded.t_first, t_last = excluded.t_last, times = excluded.times`,
      ),
      columnsOfWindow: p('SELECT metric_id, data FROM raw_columns WHERE device_num = ? AND t0 = ?'),
      columnAt: p('SELECT data FROM raw_columns WHERE device_num = ? AND metric_id = ? AND t0 = ?').pluck(),
      upsertColumn: p(
        `INSERT INTO raw_columns (device_num, metric_id, t0, n, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (device_num, metric_id, t0) DO UPDATE SET n = excluded.n, data = excluded.data`,
      ),
      rawOldest: p('SELECT MIN(t_first) FROM raw_chunks WHERE device_num = ?').pluck(),
      blockAt: p('SELECT data FROM rollups WHERE res = ? AND device_num = ? AND metric_id = ? AND t0 = ?').pluck(),
      upsertBlock: p(
        `INSERT INTO rollups (res, device_num, metric_id, t0, t_first, t_last, buckets, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (res, device_num, metric_id, t0) DO UPDATE SET
           t_first = excluded.t_first, t_last = excluded.t_last, buckets = excluded.buckets, data = excluded.data`,
      ),
      blockNext: p('SELECT MIN(t0) FROM rollups WHERE res = ? AND device_num = ? AND metric_id = ? AND t0 >= ? AND t0 < ?').pluck(),
      blocksInRange: p('SELECT t0, data FROM rollups WHERE res = ? AND device_num = ? AND metric_id = ? AND t0 >= ? AND t0 < ? ORDER BY t0'),
      rollupOldest: p('SELECT t_first FROM rollups WHERE res = ? AND device_num = ? AND metric_id = ? ORDER BY t0 LIMIT 1').pluck(),
      // Retention, in bounded slices.
      pruneColumns: p('DELETE FROM raw_columns WHERE rowid IN (SELECT rowid FROM raw_columns WHERE device_num = ? AND t0 < ? LIMIT ?)'),
      pruneChunks: p('DELETE FROM raw_chunks WHERE rowid IN (SELECT rowid FROM raw_chunks WHERE device_num = ? AND t0 < ? LIMIT ?)'),
      pruneHead: p('DELETE FROM raw_head WHERE rowid IN (SELECT rowid FROM raw_head WHERE device_num = ? AND t < ? LIMIT ?)'),
      pruneBlocks: p('DELETE FROM rollups WHERE rowid IN (SELECT rowid FROM rollups WHERE res = ? AND t0 < ? AND device_num = ? LIMIT ?)'),
      // Each device's newest committed sample: retention counts back from there.
      newestByDevice: p("SELECT num, json_extract(latest, '$.t') AS newest FROM devices"),
      // Batches are kept as long as raw data: an agent's spool resends for at most that long.
      // Sequence numbers grow with time, so the oldest are a prefix in key order.
      oldestBatch: p('SELECT received_at FROM batches WHERE device_num = ? ORDER BY seq LIMIT 1').pluck(),
      pruneBatches: p(
        `DELETE FROM batches WHERE device_num = @device AND seq IN (
           SELECT seq FROM batches WHERE device_num = @device ORDER BY seq LIMIT @limit) AND received_at < @cutoff`,
      ),
      pruneInference: p(
        `DELETE FROM inference_seconds WHERE (device_num, experiment_id, model_id, t) IN (
           SELECT device_num, experiment_id, model_id, t FROM inference_seconds WHERE device_num = ? AND t < ? LIMIT ?)`,
      ),
      oldestWindow: p('SELECT device_num, t0 FROM raw_chunks ORDER BY t0 LIMIT 1'),
      deleteWindowColumns: p('DELETE FROM raw_columns WHERE device_num = ? AND t0 = ?'),
      deleteWindowChunk: p('DELETE FROM raw_chunks WHERE device_num = ? AND t0 = ?'),
      oldestBlock: p('SELECT rowid FROM rollups WHERE res = ? ORDER BY t0 LIMIT 1').pluck(),
      deleteBlock: p('DELETE FROM rollups WHERE rowid = ?'),
      rawUsage: p(
        `SELECT device_num AS device, SUM(length(data)) AS bytes, SUM(n) AS vals FROM raw_columns GROUP BY device_num`,
      ),
      chunkUsage: p('SELECT device_num AS device, SUM(length(times)) AS bytes, MIN(t_first) AS oldest, MAX(t_last) AS newest FROM raw_chunks GROUP BY device_num'),
      headUsage: p('SELECT device_num AS device, SUM(length(data)) AS bytes, SUM(n) AS vals, MIN(t) AS oldest, MAX(t) AS newest FROM raw_head GROUP BY device_num'),
      rollupUsage: p(
        'SELECT res, device_num AS device, SUM(length(data)) AS bytes, SUM(buckets) AS vals, MIN(t_first) AS oldest, MAX(t_last) AS newest FROM rollups GROUP BY res, device_num',
      ),
    };
  }

  /** Appends one sample's values to the raw tier. False when the device already has a sample at t. */
  insertSample(deviceNum: number, t: number, metricIds: readonly number[], values: readonly number[]): boolean {
    return this.s.insertHead!.run(deviceNum, t, metricIds.length, encodeHead(metricIds, values)).changes === 1;
  }

  // ---------------------------------------------------------------- sealing

  /** Windows ready to seal, the oldest per device. */
  private sealable(now: number, force: boolean): { device: number; t0: number }[] {
    const out: { device: number; t0: number }[] = [];
    for (const device of this.s.headDevices!.all() as number[]) {
      const lo = this.s.headMin!.get(device) as number | null;
      if (lo === null) continue;
      const t0 = floorTo(lo, WINDOW_MS);
      const hi = this.s.headMax!.get(device) as number;
      if (force || t0 + WINDOW_MS + SEAL_GRACE_MS <= hi || t0 + WINDOW_MS + SEAL_IDLE_MS <= now) out.push({ device, t0 });
    }
    return out;
  }

  /**
   * Seals one device window in one transaction: merges its unsealed samples into the window's
   * chunk (a sample time the chunk already has is a duplicate and is dropped), adds exactly
   * those new values to the rollups, and deletes them from raw_head.
   */
  private sealWindow(device: number, t0: number): void {
    const t1 = t0 + WINDOW_MS;
    const headRows = this.s.headRange!.all(device, t0, t1) as HeadRow[];
    const chunk = this.s.chunkAt!.get(device, t0) as { n: number; times: Buffer } | undefined;
    const oldTimes = chunk ? decodeTimes(chunk.times) : [];
    const known = new Set(oldTimes);
    const fresh = headRows.filter((r) => !known.has(r.t));
    if (fresh.length > 0) {
      const { times, index } = mergeTimes(oldTimes, fresh);
      const n = times.length;
      // Per metric: its column, and per rollup tier the [n, sum, lo, hi] of each bucket the
      // window touches (a window lies within one block of every tier; see layout.ts).
      const bases = ROLLUP_TIERS.map((r) => floorTo(t0, r.res));
      const slots = ROLLUP_TIERS.map((r, k) => Math.ceil((t1 - bases[k]!) / r.res));
      type Acc = { col: Float64Array; buckets: Float64Array[] };
      const metrics = new Map<number, Acc>();
      const metric = (id: number): Acc => {
        let a = metrics.get(id);
        if (!a) {
          a = {
            col: new Float64Array(n).fill(NaN),
            buckets: slots.map((k) => {
              const b = new Float64Array(4 * k);
              for (let j = 0; j < k; j++) {
                b[4 * j + 2] = Infinity;
                b[4 * j + 3] = -Infinity;
              }
              return b;
            }),
          };
          metrics.set(id, a);
        }
        return a;
      };
      if (chunk) {
        const positions = oldTimes.map((t) => index.get(t)!);
        for (const row of this.s.columnsOfWindow!.all(device, t0) as { metric_id: number; data: Buffer }[]) {
          const old = decodeColumn(row.data, chunk.n);
          const c = metric(row.metric_id).col;
          for (let i = 0; i < old.length; i++) c[positions[i]!] = old[i]!;
        }
      }
      const tierCount = ROLLUP_TIERS.length;
      const slot = new Array<number>(tierCount);
      for (const row of fresh) {
        const i = index.get(row.t)!;
        for (let k = 0; k < tierCount; k++) slot[k] = 4 * Math.floor((row.t - bases[k]!) / ROLLUP_TIERS[k]!.res);
        decodeHead(row.data, (id, v) => {
          const a = metric(id);
          a.col[i] = v;
          for (let k = 0; k < tierCount; k++) {
            const b = a.buckets[k]!;
            const j = slot[k]!;
            b[j]! += 1;
            b[j + 1]! += v;
            if (v < b[j + 2]!) b[j + 2] = v;
            if (v > b[j + 3]!) b[j + 3] = v;
          }
        });
      }
      this.s.upsertChunk!.run(device, t0, n, times[0], times[n - 1], encodeTimes(times));
      for (const [id, a] of metrics) {
        let present = 0;
        for (let i = 0; i < n; i++) if (!Number.isNaN(a.col[i]!)) present++;
        this.s.upsertColumn!.run(device, id, t0, present, encodeColumn(a.col, n));
        ROLLUP_TIERS.forEach((tier, k) => {
          const b = a.buckets[k]!;
          const acc: BucketAcc = new Map();
          for (let j = 0; j < slots[k]!; j++) if (b[4 * j]! > 0) acc.set(bases[k]! + j * tier.res, [b[4 * j]!, b[4 * j + 1]!, b[4 * j + 2]!, b[4 * j + 3]!]);
          if (acc.size > 0) this.mergeRollup(tier, device, id, acc);
        });
      }
    }
    this.s.deleteHead!.run(device, t0, t1);
  }

  /** Adds a window's buckets of one metric into the tier's blocks (a window may straddle two). */
  private mergeRollup(tier: RollupTier, device: number, metricId: number, acc: BucketAcc): void {
    const byBlock = new Map<number, BucketAcc>();
    for (const [bucket, a] of acc) {
      const b0 = floorTo(bucket, tier.blockMs);
      let part = byBlock.get(b0);
      if (!part) byBlock.set(b0, (part = new Map()));
      part.set(bucket, a);
    }
    for (const [b0, part] of byBlock) {
      const existing = this.s.blockAt!.get(tier.res, device, metricId, b0) as Buffer | undefined;
      const block = mergeIntoBlock(existing ? decodeRollup(existing) : emptyBlock(), part);
      this.s.upsertBlock!.run(tier.res, device, metricId, b0, block.t[0], block.t[block.t.length - 1], block.t.length, encodeRollup(block));
    }
  }

  /** Seals every unsealed sample now, open windows included (tests, benchmarks, shutdown). Returns windows sealed. */
  sealAll(): number {
    let sealed = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const ready = this.sealable(0, true);
      if (ready.length === 0) break;
      for (const w of ready) {
        this.db.transaction(() => this.sealWindow(w.device, w.t0))();
        sealed++;
      }
    }
    return sealed;
  }

  /**
   * One maintenance pass of at most ~budgetMs: seal what is ready, then retention and the size
   * cap, then give free pages back. Each step is its own short transaction, so ingest and
   * readers interleave with a long backlog of work; `more` says to come back soon.
   */
  maintain(now: number, budgetMs = 50): MaintenanceResult {
    const deadline = performance.now() + budgetMs;
    const result: MaintenanceResult = { sealed: 0, pruned: 0, vacuumedPages: 0, more: false };
    sealing: for (let guard = 0; guard < 10_000; guard++) {
      const ready = this.sealable(now, false);
      if (ready.length === 0) break;
      for (const w of ready) {
        if (performance.now() > deadline) {
          result.more = true;
          break sealing;
        }
        this.db.transaction(() => this.sealWindow(w.device, w.t0))();
        result.sealed++;
      }
    }
    const retentionDue = this.retentionBacklog || this.lastRetentionAt === null || now - this.lastRetentionAt >= RETENTION_EVERY_MS || now < this.lastRetentionAt;
    if (!result.more && retentionDue) {
      const r = this.applyRetention(now, deadline);
      result.pruned = r.pruned;
      result.more = r.more;
      this.retentionBacklog = r.more;
    }
    // Only after retention or the cap dropped data: the pages a seal frees in raw_head are
    // reused by the next minutes of samples, and moving them to the end of the file each time
    // would cost more than the whole seal.
    if (result.pruned > 0) this.vacuumPending = true;
    if (this.autoVacuum && this.vacuumPending) {
      const free = this.db.pragma('freelist_count', { simple: true }) as number;
      if (free > 0) this.db.pragma(`incremental_vacuum(${VACUUM_PAGES})`);
      result.vacuumedPages = Math.min(free, VACUUM_PAGES);
      if (free > VACUUM_PAGES) result.more = true;
      else this.vacuumPending = false;
    }
    return result;
  }

  /**
   * Retention counts back from each device's newest sample, as Prometheus counts back from its
   * newest block: a board switched off after an experiment keeps its last week of raw data for
   * whoever comes back to it, and a device clock far off cannot expire anyone else's history
   * (the size cap bounds the total). Batches, only kept to recognise resends, go by the hub's
   * clock: an agent resends for at most its spool's age.
   */
  private applyRetention(now: number, deadline: number): { pruned: number; more: boolean } {
    let pruned = 0;
    let more = false;
    const step = (info: { changes: number }): void => {
      pruned += info.changes;
      if (info.changes >= PRUNE_LIMIT) more = true;
    };
    this.db.transaction(() => {
      for (const { num: device, newest } of this.s.newestByDevice!.all() as { num: number; newest: number | null }[]) {
        const batchCutoff = now - this.retention.rawMs;
        const oldestBatch = this.s.oldestBatch!.get(device) as number | undefined;
        if (oldestBatch !== undefined && oldestBatch < batchCutoff) step(this.s.pruneBatches!.run({ device, cutoff: batchCutoff, limit: PRUNE_LIMIT }));
        if (typeof newest !== 'number') continue;
        const rawCutoff = newest - this.retention.rawMs;
        // A window goes once all of it is older than the cutoff.
        step(this.s.pruneColumns!.run(device, rawCutoff - WINDOW_MS + 1, PRUNE_LIMIT));
        step(this.s.pruneChunks!.run(device, rawCutoff - WINDOW_MS + 1, PRUNE_LIMIT));
        step(this.s.pruneHead!.run(device, rawCutoff, PRUNE_LIMIT));
        step(this.s.pruneInference!.run(device, newest - this.retention.minuteMs, PRUNE_LIMIT));
        for (const tier of ROLLUP_TIERS) {
          const cutoff = newest - retentionOf(this.retention, tier.tier) - tier.blockMs + 1;
          step(this.s.pruneBlocks!.run(tier.res, cutoff, device, PRUNE_LIMIT));
        }
      }
    })();
    this.lastRetentionAt = now;
    const cap = this.retention.sizeCapBytes;
    if (cap !== null) {
      for (let guard = 0; guard < 10_000 && this.usedBytes() > cap; guard++) {
        if (performance.now() > deadline) {
          more = true;
          break;
        }
        const dropped = this.dropOldest();
        if (dropped === 0) break;
        pruned += dropped;
      }
      if (this.usedBytes() > cap) more = more || this.hasDroppable();
    }
    return { pruned, more };
  }

  /** Size cap: drops the oldest raw window of any device; without raw data, the oldest rollup block. */
  private dropOldest(): number {
    return this.db.transaction(() => {
      const w = this.s.oldestWindow!.get() as { device_num: number; t0: number } | undefined;
      if (w) return this.s.deleteWindowColumns!.run(w.device_num, w.t0).changes + this.s.deleteWindowChunk!.run(w.device_num, w.t0).changes;
      for (const tier of ROLLUP_TIERS) {
        const rowid = this.s.oldestBlock!.get(tier.res) as number | undefined;
        if (rowid !== undefined) return this.s.deleteBlock!.run(rowid).changes;
      }
      return 0;
    })();
  }

  private hasDroppable(): boolean {
    return this.s.oldestWindow!.get() !== undefined || ROLLUP_TIERS.some((t) => this.s.oldestBlock!.get(t.res) !== undefined);
  }

  usedBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  }

  // ---------------------------------------------------------------- reading

  /**
   * Raw samples of the given metrics with from ≤ t < to, a window at a time, in time order:
   * sealed chunks merged with unsealed rows (where both hold a time, the sealed one counts).
   */
  *rawSlices(deviceNum: number, metricIds: readonly (number | undefined)[], from: number, to: number): Generator<RawSlice> {
    let w = floorTo(from, WINDOW_MS);
    for (let guard = 0; guard < 10_000_000 && w < to; guard++) {
      const nextChunk = this.s.chunkNext!.get(deviceNum, w, to) as number | null;
      const nextHead = this.s.headNext!.get(deviceNum, Math.max(w, from), to) as number | null;
      if (nextChunk === null && nextHead === null) return;
      w = Math.min(nextChunk ?? Infinity, nextHead === null ? Infinity : floorTo(nextHead, WINDOW_MS));
      const lo = Math.max(w, from);
      const hi = Math.min(w + WINDOW_MS, to);
      const slice = this.sealedSlice(deviceNum, metricIds, w, lo, hi);
      const head = this.s.headRange!.all(deviceNum, lo, hi) as HeadRow[];
      const merged = head.length > 0 ? mergeHead(slice, head, metricIds) : slice;
      if (merged.times.length > 0) yield merged;
      w += WINDOW_MS;
    }
  }

  private sealedSlice(deviceNum: number, metricIds: readonly (number | undefined)[], t0: number, lo: number, hi: number): RawSlice {
    const chunk = this.s.chunkAt!.get(deviceNum, t0) as { n: number; t_first: number; t_last: number; times: Buffer } | undefined;
    if (!chunk || chunk.t_last < lo || chunk.t_first >= hi) return { times: [], cols: metricIds.map(() => new Float64Array(0)) };
    const all = decodeTimes(chunk.times);
    let a = 0;
    while (a < all.length && all[a]! < lo) a++;
    let b = a;
    while (b < all.length && all[b]! < hi) b++;
    const cols = metricIds.map((id) => {
      const data = id === undefined ? undefined : (this.s.columnAt!.get(deviceNum, id, t0) as Buffer | undefined);
      if (!data) return new Float64Array(b - a).fill(NaN);
      return decodeColumn(data, chunk.n).slice(a, b);
    });
    return { times: all.slice(a, b), cols };
  }

  /** Device time of the oldest data in each tier for these metrics (null: none). */
  private oldest(deviceNum: number, metricIds: readonly (number | undefined)[]): Record<StorageTier, number | null> {
    const min = (xs: (number | null | undefined)[]): number | null => {
      const v = xs.filter((x): x is number => typeof x === 'number');
      return v.length ? Math.min(...v) : null;
    };
    const ids = metricIds.filter((x): x is number => x !== undefined);
    return {
      raw: min([this.s.rawOldest!.get(deviceNum) as number | null, this.s.headMin!.get(deviceNum) as number | null]),
      '1m': min(ids.map((id) => this.s.rollupOldest!.get(rollupTier('1m').res, deviceNum, id) as number | null)),
      '1h': min(ids.map((id) => this.s.rollupOldest!.get(rollupTier('1h').res, deviceNum, id) as number | null)),
    };
  }

  /**
   * Picks the tier for a chart: the finest whose resolution fits the bucket width and that
   * still holds data from `from` (or from as early as any tier does). A week-old hour reads
   * 1-minute rollups once raw data of that week is gone, even though raw would fit.
   */
  chooseTier(req: SeriesRequest, step: number): StorageTier {
    if (req.tier === 'raw') return 'raw';
    const oldest = this.oldest(req.deviceNum, req.metricIds);
    const resOf: Record<StorageTier, number> = { raw: req.intervalMs ?? 1000, '1m': rollupTier('1m').res, '1h': rollupTier('1h').res };
    // A rollup's oldest bucket starts up to one bucket before its first sample: judge every
    // tier against the earliest moment data is known to exist.
    const starts = (['raw', '1m', '1h'] as const).filter((t) => oldest[t] !== null).map((t) => oldest[t]! + (t === 'raw' ? 0 : resOf[t] - 1));
    if (starts.length === 0) return 'raw';
    const target = Math.max(req.from, Math.min(...starts));
    // How much later than `target` a tier's data may start and still count as covering it.
    const slack: Record<StorageTier, number> = { raw: WINDOW_MS, '1m': 5 * resOf['1m'], '1h': resOf['1h'] };
    const fineToCoarse: StorageTier[] = ['raw', '1m', '1h'];
    const covers = (t: StorageTier): boolean => oldest[t] !== null && oldest[t]! <= target + slack[t];
    // The coarsest tier whose buckets fit the step reads the fewest rows.
    const fitting = fineToCoarse.filter((t) => t === 'raw' || resOf[t] <= step).reverse();
    const choice = fitting.find(covers) ?? fineToCoarse.find(covers);
    if (choice) return choice;
    // Nothing reaches back that far: the tier with the oldest data.
    return fineToCoarse.filter((t) => oldest[t] !== null).sort((x, y) => oldest[x]! - oldest[y]!)[0]!;
  }

  /** A chart's worth of points per metric (see Store.series). */
  series(req: SeriesRequest): SeriesResponse {
    const { from, to } = req;
    const span = Math.max(1, to - from);
    let step = Math.max(1, Math.ceil(span / Math.max(1, req.points)));
    const tier = this.chooseTier(req, step);
    const series: Record<string, SeriesPoint[]> = {};
    const interval = req.intervalMs ?? 1000;
    if (tier === 'raw' && step <= interval) {
      const pts: SeriesPoint[][] = req.metrics.map(() => []);
      for (const slice of this.rawSlices(req.deviceNum, req.metricIds, from, to)) {
        slice.cols.forEach((col, j) => {
          for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i]!)) pts[j]!.push([slice.times[i]!, col[i]!, col[i]!, col[i]!]);
        });
      }
      req.metrics.forEach((name, j) => (series[name] = pts[j]!));
      return { deviceId: req.deviceId, from, to, stepMs: 0, tier, series };
    }
    if (tier !== 'raw') {
      // Whole buckets of the tier: a 90-second step over minutes would alias.
      const res = rollupTier(tier).res;
      step = Math.ceil(step / res) * res;
    }
    const count = Math.max(1, Math.ceil(span / step));
    const acc: Bucketed[] = req.metrics.map(() => ({
      n: new Float64Array(count),
      sum: new Float64Array(count),
      lo: new Float64Array(count).fill(Infinity),
      hi: new Float64Array(count).fill(-Infinity),
    }));
    const add = (j: number, t: number, n: number, sum: number, lo: number, hi: number): void => {
      const b = Math.floor((t - from) / step);
      if (b < 0 || b >= count) return;
      const a = acc[j]!;
      a.n[b]! += n;
      a.sum[b]! += sum;
      if (lo < a.lo[b]!) a.lo[b] = lo;
      if (hi > a.hi[b]!) a.hi[b] = hi;
    };
    if (tier === 'raw') {
      for (const slice of this.rawSlices(req.deviceNum, req.metricIds, from, to)) {
        slice.cols.forEach((col, j) => {
          for (let i = 0; i < col.length; i++) {
            const v = col[i]!;
            if (!Number.isNaN(v)) add(j, slice.times[i]!, 1, v, v, v);
          }
        });
      }
    } else {
      const rt = rollupTier(tier);
      req.metricIds.forEach((id, j) => {
        if (id === undefined) return;
        for (const row of this.s.blocksInRange!.iterate(rt.res, req.deviceNum, id, floorTo(from, rt.blockMs), to) as IterableIterator<{ data: Buffer }>) {
          const b = decodeRollup(row.data);
          for (let i = 0; i < b.t.length; i++) {
            const t = b.t[i]!;
            if (t >= from && t < to) add(j, t, b.n[i]!, b.sum[i]!, b.lo[i]!, b.hi[i]!);
          }
        }
      });
      // Samples not sealed yet are in no rollup: add them from raw_head.
      const wanted = new Map<number, number>();
      req.metricIds.forEach((id, j) => id !== undefined && wanted.set(id, j));
      for (const row of this.s.headRange!.iterate(req.deviceNum, from, to) as IterableIterator<HeadRow>) {
        decodeHead(row.data, (id, v) => {
          const j = wanted.get(id);
          if (j !== undefined) add(j, row.t, 1, v, v, v);
        });
      }
    }
    req.metrics.forEach((name, j) => {
      const a = acc[j]!;
      const pts: SeriesPoint[] = [];
      for (let b = 0; b < count; b++) if (a.n[b]! > 0) pts.push([from + b * step, a.sum[b]! / a.n[b]!, a.lo[b]!, a.hi[b]!]);
      series[name] = pts;
    });
    return { deviceId: req.deviceId, from, to, stepMs: step, tier, series };
  }

  /** Raw rows for export: [t, values] with null where a metric is absent; rows with no value are skipped. */
  *exportRows(deviceNum: number, metricIds: readonly (number | undefined)[], from: number, to: number): Generator<[number, (number | null)[]]> {
    for (const slice of this.rawSlices(deviceNum, metricIds, from, to)) {
      for (let i = 0; i < slice.times.length; i++) {
        let any = false;
        const values = slice.cols.map((c) => {
          const v = c[i]!;
          if (Number.isNaN(v)) return null;
          any = true;
          return v;
        });
        if (any) yield [slice.times[i]!, values];
      }
    }
  }

  /**
   * Rollup rows for export, a block span at a time: [bucket start, per metric [mean, min, max,
   * count] or null]. Only sealed data (samples of the last minutes are still raw).
   */
  *exportRollupRows(
    deviceNum: number,
    metricIds: readonly (number | undefined)[],
    from: number,
    to: number,
    tier: '1m' | '1h',
  ): Generator<[number, ([number, number, number, number] | null)[]]> {
    const rt = rollupTier(tier);
    const ids = metricIds.filter((id): id is number => id !== undefined);
    for (let b0 = floorTo(from, rt.blockMs); b0 < to; b0 += rt.blockMs) {
      // Jump over spans without data: a range from 1970 must not walk every empty block.
      const next = ids.map((id) => this.s.blockNext!.get(rt.res, deviceNum, id, b0, to) as number | null).filter((t): t is number => t !== null);
      if (next.length === 0) return;
      b0 = Math.min(...next);
      const rows = new Map<number, ([number, number, number, number] | null)[]>();
      metricIds.forEach((id, j) => {
        if (id === undefined) return;
        const data = this.s.blockAt!.get(rt.res, deviceNum, id, b0) as Buffer | undefined;
        if (!data) return;
        const b = decodeRollup(data);
        for (let i = 0; i < b.t.length; i++) {
          const t = b.t[i]!;
          if (t < from || t >= to) continue;
          let row = rows.get(t);
          if (!row) rows.set(t, (row = metricIds.map(() => null)));
          row[j] = [b.sum[i]! / b.n[i]!, b.lo[i]!, b.hi[i]!, b.n[i]!];
        }
      });
      for (const t of [...rows.keys()].sort((x, y) => x - y)) yield [t, rows.get(t)!];
    }
  }

  // ---------------------------------------------------------------- accounting

  /** Bytes per table including its indexes (SQLite's dbstat), cached for a few seconds: it reads every page. */
  private tableBytes(now: number): Map<string, number> {
    if (this.statsCache && now - this.statsCache.at < 10_000) return this.statsCache.tables;
    const owner = new Map<string, string>();
    for (const r of this.db.prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')").all() as { name: string; tbl_name: string }[]) {
      owner.set(r.name, r.tbl_name);
    }
    const tables = new Map<string, number>();
    for (const r of this.db.prepare('SELECT name, pgsize FROM dbstat WHERE aggregate = TRUE').all() as { name: string; pgsize: number }[]) {
      const table = owner.get(r.name) ?? r.name;
      tables.set(table, (tables.get(table) ?? 0) + r.pgsize);
    }
    this.statsCache = { at: now, tables };
    return tables;
  }

  storage(now: number, devices: readonly { num: number; id: string; name: string }[]): StorageResponse {
    const tables = this.tableBytes(now);
    const rawTables = ['raw_head', 'raw_chunks', 'raw_columns'];
    const rawTableBytes = rawTables.reduce((s, t) => s + (tables.get(t) ?? 0), 0);
    // Raw only: the sealed (columns + chunk times) and unsealed (raw_head) parts of blob and values.
    type Acc = { blob: number; values: number; oldest: number | null; newest: number | null; headBlob: number; headValues: number; headOldest: number | null };
    const blank = (): Acc => ({ blob: 0, values: 0, oldest: null, newest: null, headBlob: 0, headValues: 0, headOldest: null });
    const per = new Map<number, Record<StorageTier, Acc>>();
    const of = (device: number): Record<StorageTier, Acc> => {
      let r = per.get(device);
      if (!r) per.set(device, (r = { raw: blank(), '1m': blank(), '1h': blank() }));
      return r;
    };
    const widen = (a: Acc, oldest: number | null, newest: number | null): void => {
      if (oldest !== null) a.oldest = a.oldest === null ? oldest : Math.min(a.oldest, oldest);
      if (newest !== null) a.newest = a.newest === null ? newest : Math.max(a.newest, newest);
    };
    for (const r of this.s.rawUsage!.all() as { device: number; bytes: number; vals: number }[]) {
      of(r.device).raw.blob += r.bytes;
      of(r.device).raw.values += r.vals;
    }
    for (const r of this.s.chunkUsage!.all() as { device: number; bytes: number; oldest: number; newest: number }[]) {
      of(r.device).raw.blob += r.bytes;
      widen(of(r.device).raw, r.oldest, r.newest);
    }
    for (const r of this.s.headUsage!.all() as { device: number; bytes: number; vals: number; oldest: number; newest: number }[]) {
      const a = of(r.device).raw;
      a.blob += r.bytes;
      a.values += r.vals;
      a.headBlob += r.bytes;
      a.headValues += r.vals;
      a.headOldest = r.oldest;
      widen(a, r.oldest, r.newest);
    }
    for (const r of this.s.rollupUsage!.all() as { res: number; device: number; bytes: number; vals: number; oldest: number; newest: number }[]) {
      const tier = ROLLUP_TIERS.find((t) => t.res === r.res)?.tier;
      if (!tier) continue;
      const a = of(r.device)[tier];
      a.blob += r.bytes;
      a.values += r.vals;
      widen(a, r.oldest, r.newest);
    }
    // Each table's pages (rows, indexes, slack) are shared out in proportion to blob bytes.
    const totalBlob = (tier: StorageTier): number => [...per.values()].reduce((s, r) => s + r[tier].blob, 0);
    const tierTableBytes: Record<StorageTier, number> = {
      raw: rawTableBytes,
      '1m': 0,
      '1h': 0,
    };
    // Both rollup tiers share one table: split its pages by blob bytes as well.
    const rollupBytes = tables.get('rollups') ?? 0;
    const rollupBlob = totalBlob('1m') + totalBlob('1h');
    tierTableBytes['1m'] = rollupBlob > 0 ? (rollupBytes * totalBlob('1m')) / rollupBlob : 0;
    tierTableBytes['1h'] = rollupBytes - tierTableBytes['1m'];
    const share = (tier: StorageTier, blob: number): number => {
      const total = totalBlob(tier);
      return total > 0 ? Math.round((tierTableBytes[tier] * blob) / total) : 0;
    };
    const rawValues = [...per.values()].reduce((s, r) => s + r.raw.values, 0);
    // Sealed and unsealed raw values apart: a window's values cost far more per value until it
    // is sealed (one row per sample time) than after (compressed columns).
    const headTableBytes = tables.get('raw_head') ?? 0;
    const sealedTableBytes = rawTableBytes - headTableBytes;
    const headValues = [...per.values()].reduce((s, r) => s + r.raw.headValues, 0);
    const headBlob = [...per.values()].reduce((s, r) => s + r.raw.headBlob, 0);
    const sealedBlob = totalBlob('raw') - headBlob;
    const sealedValues = rawValues - headValues;
    const part = (tableBytes: number, blob: number, total: number): number => (total > 0 ? Math.round((tableBytes * blob) / total) : 0);
    const sealUsage = (values: number, bytes: number) => ({ values, bytes, bytesPerValue: values > 0 ? bytes / values : null });
    const tierNames: StorageTier[] = ['raw', '1m', '1h'];
    const out: StorageResponse = {
      fileBytes: fileSize(this.path) + fileSize(`${this.path}-wal`),
      usedBytes: this.usedBytes(),
      retentionMs: { raw: this.retention.rawMs, '1m': this.retention.minuteMs, '1h': this.retention.hourMs },
      sizeCapBytes: this.retention.sizeCapBytes,
      rawBytesPerValue: rawValues > 0 ? rawTableBytes / rawValues : null,
      devices: devices.map((d) => {
        const r = per.get(d.num) ?? { raw: blank(), '1m': blank(), '1h': blank() };
        const tiers: TierUsage[] = tierNames.map((tier) => ({ tier, bytes: share(tier, r[tier].blob), values: r[tier].values, oldest: r[tier].oldest, newest: r[tier].newest }));
        // The raw tier as its two parts, each table's pages shared by that table's blobs: the
        // parts add up to the tier (the first pages of still-empty tables go to no device).
        const raw = r.raw;
        const sealed = { values: raw.values - raw.headValues, bytes: part(sealedTableBytes, raw.blob - raw.headBlob, sealedBlob) };
        const unsealed = { values: raw.headValues, bytes: part(headTableBytes, raw.headBlob, headBlob) };
        tiers[0] = {
          ...tiers[0]!,
          bytes: sealed.bytes + unsealed.bytes,
          sealed,
          unsealed: { ...unsealed, windowEnd: raw.headOldest === null ? null : floorTo(raw.headOldest, WINDOW_MS) + WINDOW_MS },
        };
        return { deviceId: d.id, name: d.name, bytes: tiers.reduce((s, t) => s + t.bytes, 0), tiers };
      }),
      otherBytes: Object.fromEntries([...tables].filter(([name]) => !rawTables.includes(name) && name !== 'rollups').sort((a, b) => b[1] - a[1])),
      lastRetentionAt: this.lastRetentionAt,
      rawSealed: sealUsage(sealedValues, sealedTableBytes),
      rawUnsealed: sealUsage(headValues, headTableBytes),
      sealing: { windowMs: WINDOW_MS, graceMs: SEAL_GRACE_MS, idleMs: SEAL_IDLE_MS },
    };
    return out;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Sealed times and the times of unsealed rows (none shared), in order, with each time's position. */
function mergeTimes(sealed: readonly number[], rows: readonly HeadRow[]): { times: number[]; index: Map<number, number> } {
  const times = mergeSorted(sealed, rows.map((r) => r.t));
  const index = new Map<number, number>();
  times.forEach((t, i) => index.set(t, i));
  return { times, index };
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Adds unsealed rows to a sealed slice, in time order; a time both have keeps the sealed values. */
function mergeHead(slice: RawSlice, head: readonly HeadRow[], metricIds: readonly (number | undefined)[]): RawSlice {
  const known = new Set(slice.times);
  const extra = head.filter((r) => !known.has(r.t));
  if (extra.length === 0) return slice;
  const { times, index } = mergeTimes(slice.times, extra);
  const cols = metricIds.map(() => new Float64Array(times.length).fill(NaN));
  slice.cols.forEach((c, j) => {
    for (let i = 0; i < c.length; i++) cols[j]![index.get(slice.times[i]!)!] = c[i]!;
  });
  const wanted = new Map<number, number>();
  metricIds.forEach((id, j) => id !== undefined && wanted.set(id, j));
  for (const row of extra) {
    const i = index.get(row.t)!;
    decodeHead(row.data, (id, v) => {
      const j = wanted.get(id);
      if (j !== undefined) cols[j]![i] = v;
    });
  }
  return { times, cols };
}
