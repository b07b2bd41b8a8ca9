// The hub's only door to SQLite. Routes, ingest and the live feed call these methods and
// never write SQL themselves. Every statement is prepared once and takes parameters.
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { LogHistogram, type HistogramSummary } from '../../shared/histogram.js';
import type { RunConditions } from '../../shared/conditions.js';
import type { Score, Warmup } from '../../shared/inference.js';
import type { ExperimentEvent, Hello, InferenceAggregate, Inventory, ProcessRow, ProcessTable, Sample } from '../../shared/protocol.js';
import type { SeriesResponse, StorageResponse } from '../../shared/live.js';
import { AlertStore } from './alert-store.js';
import { AuthStore } from './auth-store.js';
import { decodeBuckets, encodeBuckets } from './buckets-codec.js';
import { migrate } from './migrations.js';
import { RemoteWriteQueue } from './remote-write-queue.js';
import { SnapshotStore } from './snapshot-store.js';
import { encodeHead } from './tiers/head-codec.js';
import { History, type MaintenanceResult } from './tiers/history.js';
import { DEFAULT_RETENTION, type RetentionSettings } from './tiers/layout.js';

/** A row of clock_events: a device's wall clock stepped by stepMs; `samples` were re-timed (first/last: hub timeline). */
export interface ClockEventRow {
  at: number;
  stepMs: number;
  samples: number;
  firstT: number;
  lastT: number;
}

export interface DeviceRow {
  num: number;
  id: string;
  name: string;
  hostname: string | null;
  firstSeen: number;
  lastSeen: number | null;
  intervalMs: number | null;
  agentVersion: string | null;
  capabilities: string[];
  inventory: Inventory;
  lastSeq: number | null;
  latest: Sample | null;
  clockOffsetMs: number | null;
  /** Sample times of this device are moved onto the hub's clock (it is more than 2 minutes off). */
  clockCorrected: boolean;
  droppedSamples: number;
  /** Samples refused because they lay too far in the hub's future, even after correction. */
  rejectedSamples: number;
  /** A simulated device of `edgewatch demo` (its hello said so). */
  demo: boolean;
}

export interface BatchToCommit {
  deviceNum: number;
  seq: number;
  samples: Sample[];
  /** Hub clock when the batch arrived. */
  receivedAt: number;
  dropped?: number;
  /** Agent clock when the batch was sent, if the agent said. */
  sentAt?: number;
  /** ms already subtracted from the samples' times (0: stored on the device's own clock). */
  tCorrection?: number;
  /** The device's clock offset estimate after this batch (device − hub, ms); stored with it. */
  clockOffsetMs?: number | null;
}

/** Error codes of SQLite meaning "cannot write here now" (disk full, read-only, I/O error…). */
export const STORAGE_ERROR_CODES = ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PERM', 'SQLITE_CORRUPT', 'SQLITE_NOTADB'];

/** The SQLite code of an error (extended codes such as SQLITE_IOERR_WRITE included), or undefined. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export interface StoreOptions {
  /**
   * Test hook: caps the database at this many pages (PRAGMA max_page_count), which makes writes
   * that need a new page fail with SQLITE_FULL, as on a full disk.
   */
  maxPageCount?: number;
  /** How long each tier is kept and the size cap (tiers/layout.ts has the defaults). */
  retention?: Partial<RetentionSettings>;
  /**
   * Queue every committed batch for Prometheus remote write (remote-write-queue.ts), in the
   * batch's own transaction; on when the hub has at least one destination. Default false.
   */
  remoteWrite?: boolean;
}

export interface CommitOutcome {
  /** False when the hub already had this batch: nothing was stored again. */
  stored: boolean;
}

export interface SeriesQuery {
  deviceNum: number;
  deviceId: string;
  metrics: readonly string[];
  from: number;
  to: number;
  points: number;
  /** 'raw' skips the per-minute rollup even for long ranges (for comparisons); default 'auto'. */
  tier?: 'auto' | 'raw';
}

interface RawDeviceRow {
  num: number;
  id: string;
  name: string;
  hostname: string | null;
  first_seen: number;
  last_seen: number | null;
  interval_ms: number | null;
  agent_version: string | null;
  capabilities: string;
  inventory: string;
  last_seq: number | null;
  latest: string | null;
  clock_offset_ms: number | null;
  clock_corrected: number;
  dropped_samples: number;
  rejected_samples: number;
  demo: number;
}

export const DB_FILE_NAME = 'edgewatch.db';
const MINUTE_MS = 60_000;
/** Process tables are for "what was running then": kept 3 days (device clock), unlike metrics. */
export const PROCESS_RETENTION_MS = 3 * 24 * 3_600_000;
/** Retention runs at most this often per device, deleting at most PRUNE_LIMIT tables a go. */
export const PROCESS_PRUNE_EVERY_MS = MINUTE_MS;
export const PROCESS_PRUNE_LIMIT = 1000;

/** An experiment as stored, with the identity of its device. */
export interface ExperimentRow {
  id: string;
  deviceNum: number;
  deviceId: string;
  deviceName: string;
  name: string;
  tags: Record<string, string>;
  params: number | null;
  modelBytes: number | null;
  /** Device clock, ms. */
  start: number;
  end: number | null;
  /** Device time of the device's newest sample: where a still-running experiment's data ends. */
  deviceLatestT: number | null;
  warmup: Warmup | null;
  /** Device clock, ms: where the measured window begins after a warm-up; null without one. */
  measuredFrom: number | null;
  firstCallMs: number | null;
  conditions: RunConditions | null;
  /** Timings the agent could not count, from its end event; null from an agent that does not say. */
  dropped: number | null;
  /** 'timeout': the hub closed it, its agent never ended it (experiment-timeout.ts); null: ended by its agent, or running. */
  endedBy: 'timeout' | null;
}

/** A running experiment as the timeout sweep sees it (dashboard/server/experiment-timeout.ts). */
export interface RunningExperiment {
  id: string;
  deviceNum: number;
  /** Device clock, ms. */
  start: number;
  /** Hub clock, ms, of the device's last committed batch. */
  deviceLastSeen: number | null;
  /** Device clock of the device's newest sample. */
  deviceLatestT: number | null;
}

export interface ExperimentQuery {
  deviceNum?: number;
  /** Exact name. */
  name?: string;
  /** Experiments overlapping [from, to] (device clock, ms). */
  from?: number;
  to?: number;
  limit?: number;
}

export interface InferenceQuery {
  deviceNum: number;
  /** Start times of the per-second rows, inclusive both ends (device clock, ms). */
  from: number;
  to: number;
  model?: string;
  /** Only timings reported under this experiment id; '' = those sent without one; absent = all. */
  experiment?: string;
}

