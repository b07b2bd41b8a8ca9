// The agent's door for the user's own code (see shared/inference.ts for the wire format): UDP
// lines for hot loops and a small HTTP API, both on one port number. Built on node:dgram and
// node:http rather than Express so the standalone agent bundle stays small. Whatever arrives
// is untrusted: bad input is counted and answered, never allowed to throw out of a handler.
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import type { z } from 'zod';
import type { Logger } from '../../shared/log.js';
import {
  EXPERIMENT_ID_RE,
  ExperimentStartSchema,
  parseTimingLine,
  ScoreBatchSchema,
  TimingBatchSchema,
  type ExperimentEndSummary,
  type ExperimentStart,
  type Score,
  type Timing,
} from '../../shared/inference.js';
import type { TopSnapshotProvider } from '../top/snapshot.js';

export interface InferenceSink {
  /** One timing; receivedAt = agent clock ms. Returns why when it was refused (over a limit). */
  timing(t: Timing, receivedAt: number): string | undefined | void;
  startExperiment(s: ExperimentStart, at: number): { id: string; start: number };
  /** null when the id is unknown or already ended. */
  endExperiment(id: string, at: number): { id: string; end: number; summary: ExperimentEndSummary } | null;
  /** Adds or replaces quality scores of an open experiment; false when the id is unknown or ended. */
  scoreExperiment(id: string, scores: readonly Score[]): boolean;
  /** What the sink counted and refused, shown on GET /v1/health. */
  stats?(): object;
}

export interface InferenceReceiverOptions {
  host: string;
  port: number;
  log: Logger;
  sink: InferenceSink;
  /** Serves GET /v1/top (an attached `edgewatch top`): what the agent last sampled, never a new sample. */
  top?: TopSnapshotProvider;
}

export interface InferenceReceiverStats {
  udpDatagrams: number;
  udpLines: number;
  httpRequests: number;
  accepted: number;
  rejected: number;
  /** Well-formed timings the sink refused (over a limit: distinct models, pairs per second…). */
  refused: number;
  /** HTTP connections closed unanswered: over MAX_CONNECTIONS, or bodies over MAX_INFLIGHT_BODY_BYTES at once. */
  connectionsRefused: number;
}

export interface InferenceReceiver {
  readonly port: number;
  stats(): InferenceReceiverStats;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024;
/** Open HTTP connections; an SDK keeps at most 4. Bounds what slow clients can hold (each up to a body). */
export const MAX_CONNECTIONS = 64;
/** Request bodies buffered at once, all connections together; past it a request gets 503. */
export const MAX_INFLIGHT_BODY_BYTES = 16 * 1024 * 1024;
/** A request (headers and body) must arrive within this (ms), or it is answered 408 and closed. */
export const REQUEST_TIMEOUT_MS = 10_000;
const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** Refusals over a limit are logged at warn at most this often (ms), with the count in between. */
const LIMIT_LOG_EVERY_MS = 60_000;
/** Port 0: tries at finding a number free for both TCP and UDP. */
const FREE_PORT_ATTEMPTS = 8;
/** Bad input is logged at most this often (ms); the count in between goes with the next line. */
const BAD_INPUT_LOG_EVERY_MS = 10_000;

/**
 * Binds HTTP and UDP on `port` (0: a number free for both). Rejects with an error naming the
 * address when the port is taken; nothing stays bound then.
 */
export async function startInferenceReceiver(opts: InferenceReceiverOptions): Promise<InferenceReceiver> {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error(`inference port ${opts.port} is not a port number: use 1–65535, or 0 for any free port`);
  }
  // One address for both sockets: `localhost` could otherwise be ::1 for TCP and 127.0.0.1 for UDP.
  const address = await resolveHost(opts.host);
  const stats: InferenceReceiverStats = { udpDatagrams: 0, udpLines: 0, httpRequests: 0, accepted: 0, rejected: 0, refused: 0, connectionsRefused: 0 };
  const badInput = rateLimited(opts.log, 'debug', BAD_INPUT_LOG_EVERY_MS);
  const limited = rateLimited(opts.log, 'warn', LIMIT_LOG_EVERY_MS);
  const handlers: Handlers = { sink: opts.sink, stats, badInput, limited, log: opts.log, top: opts.top, inflight: { bytes: 0 } };

