// One destination's loop: read the outbox after this destination's cursor, build requests of
// at most batchSamples values in commit order, POST them, and move the cursor only once the
// receiver accepted (2xx). Delivery is at least once: a request accepted just before the hub
// was killed is sent again after restart, from the durable cursor. Prometheus and Mimir take a
// sample identical to one they have (same series, timestamp and value) as a no-op;
// VictoriaMetrics keeps it twice unless -dedup.minScrapeInterval is set (docs/scaling.md).
//
//   5xx, 429, 408, network errors → the same request again after exponential backoff (or the
//     receiver's Retry-After), for as long as it takes: nothing is dropped.
//   other 4xx, and a 5xx whose message is a TSDB verdict on a sample ("too old sample", "out of
//   order sample": Prometheus 2.42 answers those with 500) → the receiver will never take the
//   request as it is: it is split in halves
//     (series-wise) and each half sent, down to single series, so only the series the receiver
//     refuses are dropped, counted in `failed` and logged with its reason.
//   401/403/404/redirects → a setup problem, not bad data: kept and retried at the slowest pace.
import type { Logger } from '../../../shared/log.js';
import { metricGlobMatches } from '../../../shared/alerts.js';
import type { OutboxRow, RemoteWriteQueue } from '../../store/remote-write-queue.js';
import type { Destination } from './config.js';
import { encodeWriteRequest, metricSeries, seriesLabels, seriesText, type TimeSeries } from './encode.js';
import type { DestinationStats } from './status.js';
import { Transport, type Outcome } from './transport.js';

/** Outbox rows read per query while filling a request. */
const READ_ROWS = 64;
/**
 * Rows held in memory at most: a destination whose filters leave little of each row must not
 * read a whole backlog in one go (memory, and the event loop) to fill one request.
 */
const MAX_ROWS_IN_MEMORY = 1024;
/** A Retry-After beyond this is taken as this: a receiver cannot park the queue for a day. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Of a run of failed attempts, every this-many-th is logged at warn (the first always). */
const LOG_EVERY_FAILURES = 10;

export interface DeviceInfo {
  id: string;
  name: string;
}

/** Device num → identity, as the outbox rows only carry the num. */
export interface DeviceDirectory {
  get(num: number): DeviceInfo | undefined;
}

export interface SenderOptions {
  /** How often an idle sender looks at the queue without being woken by an append; default 1000 ms. */
  pollMs?: number;
  userAgent: string;
}

interface Point {
  metric: string;
  t: number;
  v: number;
}

/** A row read from the outbox, its wanted values taken into requests from `offset` on. */
interface ReadRow {
  id: number;
  receivedAt: number;
  deviceNum: number;
  device: DeviceInfo;
  points: Point[];
  offset: number;
}

interface Request {
  series: TimeSeries[];
  values: number;
  /** The newest row all of whose values are in this or earlier requests: the cursor after it. */
  done: { id: number; receivedAt: number } | null;
}

class Stopped extends Error {}

export class Sender {
  private readonly transport: Transport;
  private readonly abort = new AbortController();
  private readonly log: Logger;
  private readonly pollMs: number;
  /** Rows read but not all sent, oldest first. */
  private rows: ReadRow[] = [];
  /** The last outbox id read into `rows`. */
  private readId: number;
  /** The newest row fully handed to requests that were accepted or dropped; not yet durable. */
  private doneRow: { id: number; receivedAt: number } | null = null;
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private tokens: number;
  private refilledAt = Date.now();
  private failures = 0;
  private readonly wanted = new Map<string, boolean>();