/** One model's timings over a query: the per-second histograms merged. */
export interface ModelTimings {
  model: string;
  histogram: LogHistogram;
  /** Items processed (batch sizes summed). */
  items: number;
  /** Per-second rows merged. */
  seconds: number;
}

/** Which timings belong to an experiment (see Store.experimentTimingScope). */
export type TimingScope = { source: 'experiment'; query: InferenceQuery } | { source: 'time-range'; query: InferenceQuery };

export const MAX_EXPERIMENTS_LISTED = 1000;

export interface ProcessSnapshot {
  /** Device clock, ms. */
  t: number;
  table: ProcessTable;
}

export class Store {
  readonly path: string;
  /** Tokens, users and sessions (auth-store.ts). */
  readonly auth: AuthStore;
  /** Alert rules, history and webhook settings (alert-store.ts). */
  readonly alerts: AlertStore;
  /** The remote-write outbox and cursors; null unless StoreOptions.remoteWrite (nothing is queued then). */
  readonly remoteWriteQueue: RemoteWriteQueue | null;
  /** Ended experiments' stored comparison figures, and which ones commits made stale (snapshot-store.ts). */
  readonly snapshots: SnapshotStore;
  private readonly db: Db;
  private readonly metricIds = new Map<string, number>();
  /** (device, metric) pairs already in device_metrics, as deviceNum · 2^32 + metricId. */
  private readonly knownDeviceMetrics = new Set<number>();
  private readonly stmt: {
    insertDevice: Statement;
    updateDeviceOnHello: Statement;
    deviceById: Statement;
    allDevices: Statement;
    insertMetricName: Statement;
    metricIdByName: Statement;
    insertDeviceMetric: Statement;
    deviceMetricNames: Statement;
    deviceInterval: Statement;
    insertBatch: Statement;
    updateDeviceOnBatch: Statement;
    insertProcesses: Statement;
    latestProcesses: Statement;
    pruneProcesses: Statement;
    upsertExperiment: Statement;
    experimentDevice: Statement;
    runningExperiments: Statement;
    agentOverridesTimeout: Statement;
    lastExperimentSecond: Statement;
    closeExperimentByTimeout: Statement;
    upsertScore: Statement;
    scoresOf: Statement;
    existingInference: Statement;
    updateInference: Statement;
    existingWarmup: Statement;
    upsertWarmup: Statement;
    warmupByExperiment: Statement;
    warmupCountsByExperiment: Statement;
    experimentById: Statement;
    listExperiments: Statement;
    insertInferenceModel: Statement;
    inferenceModelId: Statement;
    insertInference: Statement;
    inferenceByExperiment: Statement;
    inferenceByTime: Statement;
    hasExperimentTimings: Statement;
    totalsByExperiment: Statement;
    totalsByTime: Statement;
    nextTimingModel: Statement;
    nextTimingExperiment: Statement;
    warmupModels: Statement;
    inferenceModelName: Statement;
    addRejected: Statement;
    probeWrite: Statement;
    probeDelete: Statement;
  };
  private readonly inferenceModelIds = new Map<string, number>();
  /** Hub clock of each device's last process-table prune. */
  private readonly lastProcessPrune = new Map<number, number>();
  private readonly commitTx: (items: readonly BatchToCommit[]) => CommitOutcome[];
  /** Raw samples and rollups (tiers/history.ts). */
  private readonly history: History;

