// Webhook delivery: every firing and resolution is POSTed as JSON to the URL in the alert
// settings, at once and then again after each retry delay until the receiver answers 2xx. Runs
// beside evaluation, never inside it: a slow or dead receiver delays only its own deliveries.
// Each attempt is recorded on the event (status, attempts, last error) for the UI.
import type { AlertEvent, WebhookPayload, WebhookTestResponse } from '../../../shared/alerts.js';
import { describeCondition, deviceLinkPath, formatForMs, formatNumber } from '../../../shared/alerts.js';
import type { Logger } from '../../../shared/log.js';
import type { AlertStore } from '../../store/alert-store.js';
import { newSigningSecret, signWebhook } from './webhook-signature.js';

/** Waits before the 2nd, 3rd… attempt: six attempts over about half a minute. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 16_000];
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5000;
/** Deliveries talking to the receiver at once; the rest wait their turn. */
const MAX_ACTIVE = 4;
/** Deliveries waiting beyond this are given up (marked failed) rather than held in memory. */
const MAX_QUEUED = 1000;
/** Receiver's answer kept in lastError, characters. */
const SNIPPET = 200;

export interface WebhookOptions {
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  userAgent?: string;
}

export type PostResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

export class WebhookDeliverer {
  private readonly retryDelays: readonly number[];
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly queue: AlertEvent[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly store: AlertStore,
    private readonly log: Logger,
    opts: WebhookOptions = {},
  ) {
    this.retryDelays = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.userAgent = opts.userAgent ?? 'edgewatch-hub';
  }

  /** Queues an event whose delivery is `pending` or `retrying` (attempts so far are kept). */
  enqueue(event: AlertEvent): void {
    if (this.stop.signal.aborted) return;
    if (this.queue.length >= MAX_QUEUED) {
      this.record(event.id, 'failed', event.attempts, `not sent: more than ${MAX_QUEUED} notifications were waiting for the webhook`, null);
      return;
    }
    this.queue.push(event);
    this.pump();
  }

  /** One POST of a sample payload, no retry: what the UI's "Send test" shows. */
  async test(url: string): Promise<WebhookTestResponse> {
    const now = Date.now();
    const payload: WebhookPayload = {
      source: 'edgewatch',
      version: 1,
      test: true,
      state: 'firing',
      eventId: 0,
      alertId: 0,
      rule: { id: 0, name: 'Test alert', kind: 'threshold', op: 'above', threshold: 90, forMs: 0 },
      device: { id: 'test-device', name: 'Test device' },
      metric: 'cpu.util',
      value: 95,
      threshold: 90,
      startedAt: now,
      resolvedAt: null,
      summary: 'TEST: this is a test notification from edgewatch',
      link: '/#/alerts',
    };
    const r = await this.post(url, payload);
    return r.ok ? { ok: true, status: r.status, error: null } : { ok: false, status: r.status, error: r.error };
  }

  /** Stops retrying and waits for requests in flight (each is bounded by the timeout). */
  async close(): Promise<void> {
    this.stop.abort();
    this.queue.length = 0;
    await Promise.allSettled([...this.running]);
  }

  private pump(): void {
    while (this.running.size < MAX_ACTIVE && this.queue.length > 0) {
      const event = this.queue.shift()!;
      const job = this.deliver(event).catch((err: unknown) => this.log.warn({ err, eventId: event.id }, 'webhook delivery failed unexpectedly'));
      this.running.add(job);
      void job.finally(() => {
        this.running.delete(job);
        this.pump();
      });
    }
  }

