// Experiments under /api/v1: list, one, one's timeline, and the comparison (JSON, CSV, Markdown or HTML). Routes
// parse and check; experiment-data.ts gathers from the store; compare.ts does the maths.
import { Router, type Request, type Response } from 'express';
import { EXPERIMENT_ID_RE } from '../../shared/inference.js';
import type { ComparisonResponse, ExperimentSummary, ExperimentTimeline } from '../../shared/live.js';
import type { ExperimentRow, Store } from '../store/store.js';
import { BadRequest, stringParam } from './api.js';
import { compareStats, DEFAULT_IDLE_WINDOW_S } from './compare.js';
import { comparisonCsv, comparisonHtml, comparisonMarkdown, REPORT_CSP } from './compare-export.js';
import { experimentSummary, experimentTimeline } from './experiment-data.js';
import { comparisonFigures } from './experiment-snapshots.js';
import { MAX_TIMELINE_POINTS } from './experiment-series.js';

/** Each compared experiment reads its raw samples: bounded so one request cannot read the whole database. */
export const MAX_COMPARED = 50;
const MAX_IDLE_WINDOW_S = 600;
const FORMATS = ['json', 'csv', 'md', 'html'] as const;

export function experimentsRouter(store: Store): Router {
  const api = Router();

  api.get('/experiments', (req, res) => {
    let deviceNum: number | undefined;
    const device = stringParam(req, 'device');
    if (device !== undefined) {
      const row = store.getDevice(device);
      if (!row) return void res.status(404).json({ error: `no device with id ${JSON.stringify(device)}; GET /api/v1/devices lists them` });
      deviceNum = row.num;
    }
    const from = intParam(req, 'from');
    const to = intParam(req, 'to');
    if (from !== undefined && to !== undefined && from > to) throw new BadRequest(`from (${from}) must not be after to (${to})`);
    const rows = store.listExperiments({ deviceNum, name: stringParam(req, 'name'), from, to });
    const experiments: ExperimentSummary[] = rows.map((row) => ({ ...experimentSummary(store, row), endedBy: row.endedBy }));
    res.json({ experiments });
  });

  // Before /experiments/:id, which would otherwise take "compare" as an id.
  api.get('/experiments/compare', (req, res) => {
    const ids = idsParam(req);
    const baseline = stringParam(req, 'baseline') ?? ids[0]!;
    if (!ids.includes(baseline)) throw new BadRequest(`baseline ${JSON.stringify(baseline)} is not one of ids (${ids.join(',')})`);
    const format = stringParam(req, 'format') ?? 'json';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new BadRequest(`format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format.slice(0, 20))}`);
    }
    const rows = ids.map((id) => [id, store.getExperiment(id)] as const);
    const missing = rows.filter(([, row]) => !row).map(([id]) => id);
    if (missing.length > 0) {
      return void res.status(404).json({ error: `no experiment with id ${missing.map((id) => JSON.stringify(id)).join(', ')}`, missing });
    }
    const idle = idleParam(req);
    // Ended experiments come from their snapshots (experiment-snapshots.ts), running ones live.
    const figures = rows.map(([, row]) => comparisonFigures(store, row!, idle));
    const result: ComparisonResponse = compareStats(
      figures.map((f) => f.stats),
      baseline,
      idle,
      [...figures.map((f) => f.note).filter((n): n is string => n !== null), ...rows.flatMap(([, row]) => (row!.endedBy === 'timeout' ? [timeoutNote(row!)] : []))],
    );
    if (format === 'json') return void res.json(result);
    if (format === 'csv') {
      res.setHeader('Content-Disposition', `attachment; filename="experiments-${Date.now()}.csv"`);
      return void res.type('text/csv; charset=utf-8').send(comparisonCsv(result));
    }
    if (format === 'html') {
      // A self-contained report: inline style and SVG, nothing to load, nothing to run.
      res.setHeader('Content-Security-Policy', REPORT_CSP);
      res.setHeader('Content-Disposition', `inline; filename="experiments-${Date.now()}.html"`);
      return void res.type('text/html; charset=utf-8').send(comparisonHtml(result));
    }
    res.type('text/markdown; charset=utf-8').send(comparisonMarkdown(result));
  });

  api.get('/experiments/:id', (req, res) => {
    const row = EXPERIMENT_ID_RE.test(req.params.id) ? store.getExperiment(req.params.id) : undefined;
    if (!row) return notFound(res, req.params.id);
    res.json({ experiment: { ...experimentSummary(store, row), endedBy: row.endedBy } });
  });

  // The run over time and its latency distribution (compare page charts): bounded by ?points=.
  api.get('/experiments/:id/timeline', (req, res) => {
    const row = EXPERIMENT_ID_RE.test(req.params.id) ? store.getExperiment(req.params.id) : undefined;
    if (!row) return notFound(res, req.params.id);
    const body: ExperimentTimeline = experimentTimeline(store, row, pointsParam(req));
    res.json(body);
  });

  return api;
}

/** Compare says which runs the hub had to close: their end is their last data, not a measured end. */
function timeoutNote(row: ExperimentRow): string {
  return `${row.name} (${row.id}) was ended by timeout: its agent never ended it (it stopped, or restarted without its state directory), so the hub closed it at its last data`;
}

function notFound(res: Response, id: string): void {
  res.status(404).json({ error: `no experiment with id ${JSON.stringify(id.slice(0, 70))}; GET /api/v1/experiments lists them` });
}

function intParam(req: Request, name: string): number | undefined {
  const raw = stringParam(req, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new BadRequest(`${name} must be ms since the epoch (a non-negative integer), got ${JSON.stringify(raw.slice(0, 30))}`);
  }
  return Number(raw);
}

const MIN_TIMELINE_POINTS = 10;

/** Most points per timeline series: ?points=, 10 to MAX_TIMELINE_POINTS (the default). */
function pointsParam(req: Request): number {
  const raw = stringParam(req, 'points');
  if (raw === undefined) return MAX_TIMELINE_POINTS;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < MIN_TIMELINE_POINTS || Number(raw) > MAX_TIMELINE_POINTS) {
    throw new BadRequest(`points must be a whole number from ${MIN_TIMELINE_POINTS} to ${MAX_TIMELINE_POINTS}, got ${JSON.stringify(raw.slice(0, 20))}`);
  }
  return Number(raw);
}

/** Seconds before each start whose mean power is the idle power (net energy). */
function idleParam(req: Request): number {
  const raw = stringParam(req, 'idle');
  if (raw === undefined) return DEFAULT_IDLE_WINDOW_S;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) > MAX_IDLE_WINDOW_S) {
    throw new BadRequest(`idle must be whole seconds from 0 to ${MAX_IDLE_WINDOW_S} (the window before each start whose power is subtracted), got ${JSON.stringify(raw.slice(0, 20))}`);
  }
  return Number(raw);
}

function idsParam(req: Request): string[] {
  const raw = stringParam(req, 'ids');
  if (raw === undefined) throw new BadRequest('ids is required: a comma-separated list of experiment ids, e.g. ids=x-a,x-b');
  const ids = [...new Set(raw.split(',').map((s) => s.trim()))];
  const bad = ids.find((id) => !EXPERIMENT_ID_RE.test(id));
  if (bad !== undefined) throw new BadRequest(`not an experiment id: ${JSON.stringify(bad.slice(0, 70))} (1–64 characters of [A-Za-z0-9_.-])`);
  if (ids.length > MAX_COMPARED) throw new BadRequest(`at most ${MAX_COMPARED} experiments per comparison, got ${ids.length}`);
  return ids;
}
