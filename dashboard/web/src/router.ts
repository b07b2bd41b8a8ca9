// Hash routes: `#/` is the fleet, `#/device/<id>` one device, optionally `?range=1h`.
// Pure functions (no DOM), so they are unit-tested in node; main.ts listens for hashchange.
// A device route may instead name a fixed window, `?from=<ms>&to=<ms>[&vs=<ms>]` (history-range.ts).
import { parseWindowQuery, type TimeWindow } from './history-range.js';

export type RangeKey = 'live' | '15m' | '1h' | '6h' | '24h' | '7d';

export const RANGES: readonly { key: RangeKey; label: string; ms: number }[] = [
  { key: 'live', label: 'Live', ms: 10 * 60_000 },
  { key: '15m', label: '15 min', ms: 15 * 60_000 },
  { key: '1h', label: '1 h', ms: 60 * 60_000 },
  { key: '6h', label: '6 h', ms: 6 * 60 * 60_000 },
  { key: '24h', label: '24 h', ms: 24 * 60 * 60_000 },
  { key: '7d', label: '7 d', ms: 7 * 24 * 60 * 60_000 },
];

export type Route =
  | { page: 'fleet' }
  | { page: 'device'; id: string; range: RangeKey; window?: TimeWindow; vs?: number }
  | { page: 'experiments'; device: string | null; name: string | null }
  | { page: 'compare'; ids: string[]; baseline: string | null }
  | { page: 'storage' }
  | { page: 'alerts' };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  const m = /^\/device\/([^/]+)\/?$/.exec(path);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      return { page: 'fleet' };
    }
    const q = new URLSearchParams(query);
    const rangeParam = q.get('range');
    const range = RANGES.find((r) => r.key === rangeParam)?.key ?? 'live';
    return { page: 'device', id, range, ...parseWindowQuery(q) };
  }
  if (/^\/storage\/?$/.test(path)) return { page: 'storage' };
  if (/^\/alerts\/?$/.test(path)) return { page: 'alerts' };
  if (/^\/experiments\/?$/.test(path)) {
    const q = new URLSearchParams(query);
    return { page: 'experiments', device: q.get('device') || null, name: q.get('name') || null };
  }
  if (/^\/compare\/?$/.test(path)) {
    const q = new URLSearchParams(query);
    const ids = [...new Set((q.get('ids') ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
    const baseline = q.get('baseline');
    return { page: 'compare', ids, baseline: baseline && ids.includes(baseline) ? baseline : (ids[0] ?? null) };
  }
  return { page: 'fleet' };
}

export function deviceHref(id: string, range: RangeKey = 'live'): string {
  return `#/device/${encodeURIComponent(id)}${range === 'live' ? '' : `?range=${range}`}`;
}