  private constructor(path: string, opts: StoreOptions = {}) {
    this.path = path;
    this.db = new Database(path);
    // A new database hands pages freed by retention back to the file system in small steps
    // (History.maintain); this can only be chosen before the first table exists and before
    // the switch to WAL.
    if (this.db.prepare('SELECT COUNT(*) FROM sqlite_schema').pluck().get() === 0) this.db.pragma('auto_vacuum = INCREMENTAL');
    // WAL: readers (API, charts) never block the writer (ingest) and vice versa.
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before we ack it, so an ack survives power loss too. Group
    // commit in the ingest queue keeps the fsync count at one per flush, not one per batch.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    moveLegacySamples(this.db);
    this.history = new History(this.db, path, { ...DEFAULT_RETENTION, ...opts.retention });
    if (opts.maxPageCount !== undefined) this.setMaxPageCount(opts.maxPageCount);

    const db = this.db;
    this.stmt = {
      insertDevice: db.prepare(
        `INSERT INTO devices (id, name, hostname, first_seen, interval_ms, agent_version, capabilities, inventory, demo)
         VALUES (@id, @name, @hostname, @now, @intervalMs, @agentVersion, @capabilities, @inventory, @demo)
         ON CONFLICT(id) DO NOTHING`,
      ),
      updateDeviceOnHello: db.prepare(
        `UPDATE devices SET name = @name, hostname = @hostname, interval_ms = @intervalMs,
           agent_version = @agentVersion, capabilities = @capabilities, inventory = @inventory,
           clock_offset_ms = @clockOffsetMs, demo = @demo
         WHERE id = @id`,
      ),
      deviceById: db.prepare('SELECT * FROM devices WHERE id = ?'),
      allDevices: db.prepare('SELECT * FROM devices ORDER BY name COLLATE NOCASE, id'),
      insertMetricName: db.prepare('INSERT INTO metric_names (name) VALUES (?) ON CONFLICT(name) DO NOTHING'),
      metricIdByName: db.prepare('SELECT id FROM metric_names WHERE name = ?').pluck(),
      insertDeviceMetric: db.prepare('INSERT OR IGNORE INTO device_metrics (device_num, metric_id) VALUES (?, ?)'),
      deviceMetricNames: db
        .prepare(
          `SELECT m.name FROM device_metrics dm JOIN metric_names m ON m.id = dm.metric_id
           WHERE dm.device_num = ? ORDER BY m.name`,
        )
        .pluck(),
      insertBatch: db.prepare(
        `INSERT OR IGNORE INTO batches (device_num, seq, received_at, t_first, t_last, n_samples, sent_at, t_correction)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateDeviceOnBatch: db.prepare(
        `UPDATE devices SET
           last_seen = @receivedAt,
           last_seq = MAX(COALESCE(last_seq, 0), @seq),
           latest = CASE WHEN latest IS NULL OR json_extract(latest, '$.t') <= @latestT THEN @latest ELSE latest END,
           dropped_samples = dropped_samples + @dropped,
           clock_offset_ms = COALESCE(@clockOffsetMs, clock_offset_ms),
           clock_corrected = CASE WHEN @clockOffsetMs IS NULL THEN clock_corrected ELSE @clockCorrected END
         WHERE num = @num`,
      ),
      deviceInterval: db.prepare('SELECT interval_ms FROM devices WHERE num = ?').pluck(),
      // A table for a (device, t) already stored is a resend: the first one stays.
      insertProcesses: db.prepare(
        'INSERT INTO process_snapshots (device_num, t, total, rows) VALUES (?, ?, ?, ?) ON CONFLICT (device_num, t) DO NOTHING',
      ),
      latestProcesses: db.prepare(
        'SELECT t, total, rows FROM process_snapshots WHERE device_num = ? AND t <= ? ORDER BY t DESC LIMIT 1',
      ),
      // Bounded: the oldest PRUNE_LIMIT at most, so a first prune after a long outage (or of a
      // big backlog) never holds the write lock for long; the next minute takes the next slice.
      pruneProcesses: db.prepare(
        `DELETE FROM process_snapshots WHERE device_num = @device AND t IN (
           SELECT t FROM process_snapshots WHERE device_num = @device AND t < @cutoff ORDER BY t LIMIT @limit)`,
      ),
      // A repeated event never loses what an earlier one said: the end, params and size are
      // only ever filled in, tags only added. The id is the device's: another device reusing
      // it cannot overwrite this one's experiment (its events are ignored).
      upsertExperiment: db.prepare(
        `INSERT INTO experiments (id, device_num, name, tags, params, model_bytes, start, "end", warmup, measured_from, first_call_ms, conditions, dropped)
         VALUES (@id, @device, @name, @tags, @params, @modelBytes, @start, @end, @warmup, @measuredFrom, @firstCallMs, @conditions, @dropped)
         ON CONFLICT (id) DO UPDATE SET
           "end" = COALESCE(excluded."end", experiments."end"),
           params = COALESCE(excluded.params, experiments.params),
           model_bytes = COALESCE(excluded.model_bytes, experiments.model_bytes),
           tags = json_patch(experiments.tags, excluded.tags),
           warmup = COALESCE(experiments.warmup, excluded.warmup),
           measured_from = COALESCE(experiments.measured_from, excluded.measured_from),
           first_call_ms = COALESCE(experiments.first_call_ms, excluded.first_call_ms),
           conditions = COALESCE(experiments.conditions, excluded.conditions),
           -- The agent's count only grows: the latest event's is the whole count.
           dropped = MAX(COALESCE(excluded.dropped, experiments.dropped), COALESCE(experiments.dropped, excluded.dropped))
         WHERE experiments.device_num = excluded.device_num`,
      ),
      // The agent's word beats the hub's timeout: its end replaces the hub's, and an event
      // without an end (the agent still has it open, e.g. reloaded after a restart) reopens it.
      // A separate statement so that the upsert above stays as it was for every other event.
      agentOverridesTimeout: db.prepare(
        `UPDATE experiments SET "end" = @end, ended_by = NULL WHERE id = @id AND device_num = @device AND ended_by IS NOT NULL`,
      ),
      experimentDevice: db.prepare('SELECT device_num FROM experiments WHERE id = ?').pluck(),
      // On experiments_running (migration 16): only running experiments are read, however many ended.
      runningExperiments: db.prepare(
        `SELECT e.id, e.device_num, e.start, d.last_seen, json_extract(d.latest, '$.t') AS latest_t
         FROM experiments e INDEXED BY experiments_running JOIN devices d ON d.num = e.device_num WHERE e."end" IS NULL`,
      ),
      lastExperimentSecond: db.prepare('SELECT MAX(t) FROM inference_seconds WHERE device_num = ? AND experiment_id = ?').pluck(),
      closeExperimentByTimeout: db.prepare(`UPDATE experiments SET "end" = ?, ended_by = 'timeout' WHERE id = ? AND "end" IS NULL`),
      upsertScore: db.prepare(
        `INSERT INTO experiment_scores (experiment_id, name, value, better) VALUES (?, ?, ?, ?)
         ON CONFLICT (experiment_id, name) DO UPDATE SET value = excluded.value, better = excluded.better`,
      ),
      scoresOf: db.prepare('SELECT name, value, better FROM experiment_scores WHERE experiment_id = ? ORDER BY name'),
      existingInference: db.prepare(
        `SELECT count, sum, sum_sq, min, max, items, buckets FROM inference_seconds
         WHERE device_num = ? AND experiment_id = ? AND model_id = ? AND t = ?`,
      ),
      updateInference: db.prepare(
        `UPDATE inference_seconds SET count = ?, sum = ?, sum_sq = ?, min = ?, max = ?, items = ?, buckets = ?
         WHERE device_num = ? AND experiment_id = ? AND model_id = ? AND t = ?`,
      ),
      existingWarmup: db.prepare(
        'SELECT count, sum, sum_sq, min, max, items, buckets FROM inference_warmup WHERE device_num = ? AND experiment_id = ? AND model_id = ?',
      ),
      upsertWarmup: db.prepare(
        `INSERT INTO inference_warmup (device_num, experiment_id, model_id, count, sum, sum_sq, min, max, items, buckets)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (device_num, experiment_id, model_id) DO UPDATE SET count = excluded.count, sum = excluded.sum,
           sum_sq = excluded.sum_sq, min = excluded.min, max = excluded.max, items = excluded.items, buckets = excluded.buckets`,
      ),
      warmupCountsByExperiment: db.prepare(
        `SELECT m.name AS model, w.count FROM inference_warmup w JOIN inference_models m ON m.id = w.model_id
         WHERE w.device_num = ? AND w.experiment_id = ? ORDER BY m.name`,
      ),
      warmupByExperiment: db.prepare(
        `SELECT m.name AS model, w.count, w.sum, w.sum_sq, w.min, w.max, w.items, w.buckets
         FROM inference_warmup w JOIN inference_models m ON m.id = w.model_id WHERE w.device_num = ? AND w.experiment_id = ?`,
      ),
      experimentById: db.prepare(`${EXPERIMENT_SELECT} WHERE e.id = ?`),
      listExperiments: db.prepare(
        `${EXPERIMENT_SELECT}
         WHERE (@device IS NULL OR e.device_num = @device) AND (@name IS NULL OR e.name = @name)
           AND (@to IS NULL OR e.start <= @to) AND (@from IS NULL OR e."end" IS NULL OR e."end" >= @from)
         ORDER BY e.start, e.id LIMIT @limit`,
      ),
      insertInferenceModel: db.prepare('INSERT INTO inference_models (name) VALUES (?) ON CONFLICT(name) DO NOTHING'),
      inferenceModelId: db.prepare('SELECT id FROM inference_models WHERE name = ?').pluck(),
      // A resent batch never gets here (the batch log), so a second row for a (model, experiment,
      // second) is timings that arrived after the agent sent that second: merged (store.insertInference).
      insertInference: db.prepare(
        `INSERT INTO inference_seconds (device_num, experiment_id, model_id, t, count, sum, sum_sq, min, max, items, buckets)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      inferenceByExperiment: db.prepare(
        `SELECT m.name AS model, s.count, s.sum, s.sum_sq, s.min, s.max, s.items, s.buckets
         FROM inference_seconds s JOIN inference_models m ON m.id = s.model_id
         WHERE s.device_num = @device AND s.experiment_id = @experiment AND s.t >= @from AND s.t <= @to
           AND (@model IS NULL OR s.model_id = @model)`,
      ),
      // The unary + keeps SQLite on the (device_num, t) index: the primary key would read every
      // untagged second the device ever sent before filtering on time.
      inferenceByTime: db.prepare(
        `SELECT m.name AS model, s.count, s.sum, s.sum_sq, s.min, s.max, s.items, s.buckets
         FROM inference_seconds s JOIN inference_models m ON m.id = s.model_id
         WHERE s.device_num = @device AND s.t >= @from AND s.t <= @to
           AND (@experiment IS NULL OR +s.experiment_id = @experiment) AND (@model IS NULL OR s.model_id = @model)`,
      ),
      hasExperimentTimings: db
        .prepare('SELECT 1 FROM inference_seconds WHERE device_num = ? AND experiment_id = ? LIMIT 1')
        .pluck(),
      totalsByExperiment: db.prepare(
        `SELECT m.name AS model, SUM(s.count) AS count FROM inference_seconds s JOIN inference_models m ON m.id = s.model_id
         WHERE s.device_num = @device AND s.experiment_id = @experiment AND s.t >= @from AND s.t <= @to
         GROUP BY m.name ORDER BY m.name`,
      ),
      totalsByTime: db.prepare(
        `SELECT m.name AS model, SUM(s.count) AS count FROM inference_seconds s JOIN inference_models m ON m.id = s.model_id
         WHERE s.device_num = @device AND s.t >= @from AND s.t <= @to AND (@experiment IS NULL OR +s.experiment_id = @experiment)
         GROUP BY m.name ORDER BY m.name`,
      ),
      // Skip through the primary key one (experiment, model) at a time (inferenceModelsOf): one
      // index seek each, however many seconds they hold. (A row-value `(experiment_id, model_id) > (?, ?)`
      // would scan every second of the previous model.)
      nextTimingModel: db.prepare(
        `SELECT experiment_id AS experiment, model_id AS modelId, t FROM inference_seconds
         WHERE device_num = ? AND experiment_id = ? AND model_id > ? ORDER BY model_id, t LIMIT 1`,
      ),
      nextTimingExperiment: db.prepare(
        `SELECT experiment_id AS experiment, model_id AS modelId, t FROM inference_seconds
         WHERE device_num = ? AND experiment_id > ? ORDER BY experiment_id, model_id, t LIMIT 1`,
      ),
      warmupModels: db.prepare('SELECT DISTINCT model_id FROM inference_warmup WHERE device_num = ?').pluck(),
      inferenceModelName: db.prepare('SELECT name FROM inference_models WHERE id = ?').pluck(),
      addRejected: db.prepare('UPDATE devices SET rejected_samples = rejected_samples + ? WHERE num = ?'),
      // 64 KiB: needs pages the database does not have free after a failed commit, like real data.
      probeWrite: db.prepare('INSERT INTO write_probe (at, pad) VALUES (?, zeroblob(65536))'),
      probeDelete: db.prepare('DELETE FROM write_probe'),
    };
    this.commitTx = db.transaction((items: readonly BatchToCommit[]) => items.map((item) => this.commitOne(item)));
    this.auth = new AuthStore(db);
    this.alerts = new AlertStore(db);
    this.remoteWriteQueue = opts.remoteWrite ? new RemoteWriteQueue(db) : null;
    // 10 s: the idle window compare uses by default (compare.ts DEFAULT_IDLE_WINDOW_S).
    this.snapshots = new SnapshotStore(db, 10_000);
  }

  /** Opens (creating if needed) the database in `dataDir` and brings its schema up to date. */
  static open(dataDir: string, opts: StoreOptions = {}): Store {
    mkdirSync(dataDir, { recursive: true });
    return new Store(join(dataDir, DB_FILE_NAME), opts);
  }

  /**
   * Proves SQLite can commit again after a failed write: inserts and deletes a 64 KiB row in one
   * transaction (new pages, a WAL append, an fsync). Throws what SQLite throws.
   */
  probeWrite(now: number): void {
    this.db.transaction(() => {
      this.stmt.probeWrite.run(now);
      this.stmt.probeDelete.run();
    })();
  }

  /** Pages in the database now (PRAGMA page_count). */
  pageCount(): number {
    return this.db.pragma('page_count', { simple: true }) as number;
  }

  /** Test hook: caps the database size in pages (SQLite will not go below the current size). */
  setMaxPageCount(pages: number): number {
    return this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(pages))}`, { simple: true }) as number;
  }

  /** Test hook: every write fails with SQLITE_READONLY while on (PRAGMA query_only), as on a read-only disk. */
  setQueryOnly(on: boolean): void {
    this.db.pragma(`query_only = ${on ? 'ON' : 'OFF'}`);
  }

  /** Counts samples refused for this device (best effort: a failing disk loses the count). */
  addRejectedSamples(deviceNum: number, n: number): void {
    this.stmt.addRejected.run(n, deviceNum);
  }

  // --- Clock events (migration 15): wall-clock steps of a device the hub re-timed samples for
  // (dashboard/server/clock.ts). Statements prepared on first use, kept apart from `stmt`.
  private clockStmts?: { upsert: Statement; recent: Statement };

  private clockStatements(): { upsert: Statement; recent: Statement } {
    this.clockStmts ??= {
      // Saved again as each batch of a backlog is stored: one row per step, its count growing.
      upsert: this.db.prepare(
        `INSERT INTO clock_events (device_num, at, step_ms, samples, first_t, last_t) VALUES (@device, @at, @stepMs, @samples, @firstT, @lastT)
         ON CONFLICT (device_num, at) DO UPDATE SET step_ms = excluded.step_ms, samples = excluded.samples, first_t = excluded.first_t, last_t = excluded.last_t`,
      ),
      recent: this.db.prepare('SELECT at, step_ms, samples, first_t, last_t FROM clock_events WHERE device_num = ? ORDER BY at DESC LIMIT ?'),
    };
    return this.clockStmts;
  }

  /** Saves a clock step event (the whole row: samples is its total so far). */
  saveClockEvent(deviceNum: number, e: ClockEventRow): void {
    this.clockStatements().upsert.run({ device: deviceNum, at: e.at, stepMs: e.stepMs, samples: e.samples, firstT: e.firstT, lastT: e.lastT });
  }

  /** The device's most recent clock events, newest first. */
  clockEvents(deviceNum: number, limit = 10): ClockEventRow[] {
    const rows = this.clockStatements().recent.all(deviceNum, limit) as { at: number; step_ms: number; samples: number; first_t: number | null; last_t: number | null }[];
    return rows.map((r) => ({ at: r.at, stepMs: r.step_ms, samples: r.samples, firstT: r.first_t ?? r.at, lastT: r.last_t ?? r.at }));
  }
  // --- end of clock events

  /** Records a device's hello: creates it on first sight, refreshes its identity after. */
  upsertDevice(hello: Hello, now: number): DeviceRow {
    const params = {
      id: hello.device.id,
      name: hello.device.name,
      hostname: hello.device.hostname ?? null,
      now,
      intervalMs: hello.intervalMs,
      agentVersion: hello.agent.version,
      capabilities: JSON.stringify(hello.capabilities),
      inventory: JSON.stringify(hello.inventory),
      demo: hello.device.demo ? 1 : 0,
      // The hello is stamped with the agent's clock as it is sent and arrives within
      // milliseconds on a LAN: the difference is the device's clock error, to within the
      // network delay. (Batch timestamps cannot tell: a resent backlog is old on purpose.)
      clockOffsetMs: Math.round(hello.clock - now),
    };
    this.db.transaction(() => {
      this.stmt.insertDevice.run(params);
      this.stmt.updateDeviceOnHello.run(params);
    })();
    return this.getDevice(hello.device.id)!;
  }

  getDevice(id: string): DeviceRow | undefined {
    const row = this.stmt.deviceById.get(id) as RawDeviceRow | undefined;
    return row && toDeviceRow(row);
  }

  listDevices(): DeviceRow[] {
    return (this.stmt.allDevices.all() as RawDeviceRow[]).map(toDeviceRow);
  }

  metricNames(deviceNum: number): string[] {
    return this.stmt.deviceMetricNames.all(deviceNum) as string[];
  }

  /**
   * Commits batches in ONE transaction (group commit). Returns, per batch, whether it was
   * stored or was a duplicate of one already committed. Throws if SQLite cannot write; then
   * nothing of these batches is stored and none may be acked.
   */
  commitBatches(items: readonly BatchToCommit[]): CommitOutcome[] {
    return this.commitTx(items);
  }

  private commitOne(item: BatchToCommit): CommitOutcome {
    const { samples } = item;
    let tFirst = Infinity;
    let tLast = -Infinity;
    let latest = samples[0]!;
    for (const s of samples) {
      if (s.t < tFirst) tFirst = s.t;
      if (s.t >= tLast) {
        tLast = s.t;
        latest = s;
      }
    }
    const fresh = this.stmt.insertBatch.run(
      item.deviceNum,
      item.seq,
      item.receivedAt,
      tFirst,
      tLast,
      samples.length,
      item.sentAt ?? null,
      item.tCorrection ?? 0,
    );
    if (fresh.changes === 0) return { stored: false };

    let newestTable = -Infinity;
    for (const sample of samples) {
      if (!sample.p) continue;
      this.stmt.insertProcesses.run(item.deviceNum, sample.t, sample.p.total, deflateRawSync(JSON.stringify(sample.p.rows)));
      if (sample.t > newestTable) newestTable = sample.t;
    }
    if (newestTable > -Infinity) this.pruneProcesses(item.deviceNum, newestTable, item.receivedAt);

    for (const sample of samples) {
      if (sample.e) for (const event of sample.e) this.upsertExperiment(item.deviceNum, event);
      if (sample.i) for (const agg of sample.i) this.insertInference(item.deviceNum, agg);
    }
    // Experiment snapshots: marks the ended experiments whose figures this batch changes.
    this.snapshots.noteBatch(item.deviceNum, samples);

    const ids: number[] = [];
    const values: number[] = [];
    for (const sample of samples) {
      ids.length = 0;
      values.length = 0;
      for (const name in sample.m) {
        const metricId = this.metricId(name);
        // A number, not a string: this runs for every value ingested.
        const key = item.deviceNum * 2 ** 32 + metricId;
        if (!this.knownDeviceMetrics.has(key)) {
          this.stmt.insertDeviceMetric.run(item.deviceNum, metricId);
          this.knownDeviceMetrics.add(key);
        }
        const v = sample.m[name]!;
        // The protocol layer checks this; a caller that skipped it must not store garbage.
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`metric ${name} at t=${sample.t} is ${String(v)}, not a finite number`);
        ids.push(metricId);
        values.push(v);
      }
      if (ids.length > 0) this.history.insertSample(item.deviceNum, sample.t, ids, values);
    }
    this.stmt.updateDeviceOnBatch.run({
      num: item.deviceNum,
      receivedAt: item.receivedAt,
      seq: item.seq,
      // Only the metric values go into `latest`: every device summary (the device list, every
      // live `device` frame) carries it, while the process table, inference histograms and
      // experiment events have their own endpoints.
      latest: JSON.stringify({ t: latest.t, m: latest.m }),
      latestT: latest.t,
      dropped: item.dropped ?? 0,
      clockOffsetMs: item.clockOffsetMs ?? null,
      clockCorrected: item.tCorrection ? 1 : 0,
    });
    this.remoteWriteQueue?.append(item.deviceNum, item.receivedAt, tFirst, tLast, samples);
    return { stored: true };
  }

  private upsertExperiment(deviceNum: number, e: ExperimentEvent): void {
    this.stmt.upsertExperiment.run({
      id: e.id,
      device: deviceNum,
      name: e.name,
      tags: JSON.stringify(e.tags ?? {}),
      params: e.params ?? null,
      modelBytes: e.modelBytes ?? null,
      start: e.start,
      end: e.end ?? null,
      warmup: e.warmup ? JSON.stringify(e.warmup) : null,
      measuredFrom: e.measuredFrom ?? null,
      firstCallMs: e.firstCallMs ?? null,
      conditions: e.conditions ? JSON.stringify(e.conditions) : null,
      dropped: e.dropped ?? null,
    });
    this.stmt.agentOverridesTimeout.run({ id: e.id, device: deviceNum, end: e.end ?? null });
    if (e.scores && e.scores.length > 0 && this.stmt.experimentDevice.get(e.id) === deviceNum) {
      for (const score of e.scores) this.stmt.upsertScore.run(e.id, score.name, score.value, score.better);
    }
  }

  private insertInference(deviceNum: number, a: InferenceAggregate): void {
    const experiment = a.experiment ?? '';
    const modelId = this.inferenceModelId(a.model, true);
    if (a.warmup) {
      const existing = this.stmt.existingWarmup.get(deviceNum, experiment, modelId) as RawHistogramRow | undefined;
      const m = mergedRow(existing, a, `(warm-up of model ${a.model} in experiment ${experiment})`);
      this.stmt.upsertWarmup.run(deviceNum, experiment, modelId, m.count, m.sum, m.sumSq, m.min, m.max, m.items, m.buckets);
      return;
    }
    const buckets = encodeBuckets(a.buckets);
    const fresh = this.stmt.insertInference.run(deviceNum, experiment, modelId, a.t, a.count, a.sum, a.sumSq, a.min, a.max, a.items, buckets);
    if (fresh.changes > 0) return;
    const existing = this.stmt.existingInference.get(deviceNum, experiment, modelId, a.t) as RawHistogramRow;
    const m = mergedRow(existing, a, `(second ${a.t} of model ${a.model} on device ${deviceNum})`);
    this.stmt.updateInference.run(m.count, m.sum, m.sumSq, m.min, m.max, m.items, m.buckets, deviceNum, experiment, modelId, a.t);
  }

  /** Quality scores of an experiment, by name. */
  experimentScores(id: string): Score[] {
    return this.stmt.scoresOf.all(id) as Score[];
  }

  /** Warm-up calls per model (no histograms: cheap enough for a list). */
  warmupCounts(deviceNum: number, experimentId: string): { model: string; count: number }[] {
    return this.stmt.warmupCountsByExperiment.all(deviceNum, experimentId) as { model: string; count: number }[];
  }

  /** Per model, the experiment's warm-up timings (kept apart from the measured per-second rows). */
  warmupHistogram(deviceNum: number, experimentId: string): Map<string, ModelTimings> {
    const out = new Map<string, ModelTimings>();
    for (const r of this.stmt.warmupByExperiment.iterate(deviceNum, experimentId) as IterableIterator<RawInferenceRow>) {
      const histogram = LogHistogram.from(rowHistogram(r, `warm-up of model ${r.model} in experiment ${experimentId}`));
      out.set(r.model, { model: r.model, histogram, items: r.items, seconds: 0 });
    }
    return out;
  }

  private inferenceModelId(name: string, create: true): number;
  private inferenceModelId(name: string, create: false): number | undefined;
  private inferenceModelId(name: string, create: boolean): number | undefined {
    let id = this.inferenceModelIds.get(name);
    if (id === undefined) {
      if (create) this.stmt.insertInferenceModel.run(name);
      id = this.stmt.inferenceModelId.get(name) as number | undefined;
      if (id !== undefined) this.inferenceModelIds.set(name, id);
    }
    return id;
  }

  /** Experiments without an end, with when their device was last heard from (one indexed query). */
  runningExperiments(): RunningExperiment[] {
    return (this.stmt.runningExperiments.all() as { id: string; device_num: number; start: number; last_seen: number | null; latest_t: number | null }[]).map((r) => ({
      id: r.id,
      deviceNum: r.device_num,
      start: r.start,
      deviceLastSeen: r.last_seen,
      deviceLatestT: typeof r.latest_t === 'number' ? r.latest_t : null,
    }));
  }

  /** Start of the newest second with timings tagged with the experiment (device clock, ms), or null. */
  lastExperimentSecond(deviceNum: number, experimentId: string): number | null {
    return (this.stmt.lastExperimentSecond.get(deviceNum, experimentId) as number | null) ?? null;
  }

  /**
   * Ends a running experiment on the hub's authority (ended_by 'timeout'); false when it has
   * ended meanwhile. Its snapshot is marked to be computed like any other end.
   */
  closeExperimentByTimeout(id: string, end: number): boolean {
    const closed = this.stmt.closeExperimentByTimeout.run(Math.floor(end), id).changes > 0;
    if (closed) this.snapshots.mark(id);
    return closed;
  }

  getExperiment(id: string): ExperimentRow | undefined {
    const row = this.stmt.experimentById.get(id) as RawExperimentRow | undefined;
    return row && toExperimentRow(row);
  }

  /** Experiments by start time, optionally of one device, of one name, or overlapping [from, to]. */
  listExperiments(q: ExperimentQuery = {}): ExperimentRow[] {
    const rows = this.stmt.listExperiments.all({
      device: q.deviceNum ?? null,
      name: q.name ?? null,
      from: q.from ?? null,
      to: q.to ?? null,
      limit: q.limit ?? MAX_EXPERIMENTS_LISTED,
    }) as RawExperimentRow[];
    return rows.map(toExperimentRow);
  }

  /**
   * The timings that belong to an experiment: those reported under its id; when none were (a
   * client that did not pass the id), the device's timings sent without any experiment id
   * within [start, end] — timings tagged with another experiment belong to that one. A per-
   * second row counts when its second overlaps the range. A running experiment ends at the
   * device's newest sample.
   */
  experimentTimingScope(e: ExperimentRow): TimingScope {
    const to = experimentRangeEnd(e);
    const tagged = this.stmt.hasExperimentTimings.get(e.deviceNum, e.id) !== undefined;
    if (tagged) return { source: 'experiment', query: { deviceNum: e.deviceNum, from: 0, to: Number.MAX_SAFE_INTEGER, experiment: e.id } };
    return { source: 'time-range', query: { deviceNum: e.deviceNum, from: e.start - 999, to, experiment: '' } };
  }

  /** Inference calls per model (no histograms: cheap enough for a list). */
  inferenceCounts(q: InferenceQuery): { model: string; count: number }[] {
    const params = { device: q.deviceNum, from: q.from, to: q.to, experiment: q.experiment ?? null };
    const statement = q.experiment ? this.stmt.totalsByExperiment : this.stmt.totalsByTime;
    return statement.all(params) as { model: string; count: number }[];
  }

  /**
   * The models a device has sent timings of, in the order they were first seen (the oldest
   * second kept; warm-up-only models last). Read-only, for naming its infer.<segment>.* metrics.
   */
  inferenceModelsOf(deviceNum: number): string[] {
    const first = new Map<number, number>();
    type Key = { experiment: string; modelId: number; t: number };
    let key: Key = { experiment: '', modelId: -1, t: 0 };
    for (let i = 0; i < 100_000; i++) {
      const row = (this.stmt.nextTimingModel.get(deviceNum, key.experiment, key.modelId) ??
        this.stmt.nextTimingExperiment.get(deviceNum, key.experiment)) as Key | undefined;
      if (!row) break;
      first.set(row.modelId, Math.min(first.get(row.modelId) ?? Infinity, row.t));
      key = row;
    }
    const ids = [...first].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([id]) => id);
    for (const id of this.stmt.warmupModels.all(deviceNum) as number[]) if (!first.has(id)) ids.push(id);
    return ids.map((id) => this.stmt.inferenceModelName.get(id) as string | undefined).filter((n): n is string => n !== undefined);
  }

  /** Per model, the per-second histograms in range merged into one. */
  inferenceHistogram(q: InferenceQuery): Map<string, ModelTimings> {
    let modelId: number | null = null;
    if (q.model !== undefined) {
      const id = this.inferenceModelId(q.model, false);
      if (id === undefined) return new Map();
      modelId = id;
    }
    const params = { device: q.deviceNum, from: q.from, to: q.to, model: modelId, experiment: q.experiment ?? null };
    const statement = q.experiment ? this.stmt.inferenceByExperiment : this.stmt.inferenceByTime;
    const out = new Map<string, ModelTimings>();
    for (const r of statement.iterate(params) as IterableIterator<RawInferenceRow>) {
      let m = out.get(r.model);
      if (!m) out.set(r.model, (m = { model: r.model, histogram: new LogHistogram(), items: 0, seconds: 0 }));
      m.histogram.merge(rowHistogram(r, `of model ${r.model} on device ${q.deviceNum}`));
      m.items += r.items;
      m.seconds += 1;
    }
    return out;
  }

  /** Read-only statements of inferenceSeconds, prepared on first use. */
  private secondsStmt: { byExperiment: Statement; byTime: Statement } | null = null;

  /**
   * Calls `fn` with each per-second row of the query (every model's), decoded one at a time and
   * in no particular order: for timelines, where merging them all (inferenceHistogram) would
   * lose the time. `fn` must not call the store (the rows are read as they are handed over).
   */
  inferenceSeconds(q: InferenceQuery, fn: (row: { t: number; model: string; histogram: HistogramSummary; items: number }) => void): void {
    let modelId: number | null = null;
    if (q.model !== undefined) {
      const id = this.inferenceModelId(q.model, false);
      if (id === undefined) return;
      modelId = id;
    }
    const cols = 'SELECT m.name AS model, s.t, s.count, s.sum, s.sum_sq, s.min, s.max, s.items, s.buckets FROM inference_seconds s JOIN inference_models m ON m.id = s.model_id';
    this.secondsStmt ??= {
      byExperiment: this.db.prepare(
        `${cols} WHERE s.device_num = @device AND s.experiment_id = @experiment AND s.t >= @from AND s.t <= @to AND (@model IS NULL OR s.model_id = @model)`,
      ),
      // The unary + keeps SQLite on the (device_num, t) index, as in inferenceByTime.
      byTime: this.db.prepare(
        `${cols} WHERE s.device_num = @device AND s.t >= @from AND s.t <= @to
           AND (@experiment IS NULL OR +s.experiment_id = @experiment) AND (@model IS NULL OR s.model_id = @model)`,
      ),
    };
    const params = { device: q.deviceNum, from: q.from, to: q.to, model: modelId, experiment: q.experiment ?? null };
    const statement = q.experiment ? this.secondsStmt.byExperiment : this.secondsStmt.byTime;
    for (const r of statement.iterate(params) as IterableIterator<RawInferenceRow & { t: number }>) {
      fn({ t: r.t, model: r.model, histogram: rowHistogram(r, `second ${r.t} of model ${r.model} on device ${q.deviceNum}`), items: r.items });
    }
  }

  /** Raw samples of the given metrics with from ≤ t ≤ to, as [t, v] in time order; unknown metrics are left out. */
  rawSamples(deviceNum: number, metrics: readonly string[], from: number, to: number): Record<string, [number, number][]> {
    const ids = metrics.map((name) => this.knownMetricId(name));
    const out: [number, number][][] = metrics.map(() => []);
    for (const slice of this.history.rawSlices(deviceNum, ids, from, to + 1)) {
      slice.cols.forEach((col, j) => {
        for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i]!)) out[j]!.push([slice.times[i]!, col[i]!]);
      });
    }
    const result: Record<string, [number, number][]> = {};
    metrics.forEach((name, j) => {
      if (out[j]!.length > 0) result[name] = out[j]!;
    });
    return result;
  }

  /** Raw rows for export, a window at a time: [t, one value or null per metric], from ≤ t < to. */
  exportRows(deviceNum: number, metrics: readonly string[], from: number, to: number): Generator<[t: number, values: (number | null)[]]> {
    return this.history.exportRows(deviceNum, metrics.map((m) => this.knownMetricId(m)), from, to);
  }

  /** Rollup rows for export: [bucket start, per metric [mean, min, max, count] or null], from ≤ t < to. */
  exportRollupRows(
    deviceNum: number,
    metrics: readonly string[],
    from: number,
    to: number,
    tier: '1m' | '1h',
  ): Generator<[t: number, values: ([mean: number, min: number, max: number, count: number] | null)[]]> {
    return this.history.exportRollupRows(deviceNum, metrics.map((m) => this.knownMetricId(m)), from, to, tier);
  }

  /**
   * One bounded maintenance pass (sealing, rollups, retention, size cap, vacuum); the hub runs
   * it every few seconds and again at once while `more` is true.
   */
  maintain(now: number = Date.now(), budgetMs?: number): MaintenanceResult {
    return this.history.maintain(now, budgetMs);
  }

  /** Seals every sample received so far into compressed chunks and rollups (tests, benchmarks). */
  sealAll(): number {
    return this.history.sealAll();
  }

  /** Where the bytes go: per device and tier, with retention and totals. */
  storage(now: number = Date.now()): StorageResponse {
    return this.history.storage(now, this.listDevices());
  }

  private knownMetricId(name: string): number | undefined {
    return this.metricIds.get(name) ?? (this.stmt.metricIdByName.get(name) as number | undefined);
  }

  /**
   * Retention for process tables only, done incrementally inside the commit that brings new
   * ones: at most once a minute per device (hub clock), a bounded DELETE of the tables more
   * than PROCESS_RETENTION_MS older than the newest one just stored (device clock, so a
   * device whose clock is off keeps its 3 days all the same).
   */
  private pruneProcesses(deviceNum: number, newestT: number, hubNow: number): void {
    const last = this.lastProcessPrune.get(deviceNum);
    if (last !== undefined && hubNow - last < PROCESS_PRUNE_EVERY_MS && hubNow >= last) return;
    this.lastProcessPrune.set(deviceNum, hubNow);
    this.stmt.pruneProcesses.run({ device: deviceNum, cutoff: newestT - PROCESS_RETENTION_MS, limit: PROCESS_PRUNE_LIMIT });
  }

  /** The process table taken at or before `at` (device clock, ms; default: the newest), or null. */
  latestProcesses(deviceNum: number, at: number = Number.MAX_SAFE_INTEGER): ProcessSnapshot | null {
    const row = this.stmt.latestProcesses.get(deviceNum, at) as { t: number; total: number; rows: Buffer } | undefined;
    if (!row) return null;
    let rows: ProcessRow[];
    try {
      rows = JSON.parse(inflateRawSync(row.rows).toString('utf8')) as ProcessRow[];
    } catch (err) {
      throw new Error(`process table of device ${deviceNum} at t=${row.t} is unreadable: ${(err as Error).message}`);
    }
    return { t: row.t, table: { rows, total: row.total } };
  }

  private metricId(name: string): number {
    let id = this.metricIds.get(name);
    if (id === undefined) {
      this.stmt.insertMetricName.run(name);
      id = this.stmt.metricIdByName.get(name) as number;
      this.metricIds.set(name, id);
    }
    return id;
  }

  /**
   * A device's series over [from, to), at most `points` points per metric: raw samples when
   * they fit, else fixed-width buckets with mean, min and max so spikes stay visible, read
   * from the finest tier that fits (tiers/history.ts).
   */
  series(query: SeriesQuery): SeriesResponse {
    return this.history.series({
      ...query,
      metricIds: query.metrics.map((name) => this.knownMetricId(name)),
      intervalMs: this.stmt.deviceInterval.get(query.deviceNum) as number | null,
    });
  }

  /** A cheap read that proves the database answers; used by /healthz. */
  ping(): boolean {
    return this.db.prepare('SELECT 1').pluck().get() === 1;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Where an experiment's data ends: its end, or while it runs, the device's newest sample. */
export function experimentRangeEnd(e: ExperimentRow): number {
  return e.end ?? Math.max(e.start, e.deviceLatestT ?? e.start);
}

const EXPERIMENT_SELECT = `SELECT e.id, e.device_num, d.id AS device_id, d.name AS device_name, e.name, e.tags, e.params,
  e.model_bytes, e.start, e."end" AS end_t, json_extract(d.latest, '$.t') AS device_latest_t,
  e.warmup, e.measured_from, e.first_call_ms, e.conditions, e.dropped, e.ended_by
  FROM experiments e JOIN devices d ON d.num = e.device_num`;

interface RawExperimentRow {
  id: string;
  device_num: number;
  device_id: string;
  device_name: string;
  name: string;
  tags: string;
  params: number | null;
  model_bytes: number | null;
  start: number;
  end_t: number | null;
  device_latest_t: number | null;
  warmup: string | null;
  measured_from: number | null;
  first_call_ms: number | null;
  conditions: string | null;
  dropped: number | null;
  ended_by: string | null;
}

/** A stored histogram: inference_seconds and inference_warmup rows. */
interface RawHistogramRow {
  count: number;
  sum: number;
  sum_sq: number;
  min: number;
  max: number;
  items: number;
  buckets: Buffer;
}

function rowHistogram(r: RawHistogramRow, what: string): HistogramSummary {
  try {
    return { count: r.count, sum: r.sum, sumSq: r.sum_sq, min: r.min, max: r.max, buckets: decodeBuckets(r.buckets) };
  } catch (err) {
    throw new Error(`inference histogram ${what} is unreadable: ${(err as Error).message}`);
  }
}

/** A stored histogram row with an aggregate merged in, ready to write back. */
function mergedRow(existing: RawHistogramRow | undefined, a: InferenceAggregate, what: string) {
  const h = existing ? LogHistogram.from(rowHistogram(existing, what)) : new LogHistogram();
  h.merge({ count: a.count, sum: a.sum, sumSq: a.sumSq, min: a.min, max: a.max, buckets: a.buckets });
  const sum = h.summary();
  return { count: sum.count, sum: sum.sum, sumSq: sum.sumSq, min: sum.min, max: sum.max, items: (existing?.items ?? 0) + a.items, buckets: encodeBuckets(sum.buckets) };
}

interface RawInferenceRow extends RawHistogramRow {
  model: string;
}

function toExperimentRow(r: RawExperimentRow): ExperimentRow {
  return {
    id: r.id,
    deviceNum: r.device_num,
    deviceId: r.device_id,
    deviceName: r.device_name,
    name: r.name,
    tags: parseJson<Record<string, string>>(r.tags, {}),
    params: r.params,
    modelBytes: r.model_bytes,
    start: r.start,
    end: r.end_t,
    deviceLatestT: r.device_latest_t,
    warmup: parseJson<Warmup | null>(r.warmup, null),
    measuredFrom: r.measured_from,
    firstCallMs: r.first_call_ms,
    conditions: parseJson<RunConditions | null>(r.conditions, null),
    dropped: r.dropped,
    endedBy: r.ended_by === 'timeout' ? 'timeout' : null,
  };
}

function toDeviceRow(r: RawDeviceRow): DeviceRow {
  return {
    num: r.num,
    id: r.id,
    name: r.name,
    hostname: r.hostname,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    intervalMs: r.interval_ms,
    agentVersion: r.agent_version,
    capabilities: parseJson<string[]>(r.capabilities, []),
    inventory: parseJson<Inventory>(r.inventory, {}),
    lastSeq: r.last_seq,
    latest: parseJson<Sample | null>(r.latest, null),
    clockOffsetMs: r.clock_offset_ms,
    clockCorrected: r.clock_corrected === 1,
    droppedSamples: r.dropped_samples,
    rejectedSamples: r.rejected_samples,
    demo: r.demo === 1,
  };
}

/**
 * Databases from before the compact tiers kept one row per value in `samples`: pack them into
 * raw_head (one row per device and time), where the next maintenance passes seal them and
 * rebuild their rollups, then drop the old table. One transaction: a crash leaves the old
 * table in place and the move is done again at the next open.
 */
function moveLegacySamples(db: Db): void {
  const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'samples'").get();
  if (!exists) return;
  const insert = db.prepare('INSERT INTO raw_head (device_num, t, n, data) VALUES (?, ?, ?, ?) ON CONFLICT (device_num, t) DO NOTHING');
  db.transaction(() => {
    let device = -1;
    let t = -1;
    const ids: number[] = [];
    const values: number[] = [];
    const flush = (): void => {
      if (ids.length > 0) insert.run(device, t, ids.length, encodeHead(ids, values));
      ids.length = 0;
      values.length = 0;
    };
    // Pages by key, not an open iterator: better-sqlite3 runs no other statement while one iterates.
    const page = db.prepare(
      `SELECT device_num, t, metric_id, v FROM samples WHERE (device_num, metric_id, t) > (?, ?, ?)
       ORDER BY device_num, metric_id, t LIMIT 50000`,
    );
    // Key order is (device, metric, t); regroup by (device, t) in memory per device.
    let after: [number, number, number] = [-1, -1, -1];
    let current = -1;
    let byT = new Map<number, [number[], number[]]>();
    const flushDevice = (): void => {
      for (const [time, [i, v]] of byT) {
        device = current;
        t = time;
        ids.push(...i);
        values.push(...v);
        flush();
      }
      byT = new Map();
    };
    for (;;) {
      const rows = page.all(...after) as { device_num: number; t: number; metric_id: number; v: number }[];
      if (rows.length === 0) break;
      for (const r of rows) {
        if (r.device_num !== current) {
          flushDevice();
          current = r.device_num;
        }
        let entry = byT.get(r.t);
        if (!entry) byT.set(r.t, (entry = [[], []]));
        entry[0].push(r.metric_id);
        entry[1].push(r.v);
      }
      const last = rows[rows.length - 1]!;
      after = [last.device_num, last.metric_id, last.t];
    }
    flushDevice();
    flush();
    db.exec('DROP TABLE samples');
  })();
}
