// Per-GPU readings → samples and a GPU list. nvidia-smi prints one line per GPU per query; the
// lines of one query form one sample, the way the agent sends them.
import type { ParsedGpu, ParsedSample } from '../types.js';

export interface GpuReading {
  /** The GPU number the metric names use. */
  readonly index: number;
  readonly t: number | null;
  /** Catalog names (`gpu.<index>.util`) → values. */
  readonly m: Record<string, number>;
  readonly name?: string;
  readonly uuid?: string;
  readonly driver?: string;
  readonly memTotalBytes?: number;
}

/**
 * Readings of one query share a timestamp. A GPU repeating, or the clock moving on by more
 * than SAME_QUERY_MS (GPUs of one query may be stamped a few ms apart), starts a new sample.
 */
const SAME_QUERY_MS = 250;

export function groupSamples(readings: readonly GpuReading[]): ParsedSample[] {
  const samples: ParsedSample[] = [];
  let current: { t: number | null; m: Record<string, number>; gpus: Set<number> } | null = null;
  for (const r of readings) {
    const sameQuery =
      current !== null &&
      !current.gpus.has(r.index) &&
      (current.t === null ? r.t === null : r.t !== null && Math.abs(r.t - current.t) <= SAME_QUERY_MS);
    if (!sameQuery || current === null) {
      current = { t: r.t, m: {}, gpus: new Set() };
      samples.push({ t: current.t, m: current.m });
    }
    current.gpus.add(r.index);
    Object.assign(current.m, r.m);
  }
  return samples.filter((s) => Object.keys(s.m).length > 0);
}

/** One entry per GPU number, from the first reading that names it. */
export function gpusFromReadings(readings: readonly GpuReading[]): ParsedGpu[] {
  const gpus = new Map<number, ParsedGpu>();
  for (const r of readings) {
    if (gpus.has(r.index) || (r.name === undefined && r.uuid === undefined)) continue;
    gpus.set(r.index, {
      index: r.index,
      name: r.name ?? '',
      ...(r.uuid === undefined ? {} : { uuid: r.uuid }),
      ...(r.memTotalBytes === undefined ? {} : { memTotalBytes: r.memTotalBytes }),
      ...(r.driver === undefined ? {} : { driver: r.driver }),
    });
  }
  return [...gpus.values()].sort((a, b) => a.index - b.index);
}
