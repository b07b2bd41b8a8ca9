// The speed/quality trade-off as pure data (unit-tested in node): each experiment a point with
// a cost on x (latency p50 or energy per inference, lower is better) and a quality score on y
// (higher or lower is better, as the score says), a marker size from the model's size, and the
// Pareto front: the points no other point beats on both at once.
import { paretoFront } from '../../../shared/pareto.js';
import type { ExperimentStats } from './experiment-types.js';
import { scoreNames, scoreOf } from './compare-rows-extra.js';

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export type ParetoX = 'latency' | 'energy' | 'netEnergy';

export const PARETO_X: Record<ParetoX, { label: string; get: (e: ExperimentStats) => number | null | undefined }> = {
  latency: { label: 'Latency p50', get: (e) => e.latencyP50Ms },
  energy: { label: 'Energy per inference', get: (e) => e.energyPerInferenceJ },
  netEnergy: { label: 'Net energy per inference', get: (e) => e.netEnergyPerInferenceJ },
};

export interface ParetoPoint {
  id: string;
  name: string;
  /** Cost: lower is better. */
  x: number;
  /** Score. */
  y: number;
  /** Model size (bytes or parameters, see ParetoPlot.sizeBy); null where not given. */
  size: number | null;
}

export { paretoFront };

/** What there is to plot: x axes some experiment has, and the scores. */
export function paretoChoices(exps: readonly ExperimentStats[]): { xs: ParetoX[]; scores: { name: string; better: 'higher' | 'lower' }[] } {
  const xs = (Object.keys(PARETO_X) as ParetoX[]).filter((k) => exps.some((e) => finite(PARETO_X[k].get(e))));
  return { xs, scores: scoreNames(exps) };
}

export interface ParetoPlot {
  points: ParetoPoint[];
  front: ParetoPoint[];
  better: 'higher' | 'lower';
  /** Which size the markers show: the weights' bytes where any point has them, else parameters. */
  sizeBy: 'modelBytes' | 'params' | null;
  /** Experiments left out: no value on x or no such score. */
  missing: string[];
}

export function paretoPlot(exps: readonly ExperimentStats[], x: ParetoX, score: string): ParetoPlot {
  const better = scoreNames(exps).find((s) => s.name === score)?.better ?? 'higher';
  const points: ParetoPoint[] = [];
  const missing: string[] = [];
  const placed: ExperimentStats[] = [];
  for (const e of exps) {
    const xv = PARETO_X[x].get(e);
    const yv = scoreOf(e, score);
    if (!finite(xv) || yv === null) missing.push(e.name);
    else {
      placed.push(e);
      points.push({ id: e.id, name: e.name, x: xv, y: yv, size: null });
    }
  }
  const sizeBy = placed.some((e) => finite(e.modelBytes)) ? 'modelBytes' : placed.some((e) => finite(e.params)) ? 'params' : null;
  if (sizeBy) placed.forEach((e, i) => (points[i]!.size = finite(e[sizeBy]) ? e[sizeBy] : null));
  return { points, front: paretoFront(points, better), better, sizeBy, missing };
}

/** Marker radius, px: area ∝ size (radius ∝ √size), the largest model `max` px; `fallback` without a size. */
export function markerRadius(size: number | null, largest: number, max = 18, min = 4, fallback = 6): number {
  if (!finite(size) || !(largest > 0)) return fallback;
  return Math.max(min, max * Math.sqrt(Math.max(0, size) / largest));
}
