// The per-GPU metrics the catalog knows (`gpu.<i>.<metric>`) and how each output format's
// fields feed them. Several fields can feed one metric (power.draw, power.draw.average,
// power.draw.instant); the lower rank wins, so a driver that lacks the preferred field still
// yields the metric from the next best one, and one that has both never flips between them.

export const GPU_METRICS = [
  'util',
  'mem.bus_util',
  'mem.used',
  'mem.total',
  'power',
  'power.limit',
  'temp',
  'temp.mem',
  'clock.sm',
  'clock.mem',
  'clock.gr',
  'fan',
  'pstate',
  'enc.util',
  'dec.util',
] as const;
export type GpuMetric = (typeof GPU_METRICS)[number];

export function gpuMetricName(index: number, metric: GpuMetric): string {
  return `gpu.${index}.${metric}`;
}

/** Collects one GPU's values from one reading, keeping the best-ranked source per metric. */
export class GpuMetricSet {
  private readonly values = new Map<GpuMetric, { value: number; rank: number }>();

  set(metric: GpuMetric, value: number | undefined, rank = 0): void {
    if (value === undefined || !Number.isFinite(value)) return;
    const held = this.values.get(metric);
    if (held === undefined || rank < held.rank) this.values.set(metric, { value, rank });
  }

  get(metric: GpuMetric): number | undefined {
    return this.values.get(metric)?.value;
  }

  get size(): number {
    return this.values.size;
  }

  /** Catalog names for GPU `index`, e.g. `gpu.0.util`. */
  toRecord(index: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [metric, { value }] of this.values) out[gpuMetricName(index, metric)] = value;
    return out;
  }
}
