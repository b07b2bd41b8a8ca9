// REST client for the hub's /api/v1. Paths are relative to the page, so the UI also works
// when a reverse proxy serves the hub under a path prefix.
import { STORAGE_TIERS, type DeviceResponse, type DeviceSummary, type ProcessesResponse, type SeriesPoint, type SeriesResponse, type StorageTier } from '../../../shared/live.js';
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

// --- Login --------------------------------------------------------------------------------
// The hub may require a login: then every /api/v1 call and the /ws/live upgrade answer 401
// without the session cookie (HttpOnly, so the page never sees it; the browser sends it on
// same-origin fetches and WebSockets). Every 401 raises one event, "auth required", that
// main.ts answers with the login view.

const authListeners = new Set<() => void>();

/** Calls `fn` whenever the hub answers 401: the session is missing, expired or logged out. */
export function onAuthRequired(fn: () => void): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export function authRequired(): void {
  for (const fn of [...authListeners]) {
    try {
      fn();
    } catch (err) {
      console.error('edgewatch: auth listener failed', err);
    }
  }
}

/**
 * Who the hub says we are. `off`: the hub needs no login (auth disabled, or a hub from
 * before logins existed: /api/v1/session answers 200 without a user, or 404). `unknown`: the
 * hub could not be asked (down, network error); the UI then carries on as without login.
 */
export type Session = { auth: 'user'; user: string } | { auth: 'off' } | { auth: 'required' } | { auth: 'unknown' };

/** GET /api/v1/session. Does not raise the auth event itself. */
export async function getSession(signal?: AbortSignal): Promise<Session> {
  let res: Response;
  try {
    res = await fetch('api/v1/session', { signal, headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch {
    return { auth: 'unknown' };
  }
  if (res.status === 401) return { auth: 'required' };
  if (res.status === 404) return { auth: 'off' };
  if (!res.ok) return { auth: 'unknown' };
  try {
    const body = (await res.json()) as { user?: unknown };
    return typeof body.user === 'string' && body.user !== '' ? { auth: 'user', user: body.user } : { auth: 'off' };
  } catch {
    return { auth: 'off' };
  }
}

/**
 * Asks the hub whether a refused live socket was refused for want of a login (the browser
 * never shows a WebSocket's HTTP status). Raises the auth event and returns true if so.
 */
export async function checkAuthAfterRefusal(): Promise<boolean> {
  const s = await getSession();
  if (s.auth !== 'required') return false;
  authRequired();
  return true;
}

export type LoginResult = { ok: true } | { ok: false; status: number; message: string };

/** POST /api/v1/login. 204 sets the session cookie; 401 wrong user or password; 429 too many tries. */
export async function login(user: string, password: string): Promise<LoginResult> {
  let res: Response;
  try {
    res = await fetch('api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ user, password }),
      cache: 'no-store',
    });
  } catch (err) {
    return { ok: false, status: 0, message: String((err as Error).message ?? err) };
  }
  if (res.ok) return { ok: true };
  return { ok: false, status: res.status, message: await errorMessage(res) };
}

/** POST /api/v1/logout: the hub forgets the session and clears the cookie. */
export async function logout(): Promise<{ ok: boolean; status: number }> {
  try {
    const res = await fetch('api/v1/logout', { method: 'POST', headers: { accept: 'application/json' }, cache: 'no-store' });
    return { ok: res.ok, status: res.status };
  } catch {
    return { ok: false, status: 0 };
  }
}

/** The hub's `error` text of a failed response, else its status line. */
export async function errorMessage(res: Response): Promise<string> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return message;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) {
    if (res.status === 401) authRequired();
    throw new ApiError(await errorMessage(res), res.status);
  }
  return (await res.json()) as T;
}

export function listDevices(signal?: AbortSignal): Promise<{ devices: DeviceSummary[] }> {
  return getJson('api/v1/devices', signal);
}

export function getDevice(id: string, signal?: AbortSignal): Promise<DeviceResponse> {
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
 * several requests (run in parallel) and merged into one response. The parts may come from
 * different tiers (one metric's raw data can outlive another's): the coarsest is reported,
 * since that is what part of the chart shows.
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
  let tier: StorageTier | undefined;
  for (const r of responses) {
    stepMs = Math.max(stepMs, r.stepMs);
    if (r.tier && (tier === undefined || STORAGE_TIERS.indexOf(r.tier) > STORAGE_TIERS.indexOf(tier))) tier = r.tier;
    for (const [name, pts] of Object.entries(r.series)) series[name] = pts;
  }
  return { deviceId: id, from, to, stepMs, ...(tier ? { tier } : {}), series };
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
