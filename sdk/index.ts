// edgewatch/sdk: report inference timings from your own Node code to the edgewatch agent on the
// same device (wire format: shared/inference.ts).
//
//   import { createClient } from 'edgewatch/sdk';
//   const ew = createClient();                       // UDP to 127.0.0.1:7262
//   const out = await ew.time('resnet18-int8', () => model.run(input), { batch: 8 });
//   ew.record('yolo-n', 12.4, { tags: { device: 'gpu' } });
//   const id = await ew.startExperiment({ name: 'int8', warmup: { calls: 20 } });
//   ew.score('top1', 0.912);                         // quality beside speed, into the open experiment
//   await ew.endExperiment(id!);
//
// Promises this module keeps:
//  - It never throws into the caller and never blocks it. record() validates, encodes one line
//    and appends it to a bounded buffer; a flush every `flushMs` (10 ms) sends the buffer as one
//    UDP datagram of at most 8 KiB (more datagrams when more lines are waiting) or as one
//    HTTP POST /v1/timings. Timings that cannot be sent are counted in stats().dropped.
//  - Nothing it holds keeps the process alive: the UDP socket, the timers and idle keep-alive
//    sockets are unref'd. A flush is attempted on 'beforeExit'; call `await ew.close()` (or
//    `await ew.flush()`) before process.exit() to be sure the last timings leave.
//  - Buffers are bounded: beyond `maxPending` (10,000) waiting timings the oldest are dropped.
//  - Invalid input (a model name outside [A-Za-z0-9_.:/@+-]{1,128}, a negative or non-finite
//    latency, a bad batch, tag key or tag value) is dropped and counted (stats().invalid, and in
//    stats().dropped), never thrown.
//  - time() records successes only: when fn throws or its promise rejects, nothing is recorded
//    and the caller gets the very same error.
//  - score() goes over HTTP (POST /v1/experiments/<id>/scores, whatever the transport) to the
//    open experiment, fire-and-forget: scores of one tick travel in one request, requests go one
//    after the other (a later score of the same name replaces an earlier one), and flush(),
//    endExperiment() and close() wait for them, so they reach the agent before the experiment
//    ends. A score without an open experiment, or an invalid one, is dropped and counted.
//
// This file is bundled on its own into dist/sdk.mjs; it imports nothing but Node built-ins, and
// in particular not shared/inference.ts (that would bring zod along). The encoder below must
// stay the inverse of parseTimingLine there; test/sdk checks it against the real receiver.
import { createSocket, type Socket } from 'node:dgram';
import { Agent, request } from 'node:http';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';

export const INFERENCE_DEFAULT_PORT = 7262;
export const MAX_DATAGRAM_BYTES = 8192;
export const MAX_TIMINGS_PER_REQUEST = 10_000;
/** Copied from shared/inference.ts (kept equal by test/sdk). */
export const MODEL_NAME_RE = /^[A-Za-z0-9_.:/@+-]{1,128}$/;
export const EXPERIMENT_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const TAG_KEY_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** Copied from shared/inference.ts (kept equal by test/sdk): free text without control characters. */
export const SCORE_NAME_RE = /^[^\u0000-\u001f\u007f]{1,64}$/u;
/** The agent takes at most this many scores per request (and per experiment). */
const MAX_SCORES_PER_REQUEST = 32;
/** Scores waiting to be sent; beyond it new ones are dropped. */
const MAX_PENDING_SCORES = 256;
const MAX_WARMUP_CALLS = 1_000_000;
const MAX_WARMUP_MS = 86_400_000;
const MAX_TAGS = 32;
const MAX_TAG_VALUE = 256;
const MAX_LATENCY_MS = 86_400_000;
const MAX_BATCH = 1_000_000;
/** The agent takes bodies up to 1 MiB; a request stops growing past this. */
const MAX_HTTP_BODY_BYTES = 900 * 1024;

export type Transport = 'udp' | 'http';

