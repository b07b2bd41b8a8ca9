// Schema migrations, applied in order at open. `PRAGMA user_version` records how many have
// run, so an old database is brought forward and a current one is left alone. Append new
// migrations; never edit one that has shipped.
import type { Database } from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: devices, metric dictionary, raw samples, committed batches.
  `
  CREATE TABLE devices (
    num              INTEGER PRIMARY KEY,      -- compact key used by sample rows
    id               TEXT    NOT NULL UNIQUE,  -- the agent's stable device id
    name             TEXT    NOT NULL,
    hostname         TEXT,
    first_seen       INTEGER NOT NULL,         -- hub clock, ms
    last_seen        INTEGER,                  -- hub clock, ms, of the last committed batch
    interval_ms      INTEGER,
    agent_version    TEXT,
    capabilities     TEXT    NOT NULL DEFAULT '[]',
    inventory        TEXT    NOT NULL DEFAULT '{}',
    last_seq         INTEGER,                  -- highest committed batch sequence number
    latest           TEXT,                     -- JSON of the newest committed sample
    clock_offset_ms  INTEGER,                  -- device clock − hub clock, estimated
    dropped_samples  INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE metric_names (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  );

  CREATE TABLE device_metrics (
    device_num INTEGER NOT NULL REFERENCES devices(num),
    metric_id  INTEGER NOT NULL REFERENCES metric_names(id),
    PRIMARY KEY (device_num, metric_id)
  ) WITHOUT ROWID;

  -- One row per value. The primary key is the read path (one metric of one device over a
  -- time range), and WITHOUT ROWID stores the row inside that index: no second copy.
  CREATE TABLE samples (
    device_num INTEGER NOT NULL,
    metric_id  INTEGER NOT NULL,
    t          INTEGER NOT NULL,               -- device clock, ms since the epoch
    v          REAL    NOT NULL,
    PRIMARY KEY (device_num, metric_id, t)
  ) WITHOUT ROWID;

  -- Every committed batch: makes a resent batch recognisable (exactly-once effect) and
  -- keeps the hub's receive time next to the device's timestamps for clock checks.
  CREATE TABLE batches (
    device_num  INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL,              -- hub clock, ms
    t_first     INTEGER NOT NULL,
    t_last      INTEGER NOT NULL,
    n_samples   INTEGER NOT NULL,
    PRIMARY KEY (device_num, seq)
  ) WITHOUT ROWID;
  `,
  // 2: per-minute rollups, kept up to date at ingest, so a day or a week reads ~1/60 of the
  // rows and keeps min/max for spikes.
  `
  CREATE TABLE rollup_1m (
    device_num INTEGER NOT NULL,
    metric_id  INTEGER NOT NULL,
    t          INTEGER NOT NULL,               -- start of the minute, device clock, ms
    n          INTEGER NOT NULL,
    sum        REAL    NOT NULL,
    lo         REAL    NOT NULL,
    hi         REAL    NOT NULL,
    PRIMARY KEY (device_num, metric_id, t)
  ) WITHOUT ROWID;
  INSERT INTO rollup_1m (device_num, metric_id, t, n, sum, lo, hi)
    SELECT device_num, metric_id, t - t % 60000, COUNT(*), SUM(v), MIN(v), MAX(v)
    FROM samples GROUP BY device_num, metric_id, t - t % 60000;
  `,
  // 3: process tables, one row per table taken (every few seconds per device). The rows are
  // raw-deflated JSON: a table of 20 rows is ~3 KB of JSON and well under 1 KB deflated, and
  // it is only ever read whole. Kept for a few days only (see Store).
  `
  CREATE TABLE process_snapshots (
    device_num INTEGER NOT NULL,
    t          INTEGER NOT NULL,               -- device clock, ms since the epoch
    total      INTEGER NOT NULL,               -- processes on the device at t
    rows       BLOB    NOT NULL,               -- deflateRawSync(JSON of ProcessRow[])
    PRIMARY KEY (device_num, t)
  ) WITHOUT ROWID;
  `,
  // 4: inference timings and experiments. Timings arrive as per-second, per-model histograms
  // (shared/histogram.ts); a row keeps the summary numbers as columns and the buckets as a
  // varint blob (dashboard/store/buckets-codec.ts: ~1 byte per index delta and per count,
  // where deflated JSON needs ~2–3). The key leads with the experiment so "all timings of
  // experiment X" is one index range; "a device's timings over a time range" has its own index.
  `
  CREATE TABLE experiments (
    id          TEXT    PRIMARY KEY,           -- chosen on the device, e.g. x-lq2v3k-9f3a
    device_num  INTEGER NOT NULL REFERENCES devices(num),
    name        TEXT    NOT NULL,              -- repeats of one experiment share a name
    tags        TEXT    NOT NULL DEFAULT '{}', -- JSON object of string values
    params      INTEGER,                       -- parameter count of the model under test
    model_bytes INTEGER,
    start       INTEGER NOT NULL,              -- device clock, ms
    "end"       INTEGER                        -- device clock, ms; NULL while running
  );
  CREATE INDEX experiments_by_device ON experiments (device_num, start);
  CREATE INDEX experiments_by_name ON experiments (name, start);

  CREATE TABLE inference_models (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  );

  CREATE TABLE inference_seconds (
    device_num    INTEGER NOT NULL,
    experiment_id TEXT    NOT NULL,            -- '' for timings sent without an experiment
    model_id      INTEGER NOT NULL,
    t             INTEGER NOT NULL,            -- start of the second, device clock, ms
    count         INTEGER NOT NULL,
    sum           REAL    NOT NULL,
    sum_sq        REAL    NOT NULL,
    min           REAL    NOT NULL,
    max           REAL    NOT NULL,
    items         INTEGER NOT NULL,
    buckets       BLOB    NOT NULL,
    PRIMARY KEY (device_num, experiment_id, model_id, t)
  ) WITHOUT ROWID;
  CREATE INDEX inference_seconds_by_time ON inference_seconds (device_num, t);
  `,
  // 5: device clocks and disk trouble. Per batch, the agent's send time (its own clock) next to
  // the hub's receive time, and the correction applied to its samples; per device, whether
  // its times are being corrected and how many samples were refused (too far in the future).
  // A small table for the write probe that tells when a full or read-only disk is writable again.
  `
  ALTER TABLE batches ADD COLUMN sent_at INTEGER;                          -- device clock, ms; NULL from older agents
  ALTER TABLE batches ADD COLUMN t_correction INTEGER NOT NULL DEFAULT 0;  -- ms subtracted from the batch's sample times
  ALTER TABLE devices ADD COLUMN clock_corrected INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN rejected_samples INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY,
    at  INTEGER NOT NULL,
    pad BLOB    NOT NULL
  );
  `,
  // 6: authentication. Tokens and sessions keep only sha256 of their secret (high-entropy
  // random values); the admin password is an scrypt hash with its salt and parameters.
  `
  CREATE TABLE device_tokens (
    id           TEXT    PRIMARY KEY,          -- 12 hex chars, the public part of ewd_<id>_<secret>
    device_id    TEXT    NOT NULL,             -- the only device id this token may speak for
    secret_hash  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
  );
  CREATE INDEX device_tokens_by_device ON device_tokens (device_id);
  CREATE TABLE api_tokens (
    id           TEXT    PRIMARY KEY,          -- the public part of ewa_<id>_<secret>
    name         TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
  );
  CREATE TABLE users (
    name          TEXT    PRIMARY KEY,
    password_hash TEXT    NOT NULL,            -- scrypt$N$r$p$salt$hash
    created_at    INTEGER NOT NULL
  );
  CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,
    user       TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_expiry ON sessions (expires_at);
  `,
  // 7: compact history (dashboard/store/tiers/). New samples land in raw_head, one row per
  // sample, durable with the batch's commit; a background pass seals each closed 15-minute
  // window of a device into raw_chunks (its time column) and raw_columns (one compressed value
  // column per metric), and merges the window into the 1-minute and 1-hour rollups, which are
  // compressed blocks too (one per metric per 2 hours or per 2 days; tiers/layout.ts): as
  // rows, 90 days of per-minute rollups would outweigh a week of raw data several times over.
  // Blob-heavy tables keep a rowid: WITHOUT ROWID suits rows far smaller than a page. Rows of
  // the old one-value-per-row table are moved into raw_head by Store.open (the packing is done
  // in JS), and its per-minute rollup table is dropped: the seal rebuilds the rollups from them.
  `
  CREATE TABLE raw_head (
    device_num INTEGER NOT NULL,
    t          INTEGER NOT NULL,               -- device clock, ms
    n          INTEGER NOT NULL,               -- values in the row
    data       BLOB    NOT NULL                -- (metric id, value) pairs: tiers/head-codec.ts
  );
  CREATE UNIQUE INDEX raw_head_key ON raw_head (device_num, t);
  CREATE TABLE raw_chunks (
    device_num INTEGER NOT NULL,
    t0         INTEGER NOT NULL,               -- window start, device clock, ms
    n          INTEGER NOT NULL,               -- samples in the window
    t_first    INTEGER NOT NULL,
    t_last     INTEGER NOT NULL,
    times      BLOB    NOT NULL                -- tiers/chunk-codec.ts
  );
  CREATE UNIQUE INDEX raw_chunks_key ON raw_chunks (device_num, t0);
  CREATE TABLE raw_columns (
    device_num INTEGER NOT NULL,
    metric_id  INTEGER NOT NULL,
    t0         INTEGER NOT NULL,
    n          INTEGER NOT NULL,               -- values present (≤ the window's samples)
    data       BLOB    NOT NULL                -- tiers/chunk-codec.ts
  );
  CREATE UNIQUE INDEX raw_columns_key ON raw_columns (device_num, metric_id, t0);
  CREATE INDEX raw_columns_by_window ON raw_columns (device_num, t0);
  CREATE TABLE rollups (
    res        INTEGER NOT NULL,               -- bucket width, ms: 60000 or 3600000
    device_num INTEGER NOT NULL,
    metric_id  INTEGER NOT NULL,
    t0         INTEGER NOT NULL,               -- block start, device clock, ms
    t_first    INTEGER NOT NULL,               -- start of the block's oldest bucket
    t_last     INTEGER NOT NULL,               -- start of the block's newest bucket
    buckets    INTEGER NOT NULL,
    data       BLOB    NOT NULL                -- tiers/rollup-codec.ts
  );
  CREATE UNIQUE INDEX rollups_key ON rollups (res, device_num, metric_id, t0);
  CREATE INDEX rollups_by_time ON rollups (res, t0);
  DROP TABLE rollup_1m;
  `,
  // 8: alerts (dashboard/store/alert-store.ts). AUTOINCREMENT so a deleted rule's or pruned
  // event's id is never reused: history and webhook receivers may still name it. Events copy
  // what they need from the rule and the device (name, condition), so history survives edits
  // and deletions. One settings row: the webhook URL.
  `
  CREATE TABLE alert_rules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    device_id  TEXT,                           -- NULL: every device
    kind       TEXT    NOT NULL,               -- 'threshold' | 'offline'
    metric     TEXT,                           -- threshold: a metric name or a glob with * segments
    op         TEXT,                           -- threshold: 'above' | 'below'
    value      REAL,                           -- threshold: the value crossed
    for_ms     INTEGER NOT NULL,               -- how long the condition must hold before firing
    created_at INTEGER NOT NULL,               -- hub clock, ms
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE alert_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id     INTEGER,                      -- resolved rows: the firing row they end; NULL on firing rows
    rule_id      INTEGER NOT NULL,
    rule_name    TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    op           TEXT,
    threshold    REAL,
    for_ms       INTEGER NOT NULL,
    device_id    TEXT    NOT NULL,
    device_name  TEXT    NOT NULL,
    metric       TEXT,                         -- NULL for offline alerts
    state        TEXT    NOT NULL,             -- 'firing' | 'resolved'
    value        REAL,
    started_at   INTEGER NOT NULL,             -- hub clock, ms
    resolved_at  INTEGER,                      -- set on a firing row when it ends, and on its resolved row
    note         TEXT,
    delivery     TEXT    NOT NULL,             -- 'none' | 'pending' | 'retrying' | 'delivered' | 'failed'
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    delivered_at INTEGER
  );
  CREATE INDEX alert_events_open ON alert_events (rule_id) WHERE state = 'firing' AND resolved_at IS NULL;
  CREATE INDEX alert_events_by_device ON alert_events (device_id, id);
  CREATE INDEX alert_events_by_rule ON alert_events (rule_id, id);
  CREATE INDEX alert_events_undelivered ON alert_events (id) WHERE delivery IN ('pending', 'retrying');
  CREATE TABLE alert_settings (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    webhook_url TEXT,
    updated_at  INTEGER NOT NULL
  );
  `,
  // 9: experiments an engineer can publish. Per experiment: the warm-up it asked for, its first
  // call's latency, the run conditions the agent read at its start (JSON, shared/conditions.ts)
  // and the timings the agent reported it could not count; quality scores in their own table;
  // warm-up timings merged into one histogram per (experiment, model), apart from the measured
  // per-second rows so no measured figure ever includes them.
  `
  ALTER TABLE experiments ADD COLUMN warmup TEXT;          -- JSON {calls} or {ms}; NULL: none
  ALTER TABLE experiments ADD COLUMN first_call_ms REAL;
  ALTER TABLE experiments ADD COLUMN measured_from INTEGER; -- device clock, ms: end of the warm-up
  ALTER TABLE experiments ADD COLUMN conditions TEXT;      -- JSON RunConditions; NULL: not reported
  ALTER TABLE experiments ADD COLUMN dropped INTEGER;      -- NULL: the agent did not report drops
  CREATE TABLE experiment_scores (
    experiment_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    value         REAL NOT NULL,
    better        TEXT NOT NULL,                 -- 'higher' | 'lower'
    PRIMARY KEY (experiment_id, name)
  ) WITHOUT ROWID;
  CREATE TABLE inference_warmup (
    device_num    INTEGER NOT NULL,
    experiment_id TEXT    NOT NULL,
    model_id      INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    sum           REAL    NOT NULL,
    sum_sq        REAL    NOT NULL,
    min           REAL    NOT NULL,
    max           REAL    NOT NULL,
    items         INTEGER NOT NULL,
    buckets       BLOB    NOT NULL,
    PRIMARY KEY (device_num, experiment_id, model_id)
  ) WITHOUT ROWID;
  `,
  // 10: the Prometheus remote-write outbox (dashboard/store/remote-write-queue.ts). One row per
  // committed batch, written in the batch's own transaction while a destination is configured,
  // so a sample is either committed and queued or neither. Each destination's cursor is the last
  // row it has had accepted; rows go once every configured destination is past them.
  `
  CREATE TABLE remote_write_outbox (
    -- AUTOINCREMENT: ids are never reused, even after the queue empties, so a cursor can never
    -- point past rows written later.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_num   INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,             -- hub clock, ms
    t_first      INTEGER NOT NULL,             -- device clock as stored (corrected), ms
    t_last       INTEGER NOT NULL,
    n_values     INTEGER NOT NULL,             -- metric values in the batch
    -- Running sums up to and including this row: what lies between two rows is a subtraction,
    -- not a scan (pending counts and the size cap).
    total_values INTEGER NOT NULL,
    total_bytes  INTEGER NOT NULL,
    samples      BLOB    NOT NULL              -- the batch's {t, m}, remote-write-codec.ts
  );
  CREATE TABLE remote_write_cursors (
    destination TEXT    PRIMARY KEY,
    last_id     INTEGER NOT NULL,              -- outbox id of the last row accepted (0: none)
    received_at INTEGER,                       -- hub clock of that row: the destination's lag
    updated_at  INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 11: the webhook signing secret (dashboard/server/alerts/webhook-signature.ts): created on
  // first need, replaced on rotation, never returned by GET /api/v1/alerts/settings.
  `
  ALTER TABLE alert_settings ADD COLUMN signing_secret TEXT;
  ALTER TABLE alert_settings ADD COLUMN signing_secret_created_at INTEGER;  -- hub clock, ms
  `,
  // 12: experiment snapshots (dashboard/server/experiment-snapshots.ts). The comparison figures
  // of an ended experiment (everything compare shows, also the ones taken from raw samples:
  // CPU/GPU, power, energy, temperatures, throttling), computed at its end and again when late
  // data for its window arrives, so compare never depends on raw retention. SQL cannot compute
  // them: the hub snapshots every ended experiment that lacks one when it opens the store.
  `
  CREATE TABLE experiment_snapshots (
    experiment_id TEXT    PRIMARY KEY,
    computed_at   INTEGER NOT NULL,             -- hub clock, ms
    format        INTEGER NOT NULL,             -- version of the figures' JSON shape
    source        TEXT    NOT NULL,             -- 'raw' | 'rollup': what the figures were taken from
    figures       TEXT    NOT NULL              -- JSON
  ) WITHOUT ROWID;
  `,
  // 13: how an experiment ended. NULL: its agent ended it; 'timeout': its agent never came back
  // and the hub closed it (dashboard/server/experiment-timeout.ts).
  `
  ALTER TABLE experiments ADD COLUMN ended_by TEXT;
  `,
  // 14: demo devices (edgewatch demo): a replayed fleet, marked everywhere it shows.
  `
  ALTER TABLE devices ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
  `,
  // 15: clock steps the hub saw in a device's batches (dashboard/server/clock.ts): a device
  // whose clock was wrong, then fixed, while batches waited in its spool. Kept so the device
  // page can say which samples were re-timed and by how much.
  `
  CREATE TABLE clock_events (
    device_num  INTEGER NOT NULL,
    at          INTEGER NOT NULL,             -- hub clock, ms, when the step was seen
    step_ms     INTEGER NOT NULL,             -- device wall clock jump (negative: backwards)
    samples     INTEGER NOT NULL,             -- samples re-timed because of it
    first_t     INTEGER,                      -- re-timed range, hub timeline, ms
    last_t      INTEGER,
    PRIMARY KEY (device_num, at)
  ) WITHOUT ROWID;
  `,
  // 16: running experiments, for the hub's experiment timeout (dashboard/server/experiment-
  // timeout.ts): its periodic sweep reads only experiments without an end, however many ended.
  `
  CREATE INDEX experiments_running ON experiments (device_num) WHERE "end" IS NULL;
  `,
];

export function migrate(db: Database): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${from} is newer than this edgewatch knows (${MIGRATIONS.length}); upgrade edgewatch or point --data at another directory`,
    );
  }
  for (let version = from; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return { from, to: MIGRATIONS.length };
}