  let lastError: unknown;
  const attempts = opts.port === 0 ? FREE_PORT_ATTEMPTS : 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const server = createServer(
      // Node checks these every connectionsCheckingInterval (30 s by default): a slow client is cut off near REQUEST_TIMEOUT_MS.
      { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
      (req, res) => void handleHttp(req, res, handlers),
    );
    server.maxConnections = MAX_CONNECTIONS;
    server.on('drop', () => {
      stats.connectionsRefused++;
      limited({ maxConnections: MAX_CONNECTIONS, connectionsRefused: stats.connectionsRefused }, `inference HTTP connection refused: ${MAX_CONNECTIONS} are open already (slow or stuck clients?)`, 'connections');
    });
    let udp: Socket | undefined;
    try {
      const port = await listenHttp(server, address, opts.port);
      udp = await bindUdp(address, port);
      udp.on('message', (msg) => handleDatagram(msg, handlers));
      udp.on('error', (err) => opts.log.warn({ err }, 'inference UDP socket error'));
      return receiver(server, udp, port, stats);
    } catch (err) {
      lastError = err;
      server.close();
      udp?.close();
      // A fixed port that is taken will not free itself; only port 0 tries another number.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  const code = (lastError as NodeJS.ErrnoException).code;
  const what = code === 'EADDRINUSE' ? 'is in use' : `cannot be bound (${(lastError as Error).message})`;
  throw Object.assign(new Error(`inference port ${opts.port} on ${address} ${what}`), { code, cause: lastError });
}

async function resolveHost(host: string): Promise<string> {
  try {
    return (await lookup(host)).address;
  } catch (err) {
    throw new Error(`inference host ${JSON.stringify(host)} does not resolve (${(err as Error).message}): use an address such as 127.0.0.1`);
  }
}

function listenHttp(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

function bindUdp(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      // A burst that overflows the socket buffer is dropped by the kernel, where nothing counts
      // it: ask for room for ~500 full SDK datagrams. Linux caps it at net.core.rmem_max.
      try {
        socket.setRecvBufferSize(UDP_RECV_BUFFER_BYTES);
      } catch {
        // Kept at the system default; still working.
      }
      resolve(socket);
    });
  });
}

function receiver(server: Server, udp: Socket, port: number, stats: InferenceReceiverStats): InferenceReceiver {
  let closing: Promise<void> | undefined;
  return {
    port,
    stats: () => ({ ...stats }),
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections from SDKs would otherwise hold the port (and the process).
          server.closeAllConnections();
        }),
        new Promise<void>((resolve) => udp.close(() => resolve())),
      ]).then(() => undefined);
      return closing;
    },
  };
}

interface Handlers {
  sink: InferenceSink;
  top: TopSnapshotProvider | undefined;
  stats: InferenceReceiverStats;
  badInput: (what: Record<string, unknown>, message: string) => void;
  /** For refusals over a limit: a user may be losing data and should hear of it, once a minute. */
  limited: (what: Record<string, unknown>, message: string, kind?: string) => void;
  log: Logger;
  /** Body bytes buffered by requests in progress (MAX_INFLIGHT_BODY_BYTES). */
  inflight: { bytes: number };
}

function handleDatagram(msg: Buffer, h: Handlers): void {
  h.stats.udpDatagrams++;
  const receivedAt = Date.now();
  for (const line of msg.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    h.stats.udpLines++;
    const parsed = parseTimingLine(line);
    if (!parsed.ok) {
      h.stats.rejected++;
      h.badInput({ error: parsed.error }, 'bad inference timing line over UDP');
      continue;
    }
    accept(parsed.timing, receivedAt, h);
  }
}

