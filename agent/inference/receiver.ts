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

export interface InferenceSink {
  /** One timing; receivedAt = agent clock ms. */
  timing(t: Timing, receivedAt: number): void;
  startExperiment(s: ExperimentStart, at: number): { id: string; start: number };
  /** null when the id is unknown or already ended. */
  endExperiment(id: string, at: number): { id: string; end: number; summary: ExperimentEndSummary } | null;
  /** Adds or replaces quality scores of an open experiment; false when the id is unknown or ended. */
  scoreExperiment(id: string, scores: readonly Score[]): boolean;
}

export interface InferenceReceiverOptions {
  host: string;
  port: number;
  log: Logger;
  sink: InferenceSink;
}

export interface InferenceReceiverStats {
  udpDatagrams: number;
  udpLines: number;
  httpRequests: number;
  accepted: number;
  rejected: number;
}

export interface InferenceReceiver {
  readonly port: number;
  stats(): InferenceReceiverStats;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024;
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
  const stats: InferenceReceiverStats = { udpDatagrams: 0, udpLines: 0, httpRequests: 0, accepted: 0, rejected: 0 };
  const badInput = rateLimitedDebug(opts.log);
  const handlers = { sink: opts.sink, stats, badInput, log: opts.log };

  let lastError: unknown;
  const attempts = opts.port === 0 ? FREE_PORT_ATTEMPTS : 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const server = createServer((req, res) => void handleHttp(req, res, handlers));
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
  stats: InferenceReceiverStats;
  badInput: (what: Record<string, unknown>, message: string) => void;
  log: Logger;
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
    h.sink.timing(t, receivedAt);
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
      reply(res, err.status, { error: err.message });
      // The rest of an oversized body is not worth reading: close once the answer is out.
      if (err.status === 413) res.once('finish', () => res.socket?.destroy());
      return;
    }
    h.log.warn({ err, method: req.method, url: req.url }, 'inference HTTP handler failed');
    reply(res, 500, { error: `internal error: ${(err as Error).message}` });
  }
}

type Routed = { status: number; body: unknown };

async function route(req: IncomingMessage, h: Handlers): Promise<Routed> {
  const path = new URL(req.url ?? '/', 'http://agent').pathname.replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  if (path === '/v1/timings') {
    allow(method, 'POST', path);
    const body = await readJson(req).catch((err: unknown) => {
      h.stats.rejected++;
      throw err;
    });
    return postTimings(body, h);
  }
  if (path === '/v1/experiments') {
    allow(method, 'POST', path);
    const s = validate(ExperimentStartSchema, await readJson(req));
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
    const body = await readJson(req).catch((err: unknown) => {
      h.stats.rejected++;
      throw err;
    });
    return postScores(id, body, h);
  }
  if (path === '/v1/health') {
    allow(method, 'GET', path);
    return { status: 200, body: { ok: true, stats: { ...h.stats } } };
  }
  throw new HttpError(404, `no route ${method} ${path || '/'}: use POST /v1/timings, POST /v1/experiments, POST /v1/experiments/<id>/end, POST /v1/experiments/<id>/scores or GET /v1/health`);
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
  return { status: 202, body: { accepted } };
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

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      // Drop the rest unread; the 413 closes the connection behind it.
      req.resume();
      reject(tooLarge());
    };
    const onEnd = (): void => {
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
    req.on('error', reject);
  });
}

function tooLarge(): HttpError {
  return new HttpError(413, `request body is over ${MAX_BODY_BYTES} bytes: send timings in smaller batches`);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/** A debug logger for bad input that says at most one thing per period, with a count. */
function rateLimitedDebug(log: Logger): (what: Record<string, unknown>, message: string) => void {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (what, message) => {
    const now = Date.now();
    if (now - lastAt < BAD_INPUT_LOG_EVERY_MS) {
      suppressed++;
      return;
    }
    log.debug({ ...what, suppressedSinceLast: suppressed }, message);
    lastAt = now;
    suppressed = 0;
  };
}
