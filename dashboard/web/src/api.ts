// REST client for the hub's /api/v1. Paths are relative to the page, so the UI also works
// when a reverse proxy serves the hub under a path prefix.
import type { DeviceSummary, ProcessesResponse, SeriesPoint, SeriesResponse } from '../../../shared/live.js';
import type { ComparisonResponse, ExperimentSummary } from './experiment-types.js';
import { compareApiUrl } from './experiments-model.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: unknown };
      if (typeof body.error === 'string') message = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(message, res.status);
  }
  return (await res.json()) as T;
}

export function listDevices(signal?: AbortSignal): Promise<{ devices: DeviceSummary[] }> {
  return getJson('api/v1/devices', signal);
}

export function getDevice(id: string, signal?: AbortSignal): Promise<{ device: DeviceSummary; metrics: string[] }> {
  return getJson(`api/v1/devices/${encodeURIComponent(id)}`, signal);
}

/** The hub caps `points` at this. */
export const MAX_POINTS = 5000;
/** Metric names per request, so a device with many cores or interfaces keeps URLs short. */
const METRICS_PER_REQUEST = 48;

export interface SeriesQuery {
  metrics: readonly string[];
  from: number;
  to: number;
  points: number;
}

/**
 * Downsampled history for some of a device's metrics. Long metric lists are split into
 * several requests (run in parallel) and merged into one response.
 */
export async function getSeries(id: string, q: SeriesQuery, signal?: AbortSignal): Promise<SeriesResponse> {
  const points = Math.max(1, Math.min(MAX_POINTS, Math.round(q.points)));
  const from = Math.floor(q.from);
  const to = Math.ceil(q.to);
  const chunks: string[][] = [];
  for (let i = 0; i < q.metrics.length; i += METRICS_PER_REQUEST) {
    chunks.push(q.metrics.slice(i, i + METRICS_PER_REQUEST));
  }
  const responses = await Promise.all(
    chunks.map((names) => {
      const params = new URLSearchParams({
        metrics: names.join(','),
        from: String(from),
        to: String(to),
        points: String(points),
      });
      return getJson<SeriesResponse>(`api/v1/devices/${encodeURIComponent(id)}/series?${params}`, signal);
    }),
  );
  const series: Record<string, SeriesPoint[]> = {};
  let stepMs = 0;
  for (const r of responses) {
    stepMs = Math.max(stepMs, r.stepMs);
    for (const [name, pts] of Object.entries(r.series)) series[name] = pts;
  }
  return { deviceId: id, from, to, stepMs, series };
}

/** GET /api/v1/devices/:id/processes: the table taken at or before `at` (device clock), else the newest. */
export function getProcesses(id: string, at?: number, signal?: AbortSignal): Promise<ProcessesResponse> {
  const q = at === undefined ? '' : `?${new URLSearchParams({ at: String(Math.round(at)) })}`;
  return getJson(`api/v1/devices/${encodeURIComponent(id)}/processes${q}`, signal);
}

export interface ExperimentQuery {
  device?: string | null;
  name?: string | null;
  /** Device clock, ms: experiments overlapping [from, to]. */
  from?: number;
  to?: number;
}

/** GET /api/v1/experiments: newest first, filtered by device, name and time. */
export function listExperiments(q: ExperimentQuery = {}, signal?: AbortSignal): Promise<{ experiments: ExperimentSummary[] }> {
  const params = new URLSearchParams();
  if (q.device) params.set('device', q.device);
  if (q.name) params.set('name', q.name);
  if (q.from !== undefined) params.set('from', String(Math.floor(q.from)));
  if (q.to !== undefined) params.set('to', String(Math.ceil(q.to)));
  const s = params.toString();
  return getJson(`api/v1/experiments${s ? `?${s}` : ''}`, signal);
}

/** GET /api/v1/experiments/compare?ids=…&baseline=…: statistics side by side. */
export function compareExperiments(ids: readonly string[], baseline: string | null, signal?: AbortSignal): Promise<ComparisonResponse> {
  return getJson(compareApiUrl(ids, baseline), signal);
}