function accept(t: Timing, receivedAt: number, h: Handlers): boolean {
  try {
    const refused = h.sink.timing(t, receivedAt);
    if (typeof refused === 'string') {
      h.stats.refused++;
      // One line a minute per kind of refusal (the quoted model name aside), so one does not hide another.
      h.limited({ refused: h.stats.refused }, `inference timings refused (counted in inference.dropped and GET /v1/health): ${refused}`, refused.replace(/"[^"]*"/g, '""'));
      return false;
    }
    h.stats.accepted++;
    return true;
  } catch (err) {
    h.stats.rejected++;
    h.badInput({ err }, 'inference sink refused a timing');
    return false;
  }
}

/** Thrown by a sink (or here) to answer with a status other than 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function handleHttp(req: IncomingMessage, res: ServerResponse, h: Handlers): Promise<void> {
  h.stats.httpRequests++;
  try {
    const { status, body } = await route(req, h);
    reply(res, status, body);
  } catch (err) {
    if (err instanceof HttpError) {
      if (err.status === 429 || err.status === 503) h.limited({ status: err.status, method: req.method, url: req.url?.slice(0, 100) }, `inference request refused: ${err.message}`, `http ${err.status}`);
      if (req.destroyed && err.status === 400) h.badInput({ error: err.message }, 'inference HTTP request cut off by its client');
      reply(res, err.status, { error: oneLine(err.message) });
      // The rest of an oversized body is not worth reading: close once the answer is out.
      if (err.status === 413 || err.status === 503) res.once('finish', () => res.socket?.destroy());
      return;
    }
    h.log.warn({ err, method: req.method, url: req.url }, 'inference HTTP handler failed');
    reply(res, 500, { error: `internal error: ${(err as Error).message}` });
  }
}

type Routed = { status: number; body: unknown };

async function route(req: IncomingMessage, h: Handlers): Promise<Routed> {
  const path = pathOf(req.url ?? '/');
  const method = req.method ?? 'GET';
  if (path === '/v1/timings') {
    allow(method, 'POST', path);
    const body = await readJson(req, h).catch((err: unknown) => {
      h.stats.rejected++;
      throw err;
    });
    return postTimings(body, h);
  }
  if (path === '/v1/experiments') {
    allow(method, 'POST', path);
    const s = validate(ExperimentStartSchema, await readJson(req, h));
    return { status: 201, body: h.sink.startExperiment(s, Date.now()) };
  }
  const end = /^\/v1\/experiments\/([^/]+)\/end$/.exec(path);
  if (end) {
    allow(method, 'POST', path);
    const id = experimentId(end[1]!);
    const ended = h.sink.endExperiment(id, Date.now());
    if (!ended) throw new HttpError(404, `no open experiment with id ${JSON.stringify(id)}: it was never started on this agent, has already ended, or the agent restarted since`);
    return { status: 200, body: { id: ended.id, end: ended.end, summary: ended.summary } };
  }
  const scores = /^\/v1\/experiments\/([^/]+)\/scores$/.exec(path);
  if (scores) {
    allow(method, 'POST', path);
    const id = experimentId(scores[1]!);
    const body = await readJson(req, h).catch((err: unknown) => {
      h.stats.rejected++;
      throw err;
    });
    return postScores(id, body, h);
  }
  if (path === '/v1/top' && h.top) {
    allow(method, 'GET', path);
    // Process command lines are in it: with --inference-host on a LAN address, still this device only.
    if (!isLoopback(req.socket.remoteAddress)) throw new HttpError(403, 'GET /v1/top answers only on this device (from a loopback address): run `edgewatch top` on the device itself');
    return { status: 200, body: h.top() };
  }
  if (path === '/v1/health') {
    allow(method, 'GET', path);
    return { status: 200, body: { ok: true, stats: { ...h.stats }, ...(h.sink.stats ? { aggregator: h.sink.stats() } : {}) } };
  }
  throw new HttpError(404, `no route ${method.slice(0, 20)} ${path.slice(0, 100) || '/'}: use POST /v1/timings, POST /v1/experiments, POST /v1/experiments/<id>/end, POST /v1/experiments/<id>/scores or GET /v1/health`);
}

/** A request target the URL parser refuses (`//host:99999`) is the sender's mistake: 400, not 500. */
function pathOf(url: string): string {
  try {
    return new URL(url, 'http://agent').pathname.replace(/\/+$/, '');
  } catch {
    throw new HttpError(400, `request target ${JSON.stringify(url.slice(0, 100))} is not a path: use e.g. /v1/timings`);
  }
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

/** The <id> of an experiment route, decoded and checked (400 when it cannot be an id). */
function experimentId(raw: string): string {
  const id = safeDecode(raw);
  if (!EXPERIMENT_ID_RE.test(id)) throw new HttpError(400, `experiment id ${JSON.stringify(id.slice(0, 70))} is not valid: ids are 1–64 characters of [A-Za-z0-9_.-], as POST /v1/experiments returned`);
  return id;
}

/** A malformed %-escape is the sender's mistake (400), not the agent's (500). */
function safeDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function postTimings(data: unknown, h: Handlers): Routed {
  const parsed = TimingBatchSchema.safeParse(data);
  if (!parsed.success) {
    const timings = (data as { timings?: unknown } | null)?.timings;
    h.stats.rejected += Array.isArray(timings) ? Math.max(1, timings.length) : 1;
    throw new HttpError(400, `invalid timings: ${describeIssues(parsed.error)}`);
  }
  const receivedAt = Date.now();
  let accepted = 0;
  for (const t of parsed.data.timings) if (accept(t, receivedAt, h)) accepted++;
  const refused = parsed.data.timings.length - accepted;
  // Still 202: the batch was well formed; what a limit refused is counted, not the sender's error.
  return { status: 202, body: refused > 0 ? { accepted, refused } : { accepted } };
}

/**
 * Quality scores of an open experiment. Bad input is counted in `rejected` like bad timings
 * (one per score sent, at least one) and none of the batch is taken.
 */
function postScores(id: string, data: unknown, h: Handlers): Routed {
  const parsed = ScoreBatchSchema.safeParse(data);
  if (!parsed.success) {
    const scores = (data as { scores?: unknown } | null)?.scores;
    h.stats.rejected += Array.isArray(scores) ? Math.max(1, scores.length) : 1;
    const error = `invalid scores: ${describeIssues(parsed.error)}`;
    h.badInput({ error, experiment: id }, 'bad experiment scores over HTTP');
    throw new HttpError(400, error);
  }
  const { scores } = parsed.data;
  if (!h.sink.scoreExperiment(id, scores)) {
    throw new HttpError(
      404,
      `no open experiment with id ${JSON.stringify(id)}: it is unknown (never started on this agent, or the agent restarted since) or has already ended; send scores while the experiment runs, before POST /v1/experiments/<id>/end`,
    );
  }
  return { status: 200, body: { id, scores: scores.length } };
}

function allow(method: string, allowed: string, path: string): void {
  if (method !== allowed) throw new HttpError(405, `${path} takes ${allowed}, not ${method}`);
}

function validate<T>(schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new HttpError(400, `invalid request: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** `timings.3.latencyMs: Too small…`: the path of the bad field first, so a user can find it. */
function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 5).map((issue) => {
    const nested = 'issues' in issue && Array.isArray(issue.issues) ? (issue.issues as { message: string }[]) : [];
    const detail = nested.length > 0 ? ` (${nested.map((n) => n.message).join('; ')})` : '';
    return `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}${detail}`;
  });
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
  return shown.join('; ') + more;
}

function readJson(req: IncomingMessage, h: Handlers): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      done = true;
      h.inflight.bytes -= size;
      req.off('data', onData);
      req.off('end', onEnd);
    };
    const fail = (err: HttpError): void => {
      if (done) return;
      finish();
      chunks.length = 0;
      // Drop the rest unread; a 413 or 503 closes the connection behind it.
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      h.inflight.bytes += chunk.length;
      if (size > MAX_BODY_BYTES) return fail(tooLarge());
      if (h.inflight.bytes > MAX_INFLIGHT_BODY_BYTES) {
        h.stats.connectionsRefused++;
        return fail(new HttpError(503, `agent busy: over ${MAX_INFLIGHT_BODY_BYTES} bytes of request bodies are arriving at once; retry shortly with smaller batches`));
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (done) return;
      finish();
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return reject(new HttpError(400, 'request body is empty: send a JSON object'));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, `request body is not JSON: ${(err as Error).message}`));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // The client went away mid-body (ECONNRESET "aborted"): its mistake, not the agent's; no one is left to answer.
    req.on('error', (err) => fail(new HttpError(400, `request body cut off after ${size} bytes (${err.message})`)));
  });
}

/**
 * Error texts quote what was sent (JSON.parse's messages do too): control characters in it are
 * escaped so that every answer is one line, and a quoted body cannot make it long.
 */
function oneLine(message: string): string {
  const escaped = message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 500 ? `${escaped.slice(0, 500)}…` : escaped;
}

function tooLarge(): HttpError {
  return new HttpError(413, `request body is over ${MAX_BODY_BYTES} bytes: send timings in smaller batches`);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(status === 413 || status === 503 ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/**
 * A logger that says at most one thing per period and kind (a few kinds: the limits there are),
 * with the count of what it left out.
 */
function rateLimited(log: Logger, level: 'debug' | 'warn', everyMs: number): (what: Record<string, unknown>, message: string, kind?: string) => void {
  const kinds = new Map<string, { lastAt: number; suppressed: number }>();
  return (what, message, kind = '') => {
    const now = Date.now();
    let k = kinds.get(kind);
    if (!k) {
      // Bounded whatever the callers pass: forget all kinds rather than grow.
      if (kinds.size >= 16) kinds.clear();
      kinds.set(kind, (k = { lastAt: -Infinity, suppressed: 0 }));
    }
    if (now - k.lastAt < everyMs) {
      k.suppressed++;
      return;
    }
    log[level]({ ...what, suppressedSinceLast: k.suppressed }, message);
    k.lastAt = now;
    k.suppressed = 0;
  };
}