export interface ClientOptions {
  /** Agent address; 127.0.0.1 by default. */
  host?: string;
  /** Agent inference port: EDGEWATCH_INFERENCE_PORT, else 7262. */
  port?: number;
  /** 'udp' (default: fire-and-forget datagrams) or 'http' (POST /v1/timings batches). */
  transport?: Transport;
  /**
   * Experiment id every timing carries when no experiment started by this client is open:
   * EDGEWATCH_EXPERIMENT by default. Pass null to ignore the environment.
   */
  experiment?: string | null;
  /** How long a timing may wait in the buffer before it is sent, ms (10). */
  flushMs?: number;
  /** Most timings waiting to be sent; beyond it the oldest are dropped (10,000). */
  maxPending?: number;
  /** Timeout of each HTTP request, ms (1000). */
  timeoutMs?: number;
}

export interface RecordOptions {
  /** Items the call processed (images, tokens…); 1 when absent. */
  batch?: number;
  /** Up to 32 tags; keys of [A-Za-z0-9_.-]{1,64}, values up to 256 characters. */
  tags?: Record<string, string | number | boolean>;
  /** When the call ended, ms since the epoch; the agent's receive time when absent. */
  t?: number;
  /** Experiment id for this timing only (overrides the open experiment); null for none. */
  experiment?: string | null;
}

/**
 * Which first timings of an experiment are warm-up, kept apart from the measured figures:
 * `{ calls: 20 }` the first 20 timings of each model, `{ ms: 5000 }` those that end within
 * 5 s of the experiment's start.
 */
export type Warmup = { calls: number } | { ms: number };

export interface ExperimentOptions {
  name: string;
  tags?: Record<string, string | number | boolean>;
  /** Parameter count of the model under test. */
  params?: number;
  /** Size of the model file or weights, bytes. */
  modelBytes?: number;
  /** The experiment's warm-up (none by default): `{ calls: 20 }` or `{ ms: 5000 }`. */
  warmup?: Warmup;
}

export interface ScoreOptions {
  /** Which way is better: 'higher' (default; top-1, mAP) or 'lower' (WER, perplexity). */
  better?: 'higher' | 'lower';
  /** The experiment the score belongs to; the open one (see `experiment`) when absent. */
  experiment?: string;
}

export interface ClientStats {
  /**
   * Timings handed to the agent (UDP: datagrams the OS accepted and did not report refused; HTTP:
   * accepted), and scores the agent took.
   */
  sent: number;
  /**
   * Timings and scores that will never reach the agent: invalid, over the buffer bound, refused,
   * failed, after close(); scores also without an open experiment, or for one the agent does not know.
   */
  dropped: number;
  /** Failed sends: refused or failed datagrams, failed or timed-out HTTP requests, non-2xx answers. */
  errors: number;
  /** The part of `dropped` that was invalid input. */
  invalid: number;
  /** Timings waiting in the buffer now. */
  pending: number;
}

export interface EdgewatchClient {
  /** Records one inference call of `latencyMs` ms. Returns at once; never throws. */
  record(model: string, latencyMs: number, opts?: RecordOptions): void;
  /**
   * Runs fn, records its wall time when it returns (or, for a promise, when it resolves), and
   * returns its result; a promise result comes back as a promise settling the same way. A throw
   * or rejection is passed through untouched and nothing is recorded.
   */
  time<T>(model: string, fn: () => T, opts?: RecordOptions): T;
  /**
   * Reports a quality figure (top-1, mAP, WER…) of the experiment open now (`experiment`: the one
   * startExperiment() opened, else EDGEWATCH_EXPERIMENT) or of `opts.experiment`. Returns at once,
   * never throws; sent before endExperiment() ends it. Names: 1–64 characters without control
   * characters; value: a finite number. Without an experiment, or when invalid, dropped and counted.
   */
  score(name: string, value: number, opts?: ScoreOptions): void;
  /**
   * Starts an experiment (POST /v1/experiments): its id, or null when the agent cannot be
   * reached or refuses. While it is open, this client's timings carry it. Never rejects.
   */
  startExperiment(opts: ExperimentOptions): Promise<string | null>;
  /** Sends the waiting timings, then ends the experiment (POST /v1/experiments/<id>/end): true when the agent confirmed. Never rejects. */
  endExperiment(id: string): Promise<boolean>;
  /** The experiment id timings carry now, if any. */
  readonly experiment: string | undefined;
  stats(): ClientStats;
  /** Sends everything buffered now (timings and scores); resolves when those sends finished (or failed). Never rejects. */
  flush(): Promise<void>;
  /** Flushes, then releases the socket; later record() calls are dropped. Never rejects. */
  close(): Promise<void>;
}

