// Experiment snapshots (table experiment_snapshots, migration 12): the stored comparison
// figures of ended experiments, and which experiments a commit has made stale. The figures are
// computed in dashboard/server/experiment-snapshots.ts; the store only keeps them as JSON.
//
// Staleness is kept in memory, not in the table: marking happens inside the batch's commit
// (noteBatch), which must stay cheap, and a stale mark lost to a crash costs at most one late
// batch's effect on a snapshot (the start-up pass only fills in missing snapshots).
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Sample } from '../../shared/protocol.js';

export interface StoredSnapshot {
  experimentId: string;
  /** Hub clock, ms. */
  computedAt: number;
  format: number;
  source: 'raw' | 'rollup';
  /** JSON text; its shape belongs to experiment-snapshots.ts (versioned by `format`). */
  figures: string;
}

interface RawSnapshotRow {
  experiment_id: string;
  computed_at: number;
  format: number;
  source: string;
  figures: string;
}

export class SnapshotStore {
  private readonly stmt: {
    get: Statement;
    put: Statement;
    remove: Statement;
    missing: Statement;
    endOf: Statement;
    maxEnd: Statement;
    endedOverlapping: Statement;
    chunkOldest: Statement;
    headOldest: Statement;
  };
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<() => void>();
  /** Per device, the latest end of its ended experiments: batches newer than that touch none (the live path). */
  private readonly maxEndByDevice = new Map<number, number>();

  constructor(
    db: Db,
    /** Samples this far before an experiment's start are its idle window: late ones there change it too. */
    private readonly idleWindowMs: number,
  ) {
    this.stmt = {
      get: db.prepare('SELECT experiment_id, computed_at, format, source, figures FROM experiment_snapshots WHERE experiment_id = ?'),
      put: db.prepare(
        `INSERT INTO experiment_snapshots (experiment_id, computed_at, format, source, figures) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (experiment_id) DO UPDATE SET computed_at = excluded.computed_at, format = excluded.format,
           source = excluded.source, figures = excluded.figures`,
      ),
      remove: db.prepare('DELETE FROM experiment_snapshots WHERE experiment_id = ?'),
      missing: db
        .prepare(
          `SELECT e.id FROM experiments e LEFT JOIN experiment_snapshots s ON s.experiment_id = e.id
           WHERE e."end" IS NOT NULL AND (s.experiment_id IS NULL OR s.format <> ?) ORDER BY e.start, e.id`,
        )
        .pluck(),
      endOf: db.prepare('SELECT "end" FROM experiments WHERE id = ? AND device_num = ?').pluck(),
      maxEnd: db.prepare('SELECT MAX("end") FROM experiments WHERE device_num = ?').pluck(),
      endedOverlapping: db
        .prepare('SELECT id FROM experiments WHERE device_num = ? AND start <= ? AND "end" IS NOT NULL AND "end" >= ?')
        .pluck(),
      chunkOldest: db.prepare('SELECT t_first FROM raw_chunks WHERE device_num = ? ORDER BY t0 LIMIT 1').pluck(),
      headOldest: db.prepare('SELECT MIN(t) FROM raw_head WHERE device_num = ?').pluck(),
    };
  }

  get(experimentId: string): StoredSnapshot | undefined {
    const r = this.stmt.get.get(experimentId) as RawSnapshotRow | undefined;
    if (!r) return undefined;
    return { experimentId: r.experiment_id, computedAt: r.computed_at, format: r.format, source: r.source === 'rollup' ? 'rollup' : 'raw', figures: r.figures };
  }

  put(s: StoredSnapshot): void {
    this.stmt.put.run(s.experimentId, s.computedAt, s.format, s.source, s.figures);
  }

  /** Test hook and format changes: forgets a snapshot (the start-up pass computes it again). */
  remove(experimentId: string): void {
    this.stmt.remove.run(experimentId);
  }

  /** Ended experiments without a snapshot of this format, oldest first. */
  missing(format: number): string[] {
    return this.stmt.missing.all(format) as string[];
  }

  /** Oldest raw sample time of a device (device clock, ms), or null when retention has left none. */
  oldestRawT(deviceNum: number): number | null {
    const chunk = this.stmt.chunkOldest.get(deviceNum) as number | undefined;
    const head = this.stmt.headOldest.get(deviceNum) as number | null;
    const ts = [chunk, head].filter((t): t is number => typeof t === 'number');
    return ts.length > 0 ? Math.min(...ts) : null;
  }

  /**
   * Called inside a batch's commit, after its events and timings are stored: marks the ended
   * experiments whose figures it changes. An event for an ended experiment (its end, or later
   * scores), timings tagged with one, or samples and untagged timings inside one's window
   * (idle window included). Live data lies after every ended experiment: one comparison, no query.
   */
  noteBatch(deviceNum: number, samples: readonly Sample[]): void {
    let tMin = Infinity;
    let tMax = -Infinity;
    let ids: Set<string> | null = null;
    for (const s of samples) {
      if (s.t < tMin) tMin = s.t;
      if (s.t > tMax) tMax = s.t;
      if (s.e) for (const e of s.e) (ids ??= new Set()).add(e.id);
      if (s.i) {
        for (const a of s.i) {
          if (a.experiment) (ids ??= new Set()).add(a.experiment);
          if (a.t < tMin) tMin = a.t;
          if (a.t > tMax) tMax = a.t;
        }
      }
    }
    let maxEnd = this.maxEndByDevice.get(deviceNum);
    if (maxEnd === undefined) {
      maxEnd = (this.stmt.maxEnd.get(deviceNum) as number | null) ?? -Infinity;
      this.maxEndByDevice.set(deviceNum, maxEnd);
    }
    if (ids) {
      for (const id of ids) {
        const end = this.stmt.endOf.get(id, deviceNum) as number | null | undefined;
        if (typeof end !== 'number') continue;
        this.mark(id);
        if (end > maxEnd) this.maxEndByDevice.set(deviceNum, (maxEnd = end));
      }
    }
    if (tMin > maxEnd) return;
    for (const id of this.stmt.endedOverlapping.all(deviceNum, tMax + this.idleWindowMs, tMin) as string[]) this.mark(id);
  }

  /** Marks an experiment's snapshot as to be computed again. */
  mark(experimentId: string): void {
    const fresh = !this.dirty.has(experimentId);
    this.dirty.add(experimentId);
    if (fresh) for (const fn of this.listeners) fn();
  }

  isDirty(experimentId: string): boolean {
    return this.dirty.has(experimentId);
  }

  /** Takes (and unmarks) up to `max` marked experiments. */
  takeDirty(max: number): string[] {
    const out: string[] = [];
    for (const id of this.dirty) {
      if (out.length >= max) break;
      out.push(id);
    }
    for (const id of out) this.dirty.delete(id);
    return out;
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  /** Called whenever an experiment is newly marked. */
  onDirty(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
