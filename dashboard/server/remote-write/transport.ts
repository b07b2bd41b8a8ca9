// One remote-write POST and what its answer means for the sender. node:http(s) rather than
// fetch: a private CA (Destination.ca) goes straight into the request, and keep-alive agents
// reuse one connection per destination.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Destination } from './config.js';
import { REMOTE_WRITE_HEADERS } from './encode.js';

/** What the sender does next with a request. */
export type Outcome =
  | { kind: 'sent' }
  /** 5xx, 429, 408, a timeout or a network error: the same request may succeed later. */
  | { kind: 'retry'; error: string; retryAfterMs: number | null }
  /**
   * The receiver will not take this request as it is (400, 413, 422…): some series in it are
   * bad. The sender splits it to find them.
   */
  | { kind: 'reject'; error: string }
  /**
   * Nothing in the data is wrong, the setup is (401, 403, 404, a redirect): dropping data
   * would not help, so it is kept and retried slowly until someone fixes the config.
   */
  | { kind: 'misconfigured'; error: string };

/** The receiver's message is kept to this many bytes (the rest is read and thrown away). */
const MAX_ERROR_BODY = 1024;
/** Statuses that say "fix the address or the credentials", not "this data is bad". */
const SETUP_STATUSES = new Set([401, 403, 404, 405, 407]);
/**
 * The TSDB's own verdicts on a sample, which no retry changes. Prometheus 2.42 (Debian 12's)
 * answers some of them with 500 when out_of_order_time_window is set (fixed in later releases,
 * which say 400): retried as a 5xx, one such sample would stall the queue for good.
 */
const PERMANENT_SAMPLE_ERRORS = /\b(too old sample|out of order sample|out of bounds|duplicate sample for timestamp)\b/i;

export class Transport {
  private readonly agent: HttpAgent;

  constructor(
    private readonly dest: Destination,
    private readonly userAgent: string,
  ) {
    const opts = { keepAlive: true, maxSockets: 1 };
    this.agent = dest.url.protocol === 'https:' ? new HttpsAgent({ ...opts, ...(dest.ca ? { ca: dest.ca } : {}) }) : new HttpAgent(opts);
  }

  /** POSTs one encoded request; never throws (errors are outcomes). `signal` aborts it (hub stopping). */
  post(body: Buffer, signal: AbortSignal): Promise<Outcome> {
    const send = this.dest.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let settled = false;
      const done = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = send(this.dest.url, {
        method: 'POST',
        agent: this.agent,
        signal,
        headers: { ...this.dest.headers, ...REMOTE_WRITE_HEADERS, 'User-Agent': this.userAgent, 'Content-Length': body.length },
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${this.dest.timeoutMs} ms (timeoutMs)`));
      }, this.dest.timeoutMs);
      req.on('error', (err) => done({ kind: 'retry', error: `cannot reach ${this.dest.displayUrl}: ${err.message}`, retryAfterMs: null }));
      req.on('response', (res) => {
        readSome(res, (text) => done(classify(res, text, this.dest.displayUrl)));
        res.on('error', (err) => done({ kind: 'retry', error: `answer from ${this.dest.displayUrl} cut off: ${err.message}`, retryAfterMs: null }));
      });
      // Whatever ended the exchange without an answer read to its end (a timeout mid-body, a
      // reset): the request counts as not delivered, so it is sent again.
      req.on('close', () => done({ kind: 'retry', error: `connection to ${this.dest.displayUrl} closed before a full answer`, retryAfterMs: null }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function readSome(res: IncomingMessage, then: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  res.on('data', (chunk: Buffer) => {
    if (kept >= MAX_ERROR_BODY) return;
    chunks.push(chunk.subarray(0, MAX_ERROR_BODY - kept));
    kept += Math.min(chunk.length, MAX_ERROR_BODY - kept);
  });
  res.on('end', () => then(Buffer.concat(chunks).toString('utf8').trim()));
}

function classify(res: IncomingMessage, body: string, url: string): Outcome {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { kind: 'sent' };
  const error = `HTTP ${status} from ${url}${body ? `: ${body.replace(/\s+/g, ' ')}` : ''}`;
  if (status >= 500 && PERMANENT_SAMPLE_ERRORS.test(body)) return { kind: 'reject', error };
  if (status === 429 || status === 408 || status >= 500) return { kind: 'retry', error, retryAfterMs: retryAfterMs(res.headers['retry-after']) };
  if (status >= 300 && status < 400) {
    return { kind: 'misconfigured', error: `${error} (redirect to ${res.headers.location ?? '?'}: set the destination url to the final address)` };
  }
  if (SETUP_STATUSES.has(status)) return { kind: 'misconfigured', error: `${error} (check the destination's url and credentials)` };
  if (status >= 400) return { kind: 'reject', error };
  return { kind: 'retry', error: `${error} (unexpected status)`, retryAfterMs: null };
}

/** Retry-After as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number = Date.now()): number | null {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw.trim() === '') return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