interface Pending {
  /** The UDP line ('' over HTTP) and its size in a datagram, newline included. */
  line: string;
  bytes: number;
  timing: WireTiming;
}

/** One timing as it travels (the shape of Timing in shared/inference.ts). */
export interface WireTiming {
  model: string;
  latencyMs: number;
  batch?: number;
  experiment?: string;
  t?: number;
  tags?: Record<string, string>;
}

function envPort(): number {
  const raw = process.env.EDGEWATCH_INFERENCE_PORT;
  const port = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : INFERENCE_DEFAULT_PORT;
}

function validExperiment(id: unknown): string | undefined {
  return typeof id === 'string' && EXPERIMENT_ID_RE.test(id) ? id : undefined;
}

/** A warm-up as the wire wants it, or null when invalid (absent keys with undefined values are ignored). */
function cleanWarmup(warmup: unknown): Warmup | null {
  if (warmup === null || typeof warmup !== 'object' || Array.isArray(warmup)) return null;
  const entries = Object.entries(warmup).filter(([, v]) => v !== undefined);
  if (entries.length !== 1) return null;
  const [key, value] = entries[0]!;
  if (typeof value !== 'number') return null;
  if (key === 'calls') return Number.isInteger(value) && value >= 1 && value <= MAX_WARMUP_CALLS ? { calls: value } : null;
  if (key === 'ms') {
    const ms = Math.round(value);
    return ms >= 1 && ms <= MAX_WARMUP_MS ? { ms } : null;
  }
  return null;
}

/** One score as it travels (the shape of Score in shared/inference.ts). */
interface WireScore {
  name: string;
  value: number;
  better: 'higher' | 'lower';
}

