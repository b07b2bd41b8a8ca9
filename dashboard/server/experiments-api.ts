// Experiments under /api/v1: list, one, and the comparison (JSON, CSV or Markdown). Routes
// parse and check; experiment-data.ts gathers from the store; compare.ts does the maths.
import { Router, type Request, type Response } from 'express';
import { EXPERIMENT_ID_RE } from '../../shared/inference.js';
import type { ComparisonResponse, ExperimentSummary } from '../../shared/live.js';
import type { Store } from '../store/store.js';
import { BadRequest, stringParam } from './api.js';
import { compareExperiments } from './compare.js';
import { comparisonCsv, comparisonMarkdown } from './compare-export.js';
import { experimentInput, experimentSummary } from './experiment-data.js';

/** Each compared experiment reads its raw samples: bounded so one request cannot read the whole database. */
export const MAX_COMPARED = 50;
const FORMATS = ['json', 'csv', 'md'] as const;

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
    const experiments: ExperimentSummary[] = rows.map((row) => experimentSummary(store, row));
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
    const result: ComparisonResponse = compareExperiments(
      rows.map(([, row]) => experimentInput(store, row!)),
      baseline,
    );
    if (format === 'json') return void res.json(result);
    if (format === 'csv') {
      res.setHeader('Content-Disposition', `attachment; filename="experiments-${Date.now()}.csv"`);
      return void res.type('text/csv; charset=utf-8').send(comparisonCsv(result));
    }
    res.type('text/markdown; charset=utf-8').send(comparisonMarkdown(result));
  });

  api.get('/experiments/:id', (req, res) => {
    const row = EXPERIMENT_ID_RE.test(req.params.id) ? store.getExperiment(req.params.id) : undefined;
    if (!row) return notFound(res, req.params.id);
    res.json({ experiment: experimentSummary(store, row) });
  });

  return api;
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

function idsParam(req: Request): string[] {
  const raw = stringParam(req, 'ids');
  if (raw === undefined) throw new BadRequest('ids is required: a comma-separated list of experiment ids, e.g. ids=x-a,x-b');
  const ids = [...new Set(raw.split(',').map((s) => s.trim()))];
  const bad = ids.find((id) => !EXPERIMENT_ID_RE.test(id));
  if (bad !== undefined) throw new BadRequest(`not an experiment id: ${JSON.stringify(bad.slice(0, 70))} (1–64 characters of [A-Za-z0-9_.-])`);
  if (ids.length > MAX_COMPARED) throw new BadRequest(`at most ${MAX_COMPARED} experiments per comparison, got ${ids.length}`);
  return ids;
}
