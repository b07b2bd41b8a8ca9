// The one interface every collector implements, shaped like node_exporter's: a factory
// probes once whether what it reads exists on this machine (detect); the collector it
// returns then fills in metric values once per tick (sample) and releases what it holds
// (close). A collector that finds nothing returns null from detect and is never asked again,
// so absent hardware costs nothing per tick.
import type { Logger } from '../../shared/log.js';
import type { Inventory } from '../../shared/protocol.js';

export interface CollectorContext {
  /** Where /proc is; tests point this at a fixture tree. */
  readonly procRoot: string;
  /** Where /sys is; tests point this at a fixture tree. */
  readonly sysRoot: string;
  /**
   * Prefix under which the host's mount points are reachable (`/` normally, `/host` in a
   * container that bind-mounts the host root). Used for filesystem usage.
   */
  readonly hostRoot: string;
  /** Sampling interval; long-lived tool processes are asked to report at this pace. */
  readonly intervalMs: number;
  /** PATH to search for tools such as nvidia-smi. */
  readonly path: string;
  readonly log: Logger;
}

/** Metric name → value for one tick; collectors add to it. Absent means not reported. */
export type MetricValues = Record<string, number>;

export interface Collector {
  readonly name: string;
  /**
   * Adds this collector's values for the tick at `now` (ms since the epoch). Called once per
   * interval; must be cheap (no process spawns) and must not throw for bad input: a value
   * that cannot be read is left out.
   */
  sample(now: number, out: MetricValues): void | Promise<void>;
  /** Static facts this collector learnt while detecting (e.g. GPU names), merged into the inventory. */
  inventory?(): Partial<Inventory>;
  /** Releases child processes, timers and handles. */
  close?(): void | Promise<void>;
}

export interface CollectorFactory {
  readonly name: string;
  /** Probes once; returns null when what this collector reads does not exist here. */
  detect(ctx: CollectorContext): Promise<Collector | null>;
}
