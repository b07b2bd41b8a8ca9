// REST API under /api/v1. Routes are thin: parse and check the request, ask the store,
// answer JSON. Errors say which parameter was wrong and what is accepted.
import { Router, type Request, type Response } from 'express';
import { METRIC_CATALOG, metricSegment, uniqueSegment } from '../../shared/catalog.js';
import type { DeviceResponse, ProcessesResponse, RemoteWriteStatus, StorageResponse } from '../../shared/live.js';
import { METRIC_NAME_RE } from '../../shared/protocol.js';
import type { Store } from '../store/store.js';
import type { Fleet } from './fleet.js';

const MAX_POINTS = 5000;
const DEFAULT_POINTS = 500;
const MAX_METRICS_PER_QUERY = 200;
const HOUR_MS = 3_600_000;

export class BadRequest extends Error {}

export function apiRouter(store: Store, fleet: Fleet, remoteWrite: () => RemoteWriteStatus[] = () => []): Router {
  const api = Router();

  api.get('/catalog', (_req, res) => {
    res.json({ version: 1, metrics: METRIC_CATALOG });
  });

  api.get('/devices', (_req, res) => {
    res.json({ devices: fleet.list() });
  });

  api.get('/devices/:id', (req, res) => {
    const row = store.getDevice(req.params.id);
    if (!row) return notFound(res, req.params.id);
    const body: DeviceResponse = {
      device: fleet.summarise(row),
      metrics: store.metricNames(row.num),
      models: modelSegments(store.inferenceModelsOf(row.num)),
      clockEvents: store.clockEvents(row.num, 10),
    };
    res.json(body);
  });

  api.get('/devices/:id/series', (req, res) => {
    const row = store.getDevice(req.params.id);
    if (!row) return notFound(res, req.params.id);
    const to = intParam(req, 'to', Date.now());
    const from = intParam(req, 'from', to - HOUR_MS);
    if (from >= to) throw new BadRequest(`from (${from}) must be before to (${to})`);
    const points = intParam(req, 'points', DEFAULT_POINTS);
    if (points < 1 || points > MAX_POINTS) throw new BadRequest(`points must be 1–${MAX_POINTS}, got ${points}`);
    res.json(store.series({ deviceNum: row.num, deviceId: row.id, metrics: metricsParam(req), from, to, points }));
  });

  api.get('/storage', (_req, res) => {
    const body: StorageResponse = { ...store.storage(), remoteWrite: remoteWrite() };
    res.json(body);
  });

  api.get('/devices/:id/processes', (req, res) => {
    const row = store.getDevice(req.params.id);
    if (!row) return notFound(res, req.params.id);
    const at = intParam(req, 'at', Number.MAX_SAFE_INTEGER);
    if (at < 0 || at > Number.MAX_SAFE_INTEGER) throw new BadRequest(`at must be ms since the epoch (0 or more), got ${at}`);
    const snapshot = store.latestProcesses(row.num, at);
    const body: ProcessesResponse = { deviceId: row.id, t: snapshot?.t ?? null, table: snapshot?.table ?? null };
    res.json(body);
  });

  return api;
}

/**
 * Metric segment → model name for a device's infer.<segment>.* metrics, given its models in the
 * order they were first seen: the agent's rule (agent/inference/aggregator.ts segmentOf), so a
 * collision (`a.b`, `a-b`) numbers the later one (`a_b_1`) as the agent did.
 */
export function modelSegments(models: readonly string[]): Record<string, string> {
  const taken = new Set<string>();
  const out: Record<string, string> = {};
  for (const model of models) out[uniqueSegment(metricSegment(model), taken)] = model;
  return out;
}

function notFound(res: Response, id: string): void {
  res.status(404).json({ error: `no device with id ${JSON.stringify(id)}; GET /api/v1/devices lists them` });
}

/** A query parameter given once as text; undefined when absent or empty. */
export function stringParam(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new BadRequest(`${name} must be given once, as text`);
  return raw;
}

function intParam(req: Request, name: string, fallback: number): number {
  const raw = req.query[name];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) {
    throw new BadRequest(`${name} must be an integer (ms since the epoch for from/to/at), got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function metricsParam(req: Request): string[] {
  const raw = req.query.metrics;
  if (typeof raw !== 'string' || raw === '') {
    throw new BadRequest('metrics is required: a comma-separated list such as metrics=cpu.util,mem.used');
  }
  const names = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
  if (names.length > MAX_METRICS_PER_QUERY) {
    throw new BadRequest(`at most ${MAX_METRICS_PER_QUERY} metrics per query, got ${names.length}`);
  }
  const bad = names.find((n) => !METRIC_NAME_RE.test(n) || n.length > 128);
  if (bad !== undefined) throw new BadRequest(`not a metric name: ${JSON.stringify(bad.slice(0, 130))}`);
  return names;
}