  constructor(
    readonly dest: Destination,
    private readonly queue: RemoteWriteQueue,
    private readonly devices: DeviceDirectory,
    readonly stats: DestinationStats,
    log: Logger,
    opts: SenderOptions,
  ) {
    this.transport = new Transport(dest, opts.userAgent);
    this.log = log.child({ destination: dest.name, url: dest.displayUrl });
    this.pollMs = opts.pollMs ?? 1000;
    this.readId = queue.cursor(dest.name).lastId;
    this.tokens = dest.maxSamplesPerSecond;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New rows were queued: an idle sender looks now rather than at its next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /**
   * The size cap dropped rows up to `id` (their values are counted as failed by the caller):
   * forget those still waiting in memory. A request already in flight finishes.
   */
  skipTo(id: number): void {
    this.rows = this.rows.filter((r) => r.id > id);
    if (this.readId < id) this.readId = id;
  }

  /** Stops at once: an in-flight request is aborted and nothing more is sent (its rows stay queued). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wakeUp?.();
    await this.loop;
    this.transport.close();
  }

  private async run(): Promise<void> {
    let lingered = false;
    while (!this.stopped) {
      try {
        const caughtUp = this.fill();
        const available = this.available();
        if (available === 0) {
          // Rows with nothing for this destination (filtered out) are done as soon as read.
          this.doneRow = this.take(0).done ?? this.doneRow;
          this.persist();
          lingered = false;
          // More rows to look at: go on, letting the event loop (ingest) run in between.
          if (!caughtUp) await new Promise((resolve) => setImmediate(resolve));
          else await this.pause(this.pollMs, true);
          continue;
        }
        // A part-filled request at the end of the queue waits a moment for more rows: fewer, bigger requests.
        if (caughtUp && available < this.dest.batchSamples && !lingered && this.dest.batchWaitMs > 0) {
          lingered = true;
          await this.pause(this.dest.batchWaitMs, false);
          continue;
        }
        lingered = false;
        const req = this.take(this.dest.batchSamples);
        await this.throttle(req.values);
        await this.send(req);
        if (req.done) this.doneRow = req.done;
        this.persist();
      } catch (err) {
        if (err instanceof Stopped || this.stopped) break;
        // The database (a read, or the cursor write) failed: keep what is in memory, try again.
        this.log.error({ err }, 'remote write: reading the queue or saving the cursor failed; trying again');
        this.stats.error(`queue error: ${(err as Error).message}`);
        await this.pause(this.dest.maxBackoffMs, false).catch(() => {});
      }
    }
  }

  /**
   * Reads rows until a full request is in memory, MAX_ROWS_IN_MEMORY are, or the queue is
   * exhausted; true in that last case (all queued rows are in memory).
   */
  private fill(): boolean {
    while (this.available() < this.dest.batchSamples && this.rows.length < MAX_ROWS_IN_MEMORY) {
      const rows = this.queue.rowsAfter(this.readId, READ_ROWS);
      for (const row of rows) {
        this.readId = row.id;
        this.rows.push(this.toReadRow(row));
      }
      if (rows.length < READ_ROWS) return true;
    }
    return false;
  }

  private available(): number {
    let n = 0;
    for (const r of this.rows) n += r.points.length - r.offset;
    return n;
  }

  private toReadRow(row: OutboxRow): ReadRow {
    const device = this.devices.get(row.deviceNum) ?? { id: `device-${row.deviceNum}`, name: '' };
    const read: ReadRow = { id: row.id, receivedAt: row.receivedAt, deviceNum: row.deviceNum, device, points: [], offset: 0 };
    if (row.error !== undefined) {
      this.stats.failed += row.nValues;
      this.stats.error(row.error);
      this.log.error({ row: row.id, values: row.nValues }, `${row.error}; its values are skipped`);
      return read;
    }
    if (this.dest.devices && !this.dest.devices.has(device.id)) return read;
    for (const s of row.samples) for (const metric in s.m) if (this.wants(metric)) read.points.push({ metric, t: s.t, v: s.m[metric]! });
    return read;
  }

  private wants(metric: string): boolean {
    let yes = this.wanted.get(metric);
    if (yes === undefined) {
      const { include, exclude } = this.dest;
      yes = (include === null || include.some((g) => metricGlobMatches(g, metric))) && !exclude.some((g) => metricGlobMatches(g, metric));
      // Bounded: names come from agents.
      if (this.wanted.size < 100_000) this.wanted.set(metric, yes);
    }
    return yes;
  }

  /** Takes up to `max` values from the rows in memory, in commit order, grouped into series. */
  private take(max: number): Request {
    const bySeries = new Map<string, TimeSeries>();
    let values = 0;
    let done: Request['done'] = null;
    while (this.rows.length > 0) {
      const row = this.rows[0]!;
      const name = this.dest.nameLabel ? row.device.name : undefined;
      while (row.offset < row.points.length && values < max) {
        const p = row.points[row.offset++]!;
        const key = `${row.device.id}\u0000${name ?? ''}\u0000${p.metric}`;
        let series = bySeries.get(key);
        if (!series) bySeries.set(key, (series = { labels: seriesLabels(p.metric, row.device.id, name), samples: [] }));
        series.samples.push({ value: metricSeries(p.metric).convert(p.v), timestamp: p.t });
        values++;
      }
      if (row.offset < row.points.length) break;
      this.rows.shift();
      done = { id: row.id, receivedAt: row.receivedAt };
    }
    const series = [...bySeries.values()];
    // The protocol wants each series' samples in time order; commit order almost always is,
    // but a batch may carry samples out of order. (Stable: equal times keep commit order.)
    for (const s of series) if (!isSorted(s)) s.samples.sort((a, b) => a.timestamp - b.timestamp);
    return { series, values, done };
  }

  /** Makes the cursor durable up to the last row done. */
  private persist(): void {
    if (this.doneRow === null) return;
    this.queue.advance(this.dest.name, this.doneRow.id, this.doneRow.receivedAt);
    this.doneRow = null;
  }

  /**
   * Delivers a request. Its rows have left memory, so an unexpected error (a bug: the transport
   * never throws) must not leave them silently behind a cursor that moves on: they are counted
   * as failed and logged.
   */
  private async send(req: Request): Promise<void> {
    try {
      await this.deliver(req.series);
    } catch (err) {
      if (err instanceof Stopped) throw err;
      this.stats.failed += req.values;
      this.stats.error(`internal error sending ${req.values} samples: ${(err as Error).message}`);
      this.log.error({ err, samples: req.values }, 'remote write: could not send a request; its samples are dropped');
    }
  }

  /** Sends series until the receiver took them or refused the bad ones for good; throws Stopped. */
  private async deliver(series: TimeSeries[]): Promise<void> {
    if (series.length === 0) return;
    const values = series.reduce((n, s) => n + s.samples.length, 0);
    const body = encodeWriteRequest(series);
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Stopped();
      const outcome = await this.transport.post(body, this.abort.signal);
      if (this.stopped) throw new Stopped();
      if (outcome.kind === 'sent') {
        this.sent(values);
        return;
      }
      if (outcome.kind === 'reject') {
        if (series.length === 1) return this.drop(series[0]!, values, outcome.error);
        const half = Math.ceil(series.length / 2);
        this.log.debug({ series: series.length, error: outcome.error }, 'remote write refused a request: sending each half to find the bad series');
        await this.deliver(series.slice(0, half));
        await this.deliver(series.slice(half));
        return;
      }
      await this.pause(this.retryDelay(outcome, attempt), false);
    }
  }

