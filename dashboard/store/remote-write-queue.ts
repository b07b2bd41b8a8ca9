// The durable queue behind Prometheus remote write (migration 10): the outbox of committed
// batches and one cursor per destination. The store appends inside each batch's commit, so a
// batch acked to its agent is also queued; senders (dashboard/server/remote-write/) read after
// their cursor and move it only once the receiver accepted, so a hub killed at any moment
// resends from its last cursor: at least once, never lost. Every delete is a bounded slice.
import type { Database, Statement } from 'better-sqlite3';
import { packSamples, unpackSamples, type OutboxSample } from './remote-write-codec.js';

/** Rows deleted per statement: short transactions, as the rest of the store prunes. */
export const OUTBOX_DELETE_LIMIT = 2000;

export interface OutboxRow {
  id: number;
  deviceNum: number;
  /** Hub clock, ms. */
  receivedAt: number;
  nValues: number;
  samples: OutboxSample[];
  /** Set when the row could not be unpacked (samples is empty then): its values are lost. */
  error?: string;
}

export interface Cursor {
  lastId: number;
  /** Hub clock of the row at lastId; null before the first. */
  receivedAt: number | null;
}

/** What is queued behind one cursor. */
export interface Backlog {
  rows: number;
  values: number;
  /** Hub-clock ms between the newest queued batch and the newest one past the cursor; 0 when caught up. */
  lagMs: number;
}

interface RawRow {
  id: number;
  device_num: number;
  received_at: number;
  n_values: number;
  samples: Buffer;
}

interface EdgeRow {
  id: number;
  received_at: number;
  n_values: number;
  total_values: number;
  total_bytes: number;
  bytes: number;
}

const EDGE_COLUMNS = 'id, received_at, n_values, total_values, total_bytes, length(samples) AS bytes';

