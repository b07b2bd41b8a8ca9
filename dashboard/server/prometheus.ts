// GET /metrics: the fleet's latest values and the hub's own health for a Prometheus (or
// VictoriaMetrics) that scrapes this hub (docs/scaling.md); prometheus-render.ts writes the body.
import type { Request, RequestHandler, Response } from 'express';
import { statSync } from 'node:fs';
import type { RemoteWriteStatus } from '../../shared/live.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import type { Store } from '../store/store.js';
import { authenticate, type Credentials } from './auth/index.js';
import type { Fleet } from './fleet.js';
import type { IngestQueue } from './ingest-queue.js';
import { EXPOSITION_CONTENT_TYPE } from './prometheus-format.js';
import { LineCache, renderExposition, type HubHealth } from './prometheus-render.js';

/** Bytes of the database file and its WAL; null when the database file cannot be stat'ed. */
export function databaseBytes(path: string): number | null {
  const size = (file: string): number | null => {
    try {
      return statSync(file).size;
    } catch {
      return null;
    }
  };
  const main = size(path);
  // No WAL file (just checkpointed and truncated, or never written) is 0 bytes of WAL.
  return main === null ? null : main + (size(`${path}-wal`) ?? 0);
}

export interface MetricsSources {
  store: Store;
  fleet: Fleet;
  ingest: IngestQueue;
  live: { readonly viewerCount: number };
  /** Null when the hub runs without auth: /metrics is open then, like the API. */
  creds: Credentials | null;
  startedAtMs: number;
  version?: string;
  /** Each remote-write destination's queue and counts. */
  remoteWrite?: () => RemoteWriteStatus[];
}

const HOW_TO_AUTHENTICATE =
  'Create an API token on the hub with `edgewatch token create-api prometheus --data <hub data dir>` and give it to ' +
  'Prometheus in the scrape job of prometheus.yml as `authorization: { credentials: ewa_… }` ' +
  '(it is then sent as Authorization: Bearer ewa_…); docs/scaling.md has a full example.\n';

function unauthorized(res: Response, why: string): void {
  res.status(401).setHeader('WWW-Authenticate', 'Bearer realm="edgewatch"').type('text/plain; charset=utf-8').send(`${why}\n${HOW_TO_AUTHENTICATE}`);
}

/** The GET /metrics handler. With auth on it takes an API token (or a dashboard session). */
export function metricsRoute(src: MetricsSources): RequestHandler {
  const lines = new LineCache();
  return (req: Request, res: Response) => {
    if (src.creds) {
      const who = authenticate(src.creds, req.headers);
      if (who === 'bad-token') return unauthorized(res, 'The API token sent to /metrics is invalid or revoked.');
      if (!who) return unauthorized(res, '/metrics on this hub needs an API token (Authorization: Bearer ewa_…).');
    }
    const writes = src.ingest.writeStatus;
    const health: HubHealth = {
      version: src.version ?? EDGEWATCH_VERSION,
      startedAtMs: src.startedAtMs,
      nowMs: Date.now(),
      agentsConnected: src.fleet.onlineCount,
      liveViewers: src.live.viewerCount,
      committedBatches: src.ingest.committedBatches,
      committedSamples: src.ingest.committedSamples,
      refusedBatches: src.ingest.refusedBatches,
      futureSamplesRejected: src.ingest.futureSamplesRejected,
      writable: writes.writable,
      databaseBytes: databaseBytes(src.store.path),
      remoteWrite: src.remoteWrite?.() ?? [],
    };
    const body = renderExposition(src.fleet.list(), health, lines);
    // end(), not send(): send() would hash the whole body (megabytes) for an ETag no scraper uses.
    res.status(200).setHeader('Cache-Control', 'no-store').setHeader('Content-Type', EXPOSITION_CONTENT_TYPE);
    res.setHeader('Content-Length', Buffer.byteLength(body)).end(body);
  };
}