  private sent(values: number): void {
    this.stats.sent += values;
    this.stats.lastSentAt = Date.now();
    if (this.failures > 0) this.log.info({ failedAttempts: this.failures }, 'remote write: the receiver accepts requests again');
    this.failures = 0;
  }

  private drop(series: TimeSeries, values: number, error: string): void {
    const what = seriesText(series.labels);
    this.stats.failed += values;
    this.stats.error(`${error} (dropped ${values} sample${values === 1 ? '' : 's'} of ${what})`);
    this.log.warn({ series: what, samples: values, error }, 'remote write: the receiver refused a series for good; its samples in this request are dropped, the rest is sent');
  }

  /** Counts and logs a failed attempt; the wait before the next one. */
  private retryDelay(outcome: Exclude<Outcome, { kind: 'sent' } | { kind: 'reject' }>, attempt: number): number {
    this.stats.retries++;
    this.stats.error(outcome.error);
    let wait: number;
    if (outcome.kind === 'misconfigured') wait = this.dest.maxBackoffMs;
    else if (outcome.retryAfterMs !== null) wait = Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS);
    else wait = Math.min(this.dest.maxBackoffMs, this.dest.minBackoffMs * 2 ** Math.min(attempt, 30));
    if (this.failures++ % LOG_EVERY_FAILURES === 0) {
      this.log.warn({ error: outcome.error, retryInMs: wait, failedAttempts: this.failures }, 'remote write failed; the samples stay queued and are sent again');
    }
    return wait;
  }

  /** Keeps the catch-up rate at maxSamplesPerSecond (a one-second burst), so ingest keeps its share. */
  private async throttle(values: number): Promise<void> {
    const rate = this.dest.maxSamplesPerSecond;
    const now = Date.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    this.tokens -= values;
    if (this.tokens < 0) await this.pause((-this.tokens / rate) * 1000, false);
  }

  /** Waits `ms`, less when stopped or (with `wakeable`) when rows are appended. */
  private pause(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const signal = this.abort.signal;
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        if (this.wakeUp === finish) this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      signal.addEventListener('abort', finish, { once: true });
      if (wakeable) this.wakeUp = finish;
    });
  }
}

function isSorted(s: TimeSeries): boolean {
  for (let i = 1; i < s.samples.length; i++) if (s.samples[i]!.timestamp < s.samples[i - 1]!.timestamp) return false;
  return true;
}