/** Tags as the wire wants them, or null when one is invalid. */
function cleanTags(tags: RecordOptions['tags'], forUdp: boolean): Record<string, string> | null | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (typeof tags !== 'object') return null;
  const keys = Object.keys(tags);
  if (keys.length === 0) return undefined;
  if (keys.length > MAX_TAGS) return null;
  const out: Record<string, string> = {};
  for (const key of keys) {
    const raw = tags[key];
    if (!TAG_KEY_RE.test(key) || (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')) return null;
    // Whitespace separates UDP fields: the same replacement as formatTimingLine.
    const value = forUdp ? String(raw).replace(/\s+/g, '_') : String(raw);
    if (value.length > MAX_TAG_VALUE) return null;
    out[key] = value;
  }
  return out;
}

/** Latency with at most 4 decimals (0.1 µs): short lines, no exponent notation. */
function roundLatency(ms: number): number {
  return Math.round(ms * 1e4) / 1e4;
}

/** One timing as a UDP line; the inverse of parseTimingLine in shared/inference.ts. */
export function encodeTimingLine(t: WireTiming): string {
  let line = `ew1 ${t.model} ${t.latencyMs}`;
  if (t.batch !== undefined && t.batch !== 1) line += ` b=${t.batch}`;
  if (t.experiment !== undefined) line += ` x=${t.experiment}`;
  if (t.t !== undefined) line += ` t=${t.t}`;
  if (t.tags) for (const [k, v] of Object.entries(t.tags)) line += ` #${k}=${v}`;
  return line;
}

class Client implements EdgewatchClient {
  private readonly host: string;
  private readonly port: number;
  private readonly transport: Transport;
  private readonly baseExperiment: string | undefined;
  private readonly flushMs: number;
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  /** Experiments started by this client and not yet ended, oldest first. */
  private readonly open: string[] = [];

  // The buffer: a queue with a moving head (dropping the oldest is O(1)).
  private queue: Pending[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  private counts = { sent: 0, dropped: 0, errors: 0, invalid: 0 };
  private closed = false;

  // UDP
  private socket: Socket | undefined;
  private socketState: 'none' | 'connecting' | 'ready' | 'failed' = 'none';
  /** Lines of the datagrams sent most recently, oldest first: a refusal takes back the oldest. */
  private recentDatagrams: number[] = [];

  // HTTP
  private agent: Agent | undefined;
  private inFlight: Promise<void> | undefined;

  // Scores: a queue sent by one drain at a time (in order), each request one experiment's.
  private scoreQueue: { experiment: string; score: WireScore }[] = [];
  private scoreDrain: Promise<void> | undefined;

  private readonly onBeforeExit = (): void => {
    if (this.size() > 0) void this.flush();
  };

  constructor(opts: ClientOptions = {}) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port !== undefined && Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536 ? opts.port : envPort();
    this.transport = opts.transport === 'http' ? 'http' : 'udp';
    this.baseExperiment = validExperiment(opts.experiment === undefined ? process.env.EDGEWATCH_EXPERIMENT : (opts.experiment ?? undefined));
    this.flushMs = typeof opts.flushMs === 'number' && opts.flushMs >= 0 && Number.isFinite(opts.flushMs) ? opts.flushMs : 10;
    this.maxPending = typeof opts.maxPending === 'number' && opts.maxPending >= 1 ? Math.floor(opts.maxPending) : 10_000;
    this.timeoutMs = typeof opts.timeoutMs === 'number' && opts.timeoutMs > 0 ? opts.timeoutMs : 1000;
    process.on('beforeExit', this.onBeforeExit);
  }

  get experiment(): string | undefined {
    return this.open[this.open.length - 1] ?? this.baseExperiment;
  }

  record(model: string, latencyMs: number, opts?: RecordOptions): void {
    try {
      this.add(model, latencyMs, opts);
    } catch {
      // A getter on opts that throws, or anything else unforeseen: drop, never throw.
      this.counts.dropped++;
      this.counts.invalid++;
    }
  }

  private add(model: string, latencyMs: number, opts: RecordOptions | undefined): void {
    if (this.closed) {
      this.counts.dropped++;
      return;
    }
    const batch = opts?.batch;
    const t = opts?.t;
    const experiment = opts?.experiment === undefined ? this.experiment : validExperiment(opts.experiment);
    const tags = cleanTags(opts?.tags, this.transport === 'udp');
    if (
      typeof model !== 'string' ||
      !MODEL_NAME_RE.test(model) ||
      typeof latencyMs !== 'number' ||
      !(latencyMs >= 0 && latencyMs <= MAX_LATENCY_MS) ||
      (batch !== undefined && !(Number.isInteger(batch) && batch > 0 && batch <= MAX_BATCH)) ||
      (t !== undefined && !(typeof t === 'number' && t >= 0 && Number.isFinite(t))) ||
      (opts?.experiment !== undefined && opts.experiment !== null && experiment === undefined) ||
      tags === null
    ) {
      this.counts.dropped++;
      this.counts.invalid++;
      return;
    }
    const timing: WireTiming = { model, latencyMs: roundLatency(latencyMs) };
    if (batch !== undefined && batch !== 1) timing.batch = batch;
    if (experiment !== undefined) timing.experiment = experiment;
    if (t !== undefined) timing.t = Math.round(t);
    if (tags !== undefined) timing.tags = tags;
    const line = this.transport === 'udp' ? encodeTimingLine(timing) : '';
    // Bytes, not characters: tag values may be any Unicode.
    const bytes = this.transport === 'udp' ? Buffer.byteLength(line) + 1 : 0;
    if (bytes > MAX_DATAGRAM_BYTES) {
      this.counts.dropped++;
      this.counts.invalid++;
      return;
    }
    if (this.size() >= this.maxPending) {
      const old = this.queue[this.head]!;
      this.queuedBytes -= old.bytes;
      this.queue[this.head] = undefined as unknown as Pending;
      this.head++;
      this.counts.dropped++;
      if (this.head >= this.maxPending) {
        // Keep the array itself bounded while a loop that never yields keeps dropping.
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    }
    this.queue.push({ line, bytes, timing });
    this.queuedBytes += bytes;
    if (this.transport === 'udp' && this.queuedBytes >= MAX_DATAGRAM_BYTES && this.socketState === 'ready') {
      // A full datagram: send it now rather than holding more than 8 KiB.
      this.flushUdp();
    }
    if (this.size() > 0) this.schedule();
  }

  time<T>(model: string, fn: () => T, opts?: RecordOptions): T {
    const start = performance.now();
    const result = fn();
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      // Settle-through: the caller's promise resolves with fn's value or rejects with fn's own
      // error, and only a success is recorded.
      return Promise.resolve(result as unknown as PromiseLike<unknown>).then((value) => {
        this.record(model, performance.now() - start, opts);
        return value;
      }) as T;
    }
    this.record(model, performance.now() - start, opts);
    return result;
  }

  score(name: string, value: number, opts?: ScoreOptions): void {
    try {
      this.addScore(name, value, opts);
    } catch {
      // A getter on opts that throws, or anything else unforeseen: drop, never throw.
      this.counts.dropped++;
      this.counts.invalid++;
    }
  }

  private addScore(name: string, value: number, opts: ScoreOptions | undefined): void {
    if (this.closed) {
      this.counts.dropped++;
      return;
    }
    const better = opts?.better ?? 'higher';
    const explicit = opts?.experiment;
    const experiment = explicit === undefined ? this.experiment : validExperiment(explicit);
    if (
      typeof name !== 'string' ||
      !SCORE_NAME_RE.test(name) ||
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (better !== 'higher' && better !== 'lower') ||
      (explicit !== undefined && experiment === undefined)
    ) {
      this.counts.dropped++;
      this.counts.invalid++;
      return;
    }
    // No experiment open: nothing to attach the score to.
    if (experiment === undefined || this.scoreQueue.length >= MAX_PENDING_SCORES) {
      this.counts.dropped++;
      return;
    }
    this.scoreQueue.push({ experiment, score: { name, value, better } });
    this.drainScores();
  }

  /** Sends the queued scores, one request at a time; a no-op while a drain runs. */
  private drainScores(): void {
    if (this.scoreDrain) return;
    this.scoreDrain = (async () => {
      try {
        // Let the other score() calls of this tick join the first request.
        await Promise.resolve();
        for (;;) {
          if (this.scoreQueue.length === 0) break;
          // One experiment's scores, ≤ 32, and no name twice (a later one replaces it in the next request).
          const experiment = this.scoreQueue[0]!.experiment;
          const names = new Set<string>();
          let n = 0;
          while (n < this.scoreQueue.length && n < MAX_SCORES_PER_REQUEST) {
            const next = this.scoreQueue[n]!;
            if (next.experiment !== experiment || names.has(next.score.name)) break;
            names.add(next.score.name);
            n++;
          }
          const batch = this.scoreQueue.splice(0, n).map((q) => q.score);
          const res = await this.post(`/v1/experiments/${encodeURIComponent(experiment)}/scores`, { scores: batch });
          if (res && res.status >= 200 && res.status < 300) {
            this.counts.sent += batch.length;
          } else {
            this.counts.errors++;
            this.counts.dropped += batch.length;
          }
        }
      } catch {
        // never rejects
      }
      this.scoreDrain = undefined;
    })();
  }

  async startExperiment(opts: ExperimentOptions): Promise<string | null> {
    try {
      if (this.closed || !opts || typeof opts.name !== 'string' || opts.name.length < 1 || opts.name.length > 128) return null;
      const body: Record<string, unknown> = { name: opts.name };
      const tags = cleanTags(opts.tags, false);
      if (tags === null) return null;
      if (tags !== undefined) body.tags = tags;
      for (const key of ['params', 'modelBytes'] as const) {
        const v = opts[key];
        if (v === undefined) continue;
        if (!(Number.isInteger(v) && v >= 0)) return null;
        body[key] = v;
      }
      if (opts.warmup !== undefined) {
        const warmup = cleanWarmup(opts.warmup);
        if (warmup === null) return null;
        body.warmup = warmup;
      }
      const res = await this.post('/v1/experiments', body);
      const id = res && res.status >= 200 && res.status < 300 ? validExperiment((res.body as { id?: unknown } | null)?.id) : undefined;
      if (id === undefined) return null;
      this.open.push(id);
      return id;
    } catch {
      return null;
    }
  }

  async endExperiment(id: string): Promise<boolean> {
    try {
      const i = this.open.lastIndexOf(id);
      if (i >= 0) this.open.splice(i, 1);
      if (validExperiment(id) === undefined) return false;
      // Timings and scores recorded inside the experiment go first.
      await this.flush();
      const res = await this.post(`/v1/experiments/${encodeURIComponent(id)}/end`, {});
      return res !== null && res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }

  stats(): ClientStats {
    return { ...this.counts, pending: this.size() };
  }

  async flush(): Promise<void> {
    try {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (this.transport === 'udp') {
        if (this.size() === 0) return;
        await this.ensureSocket();
        await new Promise<void>((resolve) => this.flushUdp(resolve));
      } else {
        // Earlier requests first, then what is left (each request takes ≤ 10,000 timings).
        while (this.inFlight) await this.inFlight;
        while (this.size() > 0) await this.flushHttp();
      }
    } catch {
      // never rejects
    } finally {
      await this.flushScores();
    }
  }

  private async flushScores(): Promise<void> {
    try {
      while (this.scoreDrain) await this.scoreDrain;
    } catch {
      // never rejects
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } catch {
      // ignore
    }
    this.closed = true;
    process.off('beforeExit', this.onBeforeExit);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.size() + this.scoreQueue.length;
    if (left > 0) this.counts.dropped += left;
    this.scoreQueue = [];
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    const socket = this.socket;
    this.socket = undefined;
    this.socketState = 'failed';
    if (socket) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
    this.agent?.destroy();
    this.agent = undefined;
  }

  // ---- internals ----

  private size(): number {
    return this.queue.length - this.head;
  }

  /** Takes up to `max` timings (and up to `maxBytes` of lines) off the front of the queue. */
  private take(max: number, maxBytes: number): Pending[] {
    const out: Pending[] = [];
    let bytes = 0;
    while (this.head < this.queue.length && out.length < max) {
      const p = this.queue[this.head]!;
      if (bytes + p.bytes > maxBytes && out.length > 0) break;
      bytes += p.bytes;
      out.push(p);
      this.queue[this.head] = undefined as unknown as Pending;
      this.head++;
    }
    this.queuedBytes -= bytes;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.queuedBytes = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.transport === 'udp') {
        if (this.socketState === 'ready') this.flushUdp();
        else void this.ensureSocket().then(() => this.flushUdp());
      } else if (!this.inFlight) {
        void this.flushHttp();
      }
    }, this.flushMs);
    this.timer.unref();
  }

  private ensureSocket(): Promise<void> {
    if (this.socketState === 'ready' || this.socketState === 'failed') return Promise.resolve();
    if (!this.socket) {
      this.socketState = 'connecting';
      try {
        const socket = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
        this.socket = socket;
        socket.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
        socket.unref();
        this.connecting = new Promise<void>((resolve) => {
          // A connected socket: the kernel reports a refused datagram (nothing listening) as an
          // 'error' here, which is how an agent that is down shows up in stats().dropped.
          socket.connect(this.port, this.host, () => {
            if (this.socket === socket) this.socketState = 'ready';
            resolve();
          });
          socket.once('error', () => resolve());
        });
      } catch {
        this.socketState = 'failed';
        return Promise.resolve();
      }
    }
    return this.connecting ?? Promise.resolve();
  }

  private connecting: Promise<void> | undefined;

  private onSocketError(err: NodeJS.ErrnoException): void {
    this.counts.errors++;
    if (err.code === 'ECONNREFUSED') {
      // One refused datagram: the oldest one not yet accounted for.
      const lines = this.recentDatagrams.shift() ?? 0;
      this.counts.sent -= lines;
      this.counts.dropped += lines;
      return;
    }
    if (this.socketState === 'connecting') {
      // Could not connect (bad host…): everything queued and later goes to dropped.
      this.socketState = 'failed';
    }
  }

  /** Sends every queued line as datagrams of ≤ 8 KiB; `done` runs when the OS took them all. */
  private flushUdp(done?: () => void): void {
    let outstanding = 1;
    const finish = (): void => {
      if (--outstanding === 0) done?.();
    };
    try {
      if (this.socketState !== 'ready' || !this.socket) {
        if (this.socketState === 'failed') {
          const lost = this.take(Infinity, Infinity).length;
          this.counts.dropped += lost;
          if (lost > 0) this.counts.errors++;
        } else if (this.size() > 0) {
          this.schedule();
        }
        return;
      }
      while (this.size() > 0) {
        const batch = this.take(Infinity, MAX_DATAGRAM_BYTES);
        const payload = batch.map((p) => p.line).join('\n');
        const n = batch.length;
        outstanding++;
        try {
          this.socket.send(payload, (err) => {
            if (err) {
              this.counts.errors++;
              this.counts.dropped += n;
            } else {
              this.counts.sent += n;
              this.recentDatagrams.push(n);
              if (this.recentDatagrams.length > 64) this.recentDatagrams.shift();
            }
            finish();
          });
        } catch {
          outstanding--;
          this.counts.errors++;
          this.counts.dropped += n;
        }
      }
    } catch {
      // never throws
    } finally {
      finish();
    }
  }

  private flushHttp(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    // ≤ 10,000 timings and well under the agent's 1 MiB body limit per request.
    const parts: string[] = [];
    let bytes = 0;
    while (this.size() > 0 && parts.length < MAX_TIMINGS_PER_REQUEST && bytes < MAX_HTTP_BODY_BYTES) {
      const json = JSON.stringify(this.take(1, Infinity)[0]!.timing);
      parts.push(json);
      bytes += Buffer.byteLength(json) + 1;
    }
    if (parts.length === 0) return Promise.resolve();
    const batch = parts;
    const n = batch.length;
    const run = (async () => {
      const res = await this.post('/v1/timings', `{"timings":[${batch.join(',')}]}`);
      if (res && res.status >= 200 && res.status < 300) {
        const accepted = (res.body as { accepted?: unknown } | null)?.accepted;
        const ok = typeof accepted === 'number' && accepted >= 0 && accepted <= n ? accepted : n;
        this.counts.sent += ok;
        this.counts.dropped += n - ok;
      } else {
        this.counts.errors++;
        this.counts.dropped += n;
      }
    })();
    this.inFlight = run.finally(() => {
      this.inFlight = undefined;
      if (this.size() > 0) this.schedule();
    });
    return this.inFlight;
  }

  /** A JSON POST with a hard timeout: the status and parsed body, or null on any failure. */
  private post(path: string, body: unknown): Promise<{ status: number; body: unknown } | null> {
    return new Promise((resolve) => {
      try {
        this.agent ??= new Agent({ keepAlive: true, maxSockets: 4 });
        const data = typeof body === 'string' ? body : JSON.stringify(body);
        const req = request({
          host: this.host,
          port: this.port,
          method: 'POST',
          path,
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        });
        const timer = setTimeout(() => req.destroy(new Error('timeout')), this.timeoutMs);
        timer.unref();
        req.on('error', () => {
          clearTimeout(timer);
          resolve(null);
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= 1 << 20) chunks.push(c);
          });
          res.on('error', () => {
            clearTimeout(timer);
            resolve(null);
          });
          res.on('end', () => {
            clearTimeout(timer);
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              parsed = null;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        });
        req.end(data);
      } catch {
        resolve(null);
      }
    });
  }
}