  private async deliver(event: AlertEvent): Promise<void> {
    let attempts = event.attempts;
    const maxAttempts = this.retryDelays.length + 1;
    // A delivery resumed after a restart continues its schedule; one that never ran starts now.
    if (attempts > 0 && !(await this.sleep(this.retryDelays[Math.min(attempts, this.retryDelays.length) - 1] ?? 0))) return;
    for (;;) {
      const url = this.store.settings().webhookUrl;
      if (url === null) {
        this.record(event.id, 'none', attempts, 'the webhook URL was removed before this was delivered', null);
        return;
      }
      const result = await this.post(url, payloadFor(event));
      if (this.stop.signal.aborted && !result.ok) return; // the hub is stopping: resumed at next start
      attempts++;
      if (result.ok) {
        this.record(event.id, 'delivered', attempts, null, Date.now());
        return;
      }
      const last = attempts >= maxAttempts;
      this.record(event.id, last ? 'failed' : 'retrying', attempts, result.error, null);
      if (last) {
        this.log.warn({ eventId: event.id, attempts, error: result.error }, 'webhook delivery gave up');
        return;
      }
      if (!(await this.sleep(this.retryDelays[attempts - 1]!))) return;
    }
  }

  /** Resolves false when the deliverer was closed meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.stop.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async post(url: string, payload: WebhookPayload): Promise<PostResult> {
    let res: Response;
    try {
      // Signed per attempt: a retry carries its own timestamp (and the secret current now).
      const body = JSON.stringify(payload);
      const now = Date.now();
      const { secret } = this.store.signingSecret(newSigningSecret, now);
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': this.userAgent, ...signWebhook(secret, body, Math.floor(now / 1000)) },
        body,
        // A redirected POST would arrive as a GET elsewhere: report it instead.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stop.signal]),
      });
    } catch (err) {
      return { ok: false, status: null, error: describeFetchError(err, this.timeoutMs) };
    }
    const snippet = await readSnippet(res);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    const where = res.status >= 300 && res.status < 400 ? ` (redirect to ${res.headers.get('location') ?? '?'}: configure the final URL)` : '';
    return { ok: false, status: res.status, error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${where}${snippet ? `: ${snippet}` : ''}` };
  }

  private record(id: number, status: AlertEvent['delivery'], attempts: number, error: string | null, deliveredAt: number | null): void {
    try {
      this.store.setDelivery(id, status, attempts, error, deliveredAt);
    } catch (err) {
      // The database may be full or gone (hub stopping): the delivery itself still happened.
      this.log.warn({ err, eventId: id, status }, 'could not record a webhook delivery');
    }
  }
}

/** The JSON body for one history row. */
export function payloadFor(e: AlertEvent, test = false): WebhookPayload {
  const condition =
    e.kind === 'offline'
      ? describeCondition({ kind: 'offline', forMs: e.forMs })
      : describeCondition({ kind: 'threshold', metric: e.metric ?? '?', op: e.op ?? 'above', value: e.threshold ?? 0, forMs: e.forMs });
  const reading =
    e.kind === 'offline'
      ? e.value === null
        ? 'offline'
        : `offline for ${formatForMs(e.value * 1000)}`
      : `${e.metric ?? '?'} ${e.value === null ? 'no data' : formatNumber(e.value)}`;
  const summary =
    e.state === 'firing'
      ? `FIRING: ${e.ruleName} on ${e.deviceName}: ${reading} (rule: ${condition})`
      : `RESOLVED: ${e.ruleName} on ${e.deviceName}${e.note ? ` (${e.note})` : ''}, after ${formatForMs((e.resolvedAt ?? e.startedAt) - e.startedAt)}`;
  return {
    source: 'edgewatch',
    version: 1,
    test,
    state: e.state,
    eventId: e.id,
    alertId: e.alertId,
    rule: { id: e.ruleId, name: e.ruleName, kind: e.kind, op: e.op, threshold: e.threshold, forMs: e.forMs },
    device: { id: e.deviceId, name: e.deviceName },
    metric: e.metric,
    value: e.value,
    threshold: e.threshold,
    startedAt: e.startedAt,
    resolvedAt: e.resolvedAt,
    summary,
    link: deviceLinkPath(e.deviceId),
  };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (e.name === 'AbortError') return 'cancelled: the hub is stopping';
  const cause = e.cause;
  if (cause && (cause.code || cause.message)) return `${cause.code ?? 'error'}: ${cause.message ?? e.message}`.slice(0, 300);
  return String(e.message ?? err).slice(0, 300);
}

/** The start of the receiver's answer (for lastError), without reading a huge body whole. */
async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < SNIPPET * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // a body cut off mid-way: what arrived is enough
  } finally {
    void reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, SNIPPET);
}