export class RemoteWriteQueue {
  private readonly stmt: Record<
    'insert' | 'after' | 'first' | 'last' | 'firstAfter' | 'rowAt' | 'cursor' | 'setCursor' | 'deleteUpTo' | 'firstOlderThanNot' | 'firstWithTotalBytes',
    Statement
  >;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly db: Database) {
    this.stmt = {
      // The running sums continue from the newest row (a primary-key lookup inside the commit):
      // rolled back with it, and restarting from 0 on an empty queue, which is fine since only
      // differences between rows that exist are ever used.
      insert: db.prepare(
        `INSERT INTO remote_write_outbox (device_num, received_at, t_first, t_last, n_values, total_values, total_bytes, samples)
         VALUES (@device, @receivedAt, @tFirst, @tLast, @n,
           COALESCE((SELECT total_values FROM remote_write_outbox ORDER BY id DESC LIMIT 1), 0) + @n,
           COALESCE((SELECT total_bytes FROM remote_write_outbox ORDER BY id DESC LIMIT 1), 0) + @bytes, @samples)`,
      ),
      after: db.prepare('SELECT id, device_num, received_at, n_values, samples FROM remote_write_outbox WHERE id > ? ORDER BY id LIMIT ?'),
      first: db.prepare(`SELECT ${EDGE_COLUMNS} FROM remote_write_outbox ORDER BY id LIMIT 1`),
      last: db.prepare(`SELECT ${EDGE_COLUMNS} FROM remote_write_outbox ORDER BY id DESC LIMIT 1`),
      firstAfter: db.prepare(`SELECT ${EDGE_COLUMNS} FROM remote_write_outbox WHERE id > ? ORDER BY id LIMIT 1`),
      rowAt: db.prepare(`SELECT ${EDGE_COLUMNS} FROM remote_write_outbox WHERE id <= ? ORDER BY id DESC LIMIT 1`),
      cursor: db.prepare('SELECT last_id, received_at FROM remote_write_cursors WHERE destination = ?'),
      // Never backwards: a sender finishing a request the size cap already skipped past must not
      // pull its cursor back behind deleted rows.
      setCursor: db.prepare(
        `INSERT INTO remote_write_cursors (destination, last_id, received_at, updated_at) VALUES (@name, @id, @receivedAt, @now)
         ON CONFLICT (destination) DO UPDATE SET last_id = excluded.last_id, received_at = excluded.received_at, updated_at = excluded.updated_at
         WHERE excluded.last_id > remote_write_cursors.last_id`,
      ),
      deleteUpTo: db.prepare('DELETE FROM remote_write_outbox WHERE id IN (SELECT id FROM remote_write_outbox WHERE id <= ? ORDER BY id LIMIT ?)'),
      // Both scan from the oldest row and stop at the first that stays: they read only what goes.
      firstOlderThanNot: db.prepare('SELECT id FROM remote_write_outbox WHERE received_at >= ? ORDER BY id LIMIT 1').pluck(),
      firstWithTotalBytes: db.prepare('SELECT id FROM remote_write_outbox WHERE total_bytes >= ? ORDER BY id LIMIT 1').pluck(),
    };
  }

  /**
   * Queues a committed batch's metric values. Runs inside the store's commit transaction: the
   * row exists exactly when the batch does. A batch without values queues nothing.
   */
  append(deviceNum: number, receivedAt: number, tFirst: number, tLast: number, samples: readonly OutboxSample[]): void {
    const packed = packSamples(samples);
    if (packed.values === 0) return;
    this.stmt.insert.run({ device: deviceNum, receivedAt, tFirst, tLast, n: packed.values, bytes: packed.data.length, samples: packed.data });
    for (const listener of this.listeners) listener();
  }

  /**
   * Calls `listener` after each append. It runs inside the commit: it may only schedule work
   * (a promise resolving runs after the transaction has finished), never read or write.
   */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Up to `limit` rows after `afterId`, in commit order. A row that cannot be unpacked comes
   * back with `error` and no samples, so that the reader can count it and move past it.
   */
  rowsAfter(afterId: number, limit: number): OutboxRow[] {
    return (this.stmt.after.all(afterId, limit) as RawRow[]).map((r) => {
      const row: OutboxRow = { id: r.id, deviceNum: r.device_num, receivedAt: r.received_at, nValues: r.n_values, samples: [] };
      try {
        row.samples = unpackSamples(r.samples);
      } catch (err) {
        row.error = `remote-write outbox row ${r.id} (${r.n_values} values) cannot be read: ${(err as Error).message}`;
      }
      return row;
    });
  }

  /**
   * The destination's cursor. A destination without one yet is at 0: it gets everything still
   * queued. Read-only, so the status can be read while the disk refuses writes.
   */
  cursor(destination: string): Cursor {
    const row = this.stmt.cursor.get(destination) as { last_id: number; received_at: number | null } | undefined;
    return row ? { lastId: row.last_id, receivedAt: row.received_at } : { lastId: 0, receivedAt: null };
  }

  /** Moves the cursor forward to `id` (never back); committed on its own, durable at return. */
  advance(destination: string, id: number, receivedAt: number, now: number = Date.now()): void {
    this.stmt.setCursor.run({ name: destination, id, receivedAt, now });
  }

  /** Values and rows queued after `afterId`, from the running sums: two index lookups. */
  backlog(afterId: number, now: number = Date.now()): Backlog {
    const last = this.stmt.last.get() as EdgeRow | undefined;
    const first = this.stmt.firstAfter.get(afterId) as EdgeRow | undefined;
    if (!last || !first) return { rows: 0, values: 0, lagMs: 0 };
    return {
      rows: this.rowsBetween(first, last),
      values: last.total_values - first.total_values + first.n_values,
      // How long the oldest batch it still owes has waited: grows while a receiver is down, even
      // when nothing new arrives, and is 0 once it has everything.
      lagMs: Math.max(0, now - first.received_at),
    };
  }

  /** Values queued in (afterId, upToId]: what a destination loses when the cap drops those rows. */
  valuesBetween(afterId: number, upToId: number): number {
    if (upToId <= afterId) return 0;
    const first = this.stmt.firstAfter.get(afterId) as EdgeRow | undefined;
    const end = this.stmt.rowAt.get(upToId) as EdgeRow | undefined;
    if (!first || !end || end.id < first.id) return 0;
    return end.total_values - first.total_values + first.n_values;
  }

  /** Bytes of packed samples queued, and the oldest row's hub time. */
  size(): { rows: number; bytes: number; oldestReceivedAt: number | null } {
    const first = this.stmt.first.get() as EdgeRow | undefined;
    const last = this.stmt.last.get() as EdgeRow | undefined;
    if (!first || !last) return { rows: 0, bytes: 0, oldestReceivedAt: null };
    return { rows: this.rowsBetween(first, last), bytes: last.total_bytes - first.total_bytes + first.bytes, oldestReceivedAt: first.received_at };
  }

  /**
   * The newest row that must go to keep the queue within `maxBytes` and `maxAgeMs` (hub clock),
   * with its hub time, or null when none must. Reads only the rows that would go.
   */
  capCutoff(maxBytes: number, maxAgeMs: number, now: number): { id: number; receivedAt: number } | null {
    const cutoff = this.capCutoffId(maxBytes, maxAgeMs, now);
    const row = cutoff > 0 ? (this.stmt.rowAt.get(cutoff) as EdgeRow | undefined) : undefined;
    return row ? { id: row.id, receivedAt: row.received_at } : null;
  }

  private capCutoffId(maxBytes: number, maxAgeMs: number, now: number): number {
    const first = this.stmt.first.get() as EdgeRow | undefined;
    const last = this.stmt.last.get() as EdgeRow | undefined;
    if (!first || !last) return 0;
    let cutoff = 0;
    if (first.received_at < now - maxAgeMs) {
      const keep = this.stmt.firstOlderThanNot.get(now - maxAgeMs) as number | undefined;
      cutoff = keep === undefined ? last.id : keep - 1;
    }
    const bytes = last.total_bytes - first.total_bytes + first.bytes;
    if (bytes > maxBytes) {
      // The newest rows whose bytes fit stay: a row stays when the running sum before it is
      // ≥ last − max. The first row whose own sum reaches that line is the last one to go.
      const crossing = this.stmt.firstWithTotalBytes.get(last.total_bytes - maxBytes) as number | undefined;
      cutoff = Math.max(cutoff, crossing ?? last.id);
    }
    return cutoff;
  }

  /** Deletes at most `limit` rows with id ≤ upToId, oldest first; returns how many went. */
  deleteUpTo(upToId: number, limit: number = OUTBOX_DELETE_LIMIT): number {
    return this.stmt.deleteUpTo.run(upToId, limit).changes;
  }

  /** Runs `fn` in one transaction (cursor moves and the drop counts that go with them). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  private rowsBetween(first: EdgeRow, last: EdgeRow): number {
    // Ids are dense apart from rolled-back inserts; an estimate is all a row count is for.
    return last.id - first.id + 1;
  }
}
