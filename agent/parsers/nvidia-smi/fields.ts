// Field names of `--query-gpu` and `--query-compute-apps`. nvidia-smi accepts several names for
// one field and prints its own in the CSV header (ask `clocks.sm`, the header says
// `clocks.current.sm [MHz]`; ask `clocks_throttle_reasons.active`, it says
// `clocks_event_reasons.active`), so requested names and header names are both reduced to one
// canonical spelling before columns are matched. The aliases come from `--help-query-gpu` and
// `--help-query-compute-apps` (driver 580).
import type { GpuMetric } from './gpu-metrics.js';

const GPU_FIELD_ALIASES: Readonly<Record<string, string>> = {
  gpu_name: 'name',
  gpu_serial: 'serial',
  gpu_uuid: 'uuid',
  gpu_bus_id: 'pci.bus_id',
  'inforom.image': 'inforom.img',
  'inforom.power': 'inforom.pwr',
  'gpu_operation_mode.current': 'gom.current',
  'gpu_operation_mode.pending': 'gom.pending',
  'retired_pages.sbe': 'retired_pages.single_bit_ecc.count',
  'retired_pages.dbe': 'retired_pages.double_bit.count',
  'remapped_rows.sbe': 'remapped_rows.correctable',
  'remapped_rows.dbe': 'remapped_rows.uncorrectable',
  'gpu.power.draw.average': 'power.draw.average',
  'gpu.power.draw.instant': 'power.draw.instant',
  'gpu.power.requested_limit': 'power.limit',
  'gpu.power.current_limit': 'enforced.power.limit',
  'gpu.power.default_limit': 'power.default_limit',
  'gpu.power.min_limit': 'power.min_limit',
  'gpu.power.max_limit': 'power.max_limit',
  'module.power.requested_limit': 'module.power.limit',
  'module.power.current_limit': 'module.enforced.power.limit',
  'clocks.gr': 'clocks.current.graphics',
  'clocks.sm': 'clocks.current.sm',
  'clocks.mem': 'clocks.current.memory',
  'clocks.video': 'clocks.current.video',
  'clocks.applications.gr': 'clocks.applications.graphics',
  'clocks.applications.mem': 'clocks.applications.memory',
  'clocks.default_applications.gr': 'clocks.default_applications.graphics',
  'clocks.default_applications.mem': 'clocks.default_applications.memory',
  'clocks.max.gr': 'clocks.max.graphics',
  'clocks.max.mem': 'clocks.max.memory',
};

const APP_FIELD_ALIASES: Readonly<Record<string, string>> = {
  name: 'process_name',
  used_memory: 'used_gpu_memory',
};

export interface HeaderField {
  /** Canonical, lower-case field name. */
  readonly field: string;
  /** The unit the header gives in brackets (`MiB`, `%`, `W`), if any. */
  readonly unit?: string;
}

/** `memory.used [MiB]` → {field: 'memory.used', unit: 'MiB'}. */
export function splitHeaderCell(cell: string): { name: string; unit?: string } {
  const m = /^(.*?)\s*\[([^\]]*)\]$/.exec(cell.trim());
  return m ? { name: m[1]!, unit: m[2]! } : { name: cell.trim() };
}

export function canonicalGpuField(name: string): string {
  const lower = name.trim().toLowerCase();
  if (lower.startsWith('clocks_throttle_reasons')) return lower.replace('clocks_throttle_reasons', 'clocks_event_reasons');
  return GPU_FIELD_ALIASES[lower] ?? lower;
}

export function canonicalAppField(name: string): string {
  const lower = name.trim().toLowerCase();
  return APP_FIELD_ALIASES[lower] ?? lower;
}

export type ValueKind = 'number' | 'bytes' | 'pstate';

export interface MetricSource {
  readonly metric: GpuMetric;
  readonly kind: ValueKind;
  /** Lower wins when several fields feed one metric. */
  readonly rank: number;
}

/** Which canonical `--query-gpu` field feeds which catalog metric. */
export const QUERY_GPU_METRIC_SOURCES: Readonly<Record<string, MetricSource>> = {
  'utilization.gpu': { metric: 'util', kind: 'number', rank: 0 },
  'utilization.memory': { metric: 'mem.bus_util', kind: 'number', rank: 0 },
  'memory.used': { metric: 'mem.used', kind: 'bytes', rank: 0 },
  'memory.total': { metric: 'mem.total', kind: 'bytes', rank: 0 },
  // power.draw is what nvidia-smi itself shows; newer drivers alias it to the 1 s average.
  'power.draw': { metric: 'power', kind: 'number', rank: 0 },
  'power.draw.average': { metric: 'power', kind: 'number', rank: 1 },
  'power.draw.instant': { metric: 'power', kind: 'number', rank: 2 },
  // The catalog's power.limit is the enforced one; power.limit is only what was requested.
  'enforced.power.limit': { metric: 'power.limit', kind: 'number', rank: 0 },
  'power.limit': { metric: 'power.limit', kind: 'number', rank: 1 },
  'temperature.gpu': { metric: 'temp', kind: 'number', rank: 0 },
  'temperature.memory': { metric: 'temp.mem', kind: 'number', rank: 0 },
  'clocks.current.sm': { metric: 'clock.sm', kind: 'number', rank: 0 },
  'clocks.current.memory': { metric: 'clock.mem', kind: 'number', rank: 0 },
  'clocks.current.graphics': { metric: 'clock.gr', kind: 'number', rank: 0 },
  'fan.speed': { metric: 'fan', kind: 'number', rank: 0 },
  pstate: { metric: 'pstate', kind: 'pstate', rank: 0 },
  'utilization.encoder': { metric: 'enc.util', kind: 'number', rank: 0 },
  'utilization.decoder': { metric: 'dec.util', kind: 'number', rank: 0 },
};

/** Fields that identify a GPU rather than measure it. */
export const GPU_IDENTITY_FIELDS = ['index', 'name', 'uuid', 'driver_version', 'timestamp'] as const;

/** A name that could be a `--query-gpu` field the parsers know (used to tell a header line from data). */
export function isKnownGpuField(name: string): boolean {
  const f = canonicalGpuField(splitHeaderCell(name).name);
  return f in QUERY_GPU_METRIC_SOURCES || (GPU_IDENTITY_FIELDS as readonly string[]).includes(f) || f === 'pci.bus_id';
}

export const KNOWN_APP_FIELDS = ['pid', 'process_name', 'used_gpu_memory', 'gpu_uuid', 'gpu_name', 'gpu_bus_id', 'gpu_serial', 'timestamp'];
