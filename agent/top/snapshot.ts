// What `edgewatch top` draws one frame from: the latest sample, the latest process table, and
// the facts that do not change (capabilities, inventory). The agent serves this shape on
// GET /v1/top of its inference port, so an attached top reads what the agent already sampled
// rather than sampling a second time; a top without an agent builds the same shape itself.
import type { Inventory, ProcessTable } from '../../shared/protocol.js';

export interface TopExperiment {
  readonly id: string;
  readonly name: string;
  /** Device clock, ms. */
  readonly start: number;
}

export interface TopSnapshot {
  /** Device name and host name as the agent announces them. */
  readonly device: { readonly id?: string; readonly name: string; readonly hostname: string };
  readonly agentVersion: string;
  readonly intervalMs: number;
  /** How often the process table is taken (ms); 0 when it is off. */
  readonly processIntervalMs: number;
  /** Collector names, plus `processes` where tables are taken. */
  readonly capabilities: readonly string[];
  readonly inventory: Inventory;
  /** The newest sample's metric values (catalog names and base units); null before the first. */
  readonly sample: { readonly t: number; readonly m: Readonly<Record<string, number>> } | null;
  /** The newest process table, with when it was taken. */
  readonly processes: (ProcessTable & { readonly t: number }) | null;
  /** Model names as the code reported them, by their metric segment (`resnet18-int8` is `infer.resnet18_int8.*`). */
  readonly modelNames: Readonly<Record<string, string>>;
  /** Experiments started and not yet ended on this device. */
  readonly experiments: readonly TopExperiment[];
}

/** The agent's side of GET /v1/top: cheap, never samples, only hands out what it holds. */
export type TopSnapshotProvider = () => TopSnapshot;
