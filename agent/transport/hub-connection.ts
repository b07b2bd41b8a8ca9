// The agent's side of the wire: connect, say hello, stream spooled batches with a bounded
// number in flight, forget a batch only when the hub acks it, and reconnect with backoff
// whenever the connection is lost. Everything unacked is resent after a reconnect; the hub
// recognises batches it already has, so that is safe. After a reconnect, batches that waited
// (the backlog) are sent oldest first at a bounded rate, beside the live ones, which go out
// at once and always have part of the window to themselves.
import WebSocket from 'ws';
import type { Logger } from '../../shared/log.js';
import { HubMessageSchema, parseFrame, PROTOCOL_VERSION, type Hello, type Welcome } from '../../shared/protocol.js';
import { Backoff } from '../tools/backoff.js';
import type { MonoClock } from './mono-clock.js';
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
  /** Backlog batches sent per second at most after a reconnect (default 200). */
  backfillPerSecond?: number;
  /** Device token (`ewd_…`), sent as `Authorization: Bearer` in the handshake. */
  token?: string;
  /**
   * CAs that may sign a wss:// hub's certificate (replacing Node's defaults when given, so
   * pass those too; agent.ts does). The certificate is always verified.
   */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * Stamps each frame with this boot and the monotonic time of sending beside sentAt, so the
   * hub can re-time a backlog spooled before the wall clock was stepped (clock jumps).
   */
  monoClock?: MonoClock;
}

/** Errors of a TLS handshake that refused the hub's certificate: retrying alone will not fix them. */
const CERT_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to do about a refused hub certificate, for the log. */
function certificateAdvice(code: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return "the hub's certificate is for another host name: connect with a name (or IP) the certificate lists in its subjectAltName, or reissue it with this one";
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return "the hub's certificate is outside its validity dates: renew it, and check this device's clock";
  }
  return "the hub's certificate is not signed by a CA this agent trusts: pass the CA certificate that signed it with --ca <file> (EDGEWATCH_CA, or \"ca\" in the config file)";
}

/** The agent endpoint on the hub (dashboard/server/hub.ts AGENT_PATH). */
const AGENT_PATH = '/ws/agent';

