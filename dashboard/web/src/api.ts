// REST client for the hub's /api/v1. Paths are relative to the page, so the UI also works
// when a reverse proxy serves the hub under a path prefix.
import type { DeviceSummary, ProcessesResponse, SeriesPoint, SeriesResponse } from '../../../shared/live.js';

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
