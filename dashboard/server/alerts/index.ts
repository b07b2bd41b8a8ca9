// Alerts on the hub: the engine (evaluation), the webhook deliverer and their API, started and
// stopped together by startHub.
import type { Logger } from '../../../shared/log.js';
import type { AlertStore } from '../../store/alert-store.js';
import { AlertEngine, type FleetView } from './engine.js';
import { WebhookDeliverer } from './webhook.js';

export { alertsRouter } from './api.js';

export interface AlertOptions {
  /** How often rules are evaluated, ms; default 2000. */
  evalEveryMs?: number;
  /** Waits before each retry of a failed webhook delivery, ms; default 1, 2, 4, 8, 16 s. */
  retryDelaysMs?: readonly number[];
  /** How long one webhook request may take, ms; default 5000. */
  webhookTimeoutMs?: number;
}

/** Unfinished deliveries younger than this are resumed at start; older ones are marked failed. */
const RESUME_WINDOW_MS = 60 * 60_000;
const RESUME_MAX = 500;

export interface Alerts {
  readonly store: AlertStore;
  readonly engine: AlertEngine;
  readonly webhook: WebhookDeliverer;
  stop(): Promise<void>;
}

export function startAlerts(store: AlertStore, fleet: FleetView, log: Logger, opts: AlertOptions & { version?: string } = {}): Alerts {
  const webhook = new WebhookDeliverer(store, log.child({ part: 'webhook' }), {
    retryDelaysMs: opts.retryDelaysMs,
    timeoutMs: opts.webhookTimeoutMs,
    userAgent: `edgewatch-hub/${opts.version ?? 'dev'}`,
  });
  const engine = new AlertEngine(store, fleet, (e) => webhook.enqueue(e), log, { evalEveryMs: opts.evalEveryMs });
  engine.start();
  try {
    for (const e of store.takeUndelivered(Date.now() - RESUME_WINDOW_MS, RESUME_MAX)) webhook.enqueue(e);
  } catch (err) {
    log.warn({ err }, 'could not resume unfinished webhook deliveries');
  }
  return {
    store,
    engine,
    webhook,
    async stop() {
      engine.stop();
      await webhook.close();
    },
  };
}