/** `url` with the agent path, for advice: ws://host:port/ws/agent. */
function withAgentPath(url: string): string {
  try {
    const u = new URL(url);
    u.pathname = AGENT_PATH;
    u.search = '';
    return u.toString();
  } catch {
    return `ws://<hub-host>:8080${AGENT_PATH}`;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Why a connection attempt failed, in words, with what to check: for the one warning an agent
 * logs per kind of failure. `kind` tells one failure from another (a new kind is said again).
 */
interface ConnectProblem {
  kind: string;
  message: string;
}

/** A socket error of a connection attempt (refused, unresolvable, TLS, timeout …) explained. */
function explainConnectError(url: string, err: NodeJS.ErrnoException): ConnectProblem {
  const code = err.code ?? '';
  const host = hostOf(url);
  if (code === 'ECONNREFUSED') return { kind: code, message: `nothing listens at ${url}: is the hub running, and is this its --port?` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return { kind: 'dns', message: `cannot resolve the host name in ${url} (${code}): check the name in --hub, or give the hub's IP address` };
  }
  if (['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL'].includes(code)) {
    return { kind: 'unreachable', message: `cannot reach ${host} (${code}): check the address in --hub, this device's network, and any firewall between it and the hub` };
  }
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(err.message)) {
    return { kind: 'tls-plain', message: `${url} does not speak TLS (the answer to the TLS handshake was plain text): use ws:// for a hub without --tls-cert, and wss:// only where the hub (or a proxy in front) serves TLS` };
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    return { kind: 'tls', message: `the TLS handshake with ${url} failed (${err.message}): check that the hub serves TLS at this port; for a certificate from a private CA pass --ca <file>` };
  }
  if (/handshake has timed out/i.test(err.message)) {
    return { kind: 'timeout', message: `${host} accepted the connection but did not complete the WebSocket handshake in time: is this the hub's port, and does a proxy in front pass WebSocket upgrades?` };
  }
  if (code === 'ECONNRESET' || /socket hang up/i.test(err.message)) {
    return { kind: 'reset', message: `${host} cut the connection during the handshake (${err.message}): is this the hub's port? A hub serving TLS (--tls-cert) needs wss://` };
  }
  return { kind: `error:${code || err.message}`, message: `cannot connect to the hub at ${url}: ${err.message}` };
}

/** A refused WebSocket upgrade (an HTTP status instead of 101) explained; 401 is handled apart. */
function explainHttpStatus(url: string, status: number): ConnectProblem {
  if (status === 404) return { kind: 'http-404', message: `no edgewatch hub at this path: ${url} answered 404 Not Found; use ws://host:port${AGENT_PATH}, e.g. ${withAgentPath(url)}` };
  return {
    kind: `http-${status}`,
    message: `${url} answered HTTP ${status} instead of accepting the agent: check that --hub names an edgewatch hub and its port (agents connect to ${AGENT_PATH}), and that a proxy in front passes WebSocket upgrades`,
  };
}

export const DEFAULT_BACKFILL_PER_SECOND = 200;

/**
 * Time for pauses, rates and silence (ms, monotonic): a wall clock stepped by NTP must not
 * make a live hub look silent for hours, or a pause last hours. Only sentAt is wall time.
 */
const elapsedMs = (): number => performance.now();

/** Pause after the hub says it cannot store right now (disk full): it keeps the batches. */
const STORE_RETRY_MS = 5_000;
/** Pause after the hub dropped a batch for its frame rate limit. */
const RATE_LIMITED_RETRY_MS = 1_000;

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
  /** In-flight batches the backlog may take: the rest of the window is kept for live ones. */
  private readonly backlogWindow: number;
  private readonly backfillPerSecond: number;
  /** Pending batches up to this seq when the hub welcomed us (all but the newest): the backlog. */
  private backlogEnd = 0;
  /** Backlog sent (or skipped) up to here on this connection. */
  private backfillCursor = 0;
  /** Live batches (after backlogEnd) sent up to here on this connection. */
  private liveCursor = 0;
  private backfillStartedAt = 0;
  private backfillCount = 0;
  private tokens = 0;
  private tokensAt = 0;
  private backfillTimer: NodeJS.Timeout | null = null;
  /** The certificate error already logged (once) since the last good connection. */
  private certErrorLogged: string | null = null;
  /** A 401 from the hub was logged (once) since the last good connection. */
  private authErrorLogged = false;
  /** Kinds of connection failure already said (once each, at warn) since the last good connection. */
  private readonly problemsLogged = new Set<string>();
  /** Attempts that failed since the last good connection, and since when. */
  private failedAttempts = 0;
  private failingSince = 0;
  /** Counters for logs and tests. */
  readonly stats = { connects: 0, acked: 0, sent: 0, backfilled: 0 };

  constructor(private readonly opts: HubConnectionOptions) {
    // Agents that lost the same hub spread their retries over ±50 % of each delay.
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5, healthyAfterMs: 0 });
    this.window = opts.window ?? 64;
    this.backlogWindow = Math.max(1, this.window - Math.max(1, Math.floor(this.window / 4)));
    this.backfillPerSecond = opts.backfillPerSecond ?? DEFAULT_BACKFILL_PER_SECOND;
    if (!(this.backfillPerSecond > 0)) throw new Error(`backfill rate ${this.backfillPerSecond} is not valid: use a positive number of batches per second`);
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
    if (elapsedMs() < this.pausedUntil) return;
    const { spool } = this.opts;
    // Live batches first, oldest first, within the whole window.
    for (const seq of spool.pendingSeqs(this.liveCursor + 1)) {
      if (this.inFlight.size >= this.window) break;
      this.liveCursor = seq;
      if (!this.inFlight.has(seq)) this.send(socket, seq);
    }
    if (this.backfillCursor < this.backlogEnd) this.pumpBacklog(socket);
  }

  /** The backlog, oldest first, at most backfillPerSecond and within backlogWindow. */
  private pumpBacklog(socket: WebSocket): void {
    const rate = this.backfillPerSecond;
    const burst = Math.max(1, Math.ceil(rate / 5));
    const now = elapsedMs();
    this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    let exhausted = true;
    for (const seq of this.opts.spool.pendingSeqs(this.backfillCursor + 1)) {
      if (seq > this.backlogEnd) break;
      if (this.inFlight.size >= this.backlogWindow) {
        exhausted = false; // an ack pumps again
        break;
      }
      if (this.tokens < 1) {
        exhausted = false;
        if (!this.backfillTimer) {
          this.backfillTimer = setTimeout(() => {
            this.backfillTimer = null;
            this.pump();
          }, Math.ceil(((1 - this.tokens) * 1000) / rate));
        }
        break;
      }
      this.backfillCursor = seq;
      if (!this.inFlight.has(seq) && this.send(socket, seq)) {
        this.tokens -= 1;
        this.backfillCount++;
        this.stats.backfilled++;
      }
    }
    if (exhausted) {
      this.backfillCursor = this.backlogEnd;
      if (this.backfillCount > 0) {
        this.opts.log.info({ batches: this.backfillCount, ms: elapsedMs() - this.backfillStartedAt }, 'backlog sent to the hub');
      }
    }
  }

  /** Reads one batch back from the spool and sends it; false when it is gone. */
  private send(socket: WebSocket, seq: number): boolean {
    const batch = this.opts.spool.read(seq);
    if (!batch) return false;
    const mono = this.opts.monoClock;
    // sentAt and sentMono are read back to back: their difference is the wall clock now.
    const frame = {
      type: 'batch',
      v: PROTOCOL_VERSION,
      seq: batch.seq,
      samples: batch.samples,
      ...(batch.dropped ? { dropped: batch.dropped } : {}),
      ...(batch.clock ? { clock: batch.clock } : {}),
      sentAt: Date.now(),
      ...(mono ? { sentMono: mono.mono(), sentBoot: mono.boot } : {}),
    };
    socket.send(JSON.stringify(frame));
    this.inFlight.add(batch.seq);
    this.stats.sent++;
    return true;
  }

  /** A sent batch came back unstored: let the next pump send it again. */
  private rewind(seq: number): void {
    if (seq <= this.backlogEnd) this.backfillCursor = Math.min(this.backfillCursor, seq - 1);
    else this.liveCursor = Math.min(this.liveCursor, seq - 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of [this.reconnectTimer, this.resumeTimer, this.backfillTimer]) if (timer) clearTimeout(timer);
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
    const socket = new WebSocket(this.opts.url, { handshakeTimeout: 10_000, maxPayload: 1024 * 1024, ...(this.opts.token ? { headers: { Authorization: `Bearer ${this.opts.token}` } } : {}), ...(this.opts.ca ? { ca: this.opts.ca } : {}) });
    this.socket = socket;
    /** The hub (or something) answered the upgrade with an HTTP status: that is the failure to say. */
    let answered = false;

    socket.on('open', () => {
      this.lastHeard = elapsedMs();
      socket.send(JSON.stringify(this.opts.hello()));
      this.startWatchdog(socket);
    });
    // 401: no, a wrong or a revoked token. Said once (until the next good connection), then
    // retried quietly with the usual backoff, so a revoked agent does not hammer the hub. Any
    // other status (404: not the agent path) is said once too, at warn, with what to check.
    socket.on('unexpected-response', (_req, res) => {
      answered = true;
      let body = '';
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        const status = res.statusCode ?? 0;
        const reason = body.trim().slice(0, 300) || undefined;
        if (status === 401 && !this.authErrorLogged) {
          this.authErrorLogged = true;
          log.error(
            { status: 401, reason, url: this.opts.url, token: this.opts.token ? 'given' : 'none' },
            `the hub refused this agent: its token is ${this.opts.token ? 'invalid or revoked' : 'missing'}. Create one on the hub with \`edgewatch token create <device-id>\` and pass it with --token or EDGEWATCH_TOKEN (or "token" in the config file). Retrying with backoff.`,
          );
        } else if (status !== 401 && status !== 429) {
          // 429: the hub is there and spreading reconnects out; the backoff deals with it.
          this.reportProblem(explainHttpStatus(this.opts.url, status), { status, reason });
        } else log.debug({ status, reason }, 'hub refused the connection: retrying');
        socket.terminate();
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1000) body += chunk;
      });
      res.once('end', finish);
      res.once('error', finish);
      res.once('close', finish);
    });
    socket.on('ping', () => (this.lastHeard = elapsedMs()));
    socket.on('message', (data) => {
      this.lastHeard = elapsedMs();
      this.onMessage(data.toString());
    });
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      const wasReady = this.ready;
      this.ready = false;
      this.socket = null;
      this.inFlight.clear();
      if (this.backfillTimer) clearTimeout(this.backfillTimer);
      this.backfillTimer = null;
      if (this.watchdog) clearInterval(this.watchdog);
      if (this.stopped) return;
      const delay = this.backoff.next();
      if (!wasReady) {
        if (this.failedAttempts === 0) this.failingSince = elapsedMs();
        this.failedAttempts++;
      }
      const fields = { code, reason: reason.toString() || undefined, retryInMs: delay, unacked: this.opts.spool.batchCount };
      if (wasReady) log.warn(fields, 'lost the hub: reconnecting');
      else log.debug(fields, 'hub not reachable: retrying');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // 'close' follows and schedules the retry; only say what went wrong. A refused
      // certificate is said once, at error, with what to do; the retries go on quietly.
      const code = err.code ?? '';
      if (CERT_ERROR_CODES.has(code)) {
        if (this.certErrorLogged !== code) {
          this.certErrorLogged = code;
          log.error({ code, reason: err.message, url: this.opts.url }, `cannot verify the hub's TLS certificate (${err.message}): ${certificateAdvice(code)}. Retrying with backoff.`);
        } else log.debug({ code, url: this.opts.url }, 'hub certificate still refused');
        return;
      }
      // After an HTTP answer (said above) the abort of the handshake is no news; nor is stopping.
      if (answered || this.stopped) return void log.debug({ err: err.message, url: this.opts.url }, 'hub connection error');
      this.reportProblem(explainConnectError(this.opts.url, err), { code: code || undefined, err: err.message });
    });
  }

  /**
   * A failed attempt: said once at warn, with what to check, per kind of failure until the
   * next good connection; the retries after it are logged at debug only.
   */
  private reportProblem(problem: ConnectProblem, fields: Record<string, unknown>): void {
    const { log } = this.opts;
    if (this.problemsLogged.has(problem.kind)) {
      log.debug({ ...fields, url: this.opts.url }, `hub still not reachable: ${problem.message}`);
      return;
    }
    this.problemsLogged.add(problem.kind);
    log.warn({ ...fields, url: this.opts.url }, `${problem.message}${/[.?!]$/.test(problem.message) ? '' : '.'} Retrying with backoff (further attempts are logged at debug).`);
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
        this.logConnected(msg.lastSeq);
        this.certErrorLogged = null;
        this.authErrorLogged = false;
        this.problemsLogged.clear();
        this.failedAttempts = 0;
        this.stats.connects++;
        this.backoff.reset();
        this.startBackfill();
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
          if (msg.seq !== undefined) this.rewind(msg.seq);
          // The batch stays spooled; try again shortly rather than hammering a full disk.
          log.warn({ code: msg.code, seq: msg.seq, message: msg.message }, 'hub could not store a batch: will resend');
          this.pauseSending(STORE_RETRY_MS);
        } else if (msg.code === 'unauthorized') {
          // The hub closes (4401) right after: the reconnect gets a 401, logged once there.
          log.error({ code: msg.code, message: msg.message }, 'hub refused this agent');
        } else if (msg.code === 'rate_limited') {
          // Dropped unstored for pace, not content: send it again after a short pause.
          if (msg.seq !== undefined) this.rewind(msg.seq);
          log.warn({ seq: msg.seq, message: msg.message }, 'hub rate-limited a batch: will resend');
          this.pauseSending(RATE_LIMITED_RETRY_MS);
        } else {
          // A batch the hub finds invalid would be refused forever: drop it, loudly.
          log.error({ code: msg.code, seq: msg.seq, message: msg.message }, 'hub rejected a frame');
          if (msg.seq !== undefined) spool.ack(msg.seq);
        }
        break;
    }
  }

  /** 'connected to hub'; after a failure was said (at warn or error), with how long it lasted. */
  private logConnected(lastSeq: number | null): void {
    const fields = { url: this.opts.url, lastSeq, backlog: this.opts.spool.batchCount };
    const complained = this.problemsLogged.size > 0 || this.certErrorLogged !== null || this.authErrorLogged;
    const failed = this.failedAttempts;
    if (!complained || failed === 0) return void this.opts.log.info(fields, 'connected to hub');
    const failingMs = elapsedMs() - this.failingSince;
    this.opts.log.info(
      { ...fields, failedAttempts: failed, failingMs },
      `connected to hub after ${failed} failed attempt${failed === 1 ? '' : 's'} over ${Math.round(failingMs / 1000)} s`,
    );
  }

  /** Everything pending now but the newest batch is backlog; the newest goes out at once. */
  private startBackfill(): void {
    const last = this.opts.spool.lastSeq();
    this.backlogEnd = last === undefined ? 0 : last - 1;
    this.backfillCursor = 0;
    this.liveCursor = this.backlogEnd;
    this.backfillCount = 0;
    this.backfillStartedAt = elapsedMs();
    this.tokens = Math.max(1, Math.ceil(this.backfillPerSecond / 5));
    this.tokensAt = elapsedMs();
  }

  private pauseSending(ms: number): void {
    this.pausedUntil = elapsedMs() + ms;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => this.pump(), ms + 10);
  }

  private startWatchdog(socket: WebSocket): void {
    const timeout = this.opts.silenceTimeoutMs ?? 75_000;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (elapsedMs() - this.lastHeard > timeout) {
        this.opts.log.warn({ silentMs: elapsedMs() - this.lastHeard }, 'hub went silent: reconnecting');
        socket.terminate();
      }
    }, Math.min(15_000, timeout / 3));
    this.watchdog.unref();
  }
}