/** A client for the agent on this device (see ClientOptions for the defaults). */
export function createClient(opts: ClientOptions = {}): EdgewatchClient {
  return new Client(opts);
}

let defaultClient: EdgewatchClient | undefined;

/** The client behind the module-level helpers, created on first use from the environment. */
export function getDefaultClient(): EdgewatchClient {
  defaultClient ??= createClient();
  return defaultClient;
}

/** record() on the default client: `record('resnet18-int8', 12.3, { batch: 8 })`. */
export function record(model: string, latencyMs: number, opts?: RecordOptions): void {
  try {
    getDefaultClient().record(model, latencyMs, opts);
  } catch {
    // never throws
  }
}

/** time() on the default client: `const y = await time('resnet18-int8', () => run(x))`. */
export function time<T>(model: string, fn: () => T, opts?: RecordOptions): T {
  return getDefaultClient().time(model, fn, opts);
}

/** score() on the default client: `score('top1', 0.912)`, into EDGEWATCH_EXPERIMENT or the experiment it started. */
export function score(name: string, value: number, opts?: ScoreOptions): void {
  try {
    getDefaultClient().score(name, value, opts);
  } catch {
    // never throws
  }
}

export function startExperiment(opts: ExperimentOptions): Promise<string | null> {
  return getDefaultClient().startExperiment(opts);
}

export function endExperiment(id: string): Promise<boolean> {
  return getDefaultClient().endExperiment(id);
}

/** Sends what the default client holds. */
export function flush(): Promise<void> {
  return defaultClient ? defaultClient.flush() : Promise.resolve();
}
