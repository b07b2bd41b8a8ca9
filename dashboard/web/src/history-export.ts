// Links of the device page's export menu: the hub's export API for the window and the metrics
// shown (GET /api/v1/devices/<id>/export?format=&from=&to=[&metrics=][&tier=]), relative to the
// page like every API call, with a file name for the `download` attribute.
import type { StorageTier } from '../../../shared/live.js';
import type { TimeWindow } from './history-range.js';

export type ExportFormat = 'csv' | 'json' | 'ndjson';

export const EXPORT_FORMATS: readonly { format: ExportFormat; label: string }[] = [
  { format: 'csv', label: 'CSV' },
  { format: 'json', label: 'JSON' },
  { format: 'ndjson', label: 'NDJSON' },
];

export interface ExportSpec {
  format: ExportFormat;
  window: TimeWindow;
  /** Metrics to export; empty: all of the device's. */
  metrics: readonly string[];
  /** The tier the charts were read from, so the file holds what was shown; omitted: the hub's choice. */
  tier?: StorageTier;
}

export function exportUrl(deviceId: string, spec: ExportSpec): string {
  const q = new URLSearchParams({ format: spec.format, from: String(Math.floor(spec.window.from)), to: String(Math.ceil(spec.window.to)) });
  const metrics = [...new Set(spec.metrics)];
  if (metrics.length > 0) q.set('metrics', metrics.join(','));
  if (spec.tier) q.set('tier', spec.tier);
  return `api/v1/devices/${encodeURIComponent(deviceId)}/export?${q}`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}-${pad2(d.getHours())}${pad2(d.getMinutes())}`;
}

/** `edgewatch-<device>-<from>-<to>.<format>`, local time; the id reduced to characters any file system takes. */
export function exportFileName(deviceId: string, spec: Pick<ExportSpec, 'format' | 'window'>): string {
  const id = deviceId.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 64) || 'device';
  return `edgewatch-${id}-${stamp(spec.window.from)}-${stamp(spec.window.to)}.${spec.format}`;
}
