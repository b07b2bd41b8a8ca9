// The agent's side of the wire: connect, say hello, stream spooled batches with a bounded
// number in flight, forget a batch only when the hub acks it, and reconnect with backoff
// whenever the connection is lost. Everything unacked is resent after a reconnect; the hub
// recognises batches it already has, so that is safe.
import WebSocket from 'ws';
import type { Logger } from '../../shared/log.js';
import { HubMessageSchema, parseFrame, PROTOCOL_VERSION, type Hello, type Welcome } from '../../shared/protocol.js';
import { Backoff } from '../tools/backoff.js';
import type { Spool } from './spool.js';

export interface HubConnectionOptions {
  url: string;
  /** Called on every (re)connect: the hello reflects the agent's current inventory. */
  hello: () => Hello;
  spool: Spool;
  log: Logger;
  /** Batches sent but not yet acked, at most. */
  window?: number;
  backoff?: Backoff;
  onWelcome?: (welcome: Welcome) => void;
  /** A hub silent this long (no message, no ping) is presumed gone: reconnect. */
  silenceTimeoutMs?: number;
}

/** Pause after the hub says it cannot store right now (disk full): it keeps the batches. */
const STORE_RETRY_MS = 5_000;

export class HubConnection {
  private socket: WebSocket | null = null;
  private ready = false;
  private stopped = false;
  private readonly inFlight = new Set<number>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastHeard = 0;
  private readonly backoff: Backoff;
  private readonly window: number;
  /** Counters for logs and tests. */
  readonly stats = { connects: 0, acked: 0, sent: 0 };

  constructor(private readonly opts: HubConnectionOptions) {
    // Agents that lost the same hub spread their retries over ±50 % of each delay.
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5, healthyAfterMs: 0 });
    this.window = opts.window ?? 64;
  }

  get connected(): boolean {
    return this.ready;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Sends whatever the window allows. Call after pushing a batch to the spool. */
  pump(): void {
    const socket = this.socket;
    if (!this.ready || !socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() < this.pausedUntil) return;
    for (const batch of this.opts.spool.pending()) {
      if (this.inFlight.size >= this.window) break;
      if (this.inFlight.has(batch.seq)) continue;
      const frame = { type: 'batch', v: PROTOCOL_VERSION, seq: batch.seq, samples: batch.samples, ...(batch.dropped ? { dropped: batch.dropped } : {}) };
      socket.send(JSON.stringify(frame));
      this.inFlight.add(batch.seq);
      this.stats.sent++;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of [this.reconnectTimer, this.resumeTimer]) if (timer) clearTimeout(timer);
    if (this.watchdog) clearInterval(this.watchdog);
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000, 'agent stopping');
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const { log } = this.opts;
    const socket = new WebSocket(this.opts.url, { handshakeTimeout: 10_000, maxPayload: 1024 * 1024 });
    this.socket = socket;

    socket.on('open', () => {
      this.lastHeard = Date.now();
      socket.send(JSON.stringify(this.opts.hello()));
      this.startWatchdog(socket);
    });
    socket.on('ping', () => (this.lastHeard = Date.now()));
    socket.on('message', (data) => {
      this.lastHeard = Date.now();
      this.onMessage(data.toString());
    });
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      const wasReady = this.ready;
      this.ready = false;
      this.socket = null;
      this.inFlight.clear();
      if (this.watchdog) clearInterval(this.watchdog);
      if (this.stopped) return;
      const delay = this.backoff.next();
      const fields = { code, reason: reason.toString() || undefined, retryInMs: delay, unacked: this.opts.spool.batchCount };
      if (wasReady) log.warn(fields, 'lost the hub: reconnecting');
      else log.debug(fields, 'hub not reachable: retrying');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
    socket.on('error', (err) => {
      // 'close' follows and schedules the retry; only say what went wrong.
      log.debug({ err: err.message, url: this.opts.url }, 'hub connection error');
    });
  }

  private onMessage(raw: string): void {
    const { log, spool } = this.opts;
    const parsed = parseFrame(HubMessageSchema, raw);
    if (!parsed.ok) {
      log.warn({ code: parsed.code, reason: parsed.message }, 'ignoring invalid frame from hub');
      return;
    }
    const msg = parsed.value;
    switch (msg.type) {
      case 'welcome':
        this.ready = true;
        this.stats.connects++;
        this.backoff.reset();
        log.info({ url: this.opts.url, lastSeq: msg.lastSeq, backlog: spool.batchCount }, 'connected to hub');
        this.opts.onWelcome?.(msg);
        this.pump();
        break;
      case 'ack':
        this.inFlight.delete(msg.seq);
        spool.ack(msg.seq);
        this.stats.acked++;
        this.pump();
        break;
      case 'error':
        if (msg.seq !== undefined) this.inFlight.delete(msg.seq);
        if (msg.code === 'store_unavailable' || msg.code === 'internal') {
          // The batch stays spooled; try again shortly rather than hammering a full disk.
          log.warn({ code: msg.code, seq: msg.seq, message: msg.message }, 'hub could not store a batch: will resend');
          this.pauseSending(STORE_RETRY_MS);
        } else {
          // A batch the hub finds invalid would be refused forever: drop it, loudly.
          log.error({ code: msg.code, seq: msg.seq, message: msg.message }, 'hub rejected a frame');
          if (msg.seq !== undefined) spool.ack(msg.seq);
        }
        break;
    }
  }

  private pauseSending(ms: number): void {
    this.pausedUntil = Date.now() + ms;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => this.pump(), ms + 10);
  }

  private startWatchdog(socket: WebSocket): void {
    const timeout = this.opts.silenceTimeoutMs ?? 75_000;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastHeard > timeout) {
        this.opts.log.warn({ silentMs: Date.now() - this.lastHeard }, 'hub went silent: reconnecting');
        socket.terminate();
      }
    }, Math.min(15_000, timeout / 3));
    this.watchdog.unref();
  }
}
