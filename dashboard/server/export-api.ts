// GET /api/v1/devices/<id>/export?format=csv|ndjson|json[&from=&to=&metrics=&tier=]: a
// device's stored history as a download. The body is streamed from the store's row generators
// with backpressure: memory stays flat however long the range, and a client that goes away
// stops the reading.
import { Router, type Request, type Response } from 'express';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { STORAGE_TIERS, type StorageTier } from '../../shared/live.js';
import type { Logger } from '../../shared/log.js';
import { METRIC_NAME_RE } from '../../shared/protocol.js';
import type { Store } from '../store/store.js';
import { BadRequest } from './api.js';
import { EXPORT_CONTENT_TYPES, EXPORT_FORMATS, encodeExport, exportFileName, type ExportFormat, type ExportRows } from './export-format.js';

const DAY_MS = 24 * 3_600_000;
const MAX_METRICS = 200;
/** Largest time a JS Date (and so an ISO timestamp) can hold. */
const MAX_TIME_MS = 8_640_000_000_000_000;
/** Text is gathered into pieces of about this size before a write: fewer, larger socket writes. */
const FLUSH_CHARS = 64 * 1024;

interface ExportQuery {
  format: ExportFormat;
  tier: StorageTier;
  from: number;
  to: number;
  metrics: string[];
}

export function exportRouter(store: Store, log: Logger): Router {
  const router = Router();

  router.get('/devices/:id/export', async (req, res) => {
    const device = store.getDevice(req.params.id);
    if (!device) {
      res.status(404).json({ error: `no device with id ${JSON.stringify(req.params.id)}; GET /api/v1/devices lists them` });
      return;
    }
    const q = parseExportQuery(req, Date.now(), () => store.metricNames(device.num));
    const data: ExportRows =
      q.tier === 'raw'
        ? { tier: 'raw', rows: store.exportRows(device.num, q.metrics, q.from, q.to) }
        : { tier: q.tier, rows: store.exportRollupRows(device.num, q.metrics, q.from, q.to, q.tier) };
    const pieces = encodeExport(q.format, { deviceId: device.id, from: q.from, to: q.to, tier: q.tier, metrics: q.metrics }, data);

    // Set now, sent with the first write: until then a failure can still become a 500.
    res.status(200);
    res.setHeader('Content-Type', EXPORT_CONTENT_TYPES[q.format]);
    res.setHeader('Content-Disposition', `attachment; filename="${exportFileName(device.id, q.from, q.to, q.format)}"`);
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    try {
      await pump(res, pieces);
    } catch (err) {
      if (!res.headersSent) {
        // Nothing sent yet: the hub's error handler answers 500 JSON, not a file to save.
        res.removeHeader('Content-Disposition');
        res.removeHeader('Content-Type');
        throw err;
      }
      // Mid-stream the status is long gone. Cutting the connection (no final chunk) is what a
      // client can tell apart from a complete download; a clean end would look like one.
      log.error({ err, device: device.id, query: q }, 'export failed mid-stream; connection cut');
      res.destroy();
    }
  });

  return router;
}

/**
 * Writes the pieces to the response, waiting for 'drain' whenever the socket's buffer is full
 * and stopping (the generators are closed by the loop) when the client disconnects.
 */
async function pump(res: Response, pieces: Iterable<string>): Promise<void> {
  let gone = false;
  const onClose = (): void => {
    if (!res.writableFinished) gone = true;
  };
  res.on('close', onClose);
  try {
    let text = '';
    for (const piece of pieces) {
      text += piece;
      if (text.length < FLUSH_CHARS) continue;
      const ok = res.write(text);
      text = '';
      // A socket that keeps up would let this loop run to the end in one go: give other
      // requests (and ingest commits) a turn between pieces either way.
      if (ok) await nextTurn();
      else await drainOrClose(res);
      if (gone || res.destroyed) return;
    }
    if (gone || res.destroyed) return;
    res.end(text);
  } finally {
    res.off('close', onClose);
  }
}

function drainOrClose(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Reads and checks the query; throws BadRequest naming the parameter at fault. */
function parseExportQuery(req: Request, now: number, deviceMetrics: () => string[]): ExportQuery {
  const format = req.query.format;
  if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new BadRequest(
      `format is ${format === undefined || format === '' ? 'required' : `not one of the choices (got ${JSON.stringify(format)})`}: format=${EXPORT_FORMATS.join('|')}`,
    );
  }
  const tierRaw = req.query.tier;
  const tier = tierRaw === undefined || tierRaw === '' ? 'raw' : tierRaw;
  if (typeof tier !== 'string' || !(STORAGE_TIERS as readonly string[]).includes(tier)) {
    throw new BadRequest(`tier must be one of ${STORAGE_TIERS.join('|')} (raw samples, 1-minute or 1-hour rollups), got ${JSON.stringify(tierRaw)}`);
  }
  const to = timeParam(req, 'to', now);
  const from = timeParam(req, 'from', to - DAY_MS);
  if (from >= to) throw new BadRequest(`from (${from}) must be before to (${to})`);
  return { format: format as ExportFormat, tier: tier as StorageTier, from, to, metrics: metricsParam(req) ?? deviceMetrics() };
}

function timeParam(req: Request, name: 'from' | 'to', fallback: number): number {
  const raw = req.query[name];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw) || Number(raw) > MAX_TIME_MS) {
    throw new BadRequest(`${name} must be ms since the epoch, an integer from 0 to ${MAX_TIME_MS}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** The metrics asked for (deduplicated, in the order given), or null when none were named. */
function metricsParam(req: Request): string[] | null {
  const raw = req.query.metrics;
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string') throw new BadRequest('metrics must be given once, as a comma-separated list such as metrics=cpu.util,mem.used');
  const names = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
  if (names.length === 0) throw new BadRequest(`metrics names no metric (got ${JSON.stringify(raw.slice(0, 130))}); leave it out for all of the device's metrics`);
  if (names.length > MAX_METRICS) throw new BadRequest(`metrics: at most ${MAX_METRICS} per export, got ${names.length}`);
  const bad = names.find((n) => !METRIC_NAME_RE.test(n) || n.length > 128);
  if (bad !== undefined) throw new BadRequest(`metrics: not a metric name: ${JSON.stringify(bad.slice(0, 130))} (dotted lowercase segments of [a-z0-9_])`);
  return names;
}
